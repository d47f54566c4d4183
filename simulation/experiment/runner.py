"""What a worker does: run a chunk of tasks and return their outcomes and failures.

This module is the whole of what executors ship to workers (a process of the local pool, a
Dask worker, or this process with ``--workers 0``), so its imports stay light and its inputs
are plain picklable values: a :class:`Job` (the experiment's base parameters, model, months
and outcomes; no file paths, so remote workers need no shared disk) and a list of
:class:`~simulation.experiment.designs.Task`. A run that raises is caught and returned as a
failure with its traceback; the chunk carries on. (A run that ends its whole process is recorded
by the pool that supervises the process: :class:`~simulation.experiment.executors.PoolExecutor`.)
"""

from __future__ import annotations

import functools
import json
import os
import signal
import traceback
from dataclasses import dataclass, field
from typing import Any

from .. import metrics
from ..interrupts import is_interrupt
from ..params import Params
from .designs import Task
from .spec import Experiment, format_value, resolve_model


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to run any task of one experiment."""

    model: str
    scenario: str
    scale: str
    months: int
    base_params: Params
    summary: tuple[str, ...]
    timeseries: tuple[str, ...]
    every: int
    area: str | None = None
    derived: tuple[tuple[str, str], ...] = ()  # (name, expression) in order
    stop_when: str | None = None
    set_params: tuple[Params, ...] = ()  # per ensemble set (Experiment.set_params)

    @classmethod
    def from_experiment(cls, experiment: Experiment) -> "Job":
        return cls(experiment.model, experiment.scenario, experiment.scale, experiment.months,
                   experiment.base_params, experiment.summary_outcomes,
                   experiment.timeseries_outcomes, experiment.every, experiment.area,
                   tuple(experiment.derived.items()), experiment.stop_when,
                   experiment.set_params())


@dataclass(eq=False)  # compared by identity: the serial executor uses results as handles
class ChunkResult:
    """Outcomes of one chunk: one row per finished run, time-series rows, and failures."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_runs(self) -> int:
        return len(self.rows) + len(self.failures)


@functools.lru_cache(maxsize=8)
def _factory(path: str):
    return resolve_model(path)


def failure(task: Task, err: BaseException, trace: str = "") -> dict[str, Any]:
    """The failure record of one run: which run, its parameters and seed, and the error."""
    return {
        "run_key": task.run_key, "design_row": task.design_row, "replicate": task.replicate,
        "seed": task.seed,
        "params": json.dumps({k: format_value(v) for k, v in task.overrides.items()}),
        "error": f"{type(err).__name__}: {err}".splitlines()[0][:500],
        "traceback": trace,
    }


#: Fault injection for the tests of crashed workers (docs/CONTRIBUTING.md): ``MODE:row=R`` or
#: ``MODE:row=R:replicate=K`` makes the runs of design row R (replicate K only, if given) end
#: their process: ``exit`` (``os._exit(3)``), ``kill`` (SIGKILL) or ``segfault`` (SIGSEGV).
#: ``start`` makes every pool worker exit before it is ready (read by the executors).
FAULT_ENV = "PCSIM_FAULT"


def _inject_fault(task: Task) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    mode, *conditions = spec.split(":")
    if mode == "start":
        return
    where = dict(c.split("=", 1) for c in conditions)
    if int(where.get("row", -1)) != task.design_row:
        return
    if "replicate" in where and int(where["replicate"]) != task.replicate:
        return
    if mode == "exit":
        os._exit(3)
    os.kill(os.getpid(), {"kill": signal.SIGKILL, "segfault": signal.SIGSEGV}[mode])


def run_task(job: Job, task: Task) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One run: its summary outcomes and its thinned time series."""
    _inject_fault(task)
    base = job.base_params if task.param_set is None else job.set_params[task.param_set]
    params = base.replace(**task.overrides) if task.overrides else base
    where = {"area": job.area} if job.area else {}
    model = _factory(job.model)(scenario=job.scenario, scale=job.scale, rng=task.seed, params=params,
                                **where)
    if job.stop_when:  # (only then: a model of one's own need not take stop_when)
        model.run(job.months, stop_when=job.stop_when)
    else:
        model.run(job.months)
    timeseries = model.timeseries()
    summary = metrics.summarise(timeseries)
    ident = {"run_key": task.run_key, "design_row": task.design_row, "replicate": task.replicate}
    pset = {} if task.param_set is None else {"param_set": task.param_set}
    row = {**ident, "seed": task.seed, **pset, **task.overrides,
           **{name: float(summary[name]) for name in job.summary}}
    if job.derived:
        row.update(_derived(job.derived)(timeseries, summary))
    if job.stop_when:
        last = int(timeseries["month"].iloc[-1])
        row["stop_month"] = float(last) if not getattr(model, "running", True) else float("nan")
    series = []
    if job.timeseries:
        last = int(timeseries["month"].iloc[-1])
        keep = timeseries[(timeseries["month"] % job.every == 0) | (timeseries["month"] == last)]
        for rec in keep[["month", *job.timeseries]].to_dict("records"):
            series.append({**ident, "month": int(rec["month"]),
                           **{name: float(rec[name]) for name in job.timeseries}})
    return row, series


@functools.lru_cache(maxsize=8)
def _derived(expressions: tuple[tuple[str, str], ...]):
    """The derived outcomes' function, parsed once per worker (checked at load already)."""
    from .derived import Expression, derive, parse

    def compute(timeseries, summary):
        parsed: dict[str, Expression] = {}
        known = set(summary)
        reporters = [c for c in timeseries.columns if c != "month"]
        for name, text in expressions:
            parsed[name] = parse(text, known, reporters, where=f"outcomes.{name}")
            known.add(name)
        return derive(timeseries, parsed, summary)
    return compute


def run_chunk(job: Job, tasks: list[Task]) -> ChunkResult:
    """Run tasks in order; a run that raises becomes a failure record and the rest go on."""
    out = ChunkResult()
    for task in tasks:
        try:
            row, series = run_task(job, task)
        except Exception as err:  # any error of one run is recorded; the sweep goes on
            if is_interrupt(err):  # Ctrl-C during a compiled kernel: the user, not a failure
                raise KeyboardInterrupt from err
            out.failures.append(failure(task, err, traceback.format_exc()))
            continue
        out.rows.append(row)
        out.series.extend(series)
    return out
