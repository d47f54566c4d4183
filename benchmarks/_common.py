"""Shared by the benchmarks: timing helpers and the JSON record each benchmark writes.

Every benchmark writes ``results/benchmarks/<name>-<time>.json`` (a new file each run) with its
figures and the provenance of the run: versions, git commit, machine, and the load average when
it started, since the machine is shared and absolute times vary with it. Compare ratios measured
in one run rather than absolute times across runs.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import output  # noqa: E402

RESULTS = ROOT / "results" / "benchmarks"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of one call. On a busy machine the
    wall time includes waiting for a core; the CPU time does not."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, time.process_time() - cpu, result


def summary(seconds: list[float]) -> dict:
    """Median, quartiles, min and max of repeated timings, in seconds."""
    ordered = sorted(seconds)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {"median": statistics.median(ordered), "q1": q[0], "q3": q[2], "min": ordered[0],
            "max": ordered[-1], "repeats": len(ordered)}


def write_result(name: str, figures: dict) -> Path:
    """Write the benchmark's figures with provenance to a new JSON file; return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{output.timestamp()}.json"
    i = 1
    while path.exists():
        i += 1
        path = RESULTS / f"{name}-{output.timestamp()}-{i}.json"
    record = {"benchmark": name, **figures, "machine": machine(),
              "versions": output.versions(), "git_commit": output.git_commit(),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path
