"""The calibrated ensemble: every parameter set the patterns do not rule out, and its loader.

One calibrated point hides how much the conclusions depend on parameters the data pin down only
loosely. The ensemble keeps every candidate set of the calibration that, re-run on fresh seeds
(never used in the search or its confirmation), is *not implausible* on any pattern, in the
sense of history matching (Craig et al. 1997; Vernon et al. 2010; Andrianakis et al. 2015):

    I_i = d_i / sqrt(se_i^2 + delta_i^2) <= CUTOFF (3) for every pattern i of
    :data:`simulation.validate.TARGETS`,

where ``d_i`` is the distance of the mean metric (over the fresh seeds) outside target i's band
(the band itself, not the calibration's shrunk one; 0 inside), ``se_i`` the standard error of
that mean (its stochastic uncertainty) and ``delta_i`` the model discrepancy, taken as
:data:`DISCREPANCY` (10%) of the band's half-width: the bands already hold the observation error
(:mod:`simulation.validate.targets` says why each is as wide as it is), the discrepancy allows
for what the model leaves out. 3 is Pukelsheim's three-sigma rule, the usual cut-off.

The candidates are the calibration's own proposals (Optuna's stored trials, ``trials.parquet``
of a calibration folder), the best by their distance outside the unshrunk bands on the search
seeds and the best of its global stage (:func:`candidates`), plus the current defaults, which
are always set 0. Optuna's TPE
concentrates its proposals where the fit is good, so the ensemble is a set of parameter values
not ruled out by the patterns, not a sample from a posterior distribution (an ABC sampler such
as pyabc would give one, at the cost of a new search of thousands of runs). The accepted sets
are written in a seeded random order after set 0, so that replicate ``r`` of a study, which uses
set ``r mod K``, draws an unbiased subset when there are fewer replicates than sets.

Build (writes a new folder with ``ensemble.toml``, ``candidates.csv`` and ``manifest.json``;
copy ``ensemble.toml`` to ``simulation/data/`` to ship it)::

    python -m simulation.ensemble build --calibration results/calibration --candidates 60 \\
        --global-candidates 20 --replicates 16 --seed 20248 --out results/ensemble

History matching in waves (:func:`waves`) finds candidates over the whole prior instead of
among the calibration's proposals: a seeded Latin hypercube, then waves drawn around the points
not yet ruled out, each wave cutting on the k-th largest implausibility (Vernon et al. 2010),
and the same final rule on 16 fresh seeds (docs/calibration.md, "The ensemble")::

    python -m simulation.ensemble waves --sizes 500,500,500,500,500,500 --wave-replicates 2 \\
        --final-candidates 250 --replicates 16 --calibration results/calibration --seed 20249 \\
        --out results/ensemble-waves

Use: :func:`load` returns the shipped :class:`Ensemble`; :func:`arm_params` builds a scenario's
parameters on one set (the set first, then the scenario, then the user's overrides: a scenario
changes the policy levers, the ensemble the calibrated science).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from . import output, params, population
from . import scenarios as scenario_files
from .params import ParamError, Params, PcsimInputError

#: the implausibility cut-off (Pukelsheim's three-sigma rule)
CUTOFF = 3.0
#: the model discrepancy of each pattern, as a share of its band's half-width
DISCREPANCY = 0.1
#: the file shipped with the package
DATA_FILE = "ensemble.toml"

RULE = (f"accepted if, on fresh seeds, every pattern of simulation.validate.TARGETS has "
        f"implausibility d / sqrt(se^2 + delta^2) <= {CUTOFF:g}, where d is the distance of the "
        f"mean outside the target band (0 inside), se the standard error of the mean over the "
        f"seeds and delta = {DISCREPANCY:g} x the band's half-width (model discrepancy)")


# --- the rule ----------------------------------------------------------------------------------

def implausibility(runs: pd.DataFrame) -> dict[str, float]:
    """Per pattern of :data:`~simulation.validate.TARGETS`: the implausibility of the mean of
    ``runs`` (one row of pattern metrics per seed). A pattern no seed could measure is
    infinitely implausible."""
    from .validate import TARGETS

    out = {}
    for name, target in TARGETS.items():
        x = runs[name].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        if x.size == 0:
            out[name] = math.inf
            continue
        mean = x.mean()
        se = x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else 0.0
        distance = max(target.low - mean, mean - target.high, 0.0)
        delta = DISCREPANCY * (target.high - target.low) / 2.0
        out[name] = distance / math.sqrt(se * se + delta * delta)
    return out


def default_values() -> dict[str, float]:
    """The current defaults of the calibration's free parameters (keys of
    :data:`simulation.calibrate.SPACE`): set 0 of every ensemble."""
    from .calibrate import SPACE

    flat = _flatten(Params.from_dict(population.preset("county")))
    return {name: flat[targets[0]] for name, targets in SPACE.items()}


def _flatten(p: Params) -> dict[str, Any]:
    d = p.to_dict()
    out = {k: v for k, v in d.items() if k not in params.TABLES}
    for table in params.TABLES:
        for row, cols in d[table].items():
            out.update({f"{table}.{row}.{col}": v for col, v in cols.items()})
    return out


def candidates(trials: pd.DataFrame, n: int, n_global: int = 0) -> pd.DataFrame:
    """The ``n`` best distinct proposals of a calibration by the weighted distance of their
    search-seed means outside the unshrunk bands (the calibration's objective without its
    margin), earlier trials first among equals; then the ``n_global`` best of its global stage
    not among them. The refinement stage crowds a single ranking (its proposals all lie near the
    best one), so the global stage's best, from elsewhere in the prior, get places of their own."""
    from .calibrate import SPACE
    from .validate import TARGETS, WEIGHTS

    def distance(row) -> float:
        total = 0.0
        for name, target in TARGETS.items():
            x = row[f"metric.{name}"]
            total += WEIGHTS[name] * (target.distance(x) if math.isfinite(x) else 10.0)
        return total

    table = trials.assign(band_distance=trials.apply(distance, axis=1))
    table = table.drop_duplicates(subset=list(SPACE))  # fixed start proposals are re-queued
    table = table.sort_values(["band_distance", "trial"], kind="stable")
    best = table.head(n)
    rest = table.iloc[n:]
    return pd.concat([best, rest[rest["stage"] == "global"].head(n_global)])


def fresh_seeds(seed: int, replicates: int, used: set[int]) -> list[int]:
    """``replicates`` seeds from ``seed``, refused if any was used by the calibration."""
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(replicates, np.uint32)]
    if used & set(seeds):
        raise PcsimInputError(f"--seed = {seed} gives seeds the calibration used; choose another")
    return seeds


def build(calibration: Path, n_candidates: int, replicates: int, seed: int,
          progress=None, n_global: int = 0) -> dict[str, Any]:
    """Re-run the defaults and the :func:`candidates` of a calibration folder on fresh seeds;
    apply the rule. Returns the candidates table and the accepted sets in order."""
    from .calibrate import SPACE, evaluate_runs, objective
    from .validate import TARGETS

    trials = pd.read_parquet(calibration / "trials.parquet")
    manifest = json.loads((calibration / "manifest.json").read_text())
    used = set(manifest.get("search_seeds", [])) | set(manifest.get("confirm_seeds", []))
    seeds = fresh_seeds(seed, replicates, used)
    pool = candidates(trials, n_candidates, n_global)
    entries = [("defaults", -1, default_values())]
    entries += [(f"trial {int(r.trial)}", int(r.trial), {k: r[k] for k in SPACE})
                for _, r in pool.iterrows()]
    rows = []
    for i, (label, trial, values) in enumerate(entries):
        values = {k: (int(v) if _is_int(k) else float(v)) for k, v in values.items()}
        runs = evaluate_runs(values, seeds)
        imp = implausibility(runs)
        means = runs.mean().to_dict()
        worst = max(imp, key=imp.get)
        rows.append({"label": label, "trial": trial, "accepted": imp[worst] <= CUTOFF,
                     "max_implausibility": imp[worst], "worst_pattern": worst,
                     "objective": objective(means), **values,
                     **{f"metric.{k}": means[k] for k in TARGETS},
                     **{f"implausibility.{k}": v for k, v in imp.items()}})
        if progress:
            progress(f"{i + 1}/{len(entries)} {label}: max implausibility {imp[worst]:.2f} "
                     f"({worst}){' accepted' if imp[worst] <= CUTOFF else ''}")
    table = pd.DataFrame(rows)
    accepted = table[table["accepted"] & (table["trial"] >= 0)]
    order = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,))))
    shuffled = accepted.iloc[order.permutation(len(accepted))]
    sets = pd.concat([table.iloc[[0]], shuffled], ignore_index=True)  # the defaults always first
    return dict(candidates=table, sets=sets, seeds=seeds, calibration_manifest=manifest)


def _is_int(name: str) -> bool:
    from .calibrate import is_integer
    return is_integer(name)


# --- history matching in waves ----------------------------------------------------------------

#: the cut-off of the waves before the final one: a mean over 2-4 seeds has a wide standard
#: error, and a point rejected by its seeds' luck is lost for good, so the early waves rule out
#: only points clearly implausible
WAVE_CUTOFF = 3.5
#: the order of the implausibility each wave cuts on, by default: the k-th largest over the
#: patterns (Vernon et al. 2010 cut on the second or third largest in early waves). A point of
#: the whole prior that fits all 19 patterns at once is too rare for a first wave to find (none
#: of 200 Latin-hypercube points came within 3.5 on even their third-worst pattern but one), so
#: the waves first rule out what misses many patterns and then tighten to the largest
WAVE_ORDERS = (6, 4, 3, 2, 1, 1)
#: the smallest pool a wave samples from: when fewer points so far pass the wave's cut-off, the
#: pool is the points nearest to passing (smallest k-th implausibility), so the waves never stall
MIN_POOL = 20
#: the perturbation of later waves: Gaussian, with this multiple of the survivors' variance
#: along each (unit-scaled) axis, the usual kernel of ABC-SMC (Beaumont et al. 2009)
KERNEL_VARIANCE = 2.0


def to_values(unit: np.ndarray) -> dict[str, float]:
    """A point of the unit cube as values of :data:`simulation.calibrate.SPACE`: each axis
    spans its prior (:func:`simulation.calibrate.prior`), log-uniformly where
    :data:`~simulation.calibrate.LOG` marks it; whole-number parameters take each whole value
    on an equal share of the axis."""
    from .calibrate import LOG, SPACE, is_integer, prior

    out: dict[str, float] = {}
    for u, name in zip(unit, SPACE):
        low, high = prior(name)
        if is_integer(name):
            out[name] = int(min(high, math.floor(low + u * (high - low + 1))))
        elif name in LOG:
            v = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
            out[name] = float(min(high, max(low, v)))  # exp(log(low)) may round below low
        else:
            out[name] = float(min(high, max(low, low + u * (high - low))))
    return out


def to_unit(values: Mapping[str, float]) -> np.ndarray:
    """The inverse of :func:`to_values` (a whole value maps to the middle of its share)."""
    from .calibrate import LOG, SPACE, is_integer, prior

    out = []
    for name in SPACE:
        low, high = prior(name)
        v = float(values[name])
        if is_integer(name):
            out.append((v - low + 0.5) / (high - low + 1))
        elif name in LOG:
            out.append((math.log(v) - math.log(low)) / (math.log(high) - math.log(low)))
        else:
            out.append((v - low) / (high - low))
    return np.clip(np.array(out), 0.0, 1.0)


def width_share(values: pd.DataFrame) -> pd.Series:
    """Per free parameter: the share of its prior's width (of its log width where log-uniform)
    that the rows of ``values`` span."""
    from .calibrate import SPACE

    unit = np.array([to_unit(row) for _, row in values[list(SPACE)].iterrows()])
    return pd.Series(unit.max(axis=0) - unit.min(axis=0), index=list(SPACE))


def _evaluate(job: tuple[dict[str, float], list[int]]) -> pd.DataFrame:
    from .calibrate import evaluate_runs
    return evaluate_runs(*job)


def _imps(row: Mapping[str, Any]) -> dict[str, float]:
    return {k: v for k, v in row.items() if k.startswith("implausibility.")}


def _ordinal(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _score(label: str, wave: int, trial: int, values: dict[str, float], runs: pd.DataFrame,
           cutoff: float, order: int = 1) -> dict[str, Any]:
    from .calibrate import objective
    from .validate import TARGETS

    imp = implausibility(runs)
    means = runs.mean().to_dict()
    worst = max(imp, key=imp.get)
    kth = kth_largest(imp, order)
    return {"label": label, "wave": wave, "trial": trial, "cutoff": cutoff, "order": order,
            "accepted": kth <= cutoff, "kth_implausibility": kth,
            "max_implausibility": imp[worst],
            "worst_pattern": worst, "objective": objective(means), **values,
            **{f"metric.{k}": means[k] for k in TARGETS},
            **{f"implausibility.{k}": v for k, v in imp.items()}}


def wave_seeds(seed: int, wave: int, replicates: int, used: set[int]) -> list[int]:
    """The seeds of one wave (0 = the final re-run): drawn from ``seed`` and the wave's number,
    fresh for each wave, refused if any is in ``used`` (the calibration's seeds)."""
    ss = np.random.SeedSequence(seed, spawn_key=(wave,))
    seeds = [int(s) for s in ss.generate_state(replicates, np.uint32)]
    if used & set(seeds):
        raise PcsimInputError(f"--seed = {seed} gives seeds the calibration used; choose another")
    return seeds


def kth_largest(imp: Mapping[str, float], k: int) -> float:
    """The ``k``-th largest implausibility over the patterns (k = 1: the largest)."""
    return sorted(imp.values(), reverse=True)[k - 1]


def waves(sizes: list[int], replicates: int, final_replicates: int, seed: int,
          cutoffs: list[float] | None = None, orders: list[int] | None = None,
          final_candidates: int = 300,
          max_sets: int = 100, extra: list[tuple[str, int, dict[str, float]]] = (),
          start: list[dict[str, float]] | None = None,
          used: set[int] = frozenset(), workers: int = 2, progress=None) -> dict[str, Any]:
    """History matching in waves over the whole prior, no emulator: wave 1 is a seeded Latin
    hypercube (:class:`scipy.stats.qmc.LatinHypercube`) of ``sizes[0]`` points over the
    priors (in the unit cube of :func:`to_values`); each wave runs its points on ``replicates``
    seeds of its own (the same seeds for every point of the wave). Wave w's rule: the
    ``orders[w]``-th largest implausibility (:data:`WAVE_ORDERS` by default; 1 is the largest)
    within ``cutoffs[w]`` (:data:`WAVE_CUTOFF` by default). Its pool is every point run so far
    that passes that rule (at least the :data:`MIN_POOL` nearest to passing); wave w + 1 draws
    ``sizes[w]`` points from it, each a pool point chosen at random moved by a Gaussian kernel
    of :data:`KERNEL_VARIANCE` times the pool's variance on each axis (reflected into the
    cube). The final stage re-runs the defaults, the ``extra`` sets and up to
    ``final_candidates`` points that pass the last wave's rule (a seeded random choice) on
    ``final_replicates`` fresh seeds and applies :data:`CUTOFF` to the largest; at most
    ``max_sets`` accepted sets are kept besides the defaults (a seeded random choice), set 0
    is the defaults. With ``start`` (sets already accepted, e.g. the shipped ones), wave 1
    draws from the kernel around them instead of the Latin hypercube, and they stay in every
    wave's pool: the waves then explore outward from a region known to fit. Points run in a
    pool of ``workers`` processes; every random number comes
    from ``seed``, so the result does not depend on the scheduling."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from scipy.stats import qmc

    from .calibrate import SPACE

    cutoffs = list(cutoffs) if cutoffs else [WAVE_CUTOFF] * len(sizes)
    orders = list(orders) if orders else [WAVE_ORDERS[min(i, len(WAVE_ORDERS) - 1)]
                                          for i in range(len(sizes))]
    if not len(cutoffs) == len(orders) == len(sizes):
        raise ValueError("one cut-off and one order per wave")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1000,))))
    say = progress or (lambda msg: None)
    rows: list[dict[str, Any]] = []
    summary = []
    units = np.empty((0, len(SPACE)))
    known = np.array([to_unit(v) for v in start]) if start else np.empty((0, len(SPACE)))
    pool_units = known
    # spawned, not forked: the parent may hold numba's threads, which a fork does not carry
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        def run_all(entries, seeds, wave, cutoff, k=1):
            jobs = [(values, seeds) for _, _, values in entries]
            out = []
            for i, ((label, trial, values), runs) in enumerate(
                    zip(entries, pool.map(_evaluate, jobs, chunksize=4))):
                out.append(_score(label, wave, trial, values, runs, cutoff, k))
                if (i + 1) % 50 == 0 or i + 1 == len(entries):
                    kept = sum(r["accepted"] for r in out)
                    say(f"wave {wave}: {i + 1}/{len(entries)} run, {kept} within {cutoff:g}")
            return out

        for w, (n, cutoff, k) in enumerate(zip(sizes, cutoffs, orders), start=1):
            if w == 1 and not start:
                unit = qmc.LatinHypercube(d=len(SPACE), rng=rng).random(n)
            else:
                sd = np.sqrt(KERNEL_VARIANCE * pool_units.var(axis=0))
                picks = pool_units[rng.integers(len(pool_units), size=n)]
                unit = picks + rng.normal(size=picks.shape) * sd
                unit = np.abs(unit)                    # reflect at 0 ...
                unit = 1.0 - np.abs(1.0 - unit)        # ... and at 1
                unit = np.clip(unit, 0.0, np.nextafter(1.0, 0.0))
            seeds = wave_seeds(seed, w, replicates, used)
            entries = [(f"wave {w} point {i}", -1, to_values(u)) for i, u in enumerate(unit)]
            scored = run_all(entries, seeds, w, cutoff, k)
            rows += scored
            units = np.vstack([units, unit])
            # every point so far that passes this wave's rule stands for the region not yet
            # ruled out (earlier points were scored on other seeds, as fresh as these)
            kth = np.array([kth_largest(_imps(r), k) for r in rows])
            passing = np.flatnonzero(kth <= cutoff)
            chosen = passing if len(passing) >= MIN_POOL else np.argsort(kth, kind="stable")[:MIN_POOL]
            pool_units = np.vstack([known, units[chosen]])
            kept = int(sum(r["accepted"] for r in scored))
            summary.append({"wave": w, "points": n, "replicates": replicates, "cutoff": cutoff,
                            "order": k, "survivors": kept, "pool": len(passing), "seeds": seeds})
            say(f"wave {w}: {kept} of {n} within {cutoff:g} on the {_ordinal(k)} largest "
                f"implausibility; {len(passing)} of {len(rows)} so far")

        last = [rows[i] for i in passing]
        if len(last) > final_candidates:
            keep = np.sort(rng.choice(len(last), size=final_candidates, replace=False))
            last = [last[i] for i in keep]
        entries = [("defaults", -1, default_values()), *extra]
        entries += [(r["label"], -1, {k: r[k] for k in SPACE}) for r in last]
        entries = [(label, trial, {k: (int(v) if _is_int(k) else float(v))
                                   for k, v in values.items()}) for label, trial, values in entries]
        seeds = wave_seeds(seed, 0, final_replicates, used)
        final = run_all(entries, seeds, 0, CUTOFF)
    table = pd.DataFrame(rows + final)
    final_table = pd.DataFrame(final)
    accepted = final_table.iloc[1:][final_table["accepted"].iloc[1:].to_numpy()]
    order = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,))))
    shuffled = accepted.iloc[order.permutation(len(accepted))].head(max_sets)
    sets = pd.concat([final_table.iloc[[0]], shuffled], ignore_index=True)
    summary.append({"wave": "final", "points": len(entries), "replicates": final_replicates,
                    "cutoff": CUTOFF, "order": 1, "pool": 0, "survivors": int(final_table["accepted"].sum()),
                    "seeds": seeds})
    return dict(candidates=table, sets=sets, seeds=seeds, waves=summary)


# --- the file ----------------------------------------------------------------------------------

def to_toml(result: dict[str, Any], meta: Mapping[str, Any]) -> str:
    """The accepted sets with a manifest: ``[manifest]`` then one ``[[sets]]`` table per set."""
    from .calibrate import SPACE

    lines = ["# The calibrated ensemble (python -m simulation.ensemble build/waves; docs/calibration.md,",
             "# 'The ensemble'). Set 0 is the defaults; the others follow in a seeded random order.",
             "", "[manifest]"]
    lines += [f"{k} = {_toml(v)}" for k, v in meta.items()]
    for i, row in result["sets"].iterrows():
        lines += ["", "[[sets]]", f"id = {i}", f"label = {_toml(row['label'])}",
                  f"trial = {int(row['trial'])}",
                  f"max_implausibility = {_toml(float(row['max_implausibility']))}",
                  f"objective = {_toml(float(row['objective']))}", "[sets.values]"]
        lines += [f"{_toml(k)} = {_toml(int(row[k]) if _is_int(k) else float(row[k]))}"
                  for k in SPACE]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string is a JSON string


@dataclass(frozen=True)
class ParameterSet:
    """One accepted set: its id (its place in the ensemble), where it came from, and the model
    overrides it makes (every parameter the calibration sets, table cells by dotted name)."""

    id: int
    label: str
    trial: int
    overrides: dict[str, Any]
    max_implausibility: float


@dataclass(frozen=True)
class Ensemble:
    """The accepted sets, in order (set 0 is the defaults), and the manifest of their build."""

    sets: tuple[ParameterSet, ...]
    manifest: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sets)

    def __iter__(self) -> Iterator[ParameterSet]:
        return iter(self.sets)

    def __getitem__(self, i: int) -> ParameterSet:
        return self.sets[i]

    def for_replicate(self, replicate: int) -> ParameterSet:
        """The set replicate ``replicate`` uses: set ``replicate mod K``."""
        return self.sets[replicate % len(self.sets)]


def load(path: str | Path | None = None) -> Ensemble:
    """The shipped ensemble (``simulation/data/ensemble.toml``), or one built to ``path``."""
    from .calibrate import overrides

    if path is None:
        text = resources.files("simulation.data").joinpath(DATA_FILE).read_text()
        where = f"simulation/data/{DATA_FILE}"
    else:
        text = params.read_text(Path(path), "ensemble file")
        where = str(path)
    data = params.parse_toml(text, f"ensemble file {where!r}")
    sets = []
    for i, entry in enumerate(data.get("sets", [])):
        if entry.get("id") != i:
            raise PcsimInputError(f"ensemble file {where!r}: sets[{i}].id = {entry.get('id')!r} "
                                  f"is not allowed: expected {i} (ids count from 0 in order)")
        sets.append(ParameterSet(i, entry["label"], int(entry["trial"]),
                                 overrides(entry["values"]), float(entry["max_implausibility"])))
    if not sets:
        raise PcsimInputError(f"ensemble file {where!r} holds no [[sets]]")
    return Ensemble(tuple(sets), dict(data.get("manifest", {})))


#: the scales the ensemble's sets were accepted at
SCALES_CALIBRATED = ("county",)


def arm_params(scenario: str, scale: str, parameter_set: ParameterSet | None,
               overrides: Mapping[str, Any] | None = None) -> Params:
    """A scenario's parameters on one set: the scale preset, the set, the scenario, then the
    user's overrides (each on top of the one before). With no set, exactly
    :func:`simulation.model.build_params`."""
    from .model import build_params

    if parameter_set is None:
        return build_params(scenario, scale, None, **dict(overrides or {}))
    if scale not in SCALES_CALIBRATED:
        # its sets were accepted against the county's patterns; another scale has defaults of
        # its own (England: simulation/data/england/calibrated.toml), which the sets would undo
        raise ParamError(f"scale = {scale!r} is not allowed with the calibrated ensemble: its "
                         f"sets were calibrated at {', '.join(SCALES_CALIBRATED)} scale; use fixed "
                         "parameters at other scales")
    base = Params.from_dict(parameter_set.overrides,
                            base=Params.from_dict(population.preset(scale)))
    base = Params.from_dict(scenario_files.load(scenario).overrides, base=base)
    return Params.from_dict(dict(overrides), base=base) if overrides else base


def uncertainty(ensemble: Ensemble | None) -> str:
    """What a study's intervals cover, in words."""
    if ensemble is None:
        return "simulation only"
    return "parameter and simulation"


# --- the command -------------------------------------------------------------------------------

def _output(parser, out):
    """The new results folder (checked writable before any run) and the progress printer."""
    try:
        folder = output.preflight(output.new_folder_path("ensemble", out))
    except PcsimInputError as err:
        parser.error(str(err))
    return folder, (lambda msg: print(f"ensemble: {msg}", file=sys.stderr, flush=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulation.ensemble",
        description="Build the calibrated ensemble: from a calibration folder's best proposals "
                    "(build) or by history matching in waves over the whole prior (waves); "
                    "re-run the candidates and the defaults on fresh seeds and keep every set "
                    "the patterns do not rule out (" + RULE + ").")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="re-run a calibration's candidates and write the accepted sets")
    p.add_argument("--calibration", required=True,
                   help="a calibration folder (python -m simulation.calibrate --out ...)")
    p.add_argument("--candidates", type=int, default=60,
                   help="best proposals to re-run besides the defaults (default 60)")
    p.add_argument("--global-candidates", type=int, default=20,
                   help="best proposals of the search's global stage re-run besides those "
                        "(default 20)")
    p.add_argument("--replicates", type=int, default=16, help="fresh seeds per set (default 16)")
    p.add_argument("--seed", type=int, default=20248, help="root of the fresh seeds (default 20248)")
    p.add_argument("--out", help="folder to create (default results/ensemble-...)")
    w = sub.add_parser("waves", help="history matching in waves over the whole prior; write "
                                     "the accepted sets")
    w.add_argument("--sizes", default="400,400,400",
                   help="points per wave, comma-separated: wave 1 a Latin hypercube over the "
                        "priors, later waves drawn around the survivors (default 400,400,400)")
    w.add_argument("--wave-replicates", type=int, default=3,
                   help="fresh seeds per point in each wave (default 3)")
    w.add_argument("--cutoffs", help=f"implausibility cut-off of each wave, comma-separated "
                                     f"(default {WAVE_CUTOFF:g} for every wave)")
    w.add_argument("--orders", help="which implausibility each wave cuts on, comma-separated: "
                                    "k for the k-th largest over the patterns (default "
                                    + ",".join(map(str, WAVE_ORDERS)) + ", the last repeated)")
    w.add_argument("--include-shipped", action="store_true",
                   help="re-run the shipped ensemble's sets in the final stage too")
    w.add_argument("--from-shipped", action="store_true",
                   help="start from the shipped ensemble's sets (wave 1 drawn around them, "
                        "kept in every wave's pool) instead of a Latin hypercube of the prior")
    w.add_argument("--final-candidates", type=int, default=300,
                   help="survivors of the last wave re-run on the final seeds (default 300)")
    w.add_argument("--replicates", type=int, default=16,
                   help="fresh seeds per set in the final re-run (default 16)")
    w.add_argument("--max-sets", type=int, default=100,
                   help="accepted sets kept besides the defaults (default 100)")
    w.add_argument("--calibration", help="a calibration folder whose seeds the waves must avoid")
    w.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    w.add_argument("--seed", type=int, default=20249, help="root of every seed and draw (default 20249)")
    w.add_argument("--out", help="folder to create (default results/ensemble-...)")
    args = parser.parse_args(argv)
    if args.command == "waves":
        return _main_waves(parser, args)
    for name, low in (("candidates", 1), ("global_candidates", 0), ("replicates", 2)):
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} = {getattr(args, name)} is not allowed: "
                         f"expected a whole number >= {low}")
    if args.seed < 0:
        parser.error(f"--seed = {args.seed} is not allowed: expected a whole number >= 0")
    calibration = Path(args.calibration)
    for name in ("trials.parquet", "manifest.json"):
        if not (calibration / name).is_file():
            parser.error(f"--calibration = {args.calibration!r} is not allowed: expected a "
                         f"calibration folder holding {name}")
    folder, say = _output(parser, args.out)
    t0 = time.perf_counter()
    result = build(calibration, args.candidates, args.replicates, args.seed, progress=say,
                   n_global=args.global_candidates)
    seconds = time.perf_counter() - t0
    cal = result["calibration_manifest"]
    meta = {"rule": RULE, "cutoff": CUTOFF, "discrepancy": DISCREPANCY,
            "size": len(result["sets"]), "candidates": len(result["candidates"]),
            "accepted_of_candidates": int(result["candidates"]["accepted"].sum()),
            "replicates": args.replicates, "seed": args.seed, "seeds": result["seeds"],
            "calibration_command": cal.get("command", ""),
            "calibration_seed": cal.get("seed", -1), "calibration_created": cal.get("created", ""),
            "created": dt.date.today().isoformat(),
            "command": (f"python -m simulation.ensemble build --calibration CALIBRATION "
                        f"--candidates {args.candidates} --global-candidates "
                        f"{args.global_candidates} --replicates {args.replicates} "
                        f"--seed {args.seed}")}
    with output.atomic_folder(folder) as tmp:
        result["candidates"].to_csv(tmp / "candidates.csv", index=False)
        (tmp / DATA_FILE).write_text(to_toml(result, meta))
        output.write_json(tmp / "manifest.json", output.manifest(**meta, seconds=round(seconds, 1)))
    table = result["candidates"]
    print(f"{int(table['accepted'].sum())} of {len(table)} candidates accepted "
          f"(defaults {'accepted' if table['accepted'].iloc[0] else 'NOT accepted, kept as set 0'}); "
          f"ensemble size {len(result['sets'])}; {seconds:.0f} s")
    print(f"results: {folder}")
    return 0


def _numbers(parser, flag: str, text: str, kind, low: float) -> list:
    try:
        out = [kind(x) for x in text.split(",")]
    except ValueError:
        out = []
    if not out or any(x < low for x in out):
        parser.error(f"{flag} = {text!r} is not allowed: expected comma-separated "
                     f"{'whole numbers' if kind is int else 'numbers'} >= {low:g}")
    return out


def _values_of(pset: ParameterSet) -> dict[str, float]:
    """A set's values of :data:`simulation.calibrate.SPACE` (from the first parameter each sets)."""
    from .calibrate import SPACE
    return {name: pset.overrides[targets[0]] for name, targets in SPACE.items()}


def _main_waves(parser, args) -> int:
    sizes = _numbers(parser, "--sizes", args.sizes, int, 1)
    cutoffs = _numbers(parser, "--cutoffs", args.cutoffs, float, 0) if args.cutoffs else None
    if cutoffs and len(cutoffs) != len(sizes):
        parser.error(f"--cutoffs = {args.cutoffs!r} is not allowed: expected one per wave "
                     f"({len(sizes)})")
    orders = _numbers(parser, "--orders", args.orders, int, 1) if args.orders else None
    if orders and len(orders) != len(sizes):
        parser.error(f"--orders = {args.orders!r} is not allowed: expected one per wave "
                     f"({len(sizes)})")
    if orders and max(orders) > 19:
        parser.error(f"--orders = {args.orders!r} is not allowed: expected whole numbers from 1 "
                     f"to the number of patterns (19)")
    extra = []
    if args.include_shipped:
        extra = [(f"shipped set {s.id}", s.trial, _values_of(s)) for s in load() if s.id > 0]
    for name, low in (("wave_replicates", 2), ("replicates", 2), ("final_candidates", 1),
                      ("max_sets", 1), ("workers", 1), ("seed", 0)):
        if getattr(args, name) < low:
            parser.error(f"--{name.replace('_', '-')} = {getattr(args, name)} is not allowed: "
                         f"expected a whole number >= {low}")
    used: set[int] = set()
    if args.calibration:
        path = Path(args.calibration) / "manifest.json"
        if not path.is_file():
            parser.error(f"--calibration = {args.calibration!r} is not allowed: expected a "
                         f"calibration folder holding manifest.json")
        cal = json.loads(path.read_text())
        used = set(cal.get("search_seeds", [])) | set(cal.get("confirm_seeds", []))
    else:
        cal = {}
    folder, say = _output(parser, args.out)
    t0 = time.perf_counter()
    result = waves(sizes, args.wave_replicates, args.replicates, args.seed, cutoffs, orders,
                   args.final_candidates, args.max_sets, extra=extra, used=used,
                   start=[_values_of(s) for s in load() if s.id > 0] if args.from_shipped else None,
                   workers=args.workers, progress=say)
    seconds = time.perf_counter() - t0
    table, sets = result["candidates"], result["sets"]
    final = table[table["wave"] == 0]
    share = width_share(sets)
    command = (f"python -m simulation.ensemble waves --sizes {args.sizes} --wave-replicates "
               f"{args.wave_replicates}"
               + (f" --cutoffs {args.cutoffs}" if args.cutoffs else "")
               + (f" --orders {args.orders}" if args.orders else "")
               + (" --include-shipped" if args.include_shipped else "")
               + (" --from-shipped" if args.from_shipped else "")
               + f" --final-candidates {args.final_candidates} --replicates {args.replicates} "
                 f"--max-sets {args.max_sets}"
               + (" --calibration CALIBRATION" if args.calibration else "")
               + f" --seed {args.seed}")
    meta = {"rule": RULE, "cutoff": CUTOFF, "discrepancy": DISCREPANCY, "method": "waves",
            "size": len(sets), "candidates": len(final),
            "accepted_of_candidates": int(final["accepted"].sum()),
            "replicates": args.replicates, "seed": args.seed, "seeds": result["seeds"],
            "waves": [{k: v for k, v in w.items() if k != "seeds"} for w in result["waves"]],
            "median_width_share": round(float(share.median()), 4),
            # the defaults, set 0, are this calibration's result; its seeds were avoided
            "calibration_command": cal.get("command", ""),
            "calibration_seed": cal.get("seed", -1), "calibration_created": cal.get("created", ""),
            "created": dt.date.today().isoformat(), "command": command}
    toml_meta = {k: v for k, v in meta.items() if k != "waves"}
    toml_meta["wave_sizes"] = [int(w["points"]) for w in result["waves"]]
    toml_meta["wave_survivors"] = [int(w["survivors"]) for w in result["waves"]]
    toml_meta["wave_cutoffs"] = [float(w["cutoff"]) for w in result["waves"]]
    toml_meta["wave_orders"] = [int(w["order"]) for w in result["waves"]]
    with output.atomic_folder(folder) as tmp:
        table.to_csv(tmp / "candidates.csv", index=False)
        (tmp / DATA_FILE).write_text(to_toml(result, toml_meta))
        output.write_json(tmp / "manifest.json",
                          output.manifest(**{**meta, "waves": result["waves"]},
                                          seconds=round(seconds, 1)))
    for w in result["waves"]:
        print(f"wave {w['wave']}: {w['survivors']} of {w['points']} within {w['cutoff']:g} on "
              f"the {_ordinal(w['order'])} largest implausibility ({w['replicates']} seeds each)")
    print(f"defaults {'accepted' if final['accepted'].iloc[0] else 'NOT accepted, kept as set 0'}; "
          f"ensemble size {len(sets)}; median share of prior width spanned "
          f"{share.median():.0%}; {seconds:.0f} s")
    print(f"results: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
