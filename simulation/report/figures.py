"""The report's figures (matplotlib, drawn off-screen), each from a tidy table.

* :func:`ribbons` — per outcome, every arm's median over months with its 95% range;
* :func:`differences` — per outcome, each arm's mean paired difference from the reference at
  the last month with its bootstrap interval;
* :func:`paired_over_time` — the same difference month by month;
* :func:`network_snapshot` — one run's practices at the end (:func:`practice_tables`), sized by
  their GPs, coloured by genuine adoption of the complex QI methods, linked by the ties between
  their GPs, on a seeded networkx spring layout (:func:`practice_layout`).

Each ``X`` has an ``X_figure`` that returns the matplotlib figure (for :func:`clipped_texts`
and :func:`overlapping_ticks`, which the tests use to check that no label is cut or overlaps).

The first three have a panel per outcome (the report's, :data:`~simulation.report.study.OUTCOMES`,
unless given) and one for the legend, three to a row, in as many rows as they need; arms are
named in the legend by ``names`` (scenario titles, wrapped), never by cut tick labels.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
import matplotlib.text
import networkx as nx

from .. import kernels
from ..layout import NetworkLayout, network_layout
from .study import BY_NAME, OUTCOMES

DPI = 110
COLOURS = plt.get_cmap("tab10").colors
TILE = 4
MAX_FEDERATIONS_SHOWN = TILE * TILE  # larger populations: the snapshot shows the first tile


# Sized for an A4 page as well as a screen: 9 inches wide (shown at ~6.5 inches on A4, so 9-point
# tick labels print at about 6.5 points), three panels to a row.
WIDTH = 9.0
COLUMNS = 3  # panels per row of the outcome grids
ROW_HEIGHT = 2.55  # inches per row of panels
WRAP = 24  # characters per line of an arm's name in a legend


def _wrap(text: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _names(labels, names):
    """Arms' display names (scenario titles), wrapped for a legend; the label if none is given."""
    names = names or {}
    return [_wrap(names.get(label, label)) for label in labels]


def _grid(title: str, panels: int):
    """A figure with ``panels`` panels, :data:`COLUMNS` to a row, as many rows as they need
    (four for the report's eleven outcomes and the legend); panels left over are blank. The
    constrained layout keeps every title, tick and label inside the figure."""
    rows = max(math.ceil(panels / COLUMNS), 1)
    height = ROW_HEIGHT * rows + 0.4
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(WIDTH, height), squeeze=False,
                             layout="constrained")
    fig.suptitle(_wrap(title, 90), fontsize=12)
    axes = list(axes.flat)
    for ax in axes[panels:]:
        ax.axis("off")
    for ax in axes[:panels]:
        ax.tick_params(labelsize=8.5)
        # few ticks, so that labels such as "-12.5" never touch in a 3-inch panel
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    return fig, axes


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _in_view(axis, tick) -> bool:
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * max(high - low, 1.0)
    return low - slack <= tick.get_loc() <= high + slack


def _tick_labels(axis) -> list:
    """The tick labels matplotlib draws: those of ticks inside the view (it keeps, but does not
    draw, labels of ticks beyond the limits)."""
    return [label for tick in axis.get_major_ticks() if _in_view(axis, tick)
            for label in (tick.label1, tick.label2) if label.get_visible()]


def _drawn_texts(fig) -> list:
    """Every visible, non-empty text a saved figure shows."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
            if ax.axison:
                drawn += _tick_labels(axis)
    drawn += [t for t in fig.findobj(matplotlib.text.Text) if id(t) not in ticks]
    return [t for t in drawn if t.get_visible() and t.get_text().strip()
            and (t.axes is None or t.axes.get_visible())]


def clipped_texts(fig) -> list[str]:
    """The texts of a figure whose drawn extent leaves the figure (labels that would be cut when
    saved): empty for a readable figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = []
    for text in _drawn_texts(fig):
        e = text.get_window_extent(renderer)
        if e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or e.y1 > box.y1 + 0.5:
            out.append(text.get_text())
    return out


def overlapping_ticks(fig) -> list[str]:
    """Pairs of neighbouring tick labels of one axis that overlap when drawn: empty for a
    readable figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            shown = [(t.get_text(), t.get_window_extent(renderer)) for t in _tick_labels(axis)
                     if t.get_text().strip()]
            for (a, ea), (b, eb) in zip(shown, shown[1:]):
                if ea.overlaps(eb):
                    out.append(f"{a} / {b}")
    return out


def _legend_panel(ax, labels, title, note="", colours=None):
    ax.axis("off")
    colours = colours or [COLOURS[i % 10] for i in range(len(labels))]
    handles = [Line2D([], [], color=c, lw=3) for c in colours]
    legend = ax.legend(handles, labels, loc="upper left", title=title, fontsize=8.5,
                       title_fontsize=9, frameon=False, borderaxespad=0)
    legend._legend_box.align = "left"
    if note:
        ax.text(0.0, 0.0, note, transform=ax.transAxes, fontsize=8, va="bottom")


def ribbons_figure(table: pd.DataFrame, labels: list[str], title: str,
                   at_month: int | None = None, outcomes=OUTCOMES, names=None):
    """Median (line) and 95% range across replicates (band) per outcome, arms overlaid."""
    fig, axes = _grid(title, len(outcomes) + 1)
    for ax, o in zip(axes, outcomes):
        k = o.scale
        for i, label in enumerate(labels):
            part = table[(table["arm"] == label) & (table["outcome"] == o.name)]
            years = part["month"] / 12.0
            c = COLOURS[i % 10]
            ax.fill_between(years, k * part["low"], k * part["high"], color=c, alpha=0.18, lw=0)
            ax.plot(years, k * part["median"], color=c, lw=1.6)
        if at_month is not None:
            ax.axvline(at_month / 12.0, color="black", ls=":", lw=1)
        ax.set_title(_wrap(o.label, 34), fontsize=9.5)
        ax.set_ylabel(o.axis_unit, fontsize=8.5)
        ax.set_xlabel("years", fontsize=8.5)
        ax.grid(alpha=0.3)
    note = "line: median across replicates\n" + (
        "no band: too few replicates" if table["low"].isna().all() else "band: 2.5th-97.5th\npercentile")
    if at_month is not None:
        note += f"\ndotted: intervention\n(month {at_month})"
    _legend_panel(axes[len(outcomes)], _names(labels, names), "arm", note)
    return fig


def ribbons(table: pd.DataFrame, labels: list[str], path: Path, title: str,
            at_month: int | None = None, outcomes=OUTCOMES, names=None) -> Path:
    """:func:`ribbons_figure`, saved as a PNG."""
    return _save(ribbons_figure(table, labels, title, at_month, outcomes, names), path)


def differences_figure(table: pd.DataFrame, labels: list[str], reference: str, title: str,
                       outcomes=OUTCOMES, names=None):
    """Mean paired difference (arm - reference) with 95% bootstrap interval, per outcome; arms
    are told apart by colour and named in the legend panel (no cut tick labels)."""
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
        ax.set_yticks([])
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.invert_yaxis()
        ax.set_title(_wrap(o.label, 34), fontsize=9.5)
        ax.set_xlabel(f"difference ({o.difference_unit})", fontsize=8.5)
        ax.grid(alpha=0.3, axis="x")
    note = ("dot: mean over replicates\n" + (
        "no bar: too few replicates\nfor an interval" if table["ci_low"].isna().all()
        else "bar: 95% bootstrap interval"))
    ref = (names or {}).get(reference, reference)
    _legend_panel(axes[len(outcomes)], _names(labels, names),
                  _wrap(f"difference from {ref}, paired by replicate", 30), note,
                  [COLOURS[(i + 1) % 10] for i in range(len(labels))])
    return fig


def differences(table: pd.DataFrame, labels: list[str], reference: str, path: Path,
                title: str, outcomes=OUTCOMES, names=None) -> Path:
    """:func:`differences_figure`, saved as a PNG."""
    return _save(differences_figure(table, labels, reference, title, outcomes, names), path)


def paired_over_time_figure(table: pd.DataFrame, labels: list[str], reference: str, title: str,
                            at_month: int | None = None, outcomes=OUTCOMES, names=None):
    """Mean paired difference from the reference month by month, with its 95% interval."""
    fig, axes = _grid(title, len(outcomes) + 1)
    for ax, o in zip(axes, outcomes):
        k = o.scale
        for i, label in enumerate(labels):
            part = table[(table["arm"] == label) & (table["outcome"] == o.name)]
            years = part["month"] / 12.0
            c = COLOURS[(i + 1) % 10]
            ax.fill_between(years, k * part["ci_low"], k * part["ci_high"], color=c, alpha=0.2, lw=0)
            ax.plot(years, k * part["difference"], color=c, lw=1.6)
        ax.axhline(0.0, color="black", lw=1)
        if at_month is not None:
            ax.axvline(at_month / 12.0, color="black", ls=":", lw=1)
        ax.set_title(_wrap(o.label, 34), fontsize=9.5)
        ax.set_ylabel(_wrap(f"difference ({o.difference_unit})", 22), fontsize=8.5)
        ax.set_xlabel("years", fontsize=8.5)
        ax.grid(alpha=0.3)
    note = "line: mean paired difference\n" + (
        "no band: too few replicates" if table["ci_low"].isna().all()
        else "band: 95% bootstrap interval")
    if at_month is not None:
        note += f"\ndotted: intervention\n(month {at_month})"
    ref = (names or {}).get(reference, reference)
    _legend_panel(axes[len(outcomes)], _names(labels, names),
                  _wrap(f"difference from {ref}", 30), note,
                  [COLOURS[(i + 1) % 10] for i in range(len(labels))])
    return fig


def paired_over_time(table: pd.DataFrame, labels: list[str], reference: str, path: Path,
                     title: str, at_month: int | None = None, outcomes=OUTCOMES, names=None) -> Path:
    """:func:`paired_over_time_figure`, saved as a PNG."""
    return _save(paired_over_time_figure(table, labels, reference, title, at_month, outcomes,
                                         names), path)


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


def practice_tables(nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run's practices and the ties between them, from its GP tables
    (:func:`snapshot_tables`): per practice its posts, active GPs, leaders and genuine adoption of
    the complex QI methods (mean share over its active GPs, as the outcome); per pair of
    practices the number and summed weight of their GPs' ties across practices."""
    arm = nodes["arm"].iloc[0]
    share = np.where(nodes["complex_methods_total"] > 0, nodes["complex_methods_adopted"]
                     / nodes["complex_methods_total"].clip(lower=1), 0.0)
    gp = nodes.assign(adoption=np.where(nodes["active"], share, np.nan),
                      informal=nodes["informal_leader"] & nodes["active"],
                      formal=nodes["formal_leader"] & nodes["active"])
    g = gp.groupby("practice")
    practices = pd.DataFrame(dict(
        arm=arm, practice=g.size().index, federation=g["federation"].first().to_numpy(),
        posts=g.size().to_numpy(), gps=g["active"].sum().to_numpy().astype(int),
        adoption=g["adoption"].mean().fillna(0.0).to_numpy(),
        informal_leaders=g["informal"].sum().to_numpy().astype(int),
        formal_leaders=g["formal"].sum().to_numpy().astype(int)))
    practice_of = nodes.set_index("gp")["practice"]
    across = edges[edges["layer"] == "across"]
    a = practice_of.loc[across["source"]].to_numpy()
    b = practice_of.loc[across["target"]].to_numpy()
    pairs = pd.DataFrame(dict(source=np.minimum(a, b), target=np.maximum(a, b),
                              weight=across["weight"].to_numpy()))
    pairs = pairs[pairs["source"] != pairs["target"]]
    ties = (pairs.groupby(["source", "target"], as_index=False)
            .agg(ties=("weight", "size"), weight=("weight", "sum")))
    return practices, ties.assign(arm=arm)[["arm", "source", "target", "ties", "weight"]]


def practice_layout(practices: pd.DataFrame, ties: pd.DataFrame, seed: int) -> dict[int, tuple]:
    """Positions of the practices shown (the first :data:`MAX_FEDERATIONS_SHOWN` federations):
    networkx's spring layout of the practice graph, tie weights pulling practices together,
    seeded so that the same study draws the same picture."""
    shown = practices[practices["federation"] < MAX_FEDERATIONS_SHOWN]
    graph = nx.Graph()
    graph.add_nodes_from(int(q) for q in shown["practice"])
    keep = ties["source"].isin(graph.nodes) & ties["target"].isin(graph.nodes)
    graph.add_weighted_edges_from((int(s), int(t), float(w)) for s, t, w in
                                  ties.loc[keep, ["source", "target", "weight"]].itertuples(index=False))
    # a hub per federation, tied to its practices, so that federations form visible clusters;
    # the hubs are dropped after the layout
    pull = float(ties["weight"].max()) * 4 if len(ties) else 1.0
    for q, f in shown[["practice", "federation"]].itertuples(index=False):
        graph.add_edge(("federation", int(f)), int(q), weight=pull)
    pos = nx.spring_layout(graph, weight="weight", seed=seed, iterations=200)
    return {q: (float(x), float(y)) for q, (x, y) in pos.items() if not isinstance(q, tuple)}


def network_snapshot_figure(practices: pd.DataFrame, ties: pd.DataFrame, pos: dict, title: str,
                            vmax: float = 1.0):
    """Practices as circles sized by their GPs and coloured by genuine adoption of the complex
    QI methods (0 to ``vmax``), lines for the ties between practices (width: summed weight),
    federations numbered at the centre of their practices."""
    shown = practices[practices["practice"].isin(list(pos))]
    keep = ties["source"].isin(list(pos)) & ties["target"].isin(list(pos))
    links = ties[keep]
    n_fed = int(practices["federation"].max()) + 1
    fig, ax = plt.subplots(figsize=(WIDTH, 6.2), layout="constrained")
    if len(links):
        segments = np.array([[pos[s], pos[t]] for s, t in zip(links["source"], links["target"])])
        width = 0.3 + 2.7 * links["weight"].to_numpy() / links["weight"].max()
        ax.add_collection(LineCollection(segments, colors="0.55", linewidths=width, alpha=0.45,
                                         zorder=1))
    xy = np.array([pos[q] for q in shown["practice"]]) if len(shown) else np.zeros((0, 2))
    size = lambda gps: 14.0 * np.asarray(gps, dtype=float) + 10.0  # noqa: E731
    points = ax.scatter(xy[:, 0], xy[:, 1], s=size(shown["gps"]), c=100 * shown["adoption"],
                        cmap="viridis", vmin=0, vmax=100 * vmax, edgecolors="black",
                        linewidths=0.6, zorder=2)
    for f, part in shown.groupby("federation"):
        centre = np.array([pos[q] for q in part["practice"]]).mean(axis=0)
        ax.text(centre[0], centre[1], f"F{f + 1}", fontsize=9, color="#7a1f1f", ha="center",
                va="center", zorder=3, fontweight="bold",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
    bar = fig.colorbar(points, ax=ax, shrink=0.7, pad=0.01)
    bar.set_label("GPs genuinely using the complex QI methods (%)", fontsize=9)
    bar.ax.tick_params(labelsize=8.5)
    sizes = sorted({int(v) for v in np.percentile(shown["gps"], [10, 50, 95])}) if len(shown) else [1]
    handles = [Line2D([], [], ls="", marker="o", color="0.8", markeredgecolor="black",
                      ms=float(np.sqrt(size(v))), label=f"{v} GPs") for v in sizes]
    handles += [Line2D([], [], color="0.55", lw=2, label="ties between practices\n(width: strength)"),
                Line2D([], [], ls="", marker="$F1$", color="#7a1f1f", ms=12,
                       label="federation (centre)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8.5,
              frameon=False, ncol=len(handles), columnspacing=1.2, handletextpad=0.4)
    ax.margins(0.06)
    ax.axis("off")
    note = f" (federations 1-{MAX_FEDERATIONS_SHOWN} of {n_fed})" if n_fed > MAX_FEDERATIONS_SHOWN else ""
    ax.set_title(_wrap(title + note, 80), fontsize=11)
    return fig


def network_snapshot(practices: pd.DataFrame, ties: pd.DataFrame, pos: dict, path: Path,
                     title: str, vmax: float = 1.0) -> Path:
    """:func:`network_snapshot_figure`, saved as a PNG."""
    return _save(network_snapshot_figure(practices, ties, pos, title, vmax), path)
