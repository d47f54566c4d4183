"""Where chunks of runs execute: this process, a local process pool, or a Dask cluster.

All three run the same function (:func:`simulation.experiment.runner.run_chunk`) on the same
chunks with the same seeds, so they give identical tables; they differ only in where the work
happens. Each executor has ``slots`` (chunks that can run at once), ``submit(job, chunk)``,
``wait(pending)`` (the handles that finished within a short timeout), ``result(handle)``, and
``stop(pending)`` (after Ctrl-C: drop chunks not yet started and return the handles still worth
waiting for) and ``abandon()`` (after a second Ctrl-C: end the workers now).

* :class:`SerialExecutor` (``--workers 1``): runs each chunk as it is submitted.
* :class:`PoolExecutor` (default, ``--workers N``): N spawned processes that stay alive for the
  whole sweep and take chunks, so the ~1-2 s import of each new process is paid once. Workers
  ignore SIGINT: Ctrl-C reaches the sweep, which lets the running chunks finish and saves them.
* :class:`DaskExecutor` (``--scheduler ADDRESS`` or ``--dask-local N``): chunks are Dask tasks
  on an existing cluster, or on a ``distributed.LocalCluster`` of N single-threaded worker
  processes on 127.0.0.1. Workers need pcsim installed (``pip install 'pcsim[cluster]'``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import signal
from typing import Any

from .runner import ChunkResult, Job, run_chunk
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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PoolExecutor:
    """A pool of long-lived worker processes (spawned: safe beside threads, same on every OS)."""

    def __init__(self, workers: int):
        self.slots = workers
        self.name = f"process pool ({workers} workers)"
        self._pool = None

    def __enter__(self):
        self._before = set(multiprocessing.active_children())
        self._abandoned = False
        self._pool = cf.ProcessPoolExecutor(max_workers=self.slots,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_ignore_sigint)
        return self

    def __exit__(self, exc_type, *exc):
        # After an error or a second Ctrl-C, do not wait for queued chunks.
        self._pool.shutdown(wait=exc_type is None and not self._abandoned, cancel_futures=True)
        return False

    def submit(self, job: Job, chunk) -> cf.Future:
        return self._pool.submit(run_chunk, job, chunk)

    def wait(self, pending):
        done, _ = cf.wait(pending, timeout=WAIT_SECONDS, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, handle: cf.Future) -> ChunkResult:
        try:
            return handle.result()
        except cf.process.BrokenProcessPool:
            raise WorkerLost("a worker process died (killed, or out of memory?)") from None

    def stop(self, pending):
        """Cancel chunks not yet started; the running ones finish and are kept."""
        return {f for f in pending if not f.cancel()}

    def abandon(self) -> None:
        """End the workers now (their chunks are lost, and rerun on resume)."""
        self._abandoned = True
        for process in set(multiprocessing.active_children()) - self._before:
            process.terminate()


class WorkerLost(RuntimeError):
    """An executor lost a worker; finished chunks are saved and the sweep can be resumed."""


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
        except (OSError, TimeoutError, RuntimeError) as err:
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
    return SerialExecutor() if workers == 1 else PoolExecutor(workers)
