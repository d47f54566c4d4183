"""Where chunks of runs execute: this process, a local process pool, or a Dask cluster.

All three run the same function (:func:`simulation.experiment.runner.run_chunk`) on the same
chunks with the same seeds, so they give identical tables; they differ only in where the work
happens. Each executor has ``slots`` (chunks that can run at once), ``submit(job, chunk)``,
``wait(pending)`` (the handles that finished within a short timeout), ``result(handle)``, and
``stop(pending)`` (after Ctrl-C: drop chunks not yet started and return the handles still worth
waiting for) and ``abandon()`` (after a second Ctrl-C: end the workers now).

* :class:`SerialExecutor` (``--workers 0``): runs each chunk in this process as it is
  submitted (quickest to start; a run that crashes the process ends the sweep).
* :class:`PoolExecutor` (default, ``--workers N``, also ``--workers 1``): N spawned processes
  that stay alive for the whole sweep and take chunks, so the ~1-2 s import of each new process
  is paid once. Workers ignore SIGINT: Ctrl-C reaches the sweep, which lets the running chunks
  finish and saves them. A worker that crashes is replaced and the run it was in is recorded as
  failed (with its exit status or signal); workers die with the sweep's process.
* :class:`DaskExecutor` (``--scheduler ADDRESS`` or ``--dask-local N``): chunks are Dask tasks
  on an existing cluster, or on a ``distributed.LocalCluster`` of N single-threaded worker
  processes on 127.0.0.1. Workers need pcsim installed (``pip install 'pcsim[cluster]'``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import threading
import time
from typing import Any

from .runner import FAULT_ENV, ChunkResult, Job, failure, run_chunk
from .spec import ExperimentError

WAIT_SECONDS = 0.5  # how often the sweep loop wakes (keeps Ctrl-C and the progress bar responsive)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialExecutor:
    """Chunks run in this process, one after another."""

    name = "in-process"

    def __init__(self):
        self.slots = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, job: Job, chunk) -> ChunkResult:
        return run_chunk(job, chunk)

    def wait(self, pending):
        return set(pending)

    def result(self, handle: ChunkResult) -> ChunkResult:
        return handle

    def stop(self, pending):
        return set()

    def abandon(self) -> None:
        pass


class _Chunk:
    """A chunk handed to the pool: its tasks and what came back for them so far."""

    def __init__(self, job: Job, tasks):
        self.job, self.tasks = job, list(tasks)
        self.result = ChunkResult()
        self.accounted = 0  # tasks with a row or a failure in ``result``
        self.started = False

    @property
    def finished(self) -> bool:
        return self.accounted == len(self.tasks)

    def take(self, part: ChunkResult) -> None:
        self.result.rows += part.rows
        self.result.series += part.series
        self.result.failures += part.failures
        self.accounted += part.n_runs


class _Worker:
    """One supervised worker process and the chunk it is running (``None`` when idle)."""

    def __init__(self, context):
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, os.getpid()), daemon=True,
                                       name="pcsim-sweep-worker")
        self.process.start()
        theirs.close()
        self.chunk: _Chunk | None = None
        self.ready = False  # it has imported what it needs and said so

    def send(self, chunk: _Chunk) -> None:
        self.chunk = chunk
        chunk.started = True
        self.conn.send((chunk.job, chunk.tasks[chunk.accounted:]))


class PoolExecutor:
    """N supervised worker processes (spawned: safe beside threads, same on every OS).

    Why not :class:`concurrent.futures.ProcessPoolExecutor`: when one of its workers dies (a
    segfault, the out-of-memory killer, ``os._exit``) it breaks the whole pool and cannot say
    which run did it, so every resume died on the same run again. Here each worker has its own
    pipe, runs one chunk at a time and sends each run's result as it finishes; when a worker dies
    the sweep knows exactly which run it was in. That run is recorded as a failure with the
    exit code or signal, the chunk's finished runs are kept, its remaining runs go to a new
    worker started in its place, and the sweep carries on.

    Workers ignore SIGINT (Ctrl-C reaches the sweep, which lets running chunks finish) and die
    with the sweep's process: ``PR_SET_PDEATHSIG`` on Linux, and everywhere a thread that
    ends the worker once its parent is gone.
    """

    def __init__(self, workers: int):
        self.slots = workers
        self.name = (f"process pool ({workers} workers)" if workers > 1
                     else "one worker process")
        self._workers: list[_Worker] = []
        self._queue: list[_Chunk] = []

    def __enter__(self):
        self._context = multiprocessing.get_context("spawn")
        self._workers = [_Worker(self._context) for _ in range(self.slots)]
        return self

    def __exit__(self, exc_type, *exc):
        # after an error or a second Ctrl-C, do not wait for running chunks
        polite = exc_type is None
        for worker in self._workers:
            if polite and worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            else:
                worker.process.kill()
        for worker in self._workers:
            worker.process.join(timeout=5 if polite else 1)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []
        return False

    def submit(self, job: Job, chunk) -> _Chunk:
        handle = _Chunk(job, chunk)
        self._queue.append(handle)
        self._dispatch()
        return handle

    def _dispatch(self) -> None:
        for i, worker in enumerate(self._workers):
            if worker.chunk is not None or not self._queue:
                continue
            if not worker.process.is_alive():  # died while idle (killed from outside)
                worker.conn.close()
                worker = self._workers[i] = _Worker(self._context)
            worker.send(self._queue.pop(0))

    def wait(self, pending):
        busy = {w.conn: w for w in self._workers if w.chunk is not None}
        sentinels = {w.process.sentinel: w for w in busy.values()}
        ready = mp_connection.wait([*busy, *sentinels], timeout=WAIT_SECONDS)
        for worker in {busy.get(r) or sentinels[r] for r in ready}:
            self._receive(worker)
        self._dispatch()
        return {handle for handle in pending if handle.finished}

    def _receive(self, worker: _Worker) -> None:
        """Take what ``worker`` sent; if it died, record the run it was in and replace it."""
        try:
            while worker.conn.poll():
                part = worker.conn.recv()
                if part == READY:
                    worker.ready = True
                    continue
                worker.chunk.take(part)
                if worker.chunk.finished:
                    worker.chunk = None
                    return
        except (EOFError, OSError):
            pass  # the worker is gone; its pipe closed with nothing more in it
        if worker.process.is_alive():
            return
        worker.process.join()
        if not worker.ready:  # not a run's doing: every new worker would die the same way
            raise WorkerStartFailed(
                f"a sweep worker process could not start: {describe_exit(worker.process.exitcode, None)}"
                "; its error, if any, is above (--workers 0 runs the sweep in this process)")
        chunk = worker.chunk
        task = chunk.tasks[chunk.accounted]
        chunk.take(ChunkResult(failures=[failure(task, WorkerCrashed(describe_exit(worker.process.exitcode)))]))
        self._workers[self._workers.index(worker)] = _Worker(self._context)
        worker.conn.close()
        if not chunk.finished:
            self._queue.insert(0, chunk)  # its other runs, next

    def result(self, handle: _Chunk) -> ChunkResult:
        return handle.result

    def stop(self, pending):
        """Drop chunks not yet started; the running ones finish and are kept."""
        self._queue = [c for c in self._queue if c.started]
        return {handle for handle in pending if handle.started}

    def abandon(self) -> None:
        """End the workers now (their chunks' unsaved runs are rerun on resume)."""
        for worker in self._workers:
            worker.process.kill()


class WorkerCrashed(RuntimeError):
    """A worker process ended (crashed or was killed) while it ran a run."""


class WorkerStartFailed(RuntimeError):
    """A worker process ended before it was ready to take runs (a broken installation, say)."""


READY = "ready"  # a worker's first message: imports done, waiting for chunks


def describe_exit(code: int | None, doing: str | None = "running this run") -> str:
    """How a worker process ended, in words: its exit status or the signal that killed it."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        said = f"the worker process was killed by {name}"
    else:
        said = f"the worker process exited with status {code}"
    return f"{said} while {doing}" if doing else said


def _serve(conn, parent: int) -> None:
    """A worker's life: take chunks from the pipe, send back one result per run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    if os.environ.get(FAULT_ENV) == "start":  # fault injection for the tests (runner.FAULT_ENV)
        os._exit(3)
    conn.send(READY)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        job, tasks = message
        for task in tasks:
            conn.send(run_chunk(job, [task]))


#: how often a worker checks that the sweep's process is still there (the fallback where
#: ``PR_SET_PDEATHSIG`` does not apply)
WATCHDOG_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """End this process when the process ``parent`` (the sweep) dies, even by SIGKILL.

    On Linux the kernel sends SIGKILL when the parent *thread* ends (``PR_SET_PDEATHSIG``);
    since that thread may end before its process, and elsewhere there is no such call, a
    daemon thread also checks the parent pid every :data:`WATCHDOG_SECONDS`."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the watchdog below suffices
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="pcsim-parent-watchdog", daemon=True).start()


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class DaskExecutor:
    """Chunks as tasks on a Dask distributed cluster (given, or started on loopback)."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        self.scheduler, self.local_workers = scheduler, local_workers
        self._cluster = self._client = None
        self.slots = 1
        self.name = "dask"

    def __enter__(self):
        try:
            import distributed
        except ImportError:
            raise ExperimentError("Dask is not installed: pip install 'pcsim[cluster]' "
                                  "(dask[distributed])") from None
        self._distributed = distributed
        try:
            if self.local_workers is not None:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.local_workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
                self._client = distributed.Client(self._cluster)
                self.name = f"dask LocalCluster ({self.local_workers} workers, {self._cluster.scheduler_address})"
            else:
                self._client = distributed.Client(self.scheduler, timeout="10s")
                self.name = f"dask scheduler {self.scheduler}"
        except (OSError, TimeoutError, RuntimeError, ValueError) as err:  # ValueError: a bad address
            self.__exit__(None)
            what = (f"start a Dask LocalCluster of {self.local_workers} workers"
                    if self.local_workers is not None else f"reach the Dask scheduler {self.scheduler!r}")
            raise ExperimentError(f"cannot {what}: {err}") from None
        threads = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        self.slots = max(1, threads)
        return self

    def __exit__(self, *exc):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        return False

    def submit(self, job: Job, chunk) -> Any:
        # pure=False: a chunk is always executed, never answered from a cache of equal inputs.
        return self._client.submit(run_chunk, job, chunk, pure=False)

    def wait(self, pending):
        try:
            done, _ = self._distributed.wait(list(pending), timeout=WAIT_SECONDS,
                                             return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def result(self, handle) -> ChunkResult:
        return handle.result()

    def stop(self, pending):
        """Cancel every chunk not finished (Dask cannot tell queued from running ones)."""
        self._client.cancel(list(pending))
        return set()

    def abandon(self) -> None:
        pass  # nothing is left running: stop() cancelled every chunk


def make(workers: int | None, scheduler: str | None, dask_local: int | None):
    """The executor the command-line options ask for."""
    if scheduler is not None or dask_local is not None:
        return DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    workers = available_cores() if workers is None else workers
    return SerialExecutor() if workers == 0 else PoolExecutor(workers)
