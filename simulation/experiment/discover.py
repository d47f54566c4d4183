"""Scenario discovery: which region of a sweep's inputs produces an outcome of interest.

``pcsim discover STORE --outcome NAME --where "< 0.1"`` marks every finished run whose outcome
satisfies the condition as a case of interest and runs PRIM (Friedman and Fisher 1999; the EMA
workbench's :class:`ema_workbench.analysis.prim.Prim`, not a re-implementation) over the varied
parameters of the runs table. PRIM peels the box of all inputs, a small share (``peel_alpha``)
at a time, towards the cases of interest, then pastes back: the peeling trajectory is a series
of ever smaller boxes trading coverage (the share of all cases of interest inside the box) for
density (the share of runs inside the box that are cases of interest). The box reported is
the one of largest coverage whose density reaches ``--threshold`` (default 0.8), or the densest
one when none does, unless ``--box N`` picks another.

Every run is one point (replicates included, so the model's noise is part of the picture; a
box of density 0.8 holds runs of which 80% are of interest). Written to
``STORE/discover-<outcome>/``: ``box.csv`` (limits of the chosen box per restricted input, with
the quasi-p values of each limit), ``boxes.csv`` (the limits of every box on the trajectory),
``peeling_trajectory.csv``, ``peeling_trajectory.png`` (coverage vs density, the chosen box
ringed), ``box.png`` (the chosen box's limits within each input's range) and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import operator
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .spec import ExperimentError

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
             "==": operator.eq, "!=": operator.ne}
WHERE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")
IDENT = ("run_key", "design_row", "replicate", "seed")
THRESHOLD = 0.8
PEEL_ALPHA = 0.05
MASS_MIN = 0.05


@dataclass
class Discovery:
    """What PRIM found: the cases of interest, the trajectory, the chosen box and its limits."""

    outcome: str
    where: str
    inputs: list[str]
    cases: int
    runs: int
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame  # input, low, high, qp_low, qp_high (restricted inputs of the chosen box)
    boxes: pd.DataFrame  # box, input, low, high (every box on the trajectory, restricted inputs)
    prim_box: object = field(repr=False)

    @property
    def stats(self) -> dict:
        row = self.trajectory.iloc[self.chosen]
        return {k: float(row[k]) for k in ("coverage", "density", "mass")} | {
            "restricted_inputs": int(row["res_dim"]), "runs_in_box": int(row["n"]),
            "cases_in_box": int(row["k"])}


def condition(text: str):
    """``"< 0.1"`` -> a function of an array giving booleans (NaN never matches)."""
    match = WHERE.match(text or "")
    if not match:
        raise ExperimentError(f"--where {text!r} is not allowed: expected a comparison and a "
                              "number, e.g. \"< 0.1\" or \">= 0.5\" (operators: "
                              f"{' '.join(OPERATORS)})")
    op, value = OPERATORS[match.group(1)], float(match.group(2))
    return lambda y: op(np.asarray(y, dtype=float), value)


def prim_class():
    """The EMA workbench's PRIM (its import warns about optional parallel back-ends)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def discover(runs: pd.DataFrame, outcome: str, where: str, inputs: list[str],
             threshold: float = THRESHOLD, box: int | None = None, peel_alpha: float = PEEL_ALPHA,
             mass_min: float = MASS_MIN) -> Discovery:
    """PRIM over ``inputs`` of ``runs`` with the cases ``outcome where``."""
    if outcome not in runs.columns or outcome in IDENT or outcome in inputs:
        import difflib

        valid = [c for c in runs.columns if c not in IDENT and c not in inputs]
        close = difflib.get_close_matches(outcome, valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ExperimentError(f"--outcome {outcome!r} is not an outcome of this store.{hint} "
                              f"Valid: {', '.join(valid)}")
    if not 0 < threshold <= 1:
        raise ExperimentError(f"--threshold {threshold!r} is not allowed: expected a density in (0, 1]")
    y = condition(where)(runs[outcome].to_numpy())
    values = runs[outcome]
    if y.all() or not y.any():
        raise ExperimentError(
            f"{'every' if y.all() else 'no'} run has {outcome} {where.strip()} ({len(runs)} runs, "
            f"{outcome} from {values.min():.4g} to {values.max():.4g}): PRIM needs both cases of "
            "interest and others; change --where")
    x = runs[inputs].reset_index(drop=True)
    for name in inputs:  # booleans as categories (PRIM peels numbers and categories)
        if x[name].dtype == bool:
            x[name] = x[name].astype(str)
    prim = prim_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        found = finder.find_box()
    trajectory = found.peeling_trajectory.reset_index(drop=True)
    trajectory = trajectory[["id", "coverage", "density", "mass", "res_dim", "mean", "n", "k"]]
    if box is None:
        dense = trajectory[trajectory["density"] >= threshold]
        chosen = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    elif not 0 <= box < len(trajectory):
        raise ExperimentError(f"--box {box} is not allowed: the trajectory has boxes 0 to "
                              f"{len(trajectory) - 1}")
    else:
        chosen = box
    found.select(chosen)
    records = []
    for i, lims in enumerate(found.box_lims):
        for name in inputs:
            if name not in lims.columns:
                continue
            low, high = lims[name].iloc[0], lims[name].iloc[1]
            init_low, init_high = found.box_lims[0][name].iloc[0], found.box_lims[0][name].iloc[1]
            if _same(low, init_low) and _same(high, init_high):
                continue
            records.append({"box": i, "input": name, "low": _plain(low), "high": _plain(high)})
    boxes = pd.DataFrame.from_records(records, columns=["box", "input", "low", "high"])
    limits = _limits(found, chosen, boxes)
    return Discovery(outcome, where.strip(), list(inputs), int(y.sum()), len(y), trajectory,
                     chosen, limits, boxes, found)


def _same(a, b) -> bool:
    if isinstance(a, (set, frozenset)) or isinstance(b, (set, frozenset)):
        return set(a) == set(b)
    return a == b


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return value.item() if isinstance(value, np.generic) else value


def _limits(found, chosen: int, boxes: pd.DataFrame) -> pd.DataFrame:
    """The chosen box's limits with the quasi-p values of each (NaN: the limit is not restricted)."""
    mine = boxes[boxes["box"] == chosen].drop(columns="box").reset_index(drop=True)
    p = found.p_values[chosen] if chosen < len(found.p_values) else {}
    qp = [p.get(name, [math.nan, math.nan]) for name in mine["input"]]
    mine["qp_low"] = [np.nan if q[0] == -1 else q[0] for q in qp]
    mine["qp_high"] = [np.nan if q[1] == -1 else q[1] for q in qp]
    return mine


def inputs_of(runs: pd.DataFrame, design: pd.DataFrame, requested: list[str] | None) -> list[str]:
    """The varied parameters (the design's columns), or the requested subset."""
    varied = [c for c in design.columns if c not in IDENT]
    if not requested:
        return varied
    for name in requested:
        if name not in varied:
            raise ExperimentError(f"--inputs: {name!r} is not a varied parameter of this store "
                                  f"({', '.join(varied)})")
    return list(requested)


def trajectory_figure(result: Discovery, path: Path, title: str) -> Path:
    """EMA's coverage-density trade-off plot, with the chosen box ringed and labelled."""
    from . import figures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = result.prim_box.show_tradeoff()
    ax = fig.axes[0]
    row = result.trajectory.iloc[result.chosen]
    ax.scatter([row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors="red",
               linewidths=1.5, zorder=5)
    ax.annotate(f"box {result.chosen}", (row["coverage"], row["density"]), xytext=(6, -12),
                textcoords="offset points", color="red", fontsize=8)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=9)
    fig.set_size_inches(6.4, 4.8)
    return figures.save_figure(fig, path)


def box_figure(result: Discovery, path: Path) -> Path | None:
    """EMA's box limits plot of the chosen box (None when it restricts nothing)."""
    from . import figures

    if result.limits.empty:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig, ax = figures.plt.subplots(figsize=(8, 1.2 + 0.5 * len(result.limits)))
        result.prim_box.inspect(result.chosen, style="graph", ax=ax)
    fig.tight_layout()
    return figures.save_figure(fig, path)


def write(result: Discovery, folder: Path, name: str) -> list[Path]:
    from . import figures

    folder.mkdir(exist_ok=True)
    paths = [figures.save_csv(result.limits, folder / "box.csv"),
             figures.save_csv(result.boxes, folder / "boxes.csv"),
             figures.save_csv(result.trajectory, folder / "peeling_trajectory.csv")]
    title = (f"{name}: PRIM peeling trajectory\nruns with {result.outcome} {result.where} "
             f"({result.cases}/{result.runs} runs)")
    paths.append(trajectory_figure(result, folder / "peeling_trajectory.png", title))
    drawn = box_figure(result, folder / "box.png")
    if drawn is not None:
        paths.append(drawn)
    summary = {"outcome": result.outcome, "where": result.where, "inputs": result.inputs,
               "runs": result.runs, "cases_of_interest": result.cases, "chosen_box": result.chosen,
               **result.stats, "limits": result.limits.to_dict("records"),
               "method": "PRIM (ema_workbench.analysis.prim.Prim), one point per run",
               "peel_alpha": PEEL_ALPHA, "mass_min": MASS_MIN}
    tmp = folder / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=_json) + "\n")
    tmp.replace(folder / "summary.json")
    paths.append(folder / "summary.json")
    return paths


def _json(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def summary_lines(result: Discovery) -> list[str]:
    s = result.stats
    lines = [f"{result.cases} of {result.runs} runs have {result.outcome} {result.where}; "
             f"PRIM over {', '.join(result.inputs)}: {len(result.trajectory)} boxes on the "
             f"peeling trajectory",
             f"box {result.chosen}: coverage {s['coverage']:.2f}, density {s['density']:.2f}, "
             f"mass {s['mass']:.2f} ({s['cases_in_box']} of {s['runs_in_box']} runs in the box "
             "are cases of interest)"]
    if result.limits.empty:
        lines.append("  the box restricts no input")
    for rec in result.limits.to_dict("records"):
        lines.append(f"  {rec['input']:<24} {_fmt(rec['low'])} to {_fmt(rec['high'])}")
    return lines


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
