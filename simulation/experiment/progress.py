"""Sweep progress: a live bar on a terminal, a plain line per chunk otherwise (logs, CI, pipes).

Both show runs done of the total, failures, the rate of this session (runs per second) and the
time left at that rate. Progress goes to standard error, so standard output keeps only the
sweep's summary.
"""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite: no estimate yet
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class Progress:
    """Counts runs as chunks finish and shows them; use as a context manager."""

    def __init__(self, label: str, total: int, already_done: int, stream=None, live: bool | None = None):
        self.label, self.total = label, total
        self.done = self.start_done = already_done
        self.failed = 0
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._bar = self._task = None

    def __enter__(self):
        self.t0 = time.perf_counter()
        if self.live:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("runs, {task.fields[failed]} failed, {task.fields[rate]} runs/s,"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done,
                                            failed=0, rate="-")
        return self

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.t0
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float:
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else float("inf")

    def advance(self, runs: int, failed: int) -> None:
        self.done += runs
        self.failed += failed
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, failed=self.failed,
                             rate=f"{self.rate:.1f}")
        else:
            pct = 100.0 * self.done / self.total if self.total else 100.0
            print(f"{self.label}: {self.done}/{self.total} runs ({pct:.0f}%), {self.failed} failed, "
                  f"{self.rate:.1f} runs/s, ETA {_duration(self.eta())}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text)
        else:
            print(text, file=self.stream, flush=True)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
        return False
