"""The report's figures (matplotlib, drawn off-screen), each from a tidy table.

* :func:`ribbons` — per outcome, every arm's median over months with its 95% range;
* :func:`differences` — per outcome, each arm's mean paired difference from the reference at
  the last month with its bootstrap interval;
* :func:`paired_over_time` — the same difference month by month;
* :func:`network_snapshot` — one run's GPs at the end, grouped by practice and federation on
  the fixed layout computed from the structure that the teaching page draws too
  (:func:`snapshot_layout`, from :mod:`simulation.layout`), coloured by how many complex QI
  methods each has adopted, leaders marked.

The first three have a panel per outcome (the report's, :data:`~simulation.report.study.OUTCOMES`,
unless given) and one for the legend, four to a row, in as many rows as they need.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from matplotlib.collections import LineCollection, PatchCollection  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .. import kernels  # noqa: E402
from ..layout import NetworkLayout, network_layout  # noqa: E402
from .study import BY_NAME, OUTCOMES  # noqa: E402

DPI = 80
COLOURS = plt.get_cmap("tab10").colors
TILE = 4
MAX_FEDERATIONS_SHOWN = TILE * TILE  # larger populations: the snapshot shows the first tile


COLUMNS = 4  # panels per row of the outcome grids
ROW_HEIGHT = 9.5 / 3  # inches per row of panels


def _grid(title: str, panels: int):
    """A figure with ``panels`` panels, :data:`COLUMNS` to a row, as many rows as they need
    (three for the report's eleven outcomes and the legend); panels left over are blank."""
    rows = max(math.ceil(panels / COLUMNS), 1)
    height = ROW_HEIGHT * rows
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(15, height), squeeze=False)
    # margins fixed in inches (those of three rows), so that titles fit whatever the rows
    fig.subplots_adjust(left=0.06, right=0.985, bottom=0.06 * 9.5 / height,
                        top=1 - 0.08 * 9.5 / height, wspace=0.32, hspace=0.42)
    fig.suptitle(title, fontsize=13)
    axes = list(axes.flat)
    for ax in axes[panels:]:
        ax.axis("off")
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _legend_panel(ax, labels, title, note=""):
    ax.axis("off")
    handles = [Line2D([], [], color=COLOURS[i % 10], lw=3) for i in range(len(labels))]
    ax.legend(handles, labels, loc="upper left", title=title, fontsize=10, frameon=False)
    if note:
        ax.text(0.0, 0.05, note, transform=ax.transAxes, fontsize=8.5, va="bottom", wrap=True)


def ribbons(table: pd.DataFrame, labels: list[str], path: Path, title: str,
            at_month: int | None = None, outcomes=OUTCOMES) -> Path:
    """Median (line) and 95% range across replicates (band) per outcome, arms overlaid."""
    fig, axes = _grid(title, len(outcomes) + 1)
    for ax, o in zip(axes, outcomes):
        k = o.scale
        for i, label in enumerate(labels):
            part = table[(table["arm"] == label) & (table["outcome"] == o.name)]
            years = part["month"] / 12.0
            c = COLOURS[i % 10]
            ax.fill_between(years, k * part["low"], k * part["high"], color=c, alpha=0.18, lw=0)
            ax.plot(years, k * part["median"], color=c, lw=1.8)
        if at_month is not None:
            ax.axvline(at_month / 12.0, color="black", ls=":", lw=1)
        ax.set_title(o.label, fontsize=10)
        ax.set_ylabel(o.axis_unit, fontsize=8)
        ax.set_xlabel("years", fontsize=8)
        ax.grid(alpha=0.3)
    note = "line: median across replicates\n" + (
        "no band: too few replicates" if table["low"].isna().all() else "band: 2.5th-97.5th percentile")
    if at_month is not None:
        note += f"\ndotted: intervention (month {at_month})"
    _legend_panel(axes[len(outcomes)], labels, "arm", note)
    return _save(fig, path)


def differences(table: pd.DataFrame, labels: list[str], reference: str, path: Path,
                title: str, outcomes=OUTCOMES) -> Path:
    """Mean paired difference (arm - reference) with 95% bootstrap interval, per outcome."""
    fig, axes = _grid(title, len(outcomes) + 1)
    for ax, o in zip(axes, outcomes):
        k = o.scale
        part = table[table["outcome"] == o.name].set_index("arm")
        for i, label in enumerate(labels):
            if label not in part.index:
                continue
            row = part.loc[label]
            c = COLOURS[(i + 1) % 10]
            if pd.isna(row["ci_low"]):  # too few replicates: the mean alone
                ax.plot([k * row["difference"]], [i], "o", color=c, ms=6)
                continue
            ax.errorbar([k * row["difference"]], [i],
                        xerr=[[k * (row["difference"] - row["ci_low"])],
                              [k * (row["ci_high"] - row["difference"])]],
                        fmt="o", color=c, capsize=4, ms=6, lw=2)
        ax.axvline(0.0, color="black", lw=1)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.invert_yaxis()
        ax.set_title(o.label, fontsize=10)
        ax.set_xlabel(f"difference ({o.difference_unit})", fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    ax = axes[len(outcomes)]
    ax.axis("off")
    ax.text(0.0, 0.95, f"difference from {reference},\npaired by replicate\n\n"
                       "dot: mean over replicates\n" + (
                           "no bar: too few replicates\nfor an interval"
                           if table["ci_low"].isna().all()
                           else "bar: 95% percentile bootstrap\ninterval"),
            transform=ax.transAxes, fontsize=10, va="top")
    return _save(fig, path)


def paired_over_time(table: pd.DataFrame, labels: list[str], reference: str, path: Path,
                     title: str, at_month: int | None = None, outcomes=OUTCOMES) -> Path:
    """Mean paired difference from the reference month by month, with its 95% interval."""
    fig, axes = _grid(title, len(outcomes) + 1)
    for ax, o in zip(axes, outcomes):
        k = o.scale
        for i, label in enumerate(labels):
            part = table[(table["arm"] == label) & (table["outcome"] == o.name)]
            years = part["month"] / 12.0
            c = COLOURS[(i + 1) % 10]
            ax.fill_between(years, k * part["ci_low"], k * part["ci_high"], color=c, alpha=0.2, lw=0)
            ax.plot(years, k * part["difference"], color=c, lw=1.8)
        ax.axhline(0.0, color="black", lw=1)
        if at_month is not None:
            ax.axvline(at_month / 12.0, color="black", ls=":", lw=1)
        ax.set_title(o.label, fontsize=10)
        ax.set_ylabel(f"difference ({o.difference_unit})", fontsize=8)
        ax.set_xlabel("years", fontsize=8)
        ax.grid(alpha=0.3)
    axes[len(outcomes)].axis("off")
    handles = [Line2D([], [], color=COLOURS[(i + 1) % 10], lw=3) for i in range(len(labels))]
    axes[len(outcomes)].legend(handles, [f"{lab} - {reference}" for lab in labels], loc="upper left",
                               fontsize=10, frameon=False,
                               title="line: mean paired difference\n" + (
                                   "no band: too few replicates" if table["ci_low"].isna().all()
                                   else "band: 95% bootstrap interval"))
    return _save(fig, path)


# --- the network snapshot -------------------------------------------------------------------------

def snapshot_layout(practice: np.ndarray, practice_federation: np.ndarray) -> NetworkLayout:
    """The snapshot's positions: the shared layout, federations as square as their number allows,
    and beyond TILE x TILE federations in square tiles of that many, so the first tile can be
    shown alone."""
    return network_layout(practice, practice_federation, aspect=1.0, tile=TILE)


def complex_methods(params) -> np.ndarray:
    """Indices of the voluntary complex QI methods (those in the complex-adoption outcome)."""
    return np.array([k for k, i in enumerate(params.innovations)
                     if i.kind == "complex" and not i.mandated], dtype=np.int64)


def snapshot_tables(label: str, snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (position, adoption, roles) and edges (ties, by layer) of one run's final state."""
    s, p = snapshot.state, snapshot.params
    pos = snapshot_layout(s.practice, s.practice_federation).xy
    methods = complex_methods(p)
    adopted = s.genuine[:, methods].sum(axis=1) if methods.size else np.zeros(s.n_gps, dtype=int)
    nodes = pd.DataFrame(dict(
        arm=label, gp=np.arange(s.n_gps), practice=s.practice,
        federation=s.practice_federation[s.practice], x=pos[:, 0], y=pos[:, 1], active=s.active,
        complex_methods_adopted=np.where(s.active, adopted, 0).astype(int),
        complex_methods_total=methods.size, informal_leader=kernels.informal_leaders(s, p),
        formal_leader=s.formal & s.active, broker=kernels.brokers(s, p), influence=s.influence))
    frames = []
    for layer, m in (("practice", snapshot.ties.inside), ("across", snapshot.ties.across)):
        coo = sp.triu(sp.coo_array(m), k=1).tocoo()
        frames.append(pd.DataFrame(dict(arm=label, source=coo.row.astype(np.int64),
                                        target=coo.col.astype(np.int64), weight=coo.data,
                                        layer=layer)))
    return nodes, pd.concat(frames, ignore_index=True)


def network_snapshot(nodes: pd.DataFrame, edges: pd.DataFrame, path: Path, title: str) -> Path:
    """GPs at their fixed positions; colour: complex methods adopted; shape: leadership role;
    grey lines: ties across practices. Large populations show their first federations only."""
    n_fed = int(nodes["federation"].max()) + 1
    shown = nodes
    caption = ""
    if n_fed > MAX_FEDERATIONS_SHOWN:
        shown = nodes[nodes["federation"] < MAX_FEDERATIONS_SHOWN]
        caption = f" (federations 1-{MAX_FEDERATIONS_SHOWN} of {n_fed})"
    keep = set(shown["gp"].tolist())
    xy = nodes.set_index("gp")[["x", "y"]]
    across = edges[(edges["layer"] == "across") & edges["source"].isin(keep) & edges["target"].isin(keep)]
    practice_federation = nodes.groupby("practice")["federation"].first().sort_index().to_numpy()
    geo = snapshot_layout(nodes["practice"].to_numpy(), practice_federation)
    feds = np.arange(min(n_fed, MAX_FEDERATIONS_SHOWN))
    practices = np.flatnonzero(practice_federation < MAX_FEDERATIONS_SHOWN)
    low = (geo.federation_xy[feds] - geo.federation_radius[feds, None]).min(axis=0)
    high = (geo.federation_xy[feds] + geo.federation_radius[feds, None]).max(axis=0)
    aspect = (high[1] - low[1]) / max(high[0] - low[0], 1e-9)
    fig, ax = plt.subplots(figsize=(12, min(max(8.5 * aspect, 4.5), 10)))
    fig.subplots_adjust(left=0.01, right=0.78, bottom=0.01, top=0.95)
    ax.add_collection(PatchCollection(
        [Circle(tuple(geo.federation_xy[f]), geo.federation_radius[f]) for f in feds],
        facecolor="none", edgecolor="0.75", linestyle="--", linewidth=0.8, zorder=0))
    ax.add_collection(PatchCollection(
        [Circle(tuple(geo.practice_xy[q]), geo.practice_radius[q]) for q in practices],
        facecolor="#eef2f6", edgecolor="#c9d2db", linewidth=0.6, zorder=0))
    if len(feds) <= 40:
        for f in feds:
            ax.text(geo.federation_xy[f, 0], geo.federation_xy[f, 1] + geo.federation_radius[f],
                    f"federation {f + 1}", ha="center", va="bottom", fontsize=8, color="0.4")
    segments = np.stack([xy.loc[across["source"]].to_numpy(), xy.loc[across["target"]].to_numpy()], axis=1) \
        if len(across) else np.zeros((0, 2, 2))
    ax.add_collection(LineCollection(segments, colors="0.55", linewidths=0.4, alpha=0.35, zorder=1))
    total = int(shown["complex_methods_total"].iloc[0]) if len(shown) else 0
    cmap = plt.get_cmap("viridis", max(total + 1, 2))
    vacant = shown[~shown["active"]]
    ax.scatter(vacant["x"], vacant["y"], marker="x", s=14, color="0.6", lw=0.8, zorder=2)
    active = shown[shown["active"]]
    roles = [("neither", ~active["informal_leader"] & ~active["formal_leader"], "o", 22),
             ("informal", active["informal_leader"] & ~active["formal_leader"], "^", 70),
             ("formal", ~active["informal_leader"] & active["formal_leader"], "s", 55),
             ("both", active["informal_leader"] & active["formal_leader"], "D", 70)]
    for _, mask, marker, size in roles:
        part = active[mask]
        edge = np.where(part["broker"], "red", "black")
        ax.scatter(part["x"], part["y"], c=part["complex_methods_adopted"], cmap=cmap,
                   vmin=-0.5, vmax=max(total, 1) + 0.5, marker=marker, s=size,
                   edgecolors=edge if marker != "o" else "none", linewidths=0.9, zorder=3)
    handles = [Line2D([], [], ls="", marker=m, color="0.5", markeredgecolor="black", ms=8 if m != "o" else 6,
                      label=lab)
               for lab, m in (("GP", "o"), ("informal leader", "^"), ("formal leader", "s"),
                              ("both (badge and being)", "D"))]
    handles += [Line2D([], [], ls="", marker="^", color="0.5", markeredgecolor="red", ms=8,
                       label="red edge: broker"),
                Line2D([], [], ls="", marker="x", color="0.6", ms=6, label="vacant post"),
                Line2D([], [], color="0.55", lw=1, label="tie across practices"),
                Line2D([], [], ls="", marker="o", color="#eef2f6", markeredgecolor="#c9d2db", ms=11,
                       label="practice"),
                Line2D([], [], ls="", marker="o", color="none", markeredgecolor="0.6", ms=13,
                       label="federation (dashed)")]
    handles += [Line2D([], [], ls="", marker="o", color=cmap(k), ms=8,
                       label=f"{k} of {total} complex methods") for k in range(total + 1)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9,
              frameon=False)
    ax.set_aspect("equal")
    pad = 0.75  # layout units: the spacing of two GPs
    ax.set_xlim(low[0] - pad, high[0] + pad)
    ax.set_ylim(low[1] - pad, high[1] + 2.5 * pad)
    ax.axis("off")
    ax.set_title(title + caption, fontsize=12)
    return _save(fig, path)
