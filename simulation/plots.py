"""Figures shared by the commands: the one-run dashboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
# a Figure drawn by the Agg canvas directly: pyplot (its state machine and backend selection)
# is not needed to write a PNG
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import metrics
from .params import PcsimInputError


def label(name: str) -> str:
    """An outcome's short name from the registry (:mod:`simulation.metrics`); any other column's
    name in words."""
    try:
        return metrics.outcome(name).short
    except PcsimInputError:
        return name.replace("_", " ")


def dashboard(timeseries: pd.DataFrame, innovations: list[str], title: str, path: str | Path) -> Path:
    """Eight panels: adoption per innovation, wellbeing, leaders, adoptions by cause, quality,
    federation plans, exits."""
    ts = timeseries
    years = ts["month"] / 12.0
    fig = Figure(figsize=(19, 8.5))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 4)
    # fixed margins: a layout engine costs more than the rest of the figure
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.07, top=0.91, wspace=0.3, hspace=0.32)
    ax = axes[0, 0]
    for name in innovations:
        line, = ax.plot(years, ts[f"genuine_{name}"], label=label(f"genuine_{name}"))
        if ts[f"shallow_{name}"].max() > 0:
            ax.plot(years, ts[f"shallow_{name}"], ls="--", color=line.get_color(), alpha=0.7)
    ax.set(title="Adoption by GPs (solid genuine, dashed shallow)", ylabel="share of GPs", ylim=(0, 1))
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[0, 1]
    for col in ("autonomy", "strain", "cynicism", "pressure"):
        ax.plot(years, ts[col], label=label(col))
    ax.set(title="Autonomy, strain, cynicism and pressure", ylabel="mean (0-1)", ylim=(0, 1))
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    for col in ("informal_leaders", "formal_leaders", "brokers"):
        ax.plot(years, ts[col], label=label(col))
    ax.set(title="Leaders", ylabel="GPs")
    ax.legend(fontsize=8)
    by_cause(axes[0, 3], ts, innovations)
    ax = axes[1, 0]
    ax.plot(years, ts["quality"], color="tab:green")
    ax.set(title=metrics.outcome("quality").label, ylabel=metrics.outcome("quality").axis_unit)
    ax = axes[1, 1]
    ax.plot(years, ts["federations_with_plan"], color="tab:purple",
            label=label("federations_with_plan"))
    ax.plot(years, ts["badge_being"], color="tab:brown", label=label("badge_being"))
    ax.set(title="Federations with a plan; formal-informal overlap", ylabel="share", ylim=(0, 1))
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    # one filled step outline rather than a bar patch per month (the same picture, a fraction
    # of the drawing time): month t's bar spans [t - 1/24, t + 1/24] years, as bar() centred it
    edges = np.append(years.to_numpy() - 1 / 24, years.iloc[-1] + 1 / 24)
    ax.stairs(ts["leavers"].to_numpy(), edges, fill=True, color="tab:red", label=label("leavers"))
    ax.plot(years, ts["vacancies"], color="black", label=label("vacancies"))
    ax.set(title="Exits and vacancies", ylabel="GPs")
    ax.legend(fontsize=8)
    axes[1, 3].set_axis_off()
    for ax in axes.flat:
        if ax is not axes[0, 3]:
            ax.set_xlabel("years")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    path = Path(path)
    # zlib level 1: a slightly larger file, written in a fraction of the default level's time
    fig.savefig(path, dpi=100, pil_kwargs={"compress_level": 1})
    return path


CAUSE_COLOURS = {"social": "tab:green", "external": "tab:grey", "mandated": "tab:orange"}
CAUSE_LABELS = {"social": "caused by ties", "external": "external push",
                "mandated": "mandated compliance"}


def by_cause(ax, ts: pd.DataFrame, innovations: list[str]) -> None:
    """Each innovation's new adoptions over the run, as shares by cause (stacked bars)."""
    totals = np.array([[ts[f"new_{cause}_{name}"].iloc[1:].sum() for cause in CAUSE_COLOURS]
                       for name in innovations])
    shares = totals / np.maximum(totals.sum(axis=1, keepdims=True), 1e-12)
    left = np.zeros(len(innovations))
    for c, cause in enumerate(CAUSE_COLOURS):
        ax.barh(range(len(innovations)), shares[:, c], left=left, color=CAUSE_COLOURS[cause],
                label=CAUSE_LABELS[cause])
        left += shares[:, c]
    ax.set_yticks(range(len(innovations)), [metrics.innovation_words(n) for n in innovations],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set(title="New adoptions over the run, by cause", xlabel="share of the method's adoptions",
           xlim=(0, 1))
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
