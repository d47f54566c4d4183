"""Designs: the rows of parameter values an experiment runs, and a seed for every run.

* ``grid``: every combination of the listed values; the first parameter varies slowest.
* ``lhs``: Latin hypercube of ``samples`` rows over the ranges (SALib ``latin``).
* ``sobol``: Saltelli's extension of the Sobol' sequence (SALib ``sample.sobol``) with
  ``samples`` = N, a power of 2: N*(2D+2) rows with second-order indices, N*(D+2) without.
* ``morris``: ``trajectories`` = r one-at-a-time trajectories on a ``levels``-level grid
  (SALib ``sample.morris``): r*(D+1) rows.

Distributions and levers (``lhs`` only): a parameter written as a table is sampled from its
distribution (``uniform``, ``normal`` truncated to [low, high], ``triangular`` or ``choice`` among
listed values) by the inverse CDF (scipy.stats) of a Latin hypercube of the uncertainties
(``scipy.stats.qmc.LatinHypercube``, seeded from the sampler stream below); a lever
(``kind = "lever"``, a list of values) is not sampled: every combination of the levers' values
is crossed with every sampled row (``samples`` x lever combinations rows, the levers varying
slowest), as the EMA workbench crosses scenarios with policies. An lhs design with neither
keeps SALib's ``latin`` sampler, so its rows are those of earlier versions.

Whole-number parameters in the sampled designs are rounded to the nearest whole number
(half to even); the rounded value is the one run and stored.

Seeds: the run of design row ``i``, replicate ``j`` gets the integer seed
``SeedSequence(root, spawn_key=(i, j)).generate_state(1, uint64)[0] >> 1`` (63 bits, so it fits a
Parquet int64 column and ``pcsim run --seed``). ``SeedSequence(root, spawn_key=(i, j))`` is the
j-th child of the i-th child of ``SeedSequence(root)``, so seeds are independent across rows and
replicates, and any one run is re-made alone by ``pcsim run --seed SEED --set ...``. With
``common_random_numbers = true`` every row uses the seeds of row 0 (replicate j gets the same
random numbers in every row), for paired comparisons. With ``ensemble = true``, replicate ``j``
runs on parameter set ``j mod K`` of the calibrated ensemble (the ``param_set`` column), so
within one set every row shares the seeds' random numbers when they are common. The samplers' own randomness (Latin
hypercube, Sobol' scrambling, Morris trajectories) comes from ``spawn_key=(SAMPLER_KEY,)``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shlex
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .spec import Experiment, format_value

SAMPLER_KEY = 2**32 - 1  # spawn key of the design sampler's stream (design rows never reach it)
ANALYSIS_KEY = 2**32 - 2  # spawn key of the bootstrap stream of the sensitivity analysis


@dataclass(frozen=True)
class Task:
    """One run: its key, where it sits in the design, its seed and its parameter values."""

    run_key: str
    design_row: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    param_set: int | None = None  # the ensemble's set (None: the experiment's base parameters)


def problem(experiment: Experiment) -> dict[str, Any]:
    """The SALib problem: the varied parameters and their ranges."""
    names = list(experiment.parameters)
    return {"num_vars": len(names), "names": names,
            "bounds": [[float(lo), float(hi)] for lo, hi in experiment.parameters.values()]}


def stream(experiment: Experiment, key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(experiment.seed, spawn_key=(key,))))


def expected_rows(experiment: Experiment) -> int:
    """Design rows, from the sample-size rules (before sampling)."""
    d, o = len(experiment.parameters), experiment.design_options
    if experiment.design == "grid":
        return int(np.prod([len(v) for v in experiment.parameters.values()]))
    if experiment.design == "lhs":
        return o["samples"] * int(np.prod([len(experiment.parameters[n]) for n in experiment.levers]))
    if experiment.design == "sobol":
        return o["samples"] * (2 * d + 2 if o["second_order"] else d + 2)
    return o["trajectories"] * (d + 1)


def sample(experiment: Experiment) -> pd.DataFrame:
    """The design: one row per design point, one column per varied parameter (run types)."""
    names = list(experiment.parameters)
    o = experiment.design_options
    if experiment.design == "grid":
        rows = list(itertools.product(*experiment.parameters.values()))
        table = pd.DataFrame(rows, columns=names)
    elif experiment.levers or experiment.distributions:
        table = _uncertainties_by_levers(experiment)
    else:
        values = sample_values(experiment.design, problem(experiment), o,
                               stream(experiment, SAMPLER_KEY))
        table = pd.DataFrame(values, columns=names)
        for name in names:
            if _kind(name) == "int":
                table[name] = np.rint(table[name]).astype(np.int64)
    for name in names:
        table[name] = table[name].astype(column_dtype(name))
    if len(table) != expected_rows(experiment):
        raise RuntimeError(f"the {experiment.design} sampler gave {len(table)} rows, but its "
                           f"sample-size rule gives {expected_rows(experiment)}")
    return table


def _uncertainties_by_levers(experiment: Experiment) -> pd.DataFrame:
    """A Latin hypercube of the uncertainties through their distributions, crossed with every
    combination of the levers (levers slowest)."""
    from scipy.stats import qmc

    names = list(experiment.uncertainties)
    unit = qmc.LatinHypercube(d=len(names), rng=stream(experiment, SAMPLER_KEY)).random(
        experiment.design_options["samples"])
    sampled = pd.DataFrame({name: transform(experiment, name, unit[:, j])
                            for j, name in enumerate(names)})
    levers = list(experiment.levers)
    if not levers:
        return sampled
    combos = list(itertools.product(*(experiment.parameters[n] for n in levers)))
    blocks = [sampled.assign(**dict(zip(levers, combo))) for combo in combos]
    return pd.concat(blocks, ignore_index=True)[list(experiment.parameters)]


def transform(experiment: Experiment, name: str, u: np.ndarray) -> np.ndarray:
    """Unit-interval samples to a parameter's distribution (inverse CDF)."""
    from scipy import stats

    dist = experiment.distributions.get(name, {"dist": "uniform"})
    kind = dist["dist"]
    if kind == "choice":
        values = np.asarray(dist["values"], dtype=object)
        return values[np.minimum((u * len(values)).astype(int), len(values) - 1)]
    low, high = experiment.parameters[name]
    if kind == "uniform":
        return stats.uniform.ppf(u, loc=low, scale=high - low)
    if kind == "normal":
        mean, sd = dist["mean"], dist["sd"]
        return stats.truncnorm.ppf(u, (low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)
    if kind == "triangular":
        return stats.triang.ppf(u, (dist["mode"] - low) / (high - low), loc=low, scale=high - low)
    raise ValueError(f"unknown distribution {kind!r}")


def sample_values(design: str, prob: dict[str, Any], options: dict[str, Any],
                  rng: np.random.Generator) -> np.ndarray:
    """Raw SALib samples (rows x parameters) of a sampled design over ``prob``'s bounds."""
    if design == "lhs":
        from SALib.sample import latin
        return latin.sample(prob, options["samples"], seed=rng)
    if design == "sobol":
        from SALib.sample import sobol
        return sobol.sample(prob, options["samples"], calc_second_order=options["second_order"], seed=rng)
    if design == "morris":
        from SALib.sample import morris
        return morris.sample(prob, options["trajectories"], num_levels=options["levels"], seed=rng)
    raise ValueError(f"design {design!r} is not a sampled design (lhs, sobol, morris)")


def _kind(name: str) -> str:
    from ..params import declaration
    return declaration(name)["kind"]


def column_dtype(name: str) -> str:
    return {"float": "float64", "int": "int64", "bool": "bool", "choice": "object"}[_kind(name)]


def run_seed(root: int, design_row: int, replicate: int) -> int:
    """The seed of one run (see the module docstring)."""
    ss = np.random.SeedSequence(root, spawn_key=(design_row, replicate))
    return int(ss.generate_state(1, np.uint64)[0]) >> 1


def run_key(experiment: Experiment, design_row: int, replicate: int, seed: int,
            overrides: dict[str, Any], param_set: int | None = None) -> str:
    """A key naming one run by what decides its result: model, scenario, scale, months,
    fixed and varied values, seed, and its place in the design."""
    content = {"model": experiment.model, "scenario": experiment.scenario_label, "scale": experiment.scale,
               "months": experiment.months, "fixed": {k: format_value(v) for k, v in experiment.fixed.items()},
               "overrides": {k: format_value(v) for k, v in overrides.items()}, "seed": seed,
               "design_row": design_row, "replicate": replicate}
    if experiment.area:  # (absent otherwise, so that the keys of earlier stores still match)
        content["area"] = experiment.area
    if param_set is not None:  # only then, so that the keys of other sweeps are unchanged
        content["param_set"] = param_set
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return digest[:20]


def runs_table(experiment: Experiment, design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every run of the experiment: run_key, design_row, replicate, seed and the varied values."""
    design = sample(experiment) if design is None else design
    names = list(experiment.parameters)
    records = []
    values = design[names].to_dict("records")
    k = ensemble_size(experiment)
    for row, overrides in enumerate(values):
        overrides = {k: _python(v) for k, v in overrides.items()}
        for rep in range(experiment.replicates):
            seed = run_seed(experiment.seed, 0 if experiment.common_random_numbers else row, rep)
            pset = {"param_set": rep % k} if k else {}
            records.append({"run_key": run_key(experiment, row, rep, seed, overrides,
                                               pset.get("param_set")),
                            "design_row": row, "replicate": rep, "seed": seed, **pset, **overrides})
    lead = ["run_key", "design_row", "replicate", "seed", *(["param_set"] if k else [])]
    table = pd.DataFrame.from_records(records, columns=[*lead, *names])
    if k:
        table = table.astype({"param_set": "int64"})
    for name in names:
        table[name] = table[name].astype(column_dtype(name))
    return table.astype({"design_row": "int64", "replicate": "int64", "seed": "int64"})


def ensemble_size(experiment: Experiment) -> int:
    """K, the number of parameter sets with ``ensemble = true``; 0 without."""
    if not experiment.ensemble:
        return 0
    from .. import ensemble

    return len(ensemble.load())


def tasks(experiment: Experiment, runs: pd.DataFrame) -> Iterator[Task]:
    names = list(experiment.parameters)
    for rec in runs.to_dict("records"):
        pset = int(rec["param_set"]) if "param_set" in rec else None
        yield Task(rec["run_key"], int(rec["design_row"]), int(rec["replicate"]), int(rec["seed"]),
                   {k: _python(rec[k]) for k in names}, pset)


def _python(value):
    """numpy scalars to Python ones, so parameters and keys see plain ints, floats and bools."""
    return value.item() if isinstance(value, np.generic) else value


def rerun_command(experiment: Experiment, seed: int, overrides: dict[str, Any],
                  param_set: int | None = None) -> str:
    """The ``pcsim run`` command that re-makes one run of the experiment alone (on an ensemble's
    set: with the values that set's run had of every parameter the set gives)."""
    parts = ["pcsim", "run", "--scenario", experiment.scenario, "--scale", experiment.scale,
             "--months", str(experiment.months), "--seed", str(seed)]
    if experiment.area:
        parts += ["--area", experiment.area]
    on_set: dict[str, Any] = {}
    if param_set is not None:
        from .. import ensemble
        from ..report.study import flatten

        effective = flatten(experiment.set_params()[param_set])
        on_set = {k: effective[k] for k in ensemble.load()[param_set].overrides}
    for name, value in {**on_set, **experiment.fixed, **overrides}.items():
        parts += ["--set", f"{name}={format_value(value)}"]
    return shlex.join(parts)
