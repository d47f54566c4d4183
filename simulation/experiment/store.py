"""The sweep store: a folder of Parquet datasets that grows one atomic part per finished chunk.

Layout (``results/<experiment name>/`` unless ``--out`` says otherwise)::

    manifest.json        experiment file text and hashes, design summary, versions, sessions
    design.parquet       every run: run_key, design_row, replicate, seed, varied parameters
    runs/part-*.parquet  one row per finished run: the design columns and the outcomes
    timeseries/part-*.parquet   thinned time series (only if the experiment asks for them)
    failures/part-*.parquet     runs that raised: key, parameters, seed, error, traceback
    index/part-*.json    per committed chunk: SHA-256, rows and bytes of each of its parts
    quarantine/          chunks that failed their check, moved aside (their runs are redone)
    runs.csv             the runs table as CSV, for spreadsheets (rewritten when a sweep ends)
    timeseries.csv       the time-series table as CSV, only while it has at most
                         :data:`TIMESERIES_CSV_MAX_ROWS` rows
    figures/, sensitivity/      derived from the tables; redrawn by every sweep/sensitivity
    replicates/          replicate check (CI half-width vs replicates); every sweep, R >= 2
    discover-<outcome>/  scenario discovery (PRIM boxes), written by ``pcsim discover``

A chunk is committed by its index: its ``timeseries`` and ``failures`` parts (same part name)
are written first, then the ``runs`` part (written even when empty), then ``index/<chunk>.json``.
Every file is written to a hidden temporary file, flushed to disk and renamed into place, so a
reader never sees half a file, and after a kill at any moment the finished runs are exactly
those of committed chunks. Every open checks each chunk against its index (SHA-256 and row
count); readers use only chunks that pass, and a sweep moves the others to ``quarantine/``
(:meth:`Store.heal`) so that their runs are redone. Parts left without their ``runs`` part by a
kill are ignored by readers and removed by the next sweep. A store from before indexes (no
``store_format`` in its manifest) is read as before and indexed by its next sweep. One sweep at a time may write a store (an advisory lock on ``.lock``; the kernel drops
it if the process dies).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .. import output
from .designs import column_dtype
from .runner import ChunkResult
from .spec import Experiment, ExperimentError

RUNS, SERIES, FAILURES = "runs", "timeseries", "failures"
DATASETS = (RUNS, SERIES, FAILURES)
QUARANTINE = "quarantine"
INDEX = "index"  # index/<chunk>.json: outside runs/, so that runs/ still reads as one Parquet dataset
#: Stores made since chunks have an index (``runs/part-*.json``) say so in their manifest; in
#: them a part without an index is not committed. Older stores have no such field.
STORE_FORMAT = 2
FAILURE_FIELDS = [("run_key", pa.string()), ("design_row", pa.int64()), ("replicate", pa.int64()),
                  ("seed", pa.int64()), ("params", pa.string()), ("error", pa.string()),
                  ("traceback", pa.string()), ("command", pa.string())]
#: The time-series table is written as CSV only up to this many rows (a 600-run sweep kept
#: every 6 months is 12,600 rows, about 1.5 MB): beyond it a CSV would be tens of megabytes,
#: slow to write at the end of every sweep and to open in a spreadsheet, whose sheets also stop
#: at 1,048,576 rows; the Parquet parts hold it all.
TIMESERIES_CSV_MAX_ROWS = 200_000
ARROW_TYPES = {"float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(), "object": pa.string()}


def schemas(experiment: Experiment) -> dict[str, pa.Schema]:
    """The Arrow schemas of the three datasets (fixed, so every part has the same columns)."""
    ident = [("run_key", pa.string()), ("design_row", pa.int64()), ("replicate", pa.int64())]
    params = [(n, ARROW_TYPES[column_dtype(n)]) for n in experiment.parameters]
    return {
        RUNS: pa.schema([*ident, ("seed", pa.int64()),
                         *([("param_set", pa.int64())] if experiment.ensemble else []), *params,
                         *((o, pa.float64()) for o in experiment.outcome_names)]),
        SERIES: pa.schema([*ident, ("month", pa.int64()),
                           *((o, pa.float64()) for o in experiment.timeseries_outcomes)]),
        FAILURES: pa.schema(FAILURE_FIELDS),
    }


class StoreLocked(ExperimentError):
    """Another sweep is writing the same store."""


class Store:
    """One sweep's folder: create it with :meth:`create`, reopen it with ``Store(path)``.

    Given the experiment, empty tables come back with their columns, and chunks can be written.
    """

    def __init__(self, path: str | Path, experiment: Experiment | None = None):
        self.path = Path(path)
        self.experiment = experiment
        self._schemas = schemas(experiment) if experiment is not None else None
        self._lock_file = None
        self._session = None
        self._seq = 0
        self._checked: dict[str, str | None] = {}  # chunk -> None (valid), LEGACY or a problem

    # --- creation and identity ------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text())

    @classmethod
    def create(cls, path: str | Path, experiment: Experiment, design: pd.DataFrame,
               **fields: Any) -> "Store":
        """Write the manifest and the design into a new folder (atomically, as a whole)."""
        with output.atomic_folder(path) as tmp:
            design.to_parquet(tmp / "design.parquet", index=False)
            for name in (*DATASETS, INDEX):
                (tmp / name).mkdir()
            output.write_json(tmp / "manifest.json", output.manifest(
                experiment=experiment.name, experiment_file=experiment.path,
                experiment_text=experiment.text, experiment_sha256=experiment.file_hash,
                definition_sha256=experiment.definition_hash, definition=experiment.definition(),
                design={"type": experiment.design, **experiment.design_options,
                        "parameters": list(experiment.parameters),
                        "rows": int(design["design_row"].nunique()) if len(design) else 0,
                        "replicates": experiment.replicates, "runs": len(design)},
                seeds="run seed = SeedSequence(seed, spawn_key=(design_row, replicate))"
                      ".generate_state(1, uint64)[0] >> 1"
                      + (" with design_row = 0 for every row (common random numbers)"
                         if experiment.common_random_numbers else ""),
                store_format=STORE_FORMAT, **fields, sessions=[]))
        return cls(path, experiment)

    def check_compatible(self, experiment: Experiment) -> None:
        """Refuse to add runs of a different experiment definition to this store."""
        manifest = self.manifest()
        if manifest.get("definition_sha256") == experiment.definition_hash:
            return
        old, new = manifest.get("definition", {}), json.loads(json.dumps(experiment.definition(), default=str))
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["(unknown)"]
        raise ExperimentError(
            f"{self.path} holds a sweep of a different version of this experiment (changed: "
            f"{', '.join(changed)}); adding runs would mix two experiments. Use --new for a "
            "fresh folder beside it, or --out DIR")

    def design(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "design.parquet")

    # --- writing (one writer at a time) -----------------------------------------------------
    def lock(self) -> None:
        """Take the store's write lock, or refuse if another sweep holds it."""
        handle = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreLocked(f"another pcsim sweep is writing to {self.path}; wait for it to "
                              "finish (or stop it) before resuming") from None
        self._lock_file = handle
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self._session = f"{stamp}-{os.getpid()}"

    def close_dead_sessions(self) -> None:
        """Mark sessions still 'running' as 'killed': with the lock held, none of them can be."""
        manifest = self.manifest()
        dead = [s for s in manifest.get("sessions", []) if s.get("status") == "running"]
        for session in dead:
            session["status"] = "killed"
        if dead:
            write_json_atomic(self.manifest_path, manifest)

    def unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def clean(self) -> list[Path]:
        """Remove what dead processes left: temporary files (``.*.tmp``, also of the manifest,
        the CSV copies, figures and sensitivity tables) and parts of chunks that never reached
        their commit (no runs part and no index: killed before it)."""
        removed = []
        for folder in (self.path, self.path / "figures", self.path / "sensitivity",
                       self.path / "replicates", *self.path.glob("discover-*")):
            removed += [p for p in folder.glob(".*.tmp") if p.is_file()]
        for name in (*DATASETS, INDEX):
            folder = self.path / name
            if folder.is_dir():
                removed += [p for p in folder.iterdir() if p.name.startswith(".")]
        chunks = self._chunks()
        for name in (SERIES, FAILURES):
            folder = self.path / name
            if folder.is_dir():
                removed += [p for p in folder.glob("part-*.parquet") if p.stem not in chunks]
        for p in removed:
            p.unlink(missing_ok=True)
        return removed

    def heal(self) -> list[str]:
        """With the lock held: move every damaged, unreadable or unindexed chunk (its runs part
        with its time-series and failures parts, and its index) to ``quarantine/``, so that its
        runs are redone, and index the valid parts of a store written before indexes.
        Returns one line per quarantined chunk."""
        lines = []
        for chunk, problem in self.check().items():
            if problem is None:
                continue
            if problem == LEGACY:
                self._index_legacy(chunk)
                continue
            moved = self._quarantine(chunk)
            rows = self._index_rows(chunk)
            redo = f"its {rows} run(s) will be redone" if rows is not None else "its runs will be redone"
            lines.append(f"damaged part {chunk} ({problem}): moved {', '.join(moved)} to "
                         f"{self.path / QUARANTINE}; {redo}")
        manifest = self.manifest()
        if manifest.get("store_format", 1) < STORE_FORMAT:
            manifest["store_format"] = STORE_FORMAT  # every valid part now has its index
            write_json_atomic(self.manifest_path, manifest)
        return lines

    def _quarantine(self, chunk: str) -> list[str]:
        moved = []
        files = [self.path / d / f"{chunk}.parquet" for d in DATASETS] + [self._index_path(chunk)]
        for src in files:
            if src.exists():
                rel = src.relative_to(self.path)
                dest = self.path / QUARANTINE / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                moved.append(str(rel))
        self._checked.pop(chunk, None)
        if moved:
            _fsync_dir(self.path / RUNS)
        return moved

    def _index_legacy(self, chunk: str) -> None:
        (self.path / INDEX).mkdir(exist_ok=True)
        index = {}
        for name in DATASETS:
            path = self.path / name / f"{chunk}.parquet"
            if path.exists():
                data = path.read_bytes()
                index[name] = {"sha256": hashlib.sha256(data).hexdigest(),
                               "rows": pq.read_metadata(path).num_rows, "bytes": len(data)}
        write_json_atomic(self._index_path(chunk), {"chunk": chunk, "parts": index,
                                                    "indexed_later": True})
        self._checked[chunk] = None

    def write_chunk(self, result: ChunkResult, commands: dict[str, str] | None = None) -> str:
        """Commit one chunk: its time series and failures first, its runs part last."""
        if self._session is None or self._schemas is None:
            raise RuntimeError("Store(path, experiment).lock() must be called before writing")
        self._seq += 1
        part = f"part-{self._session}-{self._seq:06d}"
        schema = self._schemas
        index = {}
        if result.series:
            index[SERIES] = self._write(SERIES, part, pa.Table.from_pylist(result.series, schema=schema[SERIES]))
        if result.failures:
            failures = [{**f, "command": (commands or {}).get(f["run_key"], "")} for f in result.failures]
            index[FAILURES] = self._write(FAILURES, part, pa.Table.from_pylist(failures, schema=schema[FAILURES]))
        index[RUNS] = self._write(RUNS, part, pa.Table.from_pylist(result.rows, schema=schema[RUNS]))
        (self.path / INDEX).mkdir(exist_ok=True)  # a store from before indexes has none yet
        write_json_atomic(self._index_path(part), {"chunk": part, "parts": index})  # the commit
        self._checked[part] = None
        return part

    def _write(self, dataset: str, part: str, table: pa.Table) -> dict[str, Any]:
        """Write one part atomically; return its index entry (SHA-256, rows, bytes)."""
        folder = self.path / dataset
        final = folder / f"{part}.parquet"
        tmp = folder / f".{part}.parquet.tmp"
        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer)
        data = buffer.getvalue().to_pybytes()
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        _fsync_dir(folder)
        return {"sha256": hashlib.sha256(data).hexdigest(), "rows": table.num_rows, "bytes": len(data)}

    def record_session(self, entry: dict[str, Any], index: int | None = None) -> int:
        """Add (or, given its index, update) this invocation's entry in the manifest."""
        manifest = self.manifest()
        sessions = manifest.setdefault("sessions", [])
        if index is None:
            sessions.append(entry)
            index = len(sessions) - 1
        else:
            sessions[index] = entry
        write_json_atomic(self.manifest_path, manifest)
        return index

    # --- reading ----------------------------------------------------------------------------
    def _index_path(self, chunk: str) -> Path:
        return self.path / INDEX / f"{chunk}.json"

    def _chunks(self) -> set[str]:
        """Every chunk with a runs part or an index (committed or not)."""
        return ({p.stem for p in (self.path / RUNS).glob("part-*.parquet")}
                | {p.stem for p in (self.path / INDEX).glob("part-*.json")})

    def _index_rows(self, chunk: str) -> int | None:
        for path in (self._index_path(chunk), self.path / QUARANTINE / INDEX / f"{chunk}.json"):
            try:
                return int(json.loads(path.read_text())["parts"][RUNS]["rows"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return None

    def check(self) -> dict[str, str | None]:
        """Verify every chunk (once per Store object): ``None`` if valid, :data:`LEGACY` for a
        readable part of a store written before indexes, else what is wrong with it.

        A chunk is valid when its index ``runs/<chunk>.json`` exists and every part it lists
        exists with the SHA-256 and the row count (from the Parquet footer) it records.
        """
        try:
            legacy = self.manifest().get("store_format", 1) < STORE_FORMAT
        except (OSError, ValueError):
            legacy = False
        for chunk in sorted(self._chunks() - set(self._checked)):
            self._checked[chunk] = self._check_chunk(chunk, legacy)
        for chunk in set(self._checked) - self._chunks():
            del self._checked[chunk]
        return dict(sorted(self._checked.items()))

    def _check_chunk(self, chunk: str, legacy: bool) -> str | None:
        index_path = self._index_path(chunk)
        if not index_path.exists():
            if not legacy:
                return f"no index {INDEX}/{chunk}.json: the chunk never committed"
            try:  # a store from before indexes: valid if every part of the chunk reads
                for name in DATASETS:
                    path = self.path / name / f"{chunk}.parquet"
                    if path.exists():
                        pq.read_table(path)
            except (OSError, pa.ArrowException) as err:
                return f"{name} part unreadable: {str(err).splitlines()[0][:120]}"
            return LEGACY
        try:
            parts = json.loads(index_path.read_text())["parts"]
            if RUNS not in parts:
                raise KeyError(RUNS)
        except (OSError, ValueError, KeyError, TypeError):
            return "index unreadable"
        for name, entry in parts.items():
            path = self.path / name / f"{chunk}.parquet"
            if not path.exists():
                return f"{name} part missing"
            if _sha256(path) != entry.get("sha256"):
                return f"{name} part differs from its SHA-256"
            try:
                rows = pq.read_metadata(path).num_rows
            except (OSError, pa.ArrowException):
                return f"{name} part unreadable"
            if rows != entry.get("rows"):
                return f"{name} part has {rows} rows, its index says {entry.get('rows')}"
        return None

    def committed(self) -> set[str]:
        """The chunks whose parts readers use: valid, or readable parts from before indexes."""
        return {c for c, problem in self.check().items() if problem in (None, LEGACY)}

    def _parts(self, dataset: str) -> list[Path]:
        committed = self.committed()
        return sorted(p for p in (self.path / dataset).glob("part-*.parquet") if p.stem in committed)

    def _read(self, dataset: str, columns: Iterable[str] | None = None) -> pd.DataFrame | None:
        parts = self._parts(dataset)
        if not parts:
            return None
        table = ds.dataset([str(p) for p in parts], format="parquet").to_table(
            columns=list(columns) if columns is not None else None)
        return table.to_pandas()

    def done_keys(self) -> set[str]:
        table = self._read(RUNS, ["run_key"])
        return set() if table is None else set(table["run_key"])

    def runs(self) -> pd.DataFrame:
        """Every finished run, in design order (design_row, then replicate)."""
        return self._sorted(self._read(RUNS), RUNS)

    def timeseries(self) -> pd.DataFrame:
        """The thinned time series of every finished run, in design order, then month.

        Columns: run_key, design_row, replicate, seed, the varied parameters (from the design,
        so no merge is needed), month, then the time-series outcomes.
        """
        series = self._read(SERIES)
        design = self.design()
        params = [c for c in design.columns if c not in ("run_key", "design_row", "replicate")]
        if series is None:
            outcomes = self._schemas[SERIES].names[4:] if self._schemas else []
            return pd.DataFrame({**{c: design[c].iloc[:0] for c in design.columns},
                                 "month": pd.Series(dtype="int64"),
                                 **{o: pd.Series(dtype="float64") for o in outcomes}})
        ident = ["run_key", "design_row", "replicate"]
        table = series.merge(design[["run_key", *params]], on="run_key", how="left", validate="m:1")
        rest = [c for c in series.columns if c not in ident]
        table = table[[*ident, *params, *rest]]
        return self._sorted(table, SERIES, extra=["month"])

    def series_rows(self) -> int:
        """Rows of the time-series table (from the Parquet footers, without reading it)."""
        parts = self._parts(SERIES)
        return ds.dataset([str(p) for p in parts], format="parquet").count_rows() if parts else 0

    def write_csv(self) -> list[Path]:
        """Write ``runs.csv`` (always) and ``timeseries.csv`` (while it has at most
        :data:`TIMESERIES_CSV_MAX_ROWS` rows; a larger or empty one is removed, so a CSV on disk
        always matches the store), each atomically. Returns the files written."""
        written = [write_csv_atomic(self.runs(), self.path / "runs.csv")]
        series_csv = self.path / "timeseries.csv"
        if 0 < self.series_rows() <= TIMESERIES_CSV_MAX_ROWS:
            written.append(write_csv_atomic(self.timeseries(), series_csv))
        elif series_csv.exists():
            series_csv.unlink()
        return written

    def failures(self) -> pd.DataFrame:
        """The latest failure of each run that has not since succeeded."""
        table = self._read(FAILURES)
        if table is None:
            return pd.DataFrame(columns=[name for name, _ in FAILURE_FIELDS])
        done = self.done_keys()
        table = table[~table["run_key"].isin(done)]
        table = table.drop_duplicates("run_key", keep="last")  # parts are read in time order
        return table.sort_values(["design_row", "replicate"]).reset_index(drop=True)

    def _sorted(self, table, dataset, extra=()) -> pd.DataFrame:
        if table is None:
            columns = self._schemas[dataset].names if self._schemas else []
            return pd.DataFrame(columns=columns)
        return table.sort_values(["design_row", "replicate", *extra]).reset_index(drop=True)


LEGACY = "legacy"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_csv_atomic(table: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV to a hidden temporary file, flush it to disk, rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", newline="") as handle:
            table.to_csv(handle, index=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
