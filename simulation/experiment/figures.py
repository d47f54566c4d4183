"""Figures of a sweep, each written beside a CSV of the numbers it shows.

* ``main_effects.png`` (always): each summary outcome against each varied parameter. Grid
  designs show the mean and its 95% interval at each value (averaged over replicates and the
  other parameters); sampled designs show one dot per design row and the mean in ten bins.
  Shares and counts are drawn from zero; any other axis that leaves out zero is marked broken.
  One block of panels per outcome, as many blocks to a row as keep it at most 1,400 px tall.
* declared figures (``[[figures]]`` in the experiment file):
  ``heatmap`` (mean outcome over two grid parameters, a panel per ``facet`` value),
  ``lines`` (mean and 95% interval against ``x``, a line per ``by`` value) and
  ``timeseries`` (mean trajectory of time-series outcomes, a line per ``by`` value).
* ``sensitivity/<method>_<outcome>.png`` (from ``pcsim sensitivity``): index bar charts.

Intervals are mean +/- 1.96 standard errors over runs (normal approximation; with 10
replicates per cell it is a guide, not a test).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import metrics
from ..params import PcsimInputError
from .spec import Experiment, Figure

Z95 = 1.96
DPI = 100


def label(name: str) -> str:
    return name.replace("_", " ")


def outcome_label(name: str) -> str:
    """An outcome's short name from the registry (:mod:`simulation.metrics`), or its name in
    words when the registry does not know it."""
    try:
        return metrics.outcome(name).short
    except PcsimInputError:
        return label(name)


def save_figure(fig, path: Path) -> Path:
    """Write a figure atomically (temporary name, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=DPI, format=path.suffix[1:])
    plt.close(fig)
    os.replace(tmp, path)
    return path


def save_csv(table: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return ""
    magnitude = abs(value)
    return f"{value:.0f}" if magnitude >= 100 else f"{value:.1f}" if magnitude >= 10 else f"{value:.2f}"


def summarise(runs: pd.DataFrame, keys: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Mean, standard deviation, count and 95% half-width of each outcome per group of keys."""
    grouped = runs.groupby(keys, sort=True, dropna=False)[outcomes]
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    out = mean.add_suffix("_mean").join(sd.add_suffix("_sd")).join(n.add_suffix("_n"))
    for o in outcomes:
        out[f"{o}_ci95"] = Z95 * out[f"{o}_sd"] / np.sqrt(out[f"{o}_n"])
    return out.reset_index()


def _others(experiment: Experiment, used) -> str:
    rest = [p for p in experiment.parameters if p not in used]
    return f" and over {', '.join(label(p) for p in rest)}" if rest else ""


def heatmap(experiment: Experiment, figure: Figure, runs: pd.DataFrame, folder: Path) -> list[Path]:
    keys = [k for k in (figure.facet, figure.y, figure.x) if k]
    table = summarise(runs, keys, list(figure.outcomes))
    facets = sorted(table[figure.facet].unique()) if figure.facet else [None]
    xs = list(experiment.parameters[figure.x])
    ys = list(experiment.parameters[figure.y])
    n_out, n_fac = len(figure.outcomes), len(facets)
    fig, axes = plt.subplots(n_out, n_fac, figsize=(1.2 + 4.3 * n_fac, 0.8 + 3.4 * n_out),
                             squeeze=False, constrained_layout=True)
    for i, outcome in enumerate(figure.outcomes):
        values = table[f"{outcome}_mean"]
        vmin, vmax = float(values.min()), float(values.max())
        if vmin == vmax:
            vmin, vmax = vmin - 0.5, vmax + 0.5
        for j, facet in enumerate(facets):
            ax = axes[i, j]
            sub = table if facet is None else table[table[figure.facet] == facet]
            grid = sub.pivot(index=figure.y, columns=figure.x, values=f"{outcome}_mean")
            grid = grid.reindex(index=ys, columns=xs)
            image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto",
                              cmap="viridis", vmin=vmin, vmax=vmax)
            for (r, c), v in np.ndenumerate(grid.to_numpy(dtype=float)):
                shade = (v - vmin) / (vmax - vmin) if np.isfinite(v) else 0
                ax.text(c, r, _fmt(v), ha="center", va="center", fontsize=7,
                        color="black" if shade > 0.6 else "white")
            ax.set_xticks(range(len(xs)), [_fmt(x) if isinstance(x, float) else str(x) for x in xs])
            ax.set_yticks(range(len(ys)), [_fmt(y) if isinstance(y, float) else str(y) for y in ys])
            ax.set_xlabel(label(figure.x))
            ax.set_ylabel(label(figure.y))
            title = outcome_label(outcome)
            if facet is not None:
                title += f"\n{label(figure.facet)} = {facet}"
            ax.set_title(title, fontsize=10)
        fig.colorbar(image, ax=list(axes[i, :]), shrink=0.85)
    fig.suptitle((figure.title or experiment.name) + "\n" +
                 f"mean over {experiment.replicates} replicates{_others(experiment, keys)}", fontsize=11)
    return [save_figure(fig, folder / f"{figure.name}.png"), save_csv(table, folder / f"{figure.name}.csv")]


def _panels(n: int):
    """A figure with one panel per outcome, three to a row."""
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    return plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False,
                        constrained_layout=True)


def lines(experiment: Experiment, figure: Figure, runs: pd.DataFrame, folder: Path) -> list[Path]:
    keys = [k for k in (figure.by, figure.x) if k]
    table = summarise(runs, keys, list(figure.outcomes))
    groups = sorted(table[figure.by].unique()) if figure.by else [None]
    n = len(figure.outcomes)
    fig, axes = _panels(n)
    for ax, outcome in zip(axes.flat, figure.outcomes):
        for g in groups:
            sub = table if g is None else table[table[figure.by] == g]
            sub = sub.sort_values(figure.x)
            mean, half = sub[f"{outcome}_mean"], sub[f"{outcome}_ci95"].fillna(0)
            line, = ax.plot(sub[figure.x], mean, marker="o", ms=3,
                            label=None if g is None else f"{label(figure.by)} = {g}")
            ax.fill_between(sub[figure.x], mean - half, mean + half, alpha=0.2, color=line.get_color())
        ax.set(xlabel=label(figure.x), ylabel=outcome_label(outcome), title=outcome_label(outcome))
        ax.grid(alpha=0.3)
        if figure.by:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle((figure.title or experiment.name) + "\n" + f"mean and 95% interval over "
                 f"{experiment.replicates} replicates{_others(experiment, keys)}", fontsize=11)
    return [save_figure(fig, folder / f"{figure.name}.png"), save_csv(table, folder / f"{figure.name}.csv")]


def timeseries(experiment: Experiment, figure: Figure, series: pd.DataFrame, runs: pd.DataFrame,
               folder: Path) -> list[Path]:
    keys = [figure.by, "month"] if figure.by else ["month"]  # the series carries the parameters
    table = summarise(series, keys, list(figure.outcomes))
    groups = sorted(table[figure.by].unique()) if figure.by else [None]
    n = len(figure.outcomes)
    fig, axes = _panels(n)
    for ax, outcome in zip(axes.flat, figure.outcomes):
        for g in groups:
            sub = table if g is None else table[table[figure.by] == g]
            years = sub["month"] / 12.0
            mean, half = sub[f"{outcome}_mean"], sub[f"{outcome}_ci95"].fillna(0)
            line, = ax.plot(years, mean, label=None if g is None else f"{label(figure.by)} = {g}")
            ax.fill_between(years, mean - half, mean + half, alpha=0.2, color=line.get_color())
        ax.set(xlabel="years", ylabel=outcome_label(outcome), title=outcome_label(outcome))
        ax.grid(alpha=0.3)
        if figure.by:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle((figure.title or experiment.name) + "\n" + "mean and 95% interval over runs "
                 f"(every {experiment.every} months){_others(experiment, keys)}", fontsize=11)
    return [save_figure(fig, folder / f"{figure.name}.png"), save_csv(table, folder / f"{figure.name}.csv")]


#: Main effects: panel size in inches (at :data:`DPI`), its smallest height, the height of the
#: title and margins, and the figure's largest height in pixels.
EFFECT_PANEL_W, EFFECT_PANEL_H, EFFECT_PANEL_MIN_H, EFFECT_HEAD = 3.0, 2.2, 1.6, 0.8
MAX_HEIGHT_PX = 1400
#: Outcome kinds whose axes start at zero (see :data:`simulation.metrics.KINDS`).
FROM_ZERO = ("share", "count")


def effects_layout(n_outcomes: int, n_params: int) -> tuple[int, int, float]:
    """Outcome rows, outcome blocks per row and panel height of the main-effects grid.

    Each outcome is a block of one panel per parameter. The blocks stack one per row while
    they fit under :data:`MAX_HEIGHT_PX` with panels at least :data:`EFFECT_PANEL_MIN_H`
    tall; beyond that the fewest blocks per row that fit go side by side.
    """
    room = MAX_HEIGHT_PX / DPI - EFFECT_HEAD
    max_rows = max(1, int(room // EFFECT_PANEL_MIN_H))
    per_row = int(np.ceil(n_outcomes / max_rows))
    rows = int(np.ceil(n_outcomes / per_row))
    return rows, per_row, min(EFFECT_PANEL_H, room / rows)


def _kind(outcome: str) -> str | None:
    try:
        return metrics.outcome(outcome).kind
    except PcsimInputError:
        return None


def _y_from_zero_or_break(ax, outcome: str, values) -> None:
    """Start a share's or count's axis at zero; mark any other axis that leaves out zero as
    broken (two strokes across the spine at the end nearest zero), so a small effect far from
    zero is not read as a large one. ``values``: the plotted values (means, or one per design
    row); an interval reaching below zero is cut at zero, where no share or count can be."""
    low, high = ax.get_ylim()
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if _kind(outcome) in FROM_ZERO and (values.size == 0 or values.min() >= 0):
        ax.set_ylim(0, high if high > 0 else 1)
        return
    if low <= 0 <= high:
        return
    y = 0.0 if low > 0 else 1.0
    for dy in (-0.012, 0.012):
        ax.plot([-0.03, 0.03], [y + dy - 0.012, y + dy + 0.012], transform=ax.transAxes,
                color="black", lw=0.9, clip_on=False, gid="axis-break")


def main_effects_figure(experiment: Experiment, runs: pd.DataFrame):
    """The main-effects figure and the table of the numbers it shows (see :func:`main_effects`).

    The panels of one outcome share its y range. Each axis is labelled ``OUTCOME by PARAMETER`` (``Axes.get_label()``)."""
    params = list(experiment.parameters)
    # an outcome with no value in any run (a time_to never reached, no stop) has nothing to draw
    outcomes = [o for o in experiment.outcome_names if o in runs and runs[o].notna().any()]
    n_params = len(params)
    rows, per_row, panel_h = effects_layout(len(outcomes), n_params)
    fig, axes = plt.subplots(rows, per_row * n_params,
                             figsize=(0.6 + EFFECT_PANEL_W * per_row * n_params,
                                      EFFECT_HEAD + panel_h * rows),
                             squeeze=False, constrained_layout=True)
    tables = []
    shown = {o: [] for o in outcomes}
    grid = experiment.design == "grid"
    per_design_row = runs.groupby("design_row")[[*params, *outcomes]].agg(
        {**{p: "first" for p in params}, **{o: "mean" for o in outcomes}})
    for j, param in enumerate(params):
        categorical = not pd.api.types.is_numeric_dtype(runs[param]) or pd.api.types.is_bool_dtype(runs[param])
        if grid:
            table = summarise(runs, [param], outcomes)
            positions = np.arange(len(table)) if categorical else table[param]
        else:
            bins = pd.qcut(per_design_row[param], q=min(10, per_design_row[param].nunique()), duplicates="drop")
            table = per_design_row.groupby(bins, observed=True)[outcomes].mean().add_suffix("_mean")
            table.insert(0, param, per_design_row.groupby(bins, observed=True)[param].mean())
            table = table.reset_index(drop=True)
            positions = table[param]
        tables.append(table.rename(columns={param: "value"}).assign(parameter=param))
        for i, outcome in enumerate(outcomes):
            ax = axes[i // per_row, (i % per_row) * n_params + j]
            ax.set_label(f"{outcome} by {param}")
            if grid:
                half = table[f"{outcome}_ci95"].fillna(0)
                ax.errorbar(positions, table[f"{outcome}_mean"], yerr=half, marker="o", ms=3, capsize=2)
                if categorical:
                    ax.set_xticks(positions, table[param].astype(str))
            else:
                ax.scatter(per_design_row[param], per_design_row[outcome], s=4, alpha=0.3, color="tab:gray")
                ax.plot(positions, table[f"{outcome}_mean"], color="tab:blue", marker="o", ms=3)
            shown[outcome].append((ax, per_design_row[outcome] if not grid else table[f"{outcome}_mean"]))
            ax.grid(alpha=0.3)
            ax.set_xlabel(label(param), fontsize=8, labelpad=1)
            if j == 0:
                ax.set_ylabel(outcome_label(outcome), fontsize=8)
            ax.tick_params(labelsize=7)
    for outcome, panels in shown.items():  # one y range per outcome, across its parameters
        low = min(ax.get_ylim()[0] for ax, _ in panels)
        high = max(ax.get_ylim()[1] for ax, _ in panels)
        values = np.concatenate([np.asarray(v, dtype=float) for _, v in panels])
        for ax, _ in panels:
            ax.set_ylim(low, high)
            _y_from_zero_or_break(ax, outcome, values)
    for ax in list(axes.flat):
        if not ax.get_label():
            ax.set_visible(False)
    how = ("mean and 95% interval over runs at each value" if grid
           else "one dot per design row (mean over replicates); line: mean in ten bins")
    fig.suptitle(f"{experiment.name}: main effects ({how}); shares and counts from 0, "
                 "other axes not reaching 0 marked as broken", fontsize=10)
    table = pd.concat(tables, ignore_index=True)
    table = table[["parameter", *[c for c in table.columns if c != "parameter"]]]
    return fig, table


def main_effects(experiment: Experiment, runs: pd.DataFrame, folder: Path) -> list[Path]:
    """``main_effects.png``: each summary outcome against each varied parameter, one block of
    panels per outcome in a grid at most :data:`MAX_HEIGHT_PX` tall; and its CSV."""
    fig, table = main_effects_figure(experiment, runs)
    return [save_figure(fig, folder / "main_effects.png"), save_csv(table, folder / "main_effects.csv")]


def draw_all(experiment: Experiment, store) -> list[Path]:
    """Every figure of the experiment, from the store's finished runs, into ``figures/``."""
    runs = store.runs()
    if runs.empty:
        return []
    folder = store.path / "figures"
    folder.mkdir(exist_ok=True)
    paths = main_effects(experiment, runs, folder)
    series = store.timeseries() if any(f.type == "timeseries" for f in experiment.figures) else None
    for figure in experiment.figures:
        if figure.type == "heatmap":
            paths += heatmap(experiment, figure, runs, folder)
        elif figure.type == "lines":
            paths += lines(experiment, figure, runs, folder)
        else:
            paths += timeseries(experiment, figure, series, runs, folder)
    return paths


def sensitivity_bars(method: str, table: pd.DataFrame, outcome: str, title: str, path: Path) -> Path:
    """Bar chart of one outcome's indices: S1 and ST (Sobol') or mu* and sigma (Morris)."""
    sub = table[table["outcome"] == outcome]
    names = [label(p) for p in sub["parameter"]]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.42 * len(names)), constrained_layout=True)
    if method == "sobol":
        ax.barh(y - 0.2, sub["S1"], height=0.4, xerr=sub["S1_conf"], label="first order S1", capsize=2)
        ax.barh(y + 0.2, sub["ST"], height=0.4, xerr=sub["ST_conf"], label="total ST", capsize=2)
        ax.set_xlabel(f"Sobol' index (bars: {int(100 * 0.95)}% bootstrap interval)")
        ax.axvline(0, color="black", lw=0.8)
    else:
        ax.barh(y - 0.2, sub["mu_star"], height=0.4, xerr=sub["mu_star_conf"], label="mu* (mean |effect|)",
                capsize=2)
        ax.barh(y + 0.2, sub["sigma"], height=0.4, label="sigma (interaction / non-linearity)")
        ax.set_xlabel("elementary effect (outcome per unit of the range)")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if sub.drop(columns=["outcome", "parameter"]).isna().all().all():
        ax.text(0.5, 0.5, "outcome constant across the design: no indices", transform=ax.transAxes,
                ha="center")
    ax.set_title(f"{title}: {outcome_label(outcome)}", fontsize=10)
    return save_figure(fig, path)
