"""County run: a whole simulation (~500 GPs, 120 months) including model construction, timed in
process and repeated; the median is the figure (target: <= 100 ms, i.e. >= 10 runs per second
per core for a sweep).

    .venv/bin/python benchmarks/bench_county.py [--repeats 30] [--months 120]

Each repeat builds a new model with a new seed (construction: population, ties, Mesa agents,
DataCollector), runs it, and collects the time series as a DataFrame. The first run, which pays
for imports and first-use caches, is reported separately and left out of the median. The
machine's speed is measured alongside (a reference workload, before and after every ten runs;
see ``_common.reference_ms``), and the median is also given relative to it.
"""

from __future__ import annotations

import argparse

from _common import REFERENCE, reference_ms, summary, timed, write_result

from simulation.model import PrimaryCareModel


def one_run(seed: int, months: int):
    model = PrimaryCareModel(scenario="baseline", scale="county", rng=seed)
    model.run(months)
    return model.timeseries()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--months", type=int, default=120)
    args = ap.parse_args(argv)

    first, _, _ = timed(one_run, 0, args.months)
    times, cpu, references = [], [], [reference_ms()]
    for seed in range(1, args.repeats + 1):
        seconds, cpu_seconds, _ = timed(one_run, seed, args.months)
        times.append(seconds)
        cpu.append(cpu_seconds)
        if seed % 10 == 0:
            references.append(reference_ms())
    stats = summary(times)
    reference = summary(references)
    model = PrimaryCareModel(scenario="baseline", scale="county", rng=1)
    figures = {
        "what": "county baseline: construction + months + time series, in process",
        "months": args.months, "gps": model.state.n_gps, "practices": model.state.n_practices,
        "first_run_seconds": first, "seconds": stats, "cpu_seconds": summary(cpu),
        "runs_per_second": 1.0 / stats["median"],
        "target_seconds": 0.100, "meets_target": stats["median"] <= 0.100,
        "reference": REFERENCE, "reference_ms": reference,
        "in_references": stats["median"] / (reference["median"] / 1e3),
    }
    print(f"county run ({model.state.n_gps} GPs, {args.months} months): median "
          f"{stats['median'] * 1e3:.1f} ms over {args.repeats} runs "
          f"(q1 {stats['q1'] * 1e3:.1f}, q3 {stats['q3'] * 1e3:.1f}; CPU {figures['cpu_seconds']['median'] * 1e3:.1f}); "
          f"first run {first * 1e3:.0f} ms; "
          f"{figures['runs_per_second']:.1f} runs/s; target <= 100 ms: "
          f"{'met' if figures['meets_target'] else 'NOT met'}")
    print(f"  machine speed: the reference product took {reference['median']:.2f} ms (range "
          f"{reference['min']:.2f}-{reference['max']:.2f}); a run {figures['in_references']:.1f} times that")
    write_result("bench_county", figures)
    return figures


if __name__ == "__main__":
    main()
