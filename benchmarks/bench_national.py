"""National run (~6,300 practices, ~38,000 GPs, 120 months, every mechanism on): wall time and
peak memory, each repeat in a fresh process.

    .venv/bin/python benchmarks/bench_national.py [--repeats 5] [--months 120]

Two figures, medians over the repeats:

- *simulation*: construction, the months and data collection (the time series as a DataFrame),
  timed inside a fresh Python process (target <= 2 s), with that process's peak resident memory;
- *command*: the whole ``pcsim run --scale national --months 120`` as a user runs it: start-up,
  imports, the simulation and writing the results folder (Parquet, CSV, PNG, manifest), timed
  from outside (target <= 5 s), with its peak resident memory (target <= 1 GB).

Next to each repeat, in the same process, the script times a reference workload
(``_common.reference_ms``: a fixed scipy sparse product) and reports each figure also in units
of it: the shared machine's speed moves by up to a factor of two within minutes, and the
relative figures show whether a change of the seconds is the code's or the machine's.

Peak memory is the ``ru_maxrss`` of the process (what ``/usr/bin/time -v`` reports as "Maximum
resident set size"); the command is started and timed by a small wrapper process whose only
child it is. The results folders go to a temporary directory and are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import REFERENCE, ROOT, summary, write_result

SIMULATION = """
import json, resource, sys, time
t0 = time.perf_counter()
from simulation.model import PrimaryCareModel
t_import = time.perf_counter() - t0
from _common import reference_ms
reference = reference_ms()
t1, c1 = time.perf_counter(), time.process_time()
model = PrimaryCareModel(scenario="baseline", scale="national", rng=1)
t2 = time.perf_counter()
model.run(int(sys.argv[1]))
t3 = time.perf_counter()
ts = model.timeseries()
t4, c4 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t_import, "reference_ms": reference, "construction": t2 - t1, "months": t3 - t2, "collect": t4 - t3,
                  "simulation": t4 - t1, "simulation_cpu": c4 - c1, "gps": int(model.state.n_gps),
                  "practices": int(model.state.n_practices), "federations": int(model.state.n_federations),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: runs its arguments as a command; prints wall time, exit status and the command's peak RSS
MEASURE = """
import json, resource, subprocess, sys, time
from _common import reference_ms
reference = reference_ms()
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "reference_ms": reference, "returncode": done.returncode, "stderr": done.stderr[-2000:],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(command: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["returncode"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result['stderr']}")
    return result


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--months", type=int, default=120)
    args = ap.parse_args(argv)
    python = sys.executable
    pcsim = str(Path(python).with_name("pcsim"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]))

    sims = []
    for _ in range(args.repeats):
        out = subprocess.run([python, "-c", SIMULATION, str(args.months)], capture_output=True,
                             text=True, check=True, cwd=ROOT, env=env)
        sims.append(json.loads(out.stdout.strip().splitlines()[-1]))

    commands = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            commands.append(measure([pcsim, "run", "--scale", "national", "--months", str(args.months),
                                     "--out", str(Path(tmp) / f"run{r}")], env))

    sim = summary([s["simulation"] for s in sims])
    sim_cpu = summary([s["simulation_cpu"] for s in sims])
    parts = {k: summary([s[k] for s in sims]) for k in ("import", "construction", "months", "collect")}
    command = summary([c["seconds"] for c in commands])
    # the machine's speed next to each repeat, and each figure relative to it
    reference = summary([r["reference_ms"] for r in sims + commands])
    sim_relative = summary([s["simulation"] / (s["reference_ms"] / 1e3) for s in sims])
    command_relative = summary([c["seconds"] / (c["reference_ms"] / 1e3) for c in commands])
    peak_sim = max(s["peak_rss_mb"] for s in sims)
    peak_cmd = max(c["peak_rss_mb"] for c in commands)
    figures = {
        "what": "national baseline, every mechanism on",
        "months": args.months, "gps": sims[0]["gps"], "practices": sims[0]["practices"],
        "federations": sims[0]["federations"],
        "simulation_seconds": sim, "simulation_cpu_seconds": sim_cpu, "simulation_parts_seconds": parts,
        "simulation_peak_rss_mb": peak_sim,
        "command_seconds": command, "command_peak_rss_mb": peak_cmd,
        "reference": REFERENCE, "reference_ms": reference,
        "simulation_in_references": sim_relative, "command_in_references": command_relative,
        "targets": {"simulation_seconds": 2.0, "command_seconds": 5.0, "peak_rss_mb": 1024},
        "meets_targets": {"simulation": sim["median"] <= 2.0, "command": command["median"] <= 5.0,
                          "memory": peak_cmd <= 1024},
    }
    print(f"national run ({figures['gps']} GPs, {args.months} months), medians of {args.repeats}:")
    print(f"  simulation {sim['median']:.2f} s, CPU {sim_cpu['median']:.2f} s (construction {parts['construction']['median']:.2f}, "
          f"months {parts['months']['median']:.2f}, collect {parts['collect']['median']:.3f}; "
          f"imports {parts['import']['median']:.2f} s not included), peak {peak_sim:.0f} MB; target <= 2 s")
    print(f"  pcsim run command {command['median']:.2f} s, peak {peak_cmd:.0f} MB; targets <= 5 s, <= 1024 MB")
    print(f"  machine speed: the reference product took {reference['median']:.2f} ms (range "
          f"{reference['min']:.2f}-{reference['max']:.2f}); simulation {sim_relative['median']:.0f} and "
          f"command {command_relative['median']:.0f} times that")
    write_result("bench_national", figures)
    return figures


if __name__ == "__main__":
    main()
