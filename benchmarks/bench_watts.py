"""Watts threshold model on one 40,000-node Erdos-Renyi graph (mean degree 10, phi = 0.2, 1% seeds,
50 synchronous steps): the model's Watts limit (:func:`simulation.limits.watts_model`, the full
model with every other mechanism neutral) against NDlib's ``ThresholdModel`` and a bare
numpy/scipy CSR kernel of the same rule, in one process (targets: >= 20x faster than NDlib and
within 3x of the bare kernel, per step).

    .venv/bin/python benchmarks/bench_watts.py [--nodes 40000] [--steps 50] [--repeats 5]

The three final adoption vectors must be identical (the benchmark stops if not). The rule: a
non-adopter adopts when (adopted neighbours) / (neighbours) >= phi, all from the previous step.

NDlib is not a dependency of pcsim: on first use this script installs NDlib 6.0.1 and the small
packages it imports (it imports ``six`` without declaring it) into ``benchmarks/.ndlib`` with pip,
leaving the project's environment untouched, and imports it from there. Its seeds are given
explicitly, so its random stream (seeded too) plays no part.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp

from _common import ROOT, summary, write_result

from simulation import limits

NDLIB_DIR = ROOT / "benchmarks" / ".ndlib"
#: NDlib and what it imports beyond the project's own dependencies (numpy, scipy, networkx, tqdm)
NDLIB_PACKAGES = ["ndlib==6.0.1", "six", "future", "netdispatch", "dynetx"]


def import_ndlib():
    """NDlib's ThresholdModel and ModelConfig, installed into benchmarks/.ndlib if needed."""
    if not (NDLIB_DIR / "ndlib").is_dir():
        print(f"installing {', '.join(NDLIB_PACKAGES)} into {NDLIB_DIR.relative_to(ROOT)} ...")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                        str(NDLIB_DIR), *NDLIB_PACKAGES], check=True)
    sys.path.insert(0, str(NDLIB_DIR))
    epidemics = importlib.import_module("ndlib.models.epidemics")
    config = importlib.import_module("ndlib.models.ModelConfig")
    return epidemics.ThresholdModel, config.Configuration


def stepped(step, steps):
    """Wall and CPU seconds of each of ``steps`` calls of ``step``."""
    wall, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def run_pcsim(graph, phi, seeds, steps):
    model = limits.watts_model(graph, phi, seeds, rng=1)
    return stepped(model.step, steps), model.state.genuine[:, 0].copy()


def run_kernel(adjacency, phi, seeds, steps):
    """The rule on a CSR matrix: x <- x | ((A @ x) / degree >= phi), degree-0 nodes never adopt."""
    degree = adjacency @ np.ones(adjacency.shape[0])
    safe = np.where(degree > 0, degree, 1.0)
    x = np.zeros(adjacency.shape[0])
    x[seeds] = 1.0

    def step():
        nonlocal x
        x = np.maximum(x, ((adjacency @ x) / safe >= phi) & (degree > 0))

    return stepped(step, steps), x > 0


def run_ndlib(graph, phi, seeds, steps, ThresholdModel, Configuration):
    model = ThresholdModel(graph, seed=1)
    config = Configuration()
    config.add_model_initial_configuration("Infected", [int(s) for s in seeds])
    for node in graph.nodes:
        config.add_node_configuration("threshold", node, phi)
    model.set_initial_status(config)
    model.iteration()  # NDlib's iteration 0 reports the initial state; steps start after it
    times = stepped(lambda: model.iteration(node_status=False), steps)
    return times, np.array([model.status[v] == 1 for v in sorted(graph.nodes)])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=40_000)
    ap.add_argument("--degree", type=float, default=10.0)
    ap.add_argument("--phi", type=float, default=0.2)
    ap.add_argument("--seed-share", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the fast runs (NDlib runs once)")
    ap.add_argument("--seed", type=int, default=2002)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    graph = nx.fast_gnp_random_graph(args.nodes, args.degree / (args.nodes - 1),
                                     seed=int(rng.integers(2**31)))
    seeds = np.sort(rng.choice(args.nodes, int(round(args.seed_share * args.nodes)), replace=False))
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(args.nodes), weight=None,
                                         dtype=np.float64, format="csr")
    ThresholdModel, Configuration = import_ndlib()

    wall, cpu, finals = {"pcsim": [], "kernel": []}, {"pcsim": [], "kernel": []}, {}
    for _ in range(args.repeats):
        for name, run in (("pcsim", lambda: run_pcsim(graph, args.phi, seeds, args.steps)),
                          ("kernel", lambda: run_kernel(adjacency, args.phi, seeds, args.steps))):
            (w, c), finals[name] = run()
            wall[name] += w
            cpu[name] += c
    (wall["ndlib"], cpu["ndlib"]), finals["ndlib"] = run_ndlib(graph, args.phi, seeds, args.steps,
                                                               ThresholdModel, Configuration)

    identical = (np.array_equal(finals["pcsim"], finals["kernel"])
                 and np.array_equal(finals["pcsim"], finals["ndlib"]))
    step = {name: summary(times) for name, times in wall.items()}
    step_cpu = {name: summary(times) for name, times in cpu.items()}
    ratio_ndlib = step["ndlib"]["median"] / step["pcsim"]["median"]
    ratio_kernel = step["pcsim"]["median"] / step["kernel"]["median"]
    cpu_ratio_ndlib = step_cpu["ndlib"]["median"] / step_cpu["pcsim"]["median"]
    cpu_ratio_kernel = step_cpu["pcsim"]["median"] / step_cpu["kernel"]["median"]
    figures = {
        "what": "per-step time of the synchronous threshold rule",
        "nodes": args.nodes, "edges": graph.number_of_edges(), "mean_degree": 2 * graph.number_of_edges() / args.nodes,
        "phi": args.phi, "seeds": int(seeds.size), "steps": args.steps,
        "final_adopted_share": float(finals["pcsim"].mean()), "identical_final_adoption": identical,
        "step_seconds": step, "step_cpu_seconds": step_cpu,
        "total_seconds": {k: v["median"] * args.steps for k, v in step.items()},
        "ndlib_over_pcsim": ratio_ndlib, "pcsim_over_kernel": ratio_kernel,
        "cpu_ndlib_over_pcsim": cpu_ratio_ndlib, "cpu_pcsim_over_kernel": cpu_ratio_kernel,
        "targets": {"ndlib_over_pcsim_at_least": 20, "pcsim_over_kernel_at_most": 3},
        "meets_targets": {"ndlib": ratio_ndlib >= 20, "kernel": ratio_kernel <= 3},
    }
    print(f"Watts, {args.nodes} nodes, mean degree {figures['mean_degree']:.2f}, phi {args.phi}, "
          f"{seeds.size} seeds, {args.steps} steps: final adopted share {figures['final_adopted_share']:.4f}, "
          f"identical in all three: {identical}")
    for name in ("pcsim", "kernel", "ndlib"):
        print(f"  {name:7s} {step[name]['median'] * 1e3:8.2f} ms/step (CPU {step_cpu[name]['median'] * 1e3:.2f})")
    print(f"  NDlib / pcsim = {ratio_ndlib:.0f}x (target >= 20); pcsim / kernel = {ratio_kernel:.2f}x "
          f"(target <= 3); in CPU time {cpu_ratio_ndlib:.0f}x and {cpu_ratio_kernel:.2f}x")
    write_result("bench_watts", figures)
    if not identical:
        raise SystemExit("the final adoption vectors differ")
    return figures


if __name__ == "__main__":
    main()
