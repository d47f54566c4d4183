"""Sweep throughput (runs per second, county scale) on each executor, and the peak memory of a
10,000-run sweep.

    .venv/bin/python benchmarks/bench_sweep.py                 # both parts
    .venv/bin/python benchmarks/bench_sweep.py --skip-memory   # throughput only (~ a minute or two)

Throughput: the same sweep (``--runs`` county runs of ``--months`` months, default 48 x 120)
in this process (``--workers 0``), on the process pool and on a Dask LocalCluster (both with
``--workers`` processes, default all cores). Each is timed twice: the sweep loop alone (steady
rate) and including the executor's start-up (what a user waits for). On a shared machine
compare the ratios within one run of this script, not absolute numbers across runs.

Memory: a ``--memory-runs`` sweep (default 10,000 runs, Latin hypercube x replicates) on the
process pool (``--memory-workers 1``: in this process), with the memory of this process and all
its descendants sampled every 0.2 s: RSS per process, and the tree's total as RSS (which counts
the libraries each process maps once per process) and PSS (which counts shared pages once). The
target is a peak of at most 500 MB whatever the number of runs; each extra worker process adds
its own imports (numpy, pandas, Mesa: ~200 MB RSS), whatever the number of runs. Runs are kept short
(``--memory-months``, default 12) because the store's memory depends on the number of runs and
chunks, not on their length; the driver's memory at 10%, 50% and 100% of the runs shows it is
flat.

Writes ``results/benchmarks/bench_sweep-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import output  # noqa: E402
from simulation.experiment import executors, spec, sweep  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (imported libraries) split between their users, so
    the sum over a process tree counts them once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as handle:
                    kids = [int(k) for k in handle.read().split()]
            except FileNotFoundError:
                continue
            out += kids
            stack += kids
    return out


class MemorySampler(threading.Thread):
    """Peak memory of this process, of any one worker, and of the whole process tree."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval, self.stop_event = interval, threading.Event()
        self.peak_self = self.peak_worker = self.peak_tree = self.peak_tree_pss = 0

    def run(self):
        me = os.getpid()
        while not self.stop_event.is_set():
            own, others = rss_bytes(me), descendants(me)
            workers = [rss_bytes(p) for p in others]
            self.peak_self = max(self.peak_self, own)
            self.peak_worker = max([self.peak_worker, *workers])
            self.peak_tree = max(self.peak_tree, own + sum(workers))
            self.peak_tree_pss = max(self.peak_tree_pss, pss_bytes(me) + sum(pss_bytes(p) for p in others))
            self.stop_event.wait(self.interval)

    def report(self) -> dict:
        mb = lambda b: round(b / 2**20, 1)
        return {"peak_rss_sweep_process_mb": mb(self.peak_self),
                "peak_rss_one_worker_mb": mb(self.peak_worker),
                "peak_rss_tree_mb": mb(self.peak_tree), "peak_pss_tree_mb": mb(self.peak_tree_pss)}

    def stop(self):
        self.stop_event.set()
        self.join()


def experiment(name: str, months: int, design: dict, parameters: dict, replicates: int) -> spec.Experiment:
    return spec.from_dict({
        "name": name, "months": months, "replicates": replicates, "seed": 7, "design": design,
        "parameters": parameters,
        "outcomes": {"timeseries": ["complex_adoption", "strain"], "every": 12},
    })


def timed_sweep(exp, make_executor, folder: Path, on_progress=None) -> dict:
    t0 = time.perf_counter()
    with make_executor() as executor:
        t_ready = time.perf_counter()
        store = sweep.open_store(folder, exp)
        try:
            outcome = sweep.execute(exp, store, executor, progress_stream=on_progress or StringIO(),
                                    live=False)
        finally:
            store.unlock()
    t1 = time.perf_counter()
    assert outcome.finished == outcome.total and not outcome.failed, "benchmark runs must all finish"
    return {"executor": executor.name, "runs": outcome.new, "startup_s": round(t_ready - t0, 3),
            "sweep_s": round(outcome.seconds, 3), "total_s": round(t1 - t0, 3),
            "runs_per_s": round(outcome.new / outcome.seconds, 3),
            "runs_per_s_with_startup": round(outcome.new / (t1 - t0), 3)}


def throughput(args, scratch: Path) -> list[dict]:
    exp = experiment("bench_throughput", args.months, {"type": "lhs", "samples": args.runs // 2},
                     {"leadership_propensity": [0.1, 0.6], "autonomy_base": [0.2, 0.8]}, 2)
    makers = [("in-process", lambda: executors.SerialExecutor()),
              ("pool", lambda: executors.PoolExecutor(args.workers)),
              ("dask", lambda: executors.DaskExecutor(local_workers=args.workers))]
    out = []
    for label, make in makers:
        sampler = MemorySampler()
        sampler.start()
        try:
            result = timed_sweep(exp, make, scratch / label)
        finally:
            sampler.stop()
        result.update(sampler.report(), label=label)
        print(f"{label:>10}: {result['runs']} runs in {result['sweep_s']:.1f} s = "
              f"{result['runs_per_s']:.2f} runs/s ({result['runs_per_s_with_startup']:.2f} with "
              f"{result['startup_s']:.1f} s start-up)", flush=True)
        out.append(result)
    return out


class Checkpoints:
    """A progress stream that notes the driver's memory at 10%, 50% and 100% of the runs."""

    def __init__(self, total: int):
        self.total, self.marks, self.seen = total, {}, 0

    def write(self, text: str) -> None:
        if "runs (" not in text:
            return
        done = int(text.split(":")[1].split("/")[0])
        for share in (0.1, 0.5, 1.0):
            if done >= share * self.total and share not in self.marks:
                self.marks[share] = round(rss_bytes(os.getpid()) / 2**20, 1)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def memory(args, scratch: Path) -> dict:
    replicates = 10
    exp = experiment("bench_memory", args.memory_months,
                     {"type": "lhs", "samples": args.memory_runs // replicates},
                     {"leadership_propensity": [0.1, 0.6], "autonomy_base": [0.2, 0.8]}, replicates)
    workers = args.memory_workers
    make = (lambda: executors.SerialExecutor()) if workers == 1 else (lambda: executors.PoolExecutor(workers))
    sampler = MemorySampler()
    sampler.start()
    marks = Checkpoints(args.memory_runs)
    try:
        result = timed_sweep(exp, make, scratch / "memory", on_progress=marks)
    finally:
        sampler.stop()
    parts = len(list((scratch / "memory" / "runs").glob("part-*.parquet")))
    result.update(sampler.report(), parts=parts, target_mb=500, months=args.memory_months,
                  sweep_process_rss_mb_at_share_done={str(k): v for k, v in sorted(marks.marks.items())})
    print(f"memory: {result['runs']} runs ({parts} parts) in {result['total_s']:.0f} s on "
          f"{result['executor']}: peak RSS of the sweep process {result['peak_rss_sweep_process_mb']:.0f} MB "
          f"(at 10/50/100% of runs: {result['sweep_process_rss_mb_at_share_done']}); one worker "
          f"{result['peak_rss_one_worker_mb']:.0f} MB; process tree {result['peak_rss_tree_mb']:.0f} MB "
          f"RSS, {result['peak_pss_tree_mb']:.0f} MB PSS", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=48, help="runs per throughput sweep (even)")
    parser.add_argument("--months", type=int, default=120, help="months per throughput run")
    parser.add_argument("--workers", type=int, default=executors.available_cores(),
                        help="pool and Dask worker processes (default: all cores)")
    parser.add_argument("--memory-runs", type=int, default=10_000)
    parser.add_argument("--memory-months", type=int, default=12)
    parser.add_argument("--memory-workers", type=int, default=executors.available_cores(),
                        help="processes of the memory sweep (1: in this process)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="pcsim-bench-sweep-"))
    report = {"benchmark": "sweep", "cores": executors.available_cores(), "workers": args.workers,
              "machine": platform.platform(), **{k: v for k, v in output.manifest().items()
                                                 if k in ("created", "versions", "git_commit")}}
    try:
        if not args.skip_throughput:
            report["throughput"] = throughput(args, scratch)
            serial = report["throughput"][0]["runs_per_s"]
            report["speedup_vs_in_process"] = {r["label"]: round(r["runs_per_s"] / serial, 2)
                                               for r in report["throughput"]}
        if not args.skip_memory:
            report["memory"] = memory(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    folder = ROOT / "results" / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_sweep-{output.timestamp()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
