"""Running an experiment: choose its folder, skip what is finished, run the rest in chunks.

:func:`target_folder` decides where results go and refuses a folder holding a different
experiment; :func:`open_store` creates or reopens the store, takes its lock and removes what a
killed sweep left half-written; :func:`execute` submits chunks of unfinished runs to an
executor (a few more than it has slots, so workers never wait and memory stays flat), commits
each finished chunk as one part, and on Ctrl-C (or SIGTERM) stops submitting, lets running
chunks finish and saves them. At the end it rewrites the CSV copies of the tables
(``runs.csv``, and ``timeseries.csv`` when small), so they match the store.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import output
from . import designs
from .progress import Progress
from .runner import Job
from .spec import Experiment, ExperimentError
from .store import Store

MAX_CHUNK = 25  # runs per chunk at most: a few seconds of work at county scale


@dataclass
class Outcome:
    """What one sweep invocation did."""

    store: Store
    total: int
    finished: int  # runs finished in the store now
    new: int  # runs finished by this invocation
    failed: int  # runs whose latest attempt raised (not finished)
    interrupted: bool
    seconds: float
    executor: str

    @property
    def rate(self) -> float:
        return self.new / self.seconds if self.seconds > 0 else 0.0


def target_folder(experiment: Experiment, out: str | None, new: bool,
                  root: str | Path = output.DEFAULT_ROOT) -> Path:
    """The store's folder: ``--out``, else ``results/<name>`` (or a fresh one with ``--new``).

    A folder holding a store of the same experiment is resumed; one holding anything else is
    refused, before anything is written.
    """
    if out is None and new:
        return output.new_folder_path(experiment.name, root=root)
    path = output.out_folder(out) if out is not None else Path(root) / experiment.name
    if not path.exists():
        return path
    store = Store(path)
    if store.exists():
        if new:
            raise ExperimentError(f"--out {str(path)!r} already holds a sweep; with --new give a "
                                  "folder that does not exist (or leave out --out)")
        store.check_compatible(experiment)
        return path
    if not path.is_dir() or any(path.iterdir()):
        raise ExperimentError(f"{str(path)!r} exists and is not a pcsim sweep folder; results are "
                              "never written over other files: choose a new --out")
    return path


def open_store(path: Path, experiment: Experiment, stream=None) -> Store:
    """Create the store (manifest and design) or reopen it; lock it; clean up after a kill;
    verify every part and move damaged ones to ``quarantine/`` (one line each on ``stream``,
    standard error by default), so that their runs are redone."""
    store = Store(path, experiment)
    if not store.exists():
        store = Store.create(path, experiment, designs.runs_table(experiment))
    store.lock()
    store.clean()
    for line in store.heal():
        print(f"pcsim: {line}", file=stream or sys.stderr, flush=True)
    store.close_dead_sessions()
    return store


def verify(path: Path) -> tuple[list[str], bool]:
    """The health of the store at ``path`` (without changing it): report lines, and whether
    every part is intact."""
    from .store import LEGACY, QUARANTINE, RUNS, StoreLocked

    store = Store(path)
    writing = False
    try:
        store.lock()
        store.unlock()
    except StoreLocked:
        writing = True  # a chunk between its runs part and its index is not damage
    checks = store.check()
    damaged = {c: p for c, p in checks.items() if p not in (None, LEGACY)
               and not (writing and p.startswith("no index"))}
    legacy = [c for c, p in checks.items() if p == LEGACY]
    done = store.done_keys()
    total = len(store.design())
    quarantined = sorted((path / QUARANTINE).glob("*/part-*"))
    lines = [f"{path}: {len(store.committed())} intact chunk(s), {len(done)}/{total} runs "
             f"finished, {store.series_rows()} time-series rows"
             + (" (a sweep is writing it now)" if writing else "")]
    if legacy:
        lines.append(f"  {len(legacy)} chunk(s) from before part indexes: readable, indexed by the next sweep")
    for chunk, problem in damaged.items():
        rows = store._index_rows(chunk)
        lines.append(f"  damaged: {RUNS}/{chunk}.parquet ({problem})"
                     + (f", {rows} run(s)" if rows is not None else ""))
    if quarantined:
        lines.append(f"  already in {path / QUARANTINE}: {len({p.stem for p in quarantined})} chunk(s) "
                     "moved there by earlier sweeps (their runs were redone; delete them at will)")
    if damaged:
        lines.append(f"  unhealthy: the next sweep of this store moves the {len(damaged)} damaged "
                     f"chunk(s) to {path / QUARANTINE} and redoes their runs")
    else:
        lines.append("  healthy: every part matches its SHA-256 and row count")
    return lines, not damaged


def version_note(store: Store) -> str | None:
    """A warning when the code now differs from the code that started the store: finished runs
    are kept, so the store would hold results of two versions of the model."""
    manifest = store.manifest()
    then = (manifest.get("versions", {}).get("pcsim"), manifest.get("git_commit"))
    now = (output.versions().get("pcsim"), output.git_commit())
    if then == now:
        return None
    return (f"note: {store.path} was started with pcsim {then[0]} (commit {then[1]}), this is "
            f"pcsim {now[0]} (commit {now[1]}); its finished runs are kept. Use --new to rerun "
            "everything with this version")


def chunk_size(remaining: int, slots: int, requested: int | None = None) -> int:
    """Runs per chunk: about four chunks per slot, at most :data:`MAX_CHUNK` runs."""
    if requested is not None:
        return requested
    return max(1, min(MAX_CHUNK, math.ceil(remaining / (4 * slots))))


def execute(experiment: Experiment, store: Store, executor, *, chunk: int | None = None,
            progress_stream=None, live: bool | None = None) -> Outcome:
    """Run every unfinished run of the store's design on ``executor`` (already entered)."""
    t0 = time.perf_counter()
    runs = store.design()
    done = store.done_keys()
    todo = runs[~runs["run_key"].isin(done)]
    tasks = list(designs.tasks(experiment, todo))
    size = chunk_size(len(tasks), executor.slots, chunk)
    chunks = (tasks[i:i + size] for i in range(0, len(tasks), size))
    job = Job.from_experiment(experiment)
    max_inflight = 1 if executor.slots == 1 else 2 * executor.slots
    provenance = output.manifest()
    session = store.record_session({
        "started": _now(), "status": "running", "executor": executor.name, "chunk_size": size,
        "runs_to_do": len(tasks), "command": provenance["command"],
        "versions": provenance["versions"], "git_commit": provenance["git_commit"]})

    pending: dict = {}
    interrupted = False
    new = 0
    with Progress(experiment.name, len(runs), len(done), stream=progress_stream, live=live) as bar:
        def commit(handle):
            nonlocal new
            result = executor.result(handle)
            by_key = {t.run_key: t for t in pending.pop(handle)}
            commands = {f["run_key"]: designs.rerun_command(experiment, by_key[f["run_key"]].seed,
                                                            by_key[f["run_key"]].overrides,
                                                            by_key[f["run_key"]].param_set)
                        for f in result.failures}
            store.write_chunk(result, commands)
            new += len(result.rows)
            bar.advance(result.n_runs, len(result.failures))

        try:
            while True:
                while len(pending) < max_inflight:
                    next_chunk = next(chunks, None)
                    if next_chunk is None:
                        break
                    pending[executor.submit(job, next_chunk)] = next_chunk
                if not pending:
                    break
                for handle in executor.wait(set(pending)):
                    commit(handle)
        except KeyboardInterrupt:
            interrupted = True
            keep = executor.stop(set(pending))
            if keep:
                bar.note(f"stopping: finishing and saving {len(keep)} chunk(s) already sent to workers "
                         "(press Ctrl-C again to stop at once)")
            try:
                while keep:
                    for handle in executor.wait(keep):
                        keep.discard(handle)
                        commit(handle)
            except KeyboardInterrupt:
                executor.abandon()
        except BaseException:
            store.record_session(_closing(store, session, "error", new, t0), session)
            raise

    status = "interrupted" if interrupted else "complete"
    entry = _closing(store, session, status, new, t0)
    store.record_session(entry, session)
    try:  # the CSV copies for spreadsheets, so that they match the store as it now is
        store.write_csv()
    except KeyboardInterrupt:
        if not interrupted:
            raise
    return Outcome(store=store, total=len(runs), finished=entry["runs_finished"], new=new,
                   failed=entry["failures"], interrupted=interrupted,
                   seconds=time.perf_counter() - t0, executor=executor.name)


def _closing(store: Store, index: int, status: str, new: int, t0: float) -> dict:
    entry = store.manifest()["sessions"][index]
    failures = len(store.failures())
    return {**entry, "status": status if status != "complete" or not failures else "failures",
            "finished": _now(), "seconds": round(time.perf_counter() - t0, 3),
            "runs_this_session": new, "runs_finished": len(store.done_keys()), "failures": failures}


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")
