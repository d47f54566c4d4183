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


#: the reference workload (:func:`reference_ms`): a fixed sparse x dense product, the kind of
#: memory-bound gather the model's exposure is, done by scipy (not by pcsim's code)
REFERENCE = "scipy CSR (40,000 x 40,000, 400,000 random nonzeros, seed 0) @ dense (40,000 x 8)"

_reference_operands = None


def reference_ms(repeats: int = 15) -> float:
    """The machine's speed right now: median milliseconds of :data:`REFERENCE`.

    The machine is shared, and its speed moves by a factor of two from one minute to the next
    (other tenants' load on the host). A benchmark measures this in the same process, next to
    its own timings, so that a figure can also be read relative to the machine's speed at the
    time (``seconds / reference``), which moves much less than the seconds do."""
    import numpy as np
    import scipy.sparse as sp

    global _reference_operands
    if _reference_operands is None:
        rng = np.random.default_rng(0)
        n, nnz = 40_000, 400_000
        matrix = sp.csr_array((rng.random(nnz), (rng.integers(0, n, nnz), rng.integers(0, n, nnz))),
                              shape=(n, n))
        _reference_operands = matrix, rng.random((n, 8))
    matrix, dense = _reference_operands
    matrix @ dense  # (first touch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matrix @ dense
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


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
