"""England from NHS open data (6,341 practices, 35,969 GPs, 1,264 PCNs) next to the synthetic
national preset, in one sitting: each repeat in fresh processes, England and national in
alternation, so that the machine's drift falls on both alike.

    .venv/bin/python benchmarks/bench_england.py [--repeats 3] [--months 120] [--area QJ2]

Figures, medians over the repeats:

- *population*: building the England population in a fresh process, data load included (the
  shipped Parquet tables read, the arrays made, the initial state and the ties built; target
  <= 0.5 s), and the data load alone;
- *simulation*: construction, the months and data collection (target <= 2 s), with the
  process's peak resident memory;
- *command*: the whole ``pcsim run --scale england|national --months 120`` (targets <= 5 s,
  <= 1 GB peak);
- *area*: the simulation of one ICB (``--area``, default QJ2, NHS Derby and Derbyshire ICB,
  692 GPs), which should take well under a second.

Ratios England / national are printed and recorded (``results/benchmarks/bench_england-*.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, summary, write_result
from bench_national import measure

SIMULATION = """
import json, resource, sys, time
t0 = time.perf_counter()
from simulation.model import PrimaryCareModel
from simulation import england, network, population
t_import = time.perf_counter() - t0
scale, months, area = sys.argv[1], int(sys.argv[2]), (sys.argv[3] or None)
out = {"import": t_import}
if scale == "england":
    t = time.perf_counter()
    england.load()
    out["data_load"] = time.perf_counter() - t
    england.load.cache_clear(); england._area_rows.cache_clear()
t1 = time.perf_counter()
model = PrimaryCareModel(scenario="baseline", scale=scale, rng=1, area=area)
t2 = time.perf_counter()
model.run(months)
t3 = time.perf_counter()
ts = model.timeseries()
t4 = time.perf_counter()
if scale == "england":  # the population alone (data load, arrays, state, ties), fresh caches
    england.load.cache_clear(); england._area_rows.cache_clear()
    from simulation.model import Streams
    s = Streams.from_seed(1)
    t5 = time.perf_counter()
    pop = england.population(area)
    state = population.build_state(model.params, s.population, practice=pop.practice,
                                   practice_federation=pop.practice_federation, form=1,
                                   list_size=pop.list_size, partner=pop.partner)
    network.build_ties(state.practice, state.practice_federation, model.params, s.network,
                       practice_region=pop.practice_region)
    out["population"] = time.perf_counter() - t5
out.update(construction=t2 - t1, months=t3 - t2, collect=t4 - t3, simulation=t4 - t1,
           gps=int(model.state.n_gps), practices=int(model.state.n_practices),
           federations=int(model.state.n_federations),
           peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--area", default="QJ2")
    args = ap.parse_args(argv)
    python = sys.executable
    pcsim = str(Path(python).with_name("pcsim"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]))

    def simulate(scale, area=""):
        out = subprocess.run([python, "-c", SIMULATION, scale, str(args.months), area],
                             capture_output=True, text=True, check=True, cwd=ROOT, env=env)
        return json.loads(out.stdout.strip().splitlines()[-1])

    sims = {"england": [], "national": [], "area": []}
    commands = {"england": [], "national": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for scale in ("england", "national"):
                sims[scale].append(simulate(scale))
                commands[scale].append(measure(
                    [pcsim, "run", "--scale", scale, "--months", str(args.months),
                     "--out", str(Path(tmp) / f"{scale}{r}")], env))
            sims["area"].append(simulate("england", args.area))

    med = lambda rows, key: summary([x[key] for x in rows])  # noqa: E731
    figures = {"months": args.months, "area": args.area, "repeats": args.repeats}
    for name, rows in sims.items():
        figures[name] = {k: med(rows, k) for k in ("construction", "months", "collect", "simulation")
                         if k in rows[0]}
        figures[name].update(gps=rows[0]["gps"], practices=rows[0]["practices"],
                             federations=rows[0]["federations"],
                             peak_rss_mb=max(x["peak_rss_mb"] for x in rows))
        for k in ("population", "data_load"):
            if k in rows[0]:
                figures[name][k] = med(rows, k)
    for scale, rows in commands.items():
        figures[scale]["command"] = med(rows, "seconds")
        figures[scale]["command_peak_rss_mb"] = max(x["peak_rss_mb"] for x in rows)
    e, n, a = figures["england"], figures["national"], figures["area"]
    figures["ratios_england_over_national"] = {
        "simulation": e["simulation"]["median"] / n["simulation"]["median"],
        "command": e["command"]["median"] / n["command"]["median"]}
    figures["targets"] = {"population_seconds": 0.5, "simulation_seconds": 2.0,
                          "command_seconds": 5.0, "peak_rss_mb": 1024}
    print(f"medians of {args.repeats}, {args.months} months:")
    print(f"  England population (data load incl.): {e['population']['median']:.3f} s "
          f"(data load {e['data_load']['median']:.3f} s); target <= 0.5 s")
    for label, f in (("england", e), ("national", n)):
        print(f"  {label:8s} {f['gps']:,} GPs: simulation {f['simulation']['median']:.2f} s "
              f"(construction {f['construction']['median']:.2f}, months {f['months']['median']:.2f}), "
              f"peak {f['peak_rss_mb']:.0f} MB; command {f['command']['median']:.2f} s, "
              f"peak {f['command_peak_rss_mb']:.0f} MB")
    r = figures["ratios_england_over_national"]
    print(f"  england / national: simulation {r['simulation']:.2f}, command {r['command']:.2f}")
    print(f"  area {args.area} ({a['gps']:,} GPs, {a['practices']} practices): simulation "
          f"{a['simulation']['median']:.3f} s (construction {a['construction']['median']:.3f})")
    write_result("bench_england", figures)
    return figures


if __name__ == "__main__":
    main()
