"""Replicate sufficiency: how the confidence interval of each outcome's mean narrows with
replicates, and whether the experiment's replicates are enough.

For every design row and outcome, the 95% CI half-width of the mean of the first ``r``
replicates is ``t(0.975, r-1) * s_r / sqrt(r)`` (Student's t; ``s_r`` their standard deviation),
for ``r`` = 2 .. R. The table gives, per outcome and ``r``, the median and the largest half-width
over design rows; the largest at ``R`` is compared with the experiment's ``tolerance`` (the
widest acceptable half-width, in the outcome's units). Runs that never finished, and NaN values
(e.g. ``time_to`` of a run that never got there), are left out, so a row may have fewer
replicates than ``R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .spec import Experiment

FOLDER = "replicates"
CONFIDENCE = 0.95


def half_widths(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Columns: outcome, replicates (r), median_half_width, max_half_width, design_rows (rows
    with at least r values)."""
    from scipy import stats

    runs = runs.sort_values(["design_row", "replicate"])
    records = []
    for outcome in experiment.outcome_names:
        values = runs[["design_row", outcome]].dropna()
        if values.empty:
            continue
        # the r-th value of each row (0-based), so that "first r" follows the replicate order
        position = values.groupby("design_row").cumcount()
        for r in range(2, experiment.replicates + 1):
            first = values[position < r]
            grouped = first.groupby("design_row")[outcome]
            count = grouped.count()
            sd = grouped.std(ddof=1)[count == r]
            if sd.empty:
                continue
            half = stats.t.ppf(0.5 + CONFIDENCE / 2, r - 1) * sd / np.sqrt(r)
            records.append({"outcome": outcome, "replicates": r,
                            "median_half_width": float(half.median()),
                            "max_half_width": float(half.max()), "design_rows": int(len(sd))})
    return pd.DataFrame.from_records(
        records, columns=["outcome", "replicates", "median_half_width", "max_half_width", "design_rows"])


def tolerance_of(experiment: Experiment, outcome: str) -> float | None:
    return experiment.tolerance.get(outcome, experiment.tolerance.get("*"))


def warnings(experiment: Experiment, table: pd.DataFrame) -> list[str]:
    """One line per outcome whose widest half-width at the most replicates exceeds its tolerance."""
    lines = []
    for outcome, sub in table.groupby("outcome", sort=False):
        tol = tolerance_of(experiment, outcome)
        last = sub.iloc[-1]
        if tol is not None and last["max_half_width"] > tol:
            lines.append(f"warning: {outcome}: with {int(last['replicates'])} replicates the 95% CI "
                         f"half-width of a design row's mean is up to {last['max_half_width']:.4g} "
                         f"(median {last['median_half_width']:.4g}), wider than the tolerance "
                         f"{tol:g}; more replicates would narrow it about as 1/sqrt(replicates)")
    return lines


def summary_lines(experiment: Experiment, table: pd.DataFrame) -> list[str]:
    """Per outcome: the median and widest half-width at the most replicates, and the tolerance."""
    lines = []
    for outcome, sub in table.groupby("outcome", sort=False):
        last = sub.iloc[-1]
        tol = tolerance_of(experiment, outcome)
        verdict = "" if tol is None else (" ok" if last["max_half_width"] <= tol else " TOO WIDE") + f" (tolerance {tol:g})"
        lines.append(f"  {outcome:<24} r={int(last['replicates'])}: median {last['median_half_width']:.4g}, "
                     f"widest {last['max_half_width']:.4g}{verdict}")
    return lines


def figure(experiment: Experiment, table: pd.DataFrame, path: Path) -> Path:
    """One small panel per outcome: median and widest half-width against replicates, with the
    tolerance as a dashed line; axes from zero."""
    from . import figures

    outcomes = list(dict.fromkeys(table["outcome"]))
    cols = min(4, max(1, len(outcomes)))
    rows = -(-len(outcomes) // cols)
    fig, axes = figures.plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes):
        sub = table[table["outcome"] == outcome]
        ax.plot(sub["replicates"], sub["median_half_width"], marker="o", ms=3, label="median row")
        ax.plot(sub["replicates"], sub["max_half_width"], marker="o", ms=3, label="widest row")
        tol = tolerance_of(experiment, outcome)
        if tol is not None:
            ax.axhline(tol, color="grey", ls="--", lw=1, label="tolerance")
        ax.set_ylim(bottom=0)
        ax.set_title(figures.outcome_label(outcome), fontsize=9)
        ax.set_xlabel("replicates", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("95% CI half-width", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"{experiment.name}: CI half-width of a design row's mean vs replicates", fontsize=10)
    fig.tight_layout()
    return figures.save_figure(fig, path)


def write(experiment: Experiment, store) -> tuple[pd.DataFrame, list[Path]]:
    """The table and figure in ``STORE/replicates/`` (nothing with fewer than 2 replicates)."""
    from . import figures

    table = half_widths(experiment, store.runs())
    if table.empty:
        return table, []
    folder = Path(store.path) / FOLDER
    folder.mkdir(exist_ok=True)
    return table, [figures.save_csv(table, folder / "replicate_check.csv"),
                   figure(experiment, table, folder / "replicate_check.png")]
