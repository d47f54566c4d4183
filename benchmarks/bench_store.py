"""The cost of a sweep store checking itself, on a 10,000-run store.

Every open of a store checks each committed chunk against its index (SHA-256 of every part and
its row count from the Parquet footer); ``pcsim sweep --verify`` does only that. This builds a
store of 10,000 runs in 400 chunks of 25 (the most runs a chunk holds by default), each run with
a 21-row time series (120 months kept every 6: 210,000 rows), by writing results through
``Store.write_chunk`` as a sweep does, with made-up outcome values (simulating 10,000 runs
would take an hour and measure the model, not the store). It then times, each ``--repeats``
times in this process (page cache warm after the first):

* ``check``: :meth:`Store.check` on a new ``Store`` object (SHA-256 and footer of 800 parts);
* ``done_keys_unchecked``: reading the ``run_key`` column of every runs part as the store did
  before it checked itself (one ``pyarrow.dataset`` over the parts): the cost it adds to;
* ``open_store``: what ``pcsim sweep`` does on resume before running anything (lock, clean,
  check and heal, mark dead sessions), then ``done_keys``;
* ``verify``: :func:`simulation.experiment.sweep.verify`, the report of ``--verify``;

and once the whole command ``pcsim sweep FILE --out STORE --verify`` in a fresh process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT, summary, timed, write_result  # noqa: E402  (puts ROOT on sys.path)

import pyarrow.dataset as ds  # noqa: E402

from simulation.experiment import designs, spec, sweep  # noqa: E402
from simulation.experiment.runner import ChunkResult  # noqa: E402
from simulation.experiment.store import RUNS, Store  # noqa: E402

EXPERIMENT = """name = "store10k"
months = 120
replicates = 10
seed = 1
[design]
type = "grid"
[parameters]
leadership_propensity = {leadership}
autonomy_base = {autonomy}
[outcomes]
summary = ["complex_adoption", "quality", "brokers", "leavers_total"]
timeseries = ["complex_adoption", "strain"]
every = 6
"""


def build(folder: Path, chunk: int) -> tuple[Path, Path, int]:
    """Write the experiment file and its 10,000-run store; return their paths and chunks."""
    text = EXPERIMENT.format(leadership=[round(0.01 + 0.0098 * i, 4) for i in range(100)],
                             autonomy=[round(0.05 + 0.1 * i, 2) for i in range(10)])
    path = folder / "store10k.toml"
    path.write_text(text)
    experiment = spec.load(path)
    design = designs.runs_table(experiment)
    out = folder / "store"
    store = Store.create(out, experiment, design)
    store.lock()
    rng = np.random.default_rng(0)
    months = list(range(0, experiment.months + 1, experiment.every))
    params = list(experiment.parameters)
    records = design.to_dict("records")
    for start in range(0, len(records), chunk):
        result = ChunkResult()
        for run in records[start:start + chunk]:
            ident = {k: run[k] for k in ("run_key", "design_row", "replicate")}
            result.rows.append({**ident, "seed": run["seed"], **{p: run[p] for p in params},
                                **{o: float(rng.random()) for o in experiment.summary_outcomes}})
            result.series += [{**ident, "month": m, **{o: float(rng.random())
                                                        for o in experiment.timeseries_outcomes}}
                              for m in months]
        store.write_chunk(result)
    store.unlock()
    return path, out, -(-len(records) // chunk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=sweep.MAX_CHUNK, help="runs per chunk (25)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        exp_path, out, chunks = build(Path(tmp), args.chunk)
        build_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        experiment = spec.load(exp_path)
        print(f"store: 10,000 runs, {chunks} chunks, {size / 1e6:.1f} MB, built in {build_s:.1f} s")

        def unchecked():
            parts = sorted(str(p) for p in (out / RUNS).glob("part-*.parquet"))
            return ds.dataset(parts, format="parquet").to_table(columns=["run_key"]).num_rows

        def open_and_read():
            store = sweep.open_store(out, experiment, stream=sys.stderr)
            try:
                return len(store.done_keys())
            finally:
                store.unlock()

        cases = {"check": lambda: Store(out).check(),
                 "done_keys_unchecked": unchecked,
                 "open_store": open_and_read,
                 "verify": lambda: sweep.verify(out)}
        figures = {"runs": 10_000, "chunks": chunks, "bytes": size, "build_seconds": build_s}
        for name, fn in cases.items():
            walls, cpus = [], []
            for _ in range(args.repeats):
                wall, cpu, _ = timed(fn)
                walls.append(wall)
                cpus.append(cpu)
            figures[name] = {"wall": summary(walls), "cpu": summary(cpus)}
            print(f"{name:>20}: median {np.median(walls) * 1000:7.0f} ms wall, "
                  f"{np.median(cpus) * 1000:7.0f} ms CPU (min {min(walls) * 1000:.0f}, "
                  f"max {max(walls) * 1000:.0f}; {args.repeats} repeats)")

        t0 = time.perf_counter()
        command = subprocess.run([sys.executable, "-m", "simulation.cli", "sweep", str(exp_path),
                                  "--out", str(out), "--verify"], cwd=ROOT, capture_output=True,
                                 text=True)
        figures["command_verify_seconds"] = time.perf_counter() - t0
        print(f"  pcsim sweep --verify: {figures['command_verify_seconds']:.2f} s, exit "
              f"{command.returncode}: {command.stdout.splitlines()[0] if command.stdout else command.stderr}")
    print(f"written: {write_result('store', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
