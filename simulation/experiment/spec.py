"""Experiment files: a sweep declared in TOML, read and checked once.

An experiment names the scenario to start from, the parameters to vary and how (a design),
replicates, months, one root seed, the outcomes to keep and the figures to draw. Every key is
checked before anything runs: an unknown key, parameter, outcome, bound or design setting is
refused with one :class:`ExperimentError` naming the key, the value and what is allowed, so a
bad file costs nothing and writes nothing. The format is documented key by key in
``docs/experiments.md``.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import metrics, scenarios
from ..params import (
    SCALES, TABLES, Params, PcsimInputError, allowed, check_file, declaration, is_cell, parse_toml,
    read_text, scalar_fields, spec,
)

DESIGNS = ("grid", "lhs", "sobol", "morris")
FIGURE_TYPES = ("heatmap", "lines", "timeseries")
DEFAULT_MODEL = "simulation:PrimaryCareModel"
DEFAULT_SUMMARY = (*metrics.HEADLINE, "leavers_total")

TOP_KEYS = {"name", "description", "scenario", "scale", "area", "months", "replicates", "seed", "model",
            "common_random_numbers", "design", "parameters", "fixed", "outcomes", "figures",
            "run", "tolerance", "ensemble"}
RUN_KEYS = {"stop_when"}
DESIGN_KEYS = {
    "grid": {"type"},
    "lhs": {"type", "samples"},
    "sobol": {"type", "samples", "second_order"},
    "morris": {"type", "trajectories", "levels"},
}
OUTCOME_KEYS = {"summary", "timeseries", "every"}
FIGURE_KEYS = {
    "heatmap": {"type", "name", "title", "x", "y", "facet", "outcomes"},
    "lines": {"type", "name", "title", "x", "by", "outcomes"},
    "timeseries": {"type", "name", "title", "by", "outcomes"},
}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExperimentError(PcsimInputError):
    """An experiment file that cannot be run as written."""


@dataclass(frozen=True)
class Figure:
    """One declared figure: a chart type, the parameters on its axes, the outcomes it shows."""

    type: str
    name: str
    outcomes: tuple[str, ...]
    title: str = ""
    x: str | None = None
    y: str | None = None
    facet: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class Experiment:
    """A checked experiment file.

    ``parameters`` maps each varied parameter to its grid values (grid) or its ``(low, high)``
    range (lhs, sobol, morris); ``fixed`` holds overrides applied to every run on top of the
    scenario. ``base_params`` is the scenario at its scale with ``fixed`` applied: the
    parameters every run starts from. With ``ensemble = true``, replicate ``r`` of every design
    row starts instead from parameter set ``r mod K`` of the calibrated ensemble
    (:mod:`simulation.ensemble`) with the scenario and ``fixed`` on top (:meth:`set_params`).
    """

    name: str
    description: str
    scenario: str
    scale: str
    months: int
    replicates: int
    seed: int
    model: str
    common_random_numbers: bool
    design: str
    design_options: Mapping[str, Any]
    parameters: Mapping[str, tuple]
    fixed: Mapping[str, Any]
    summary_outcomes: tuple[str, ...]
    timeseries_outcomes: tuple[str, ...]
    every: int
    figures: tuple[Figure, ...]
    base_params: Params = field(repr=False, compare=False)
    path: str = ""
    text: str = field(default="", repr=False, compare=False)
    area: str | None = None  # with scale "england": the code of the ICB, sub-ICB or PCN run
    #: derived outcomes, name -> expression (:mod:`.derived`), computed per run after the summary
    derived: Mapping[str, str] = field(default_factory=dict)
    #: ``[run] stop_when``: a run ends after the first month this holds (its month is recorded)
    stop_when: str | None = None
    #: varied parameters marked ``kind = "lever"`` (the rest are uncertainties)
    levers: tuple[str, ...] = ()
    #: sampled (lhs) parameters with a distribution other than uniform: name -> its table
    distributions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: replicate check: the widest acceptable 95% CI half-width, per outcome (``"*"``: any)
    tolerance: Mapping[str, float] = field(default_factory=dict)

    @property
    def outcome_names(self) -> tuple[str, ...]:
        """The columns of the runs table after the parameters: summary outcomes, derived
        outcomes, and ``stop_month`` with a stop condition."""
        return (*self.summary_outcomes, *self.derived, *(("stop_month",) if self.stop_when else ()))

    @property
    def uncertainties(self) -> tuple[str, ...]:
        return tuple(n for n in self.parameters if n not in self.levers)
    ensemble: bool = False

    def set_params(self) -> tuple[Params, ...]:
        """With ``ensemble = true``: the parameters each set of the ensemble starts from (the
        set, then the scenario, then ``fixed``), in set order; else ``()``."""
        if not self.ensemble:
            return ()
        from .. import ensemble

        return tuple(ensemble.arm_params(self.scenario, self.scale, s, self.fixed)
                     for s in ensemble.load())

    @property
    def file_hash(self) -> str:
        """SHA-256 of the file's text, as recorded in the manifest."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def definition(self) -> dict[str, Any]:
        """Everything that decides which runs exist and what each run produces.

        The description and figures are left out: editing them never changes a result, so a
        store made by an earlier version of the file can still be resumed.
        """
        definition = {
            "name": self.name, "scenario": self.scenario_label, "scale": self.scale,
            "months": self.months, "replicates": self.replicates, "seed": self.seed,
            "model": self.model, "common_random_numbers": self.common_random_numbers,
            "design": {"type": self.design, **self.design_options},
            "parameters": {k: list(v) for k, v in self.parameters.items()},
            "fixed": dict(self.fixed), "base_params": self.base_params.to_dict(),
            "outcomes": {"summary": list(self.summary_outcomes),
                         "timeseries": list(self.timeseries_outcomes), "every": self.every},
            **({"area": self.area} if self.area else {}),
            # only with an ensemble, so that the definitions (and stores) of other sweeps keep
            # their hashes; the sets' own parameters, so that a rebuilt ensemble is not resumed
            **({"ensemble": self._ensemble_definition()} if self.ensemble else {}),
        }
        # added only when used, so that stores of files without them keep their hash
        if self.derived:
            definition["outcomes"]["derived"] = dict(self.derived)
        if self.stop_when:
            definition["stop_when"] = self.stop_when
        if self.levers:
            definition["levers"] = list(self.levers)
        if self.distributions:
            definition["distributions"] = {k: dict(v) for k, v in self.distributions.items()}
        return definition

    def _ensemble_definition(self) -> dict[str, Any]:
        sets = [p.to_dict() for p in self.set_params()]
        text = json.dumps(sets, sort_keys=True, default=str)
        return {"size": len(sets), "sha256": hashlib.sha256(text.encode()).hexdigest()}

    @property
    def scenario_label(self) -> str:
        """The scenario's name, or a scenario file's name without the path it was reached by
        (its content is in ``base_params``), so a sweep resumes from any working directory."""
        return Path(self.scenario).name if self.scenario.endswith(".toml") else self.scenario

    @property
    def definition_hash(self) -> str:
        text = json.dumps(self.definition(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(self.parameters)


# --- loading -----------------------------------------------------------------------------------

def load(path: str | Path) -> Experiment:
    """Read and check an experiment file; raise :class:`ExperimentError` on the first problem."""
    path = Path(path)
    try:
        text = read_text(path, "experiment file")
        data = parse_toml(text, f"experiment file {str(path)!r}")
    except PcsimInputError as err:
        raise ExperimentError(str(err)) from None
    return from_dict(data, path=path, text=text)


def from_dict(data: Mapping[str, Any], path: str | Path = "", text: str = "") -> Experiment:
    """Check an experiment given as a mapping (the parsed TOML)."""
    _unknown_keys(data, TOP_KEYS, "experiment")
    name = _required(data, "name", str)
    if not NAME_PATTERN.match(name):
        raise ExperimentError(f"name = {name!r} is not allowed: use letters, digits, '_', '-' or "
                              "'.', starting with a letter or digit (it names the results folder)")
    scenario = _scenario(data.get("scenario", "baseline"), path)
    scale = data.get("scale", "county")
    if scale not in SCALES:
        raise ExperimentError(f"scale = {scale!r} is not allowed: expected one of {', '.join(SCALES)}")
    area = _area(data.get("area"), scale)
    months = _whole(data, "months", 120, low=1)
    replicates = _whole(data, "replicates", 1, low=1)
    seed = _whole(data, "seed", 1, low=0)
    model = data.get("model", DEFAULT_MODEL)
    resolve_model(model)
    crn = data.get("common_random_numbers", False)
    if not isinstance(crn, bool):
        raise ExperimentError(f"common_random_numbers = {crn!r} is not allowed: expected true or false")
    ensemble = data.get("ensemble", False)
    if not isinstance(ensemble, bool):
        raise ExperimentError(f"ensemble = {ensemble!r} is not allowed: expected true or false")
    if ensemble:
        from ..ensemble import SCALES_CALIBRATED
        if scale not in SCALES_CALIBRATED:
            raise ExperimentError(f"ensemble = true is not allowed with scale = {scale!r}: the "
                                  f"ensemble's sets were calibrated at "
                                  f"{', '.join(SCALES_CALIBRATED)} scale")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ExperimentError(f"description = {description!r} is not allowed: expected a string")

    design, options = _design(data.get("design"))
    parameters, levers, distributions = _parameters(data.get("parameters"), design)
    if design == "morris":
        _check_morris_steps(parameters, options["levels"])
    fixed = _fixed(data.get("fixed", {}), parameters)
    base = _base_params(scenario, scale, fixed, area)
    _check_rows(parameters, base)
    summary, series, every, derived = _outcomes(data.get("outcomes", {}), base, months)
    stop_when = _run_table(data.get("run", {}), base)
    figures = _figures(data.get("figures", []), parameters, (*summary, *derived), series, design)
    tolerance = _tolerance(data.get("tolerance", {}), (*summary, *derived))
    return Experiment(
        name=name, description=description, scenario=scenario, scale=scale, months=months,
        replicates=replicates, seed=seed, model=model, common_random_numbers=crn, design=design,
        design_options=options, parameters=parameters, fixed=fixed, summary_outcomes=summary,
        timeseries_outcomes=series, every=every, figures=figures, base_params=base,
        path=str(path), text=text, derived=derived, stop_when=stop_when, levers=levers,
        distributions=distributions, tolerance=tolerance, area=area, ensemble=ensemble)


def _area(value, scale: str) -> str | None:
    """An England area (ICB, sub-ICB or PCN by code or name) as its code; only with scale england."""
    if value is None:
        return None
    if scale != "england":
        raise ExperimentError(f"area = {value!r} is not allowed with scale = {scale!r}: an area is a "
                              "part of England; add scale = \"england\"")
    from ..england import find_area

    try:
        return find_area(value).code
    except PcsimInputError as err:
        raise ExperimentError(str(err)) from None


def resolve_model(path: str):
    """The model class or factory named ``"module:attribute"`` (checked at load, used by runs).

    It is called as ``factory(scenario=..., scale=..., rng=seed, params=params)`` (and
    ``area=...`` when the experiment names one) and must
    return a model with ``run(months)`` and ``timeseries()``, like :class:`PrimaryCareModel`.
    """
    if not isinstance(path, str) or path.count(":") != 1:
        raise ExperimentError(f"model = {path!r} is not allowed: expected 'module:attribute', "
                              f"e.g. {DEFAULT_MODEL!r}")
    module_name, attribute = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ExperimentError(f"model = {path!r}: cannot import module {module_name!r} ({err})") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ExperimentError(f"model = {path!r}: module {module_name!r} has no callable {attribute!r}")
    return factory


# --- the sections --------------------------------------------------------------------------------

def _unknown_keys(table: Mapping[str, Any], allowed_keys, where: str) -> None:
    if not isinstance(table, Mapping):
        raise ExperimentError(f"{where} must be a table of keys, got {table!r}")
    for key in table:
        if key not in allowed_keys:
            close = difflib.get_close_matches(key, sorted(allowed_keys), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ExperimentError(f"{where}: unknown key {key!r}.{hint} Allowed: "
                                  f"{', '.join(sorted(allowed_keys))}")


def _required(data, key, kind):
    if key not in data:
        raise ExperimentError(f"experiment: missing key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise ExperimentError(f"{key} = {value!r} is not allowed: expected a {kind.__name__}")
    return value


def _whole(data, key, default, low, where=""):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ExperimentError(f"{where}{key} = {value!r} is not allowed: expected a whole number >= {low}")
    return value


def _scenario(value, path) -> str:
    if not isinstance(value, str):
        raise ExperimentError(f"scenario = {value!r} is not allowed: expected a scenario name or a path")
    if value.endswith(".toml") or "/" in value:
        candidate = Path(value)
        if not candidate.is_absolute() and path:
            candidate = Path(path).parent / candidate  # relative to the experiment file
        try:
            check_file(candidate, "file")
        except PcsimInputError as err:
            raise ExperimentError(f"scenario = {value!r}: {err}") from None
        return str(candidate)
    if value not in scenarios.names():
        raise ExperimentError(f"scenario = {value!r} is unknown; valid: {', '.join(scenarios.names())} "
                              "(or a path to a .toml file)")
    return value


def _design(table) -> tuple[str, dict[str, Any]]:
    if table is None:
        raise ExperimentError(f"experiment: missing table [design] (type = one of {', '.join(DESIGNS)})")
    if not isinstance(table, Mapping):
        raise ExperimentError(f"design must be a table, got {table!r}")
    kind = table.get("type")
    if kind not in DESIGNS:
        raise ExperimentError(f"design.type = {kind!r} is not allowed: expected one of {', '.join(DESIGNS)}")
    _unknown_keys(table, DESIGN_KEYS[kind], f"design (type {kind!r})")
    options: dict[str, Any] = {}
    if kind == "lhs":
        options["samples"] = _whole(table, "samples", None, low=2, where="design.")
    elif kind == "sobol":
        n = _whole(table, "samples", None, low=2, where="design.")
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise ExperimentError(
                f"design.samples = {n} is not allowed for a Sobol' design: it must be a power of 2 "
                f"(e.g. {lower} or {lower * 2}). Saltelli's scheme takes the first N points of a "
                "Sobol' sequence, whose balance properties hold only for N = 2^m; the design then "
                "has N*(2D+2) rows with second_order = true, N*(D+2) without (D = parameters)")
        second = table.get("second_order", True)
        if not isinstance(second, bool):
            raise ExperimentError(f"design.second_order = {second!r} is not allowed: expected true or false")
        options.update(samples=n, second_order=second)
    elif kind == "morris":
        options["trajectories"] = _whole(table, "trajectories", None, low=2, where="design.")
        levels = _whole(table, "levels", 4, low=2, where="design.")
        if levels % 2:
            raise ExperimentError(
                f"design.levels = {levels} is not allowed for a Morris design: it must be even "
                "(with p levels the step is p/(2(p-1)), which makes every level equally likely "
                "only when p is even)")
        options["levels"] = levels
    return kind, options


DISTRIBUTIONS = {  # dist -> (required keys, optional keys)
    "uniform": ({"low", "high"}, set()),
    "normal": ({"mean", "sd"}, {"low", "high"}),
    "triangular": ({"low", "mode", "high"}, set()),
    "choice": ({"values"}, set()),
}
KINDS = ("uncertainty", "lever")


def _parameters(table, design: str):
    """The varied parameters: ``{name: values or (low, high)}``, the levers, and the
    distributions of sampled parameters that are not uniform."""
    if not table:
        raise ExperimentError("experiment: missing table [parameters] (the parameters to vary)")
    if not isinstance(table, Mapping):
        raise ExperimentError(f"parameters must be a table, got {table!r}")
    out, levers, distributions = {}, [], {}
    for name, value in _flatten(table, "parameters").items():
        _known_parameter(name, "parameters")
        where = f"parameters.{name}"
        if isinstance(value, Mapping):
            kind = value.get("kind", "uncertainty")
            if kind not in KINDS:
                raise ExperimentError(f"{where}.kind = {kind!r} is not allowed: expected "
                                      "\"uncertainty\" (sampled) or \"lever\" (a policy choice)")
            if kind == "lever":
                levers.append(name)
            out[name], dist = _parameter_table(name, value, design, kind, where)
            if dist is not None:
                distributions[name] = dist
            continue
        out[name] = _parameter_plain(name, value, design, where)
    if levers and design not in ("grid", "lhs"):
        raise ExperimentError(f"parameters.{levers[0]}: levers need design.type = \"lhs\" "
                              f"(crossed with the sampled uncertainties) or \"grid\"; this is {design}")
    if levers and len(levers) == len(out) and design == "lhs":
        raise ExperimentError("parameters: every parameter is a lever; an lhs design needs at "
                              "least one sampled uncertainty (or use a grid)")
    return out, tuple(levers), distributions


def _parameter_plain(name, value, design, where) -> tuple:
    s = declaration(name)
    if design == "grid":
        return _value_list(name, value, where, "a grid needs a non-empty list of values")
    if s["kind"] in ("bool", "choice"):
        raise ExperimentError(f"{where}: a {s['kind']} parameter cannot be sampled by a {design} "
                              "design; set it in [fixed], use a grid, or (lhs) give "
                              "{dist = \"choice\", values = [...]}")
    if value == "bounds":
        low, high = s["low"], s["high"]
    elif isinstance(value, list) and len(value) == 2:
        low, high = (_checked(name, v, where) for v in value)
    else:
        raise ExperimentError(f"{where} = {value!r} is not allowed: a {design} design needs a range "
                              f"[low, high] (or \"bounds\" for the declared range {allowed(name)})")
    if not low < high:
        raise ExperimentError(f"{where} = [{low}, {high}] is not allowed: low must be below high")
    return (low, high)


def _value_list(name, value, where, message) -> tuple:
    if not isinstance(value, list) or not value:
        raise ExperimentError(f"{where} = {value!r} is not allowed: {message}")
    values = tuple(_checked(name, v, where) for v in value)
    if len(set(values)) != len(values):
        raise ExperimentError(f"{where} = {value!r}: values must be distinct")
    return values


def _parameter_table(name, table, design, kind, where):
    """A parameter written as a table: ``{values = [...], kind = ...}`` (grid, or an lhs lever)
    or ``{dist = ..., ...}`` (an lhs uncertainty)."""
    keys = set(table) - {"kind"}
    if design == "grid" or kind == "lever":
        _unknown_keys({k: None for k in keys}, {"values"}, where)
        return _value_list(name, table.get("values"), f"{where}.values",
                           "a lever (or a grid parameter) needs a non-empty list of values"), None
    if design != "lhs":
        raise ExperimentError(f"{where}: distributions need design.type = \"lhs\" (this is "
                              f"{design}, whose sampler assumes uniform ranges); write [low, high]")
    dist = table.get("dist", "uniform")
    if dist not in DISTRIBUTIONS:
        close = difflib.get_close_matches(str(dist), DISTRIBUTIONS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ExperimentError(f"{where}.dist = {dist!r} is not allowed.{hint} Expected one of "
                              f"{', '.join(DISTRIBUTIONS)}")
    required, optional = DISTRIBUTIONS[dist]
    _unknown_keys({k: None for k in keys}, required | optional | {"dist"}, f"{where} (dist {dist!r})")
    missing = sorted(required - keys)
    if missing:
        raise ExperimentError(f"{where}: a {dist} distribution needs {', '.join(missing)}")
    s = declaration(name)
    if dist == "choice":
        values = _value_list(name, table["values"], f"{where}.values", "a non-empty list of values")
        return values, {"dist": "choice", "values": list(values)}
    if s["kind"] in ("bool", "choice"):
        raise ExperimentError(f"{where}: a {s['kind']} parameter can only have dist = \"choice\"")
    numbers = {}
    for key in sorted(required | optional):
        if key not in table:
            continue
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ExperimentError(f"{where}.{key} = {v!r} is not allowed: expected a number")
        numbers[key] = v if key in ("sd", "mean", "mode") else _checked(name, v, f"{where}.{key}")
    low = numbers.get("low", s["low"])
    high = numbers.get("high", s["high"])
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        raise ExperimentError(f"{where}: give low and high (the parameter has no finite declared bounds)")
    if not low < high:
        raise ExperimentError(f"{where}: low = {low} must be below high = {high}")
    if dist == "uniform":
        return (low, high), None
    if dist == "normal":
        if numbers["sd"] <= 0:
            raise ExperimentError(f"{where}.sd = {numbers['sd']!r} is not allowed: expected a number > 0")
        if not low <= numbers["mean"] <= high:
            raise ExperimentError(f"{where}.mean = {numbers['mean']!r} is not allowed: expected a "
                                  f"number in [{low}, {high}] (the truncation bounds)")
        return (low, high), {"dist": "normal", "mean": float(numbers["mean"]),
                             "sd": float(numbers["sd"]), "low": low, "high": high}
    if not low <= numbers["mode"] <= high:
        raise ExperimentError(f"{where}.mode = {numbers['mode']!r} is not allowed: expected a "
                              f"number in [low, high] = [{low}, {high}]")
    return (low, high), {"dist": "triangular", "low": low, "mode": float(numbers["mode"]), "high": high}


def _check_morris_steps(parameters, levels) -> None:
    """A whole-number parameter's Morris step must survive rounding (a zero step has no effect)."""
    for name, (low, high) in parameters.items():
        step = (high - low) * levels / (2 * (levels - 1))
        if declaration(name)["kind"] == "int" and step < 1:
            raise ExperimentError(
                f"parameters.{name} = [{low}, {high}]: with levels = {levels} the Morris step is "
                f"{step:.3g}, below 1, so rounding this whole-number parameter could make a step "
                "change nothing; widen the range")


def _fixed(table, parameters) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ExperimentError(f"fixed must be a table, got {table!r}")
    out = {}
    for name, value in _flatten(table, "fixed").items():
        _known_parameter(name, "fixed")
        if name in parameters:
            raise ExperimentError(f"fixed.{name}: this parameter is also varied in [parameters]; "
                                  "set it in one place")
        out[name] = _checked(name, value, f"fixed.{name}")
    return out


def _flatten(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Table cells written as nested TOML tables (``innovations.pdsa.threshold_mean = ...``
    unquoted, or ``[parameters.innovations.pdsa]``) under their dotted names; a quoted dotted
    key is already one."""
    out: dict[str, Any] = {}
    for name, value in table.items():
        if name in TABLES and isinstance(value, Mapping):
            for row, columns in value.items():
                if not isinstance(columns, Mapping):
                    raise ExperimentError(f"{where}.{name}.{row} = {columns!r} is not allowed: "
                                          f"name a cell {name}.ROW.COLUMN")
                for column, cell in columns.items():
                    out[f"{name}.{row}.{column}"] = cell
        else:
            out[name] = value
    return out


def _known_parameter(name: str, where: str) -> None:
    """A scalar parameter, or a table cell whose table and column exist (its row is checked
    against the scenario's tables, see :func:`_check_rows`)."""
    if is_cell(name):
        try:
            declaration(name)
        except PcsimInputError as err:
            raise ExperimentError(f"{where}: {err}") from None
        return
    valid = [f.name for f in scalar_fields()]
    if name not in valid:
        close = difflib.get_close_matches(name, valid, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ExperimentError(f"{where}: unknown parameter {name!r}.{hint} See `pcsim params` "
                              "for the valid names (table cells: innovations.ROW.COLUMN, "
                              "styles.ROW.COLUMN)")


def _check_rows(parameters: Mapping[str, Any], base: Params) -> None:
    """Every varied table cell's row exists in the scenario's tables."""
    for name in parameters:
        if is_cell(name):
            try:
                spec(name, base)
            except PcsimInputError as err:
                raise ExperimentError(f"parameters: {err}") from None


def _checked(name: str, value: Any, where: str) -> Any:
    """One value checked against its declaration (type and bounds); never clamped."""
    from ..params import check_value

    try:
        return check_value(name, value)
    except PcsimInputError:
        raise ExperimentError(f"{where} = {value!r} is not allowed: expected {allowed(name)}") from None


def _base_params(scenario: str, scale: str, fixed: Mapping[str, Any], area=None) -> Params:
    from ..model import build_params

    try:
        return build_params(scenario, scale, None, area=area, **fixed)
    except PcsimInputError as err:
        raise ExperimentError(f"scenario {scenario!r} with [fixed]: {err}") from None


def summary_names(params: Params) -> list[str]:
    """Every outcome a run can report: the last month's reporters and the run totals of the
    flows (the registry, :func:`simulation.metrics.outcomes`, less the month)."""
    return [o.name for o in metrics.outcomes(params) if o.name != "month"]


def series_names(params: Params) -> list[str]:
    """Every outcome a run reports month by month: the reporters, less the month."""
    return [o.name for o in metrics.outcomes(params) if o.monthly and o.name != "month"]


def _outcomes(table, base: Params, months: int):
    if not isinstance(table, Mapping):
        raise ExperimentError(f"outcomes must be a table, got {table!r}")
    from .derived import ExpressionError, check_outcomes

    extra = {k: v for k, v in table.items() if k not in OUTCOME_KEYS}
    for key, value in extra.items():
        if not isinstance(value, str):  # a derived outcome is a string; anything else a typo
            _unknown_keys({key: value}, OUTCOME_KEYS, "outcomes")
    valid = summary_names(base)
    summary = tuple(table.get("summary", DEFAULT_SUMMARY))
    _outcome_list(summary, valid, "outcomes.summary")
    series_valid = series_names(base)
    series = tuple(table.get("timeseries", ()))
    _outcome_list(series, series_valid, "outcomes.timeseries", allow_empty=True)
    every = _whole(table, "every", 12, low=1, where="outcomes.")
    if series and every > months:
        raise ExperimentError(f"outcomes.every = {every} is not allowed: it must be at most "
                              f"months = {months}")
    if "stop_month" in extra:
        raise ExperimentError("outcomes.stop_month: the name is taken by the month a stop "
                              "condition ended a run; choose another")
    try:
        check_outcomes(extra, valid, series_valid)
    except ExpressionError as err:
        raise ExperimentError(str(err)) from None
    return summary, series, every, {k: v.strip() for k, v in extra.items()}


def _run_table(table, base: Params) -> str | None:
    from .derived import ExpressionError, stop_condition

    _unknown_keys(table, RUN_KEYS, "run")
    if "stop_when" not in table:
        return None
    try:
        return stop_condition(table["stop_when"], series_names(base), where="run.stop_when").text
    except ExpressionError as err:
        raise ExperimentError(str(err)) from None


def _tolerance(value, outcomes) -> dict[str, float]:
    """``tolerance = 0.02`` (every outcome) or ``[tolerance] name = 0.02, ...``."""
    def number(v, where):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v):
            raise ExperimentError(f"{where} = {v!r} is not allowed: expected a number > 0 (the "
                                  "widest acceptable 95% CI half-width of an outcome's mean, in "
                                  "its units)")
        return float(v)
    if not isinstance(value, Mapping):
        return {"*": number(value, "tolerance")}
    out = {}
    for name, v in value.items():
        if name not in outcomes:
            raise ExperimentError(metrics.unknown_outcome_message(name, outcomes, "tolerance"))
        out[name] = number(v, f"tolerance.{name}")
    return out


def _outcome_list(names, valid, where, allow_empty=False):
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ExperimentError(f"{where} = {list(names)!r} is not allowed: expected a list of outcome names")
    if not names and not allow_empty:
        raise ExperimentError(f"{where} is empty: name at least one outcome")
    for n in names:
        if n not in valid:
            raise ExperimentError(metrics.unknown_outcome_message(n, valid, where))
    if len(set(names)) != len(names):
        raise ExperimentError(f"{where}: outcomes must be distinct")


def _figures(entries, parameters, summary, series, design) -> tuple[Figure, ...]:
    if not isinstance(entries, list):
        raise ExperimentError("figures must be an array of tables ([[figures]] entries)")
    out, names = [], set()
    for i, entry in enumerate(entries, 1):
        where = f"figures[{i}]"
        if not isinstance(entry, Mapping):
            raise ExperimentError(f"{where} must be a table")
        kind = entry.get("type")
        if kind not in FIGURE_TYPES:
            raise ExperimentError(f"{where}.type = {kind!r} is not allowed: expected one of "
                                  f"{', '.join(FIGURE_TYPES)}")
        _unknown_keys(entry, FIGURE_KEYS[kind], where)
        name = entry.get("name", f"{kind}_{i}")
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or name in names:
            raise ExperimentError(f"{where}.name = {name!r} is not allowed: a distinct file name "
                                  "(letters, digits, '_', '-', '.')")
        names.add(name)
        valid = series if kind == "timeseries" else summary
        source = "outcomes.timeseries" if kind == "timeseries" else "outcomes.summary"
        outcomes = entry.get("outcomes")
        if not isinstance(outcomes, list) or not outcomes:
            raise ExperimentError(f"{where}.outcomes: expected a non-empty list of names from {source}")
        for o in outcomes:
            if o not in valid:
                raise ExperimentError(f"{where}.outcomes: {o!r} is not in {source} "
                                      f"({', '.join(valid) or 'empty'})")
        axes = {k: entry.get(k) for k in ("x", "y", "facet", "by") if entry.get(k) is not None}
        for key, param in axes.items():
            if param not in parameters:
                raise ExperimentError(f"{where}.{key} = {param!r} is not allowed: expected a varied "
                                      f"parameter ({', '.join(parameters)})")
            if design != "grid" and key != "x":
                raise ExperimentError(f"{where}.{key}: grouping by a parameter needs a grid design "
                                      f"(this experiment is {design})")
        if kind == "heatmap" and ("x" not in axes or "y" not in axes):
            raise ExperimentError(f"{where}: a heatmap needs x and y (two varied parameters)")
        if kind == "heatmap" and design != "grid":
            raise ExperimentError(f"{where}: a heatmap needs a grid design (this experiment is {design})")
        if kind == "lines" and "x" not in axes:
            raise ExperimentError(f"{where}: a lines figure needs x (a varied parameter)")
        if len(set(axes.values())) != len(axes):
            raise ExperimentError(f"{where}: x, y, facet and by must be different parameters")
        title = entry.get("title", "")
        out.append(Figure(type=kind, name=name, outcomes=tuple(outcomes), title=str(title), **axes))
    return tuple(out)


def format_value(value: Any) -> str:
    """A parameter value as ``pcsim run --set`` reads it back exactly (floats by repr)."""
    if isinstance(value, np.generic):  # numpy scalars from tables: their repr names the type
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return str(value)
