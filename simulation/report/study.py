"""Run the arms of a comparison on common random numbers and collect their outcomes.

Two kinds of study share one result type, :class:`Study`:

* **compare** (:func:`run_compare`): each arm is a scenario; replicate ``r`` of every arm is
  built from the same seed, so arms that do not change population parameters share the
  population exactly (and the ties, when they do not change tie parameters);
* **impact** (:func:`run_impact`): each replicate is run once to the intervention month, then
  forked (:func:`simulation.report.interventions.fork`); the intervention is applied to the copy,
  and both continue to the end. The two arms are identical up to and including that month, and
  draw identical monthly random numbers after it (newcomers' attributes come from each month's
  own stream, so filling different numbers of posts does not shift the dynamics stream).

**Parameters**: with an ensemble (:mod:`simulation.ensemble`, the default of ``pcsim compare``
and ``pcsim impact``), replicate ``r`` of every arm runs on parameter set ``r mod K`` with the
replicate's seed, so arms stay paired on common random numbers within each set and the
intervals cover parameter and simulation uncertainty together; with ``ensemble=None``
(``--fixed-parameters``) every replicate uses the defaults (set 0), as before the ensemble
existed. The set of each run is the ``param_set`` column of the run tables.

Outcomes are the final month's reporters (and the total of leavers) of each run, in
:data:`OUTCOMES` (drawn from the registry, :data:`simulation.metrics.OUTCOMES`); the full
monthly time series of every run is kept for the ribbons, and the final state of replicate 0 of
each arm for the network snapshot.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import ensemble as ensembles
from .. import metrics
from .. import scenarios as scenario_files
from ..model import PrimaryCareModel, build_params
from ..output import file_hash
from ..params import SPECS, Params, PcsimInputError
from . import stats
from .interventions import Intervention, fork


#: The outcomes of a report, in registry order: those of :data:`simulation.metrics.OUTCOMES`
#: marked ``report`` (labels, descriptions, formats and phrasing come from there too).
OUTCOMES: tuple[metrics.Outcome, ...] = tuple(o for o in metrics.OUTCOMES if o.report)
Outcome = metrics.Outcome  # the report's outcomes are the registry's own
OUTCOME_NAMES = tuple(o.name for o in OUTCOMES)
BY_NAME = {o.name: o for o in OUTCOMES}

INNOVATION_COLUMNS = {
    "kind": "simple (one exposure can convince) or complex (needs reinforcement)",
    "p_external": "external push per month", "q_social": "social influence strength per month",
    "threshold_mean": "mean adoption threshold (complex)", "threshold_sd": "spread of thresholds",
    "workload_cost": "strain added by a genuine adopter", "quality_benefit": "quality gained",
    "mandated": "may be adopted shallowly by compliance", "initial_share": "share already using it",
    "month_introduced": "month from which it can be adopted",
    "market_potential": "share of GPs who would ever use it",
}
STYLE_COLUMNS = {
    "share": "share of GPs with this style", "persuasion": "weight of this GP's adoption for peers",
    "reach": "multiplier on ties across practices", "support": "relief of colleagues' strain",
    "resistance": "resistance to shallow compliance",
}


@dataclass
class Arm:
    """One arm of a study: its label, the scenario it runs, its parameters and what it changes."""

    label: str
    scenario: str
    description: str
    params: Params
    changes: pd.DataFrame  # parameter, reference, value, description
    source: str  # the scenario file it came from


@dataclass
class Snapshot:
    """The final state of one run, for the network figure."""

    state: Any
    ties: Any
    params: Params


@dataclass
class Study:
    """What a comparison produced, ready for :mod:`simulation.report.document`."""

    kind: str  # "compare" or "impact"
    arms: list[Arm]
    months: int
    seed: int
    scale: str
    seeds: list[int]
    overrides: dict[str, Any]
    outcomes: pd.DataFrame  # arm, replicate, seed, param_set, *OUTCOME_NAMES (+ gps_chosen)
    timeseries: pd.DataFrame  # arm, replicate, month, every reporter, leavers_total, param_set
    snapshots: dict[str, Snapshot]
    seconds: float
    intervention: Intervention | None = None
    at_month: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    area: Any = None  # with scale "england": the ICB, sub-ICB or PCN run (an england.Area)
    #: what the intervals cover: "parameter and simulation" (an ensemble) or "simulation only"
    uncertainty: str = "simulation only"
    #: the parameter set of each replicate (ids in the ensemble; all 0, the defaults, when fixed)
    param_sets: list[int] = field(default_factory=list)
    #: the ensemble's size K and provenance (rule, build seed, source calibration), or None
    ensemble: dict[str, Any] | None = None

    @property
    def parameter_sets(self) -> int:
        """How many parameter sets the replicates were drawn from (1: fixed parameters)."""
        return int(self.ensemble["sets_used"]) if self.ensemble else 1

    @property
    def reference(self) -> str:
        return self.arms[0].label

    @property
    def labels(self) -> list[str]:
        return [a.label for a in self.arms]

    @property
    def replicates(self) -> int:
        return len(self.seeds)


# --- parameters: what an arm changes ------------------------------------------------------------

def flatten(params: Params) -> dict[str, Any]:
    """Every parameter as ``name -> value``; table cells as ``innovations.ROW.COLUMN``."""
    d = params.to_dict()
    out = {k: v for k, v in d.items() if k not in ("innovations", "styles")}
    for table in ("innovations", "styles"):
        for row, cols in d[table].items():
            for col, value in cols.items():
                out[f"{table}.{row}.{col}"] = value
    return out


def describe_parameter(key: str) -> str:
    """The declared description of a parameter, or of a table cell."""
    if key in SPECS:
        return SPECS[key]["doc"]
    table, row, col = key.split(".", 2)
    columns = INNOVATION_COLUMNS if table == "innovations" else STYLE_COLUMNS
    what = "innovation" if table == "innovations" else "leadership style"
    return f"{what} '{row}': {columns.get(col, col)}"


def parameter_changes(params: Params, reference: Params) -> pd.DataFrame:
    """The parameters whose values differ from the reference's (rows absent from one table show
    as missing)."""
    a, b = flatten(params), flatten(reference)
    rows = [dict(parameter=k, reference=b.get(k), value=a.get(k), description=describe_parameter(k))
            for k in sorted(set(a) | set(b), key=_parameter_order(a, b))
            if a.get(k) != b.get(k)]
    return pd.DataFrame(rows, columns=["parameter", "reference", "value", "description"])


def _parameter_order(a, b):
    order = {k: i for i, k in enumerate(list(b) + [k for k in a if k not in b])}
    return order.__getitem__


def _area(area):
    """An England area given by code or name as its :class:`simulation.england.Area`."""
    if area is None:
        return None
    from ..england import find_area
    return find_area(area)


def resolve_arms(specs: list[str], scale: str, overrides: dict[str, Any], area=None) -> list[Arm]:
    """Load every scenario and build its parameters; refuse bad names or files before anything
    runs. Labels are the scenario names (file stems), made unique by a suffix."""
    if not specs:
        raise PcsimInputError("give at least one scenario (the first is the reference)")
    loaded = [scenario_files.load(s) for s in specs]
    params = [build_params(s, scale, None, area=area, **overrides) for s in specs]
    labels, seen = [], {}
    for sc in loaded:
        seen[sc.name] = seen.get(sc.name, 0) + 1
        labels.append(sc.name if seen[sc.name] == 1 else f"{sc.name}_{seen[sc.name]}")
    baseline = build_params("baseline", scale, None, area=area, **overrides)
    arms = []
    for i, (spec, sc, p, label) in enumerate(zip(specs, loaded, params, labels)):
        against = baseline if i == 0 else params[0]
        arms.append(Arm(label, spec, sc.description, p, parameter_changes(p, against), sc.path))
    return arms


# --- runs ---------------------------------------------------------------------------------------

def _draw(ensemble: ensembles.Ensemble | None, replicates: int) -> list:
    """The parameter set of each replicate: set ``r mod K``, or None (fixed parameters)."""
    if ensemble is None:
        return [None] * replicates
    return [ensemble.for_replicate(r) for r in range(replicates)]


def _metadata(ensemble: ensembles.Ensemble | None, drawn: list) -> dict[str, Any]:
    """The study's fields on parameters: uncertainty, each replicate's set, the ensemble."""
    if ensemble is None:
        return dict(uncertainty=ensembles.uncertainty(None), param_sets=[0] * len(drawn),
                    ensemble=None)
    m = ensemble.manifest
    return dict(uncertainty=ensembles.uncertainty(ensemble), param_sets=[s.id for s in drawn],
                ensemble=dict(size=len(ensemble), sets_used=len({s.id for s in drawn}),
                              rule=m.get("rule", ""), seed=m.get("seed"),
                              replicates=m.get("replicates"), created=m.get("created", ""),
                              calibration=m.get("calibration_command", "")))

def _series(model) -> pd.DataFrame:
    """A run's time series, with the running totals of the report's run-total outcomes."""
    ts = model.timeseries()
    for o in OUTCOMES:
        if o.total_of is not None:
            ts[o.name] = ts[o.total_of].where(ts["month"] > 0, 0).cumsum()
    return ts


def _final(ts: pd.DataFrame) -> dict[str, float]:
    summary = metrics.summarise(ts)
    return {name: summary[name] for name in OUTCOME_NAMES}


def _tables(rows: list[dict], series: list[pd.DataFrame]):
    outcomes = pd.DataFrame(rows)
    timeseries = pd.concat(series, ignore_index=True)
    lead = ["arm", "replicate", "month"]
    return outcomes, timeseries[lead + [c for c in timeseries.columns if c not in lead]]


def run_compare(specs: list[str], replicates: int, months: int, seed: int, scale: str = "county",
                overrides: dict[str, Any] | None = None,
                progress: Callable[[str], None] | None = None, area=None,
                ensemble: ensembles.Ensemble | None = None) -> Study:
    """Run every scenario for ``replicates`` replicates on common random numbers (``area``:
    with scale ``"england"``, one ICB, sub-ICB or PCN); with an ``ensemble``, replicate ``r`` of
    every arm on its set ``r mod K``."""
    area = _area(area)
    overrides = dict(overrides or {})
    arms = resolve_arms(specs, scale, overrides, area)
    seeds = stats.replicate_seeds(seed, replicates)
    drawn = _draw(ensemble, replicates)
    rows, series, snapshots = [], [], {}
    t0 = time.perf_counter()
    for arm in arms:
        t_arm = time.perf_counter()
        for r, (s, pset) in enumerate(zip(seeds, drawn)):
            p = arm.params if pset is None else ensembles.arm_params(arm.scenario, scale, pset,
                                                                      overrides)
            set_id = 0 if pset is None else pset.id
            model = PrimaryCareModel(scenario=arm.scenario, scale=scale, params=p, rng=s,
                                     area=area)
            model.run(months)
            ts = _series(model)
            rows.append(dict(arm=arm.label, replicate=r, seed=s, param_set=set_id, **_final(ts)))
            series.append(ts.assign(arm=arm.label, replicate=r, param_set=set_id))
            if r == 0:
                snapshots[arm.label] = Snapshot(model.state.copy(), model.ties, model.params)
        if progress:
            progress(f"{arm.label}: {replicates} runs of {months} months in "
                     f"{time.perf_counter() - t_arm:.1f} s")
    outcomes, timeseries = _tables(rows, series)
    return Study("compare", arms, months, seed, scale, seeds, overrides, outcomes, timeseries,
                 snapshots, time.perf_counter() - t0, area=area, **_metadata(ensemble, drawn))


def run_impact(scenario: str, intervention: Intervention, at_month: int, replicates: int,
               months: int, seed: int, scale: str = "county",
               overrides: dict[str, Any] | None = None,
               progress: Callable[[str], None] | None = None, area=None,
               ensemble: ensembles.Ensemble | None = None) -> Study:
    """Paired runs identical up to ``at_month``; then the intervention in one of each pair.
    With an ``ensemble``, replicate ``r`` (both of its arms) runs on set ``r mod K``."""
    if isinstance(at_month, bool) or not isinstance(at_month, (int, np.integer)) \
            or not 0 <= at_month < months:
        raise PcsimInputError(f"--at-month = {at_month!r} is not allowed: expected a whole number "
                              f"in [0, {months - 1}] (before the last month, --months {months})")
    area = _area(area)
    overrides = dict(overrides or {})
    base = resolve_arms([scenario], scale, overrides, area)[0]
    control = Arm("control", scenario, f"{base.label}, no intervention", base.params,
                  base.changes, base.source)
    treated_label = "intervention"
    treated = Arm(treated_label, scenario,
                  f"{base.label}, {intervention.describe()} at month {at_month}",
                  base.params, parameter_changes(base.params, base.params), base.source)
    seeds = stats.replicate_seeds(seed, replicates)
    drawn = _draw(ensemble, replicates)
    rows, series, snapshots = [], [], {}
    t0 = time.perf_counter()
    for r, (s, pset) in enumerate(zip(seeds, drawn)):
        p = base.params if pset is None else ensembles.arm_params(scenario, scale, pset, overrides)
        set_id = 0 if pset is None else pset.id
        model = PrimaryCareModel(scenario=scenario, scale=scale, params=p, rng=s,
                                 area=area)
        if at_month > 0:
            model.run(at_month)
        other = fork(model)
        chosen = intervention.apply(other, stats.derived_stream(s, stats.INTERVENTION_KEY))
        for _ in range(months - at_month):
            model.step()
            other.step()
        for label, m in (("control", model), (treated_label, other)):
            ts = _series(m)
            rows.append(dict(arm=label, replicate=r, seed=s, param_set=set_id, **_final(ts),
                             gps_chosen=0 if label == "control" else int(chosen.size)))
            series.append(ts.assign(arm=label, replicate=r, param_set=set_id))
            if r == 0:
                snapshots[label] = Snapshot(m.state.copy(), m.ties, m.params)
    if progress:
        progress(f"{replicates} pairs of runs of {months} months in {time.perf_counter() - t0:.1f} s")
    outcomes, timeseries = _tables(rows, series)
    chosen = outcomes.loc[outcomes.arm == treated_label, "gps_chosen"]
    extra = dict(scenario_label=base.label, scenario_description=base.description,
                 scenario_changes=base.changes,
                 fewer_than_k=int((chosen < intervention.k).sum()),
                 mean_chosen=float(chosen.mean()), min_chosen=int(chosen.min()),
                 max_chosen=int(chosen.max()), chosen=[int(c) for c in chosen],
                 shortfall=intervention.shortfall(chosen.to_numpy()))
    return Study("impact", [control, treated], months, seed, scale, seeds, overrides, outcomes,
                 timeseries, snapshots, time.perf_counter() - t0, intervention, int(at_month), extra,
                 area=area, **_metadata(ensemble, drawn))


def scenario_source_hash(path: str) -> str | None:
    """SHA-256 of a scenario's file: a user's file by its path, a shipped scenario
    (``simulation/scenarios/NAME.toml``) from the installed package."""
    p = Path(path)
    if p.is_file():
        return file_hash(p)
    if path.startswith("simulation/scenarios/"):
        data = resources.files(scenario_files.__name__).joinpath(p.name).read_bytes()
        return hashlib.sha256(data).hexdigest()
    return None
