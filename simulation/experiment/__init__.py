"""Experiments: declare a sweep in TOML, run it anywhere, lose nothing, analyse it.

    >>> from simulation import experiment
    >>> exp = experiment.load("experiments/leadership_autonomy.toml")   # or from_dict({...})
    >>> outcome = experiment.run_sweep(exp, workers=1)          # or pcsim sweep FILE
    >>> runs = experiment.Store(outcome.store.path).runs()      # one row per run

Modules: ``spec`` (the file format and its checks), ``designs`` (grid, lhs, sobol, morris and
per-run seeds), ``runner`` (what a worker runs), ``executors`` (in-process, process pool,
Dask), ``store`` (the Parquet store and resume), ``sweep`` (the loop), ``analysis`` (SALib
indices), ``figures``, ``cli``. See docs/experiments.md.
"""

from __future__ import annotations

from .spec import Experiment, ExperimentError, from_dict, load


def run_sweep(experiment: Experiment, workers: int | None = None, scheduler: str | None = None,
              dask_local: int | None = None, out: str | None = None, new: bool = False,
              chunk: int | None = None, progress_stream=None):
    """Run (or resume) an experiment's sweep from Python; returns a :class:`sweep.Outcome`.

    Takes the same choices as ``pcsim sweep``; draws no figures (see :mod:`.figures`).
    """
    from . import executors, sweep

    path = sweep.target_folder(experiment, out, new)
    with executors.make(workers, scheduler, dask_local) as executor:
        store = sweep.open_store(path, experiment)
        try:
            return sweep.execute(experiment, store, executor, chunk=chunk,
                                 progress_stream=progress_stream)
        finally:
            store.unlock()


def __getattr__(name):
    if name == "Store":
        from .store import Store
        return Store
    raise AttributeError(name)


__all__ = ["Experiment", "ExperimentError", "load", "run_sweep", "Store"]
