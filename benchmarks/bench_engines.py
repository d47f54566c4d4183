"""Step time of the fast (vectorised) engine against the per-agent reference engine, full model,
at ~500, ~5,000 and ~38,000 GPs, measured side by side in one process (target: fast >= 100x
reference per step at ~38,000 GPs).

    .venv/bin/python benchmarks/bench_engines.py [--sizes 500 5000 38000]

For each size both engines step the same model (same seed, same draws) through the same first
months: the reference engine once (it is slow), the fast engine ``--fast-repeats`` times on fresh
models; the figure is the median time of one step. After those months the two models' states and
reporters are compared, so the benchmark also checks, at scale, that the engines agree bit for bit.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import summary, write_result

from simulation.model import PrimaryCareModel

#: (model arguments, reference months) per approximate size; 5,000 GPs is a county-style region
SIZES = {
    500: (dict(scale="county"), 12),
    5000: (dict(scale="county", n_practices=830), 4),
    38000: (dict(scale="national"), 2),
}


def step_times(model: PrimaryCareModel, months: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of the next ``months`` steps."""
    wall, cpu = [], []
    for _ in range(months):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def compare(size: int, fast_repeats: int, seed: int) -> dict:
    kwargs, months = SIZES[size]
    reference = PrimaryCareModel(scenario="baseline", rng=seed, engine="reference", **kwargs)
    reference_steps, reference_cpu = step_times(reference, months)
    fast_steps, fast_cpu, fast = [], [], None
    for _ in range(fast_repeats):
        fast = PrimaryCareModel(scenario="baseline", rng=seed, engine="fast", **kwargs)
        wall, cpu = step_times(fast, months)
        fast_steps += wall
        fast_cpu += cpu
    identical = fast.state.equals(reference.state) and fast.observation == reference.observation
    ref_median, fast_median = statistics.median(reference_steps), statistics.median(fast_steps)
    row = {"gps": fast.state.n_gps, "practices": fast.state.n_practices, "months": months,
           "reference_step_seconds": summary(reference_steps), "fast_step_seconds": summary(fast_steps),
           "reference_step_cpu_seconds": summary(reference_cpu), "fast_step_cpu_seconds": summary(fast_cpu),
           "ratio": ref_median / fast_median,
           "cpu_ratio": statistics.median(reference_cpu) / statistics.median(fast_cpu), "identical": identical}
    print(f"{fast.state.n_gps:>6} GPs: reference {ref_median * 1e3:9.1f} ms/step, fast "
          f"{fast_median * 1e3:7.2f} ms/step, ratio {row['ratio']:6.0f}x (CPU time {row['cpu_ratio']:.0f}x), "
          f"states identical after {months} months: {identical}")
    return row


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--fast-repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rows = [compare(size, args.fast_repeats, args.seed) for size in args.sizes]
    largest = rows[-1]
    figures = {"what": "median time of one month (step), full model, baseline scenario",
               "sizes": rows, "target_ratio_at_largest": 100,
               "meets_target": largest["ratio"] >= 100 and largest["identical"]}
    write_result("bench_engines", figures)
    if not all(r["identical"] for r in rows):
        raise SystemExit("the engines disagree: see the rows above")
    return figures


if __name__ == "__main__":
    main()
