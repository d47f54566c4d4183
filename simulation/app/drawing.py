"""The teaching page's drawings: the network of a region and the live plots of its reporters.

Both are drawn off-screen with matplotlib's Agg canvas and sent to the page as PNGs. Each keeps
its static part (discs, ties, axes, legends) as cached pixels and redraws only what changes in a
month (:class:`BlittedFigure`), so a step and its redraw stay well under the play interval.

* :class:`NetworkDrawing` — the GP network on the shared layout (:mod:`simulation.layout`),
  coloured by the adoption of one innovation, sized by influence, leaders, brokers and
  federation plans marked, with its legend and caption;
* :data:`PANELS` — what each plot card shows, as data; :class:`SeriesDrawing` draws a card's
  panels from the model's DataCollector.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import PIL.Image
import scipy.sparse as sp
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from .. import kernels, metrics
from ..layout import network_layout
from ..model import PrimaryCareModel
from ..params import ParamError
from ..state import TRUST

# ---------------------------------------------------------------------------------------------
# the network: laid out once from the structure, redrawn by changing colours and sizes only
# ---------------------------------------------------------------------------------------------

COLOURS = {
    "genuine": "#1b9e77", "shallow": "#f0a202", "none": "#cfcfcf", "vacant": "#ffffff",
    "informal": "#1f1f1f", "formal": "#000000", "broker": "#7b2cbf", "plan": "#7b2cbf",
    "no_plan": "#9a9a9a", "practice": "#e4e4e4", "federation": "#f6f6fa", "trust": "#fbeeee",
    "federation_tie": "#5b7fa6", "regional_tie": "#8c8c8c",
}


#: node fill colours as RGBA rows, indexed by :func:`adoption_codes` (no colour parsing per frame)
_FILL = to_rgba_array([COLOURS["none"], COLOURS["shallow"], COLOURS["genuine"], COLOURS["vacant"]])
#: node edge colours: ordinary, informal leader, vacant post
_EDGE = to_rgba_array(["white", COLOURS["informal"], COLOURS["no_plan"]])


def adoption_codes(state, k: int) -> np.ndarray:
    """0 not adopted, 1 shallow, 2 genuine, 3 a vacant post, for innovation k."""
    code = np.zeros(state.n_gps, dtype=np.intp)
    code[state.shallow[:, k]] = 1
    code[state.genuine[:, k]] = 2
    code[~state.active] = 3
    return code


def adoption_colours(state, k: int) -> np.ndarray:
    """Node colours (RGBA rows) for innovation k: genuine, shallow, not adopted, or a vacant post."""
    return _FILL[adoption_codes(state, k)]


ABBREVIATIONS = {"pdsa": "PDSA"}


def innovation_label(name: str) -> str:
    return ABBREVIATIONS.get(name, name.replace("_", " "))


class BlittedFigure:
    """A figure whose static part is drawn once and kept as pixels; each frame restores them,
    draws only the artists that change, and encodes a PNG (matplotlib's blitting pattern).

    Subclasses set ``self.figure`` (with an Agg canvas) and ``self.dynamic`` (artists drawn
    each frame, in order), and call :meth:`frame` with ``static_key`` (any value that changes
    when the static part must be redrawn, e.g. new axis limits). ``image_format`` is how a
    frame is encoded: ``png``, or ``jpeg`` for a busy picture (the network's anti-aliased ties
    make a 270 KB PNG that takes 30 ms to encode; as a JPEG at quality 90, 80 KB in 3 ms)."""

    figure: Figure
    dynamic: list
    image_format: str = "png"

    def frame(self, static_key: Any = None) -> bytes:
        canvas = self.figure.canvas
        if getattr(self, "_background", None) is None or static_key != self._static_key:
            visible = [artist.get_visible() for artist in self.dynamic]
            for artist in self.dynamic:
                artist.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._static_key = static_key
            for artist, was_visible in zip(self.dynamic, visible):
                artist.set_visible(was_visible)
        canvas.restore_region(self._background)
        for artist in self.dynamic:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        width, height = canvas.get_width_height()
        image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        if self.image_format == "jpeg":
            image.convert("RGB").save(buffer, format="jpeg", quality=90)
        else:
            image.save(buffer, format="png", compress_level=1)  # fast: the page redraws every step
        return buffer.getvalue()


class NetworkDrawing(BlittedFigure):
    """The network of one model, laid out once. Static: federation and practice discs, ties,
    legend. Each frame: node colours (adoption), sizes (influence) and edges (informal
    leaders), formal-leader squares, broker rings and federation plans. The legend and the
    caption are the page's text (:data:`LEGEND`, :func:`caption`), so they stay readable at any
    size the picture is shown at."""

    image_format = "jpeg"

    def __init__(self, model: PrimaryCareModel, width: float = 7.4, dpi: int = 100):
        state = model.state
        self.layout = lay = network_layout(state.practice, state.practice_federation)
        low = (lay.federation_xy - lay.federation_radius[:, None]).min(axis=0) - 0.5
        high = (lay.federation_xy + lay.federation_radius[:, None]).max(axis=0) + 0.5
        # the picture has the region's own shape (no empty bands), within sensible bounds
        height = float(np.clip(width * (high[1] - low[1]) / (high[0] - low[0]), 0.4 * width, 1.0 * width))
        self.figure = Figure(figsize=(width, height), dpi=dpi)
        FigureCanvasAgg(self.figure)
        ax = self.axes = self.figure.add_axes([0.0, 0.0, 1.0, 1.0])
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        self.figure.canvas.draw()  # fixes the data-to-points scale used for marker sizes
        box = ax.get_window_extent()
        points_per_unit = min(box.width / (high[0] - low[0]), box.height / (high[1] - low[1])) * 72.0 / dpi
        self.node_diameter = 0.85 * points_per_unit

        self.federations = []
        for centre, radius in zip(lay.federation_xy, lay.federation_radius):
            self.federations.append(ax.add_patch(Circle(
                centre, radius, facecolor=COLOURS["federation"], edgecolor=COLOURS["no_plan"],
                linewidth=1.0, linestyle="--", zorder=0)))
        for centre, radius in zip(lay.practice_xy, lay.practice_radius):
            ax.add_patch(Circle(centre, radius, facecolor=COLOURS["practice"], edgecolor="none", zorder=1))

        across = sp.triu(sp.coo_array(model.ties.across), k=1).tocoo()
        gp_federation = state.practice_federation[state.practice]
        same = gp_federation[across.row] == gp_federation[across.col]
        segments = np.stack([lay.xy[across.row], lay.xy[across.col]], axis=1)
        ax.add_collection(LineCollection(segments[~same], colors=COLOURS["regional_tie"], linewidths=0.4,
                                         alpha=0.18, zorder=2))
        ax.add_collection(LineCollection(segments[same], colors=COLOURS["federation_tie"], linewidths=0.5,
                                         alpha=0.35, zorder=2))

        # drawn every frame, in this order
        self.plans = [ax.add_patch(Circle(centre, radius, facecolor="none", edgecolor=COLOURS["plan"],
                                          linewidth=1.8, zorder=2.5))
                      for centre, radius in zip(lay.federation_xy, lay.federation_radius)]
        self.nodes = ax.scatter(lay.xy[:, 0], lay.xy[:, 1], s=self.node_diameter ** 2, zorder=3,
                                c=COLOURS["none"], edgecolors="white", linewidths=0.4)
        empty = np.empty((0, 2))
        self.formal = ax.scatter(empty[:, 0], empty[:, 1], marker="s", facecolors="none",
                                 edgecolors=COLOURS["formal"], linewidths=1.0, zorder=4)
        self.brokers = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none",
                                  edgecolors=COLOURS["broker"], linewidths=1.8, zorder=5)
        self.dynamic = [*self.plans, self.nodes, self.formal, self.brokers]

    def update(self, model: PrimaryCareModel, innovation: str) -> None:
        """Set colours, sizes and marks from the model's current state."""
        state, params = model.state, model.params
        k = params.innovation_index(innovation)
        informal = kernels.informal_leaders(state, params)
        brokers = kernels.brokers(state, params)
        bar = params.informal_bar if params.informal_bar > 0 else 1.0
        diameter = self.node_diameter * (0.8 + 0.6 * np.sqrt(np.minimum(state.influence / bar, 3.0)))
        diameter[~state.active] = self.node_diameter * 0.8
        self.nodes.set_facecolors(adoption_colours(state, k))
        self.nodes.set_sizes(diameter ** 2)
        self.nodes.set_edgecolors(_EDGE[np.where(informal, 1, np.where(state.active, 0, 2))])
        self.nodes.set_linewidths(np.where(informal, 1.3, 0.4))
        formal = state.formal & state.active
        self.formal.set_offsets(self.layout.xy[formal])
        self.formal.set_sizes((diameter[formal] + 0.35 * self.node_diameter) ** 2)
        self.brokers.set_offsets(self.layout.xy[brokers])
        self.brokers.set_sizes((diameter[brokers] + 0.9 * self.node_diameter) ** 2)
        for ring, plan in zip(self.plans, state.has_plan):
            ring.set_visible(bool(plan))

    def png(self, model: PrimaryCareModel, innovation: str) -> bytes:
        """The picture of ``model`` now, encoded as :attr:`image_format` says (JPEG)."""
        self.update(model, innovation)
        trust = model.state.form == TRUST
        for patch, in_trust in zip(self.federations, trust):
            patch.set_facecolor(COLOURS["trust"] if in_trust else COLOURS["federation"])
        return self.frame(static_key=trust.tobytes())


#: The network's legend, shown by the page as text: (symbol, label); the symbols are styled
#: by the page's CSS (``pcsim-key-<symbol>``) in the colours of :data:`COLOURS`.
LEGEND = (
    ("genuine", "adopted (genuine)"),
    ("shallow", "complying (shallow)"),
    ("none", "not adopted"),
    ("vacant", "vacant post (a GP left)"),
    ("informal", "informal leader (size: influence)"),
    ("formal", "formal leader (badge)"),
    ("broker", "broker (across practices)"),
    ("plan", "federation with a plan"),
    ("trust", "federation absorbed into a trust"),
)


def legend_handles() -> list:
    """The network's legend as matplotlib handles (for a figure saved outside the page)."""
    dot = dict(marker="o", linestyle="none", markersize=7, markeredgecolor="white")
    return [
        Line2D([], [], markerfacecolor=COLOURS["genuine"], label="adopted (genuine)", **dot),
        Line2D([], [], markerfacecolor=COLOURS["shallow"], label="complying (shallow)", **dot),
        Line2D([], [], markerfacecolor=COLOURS["none"], label="not adopted", **dot),
        Line2D([], [], marker="o", linestyle="none", markersize=7, markerfacecolor="white",
               markeredgecolor=COLOURS["no_plan"], label="vacant post"),
        Line2D([], [], marker="o", linestyle="none", markersize=9, markerfacecolor=COLOURS["none"],
               markeredgecolor=COLOURS["informal"], markeredgewidth=1.3,
               label="informal leader (size: influence)"),
        Line2D([], [], marker="s", linestyle="none", markersize=10, markerfacecolor="none",
               markeredgecolor=COLOURS["formal"], label="formal leader (badge)"),
        Line2D([], [], marker="o", linestyle="none", markersize=11, markerfacecolor="none",
               markeredgecolor=COLOURS["broker"], markeredgewidth=1.8, label="broker (across practices)"),
        Line2D([], [], color=COLOURS["plan"], linewidth=1.8, label="federation with a plan"),
    ]


def caption(model: PrimaryCareModel, innovation: str) -> str:
    obs = model.observation
    label = innovation_label(innovation)
    return (f"Month {model.month}.  {label[0].upper() + label[1:]}: "
            f"{obs[f'genuine_{innovation}']:.0%} of GPs genuine, {obs[f'shallow_{innovation}']:.0%} shallow.\n"
            f"Leaders: {obs['informal_leaders']} informal, {obs['formal_leaders']} formal, "
            f"{obs['brokers']} brokers.  Plans: {obs['federations_with_plan']:.0%} of federations.")



# ---------------------------------------------------------------------------------------------
# live plots: what each card shows (data), then one figure per card, lines updated in place
# ---------------------------------------------------------------------------------------------

INNOVATION = "{innovation}"  # in a panel's reporter: one line per innovation of the model


@dataclass(frozen=True)
class Panel:
    """One panel of a plot card: a title, its lines and the range of its y axis.

    ``series`` holds (reporter, legend label) pairs; a reporter containing ``{innovation}``
    stands for one line per innovation of the model (in its label, ``{label}`` is the
    innovation's name as shown).
    ``dashed`` holds (reporter, solid reporter) pairs: a dashed line in the colour of the solid
    one, drawn only for the mandated innovations when the reporter names ``{innovation}``.
    ``unit_range``: y from 0 to 1; otherwise from 0 to a 1-2-5 ceiling of the data."""

    card: str  # the plot card that shows the panel (see CARDS)
    title: str
    series: tuple[tuple[str, str], ...]
    unit_range: bool = True
    dashed: tuple[tuple[str, str], ...] = ()

    def for_model(self, params) -> "Panel":
        """The panel with every ``{innovation}`` line made one line per innovation of ``params``."""
        every = [i.name for i in params.innovations]
        mandated = [i.name for i in params.innovations if i.mandated]

        def expand(pairs, names):
            out = []
            for reporter, second in pairs:
                if INNOVATION not in reporter:
                    out.append((reporter, second))
                    continue
                out += [(reporter.format(innovation=n), second.format(innovation=n, label=innovation_label(n)))
                        for n in names]
            return tuple(out)

        return Panel(self.card, self.title, expand(self.series, every), self.unit_range,
                     expand(self.dashed, mandated))

    def descriptions(self, params) -> dict[str, str]:
        """What each plotted reporter is, for a model with ``params``."""
        panel = self.for_model(params)
        out = {}
        for reporter in [r for r, _ in panel.series] + [r for r, _ in panel.dashed]:
            out[reporter] = metrics.outcome(reporter, params).description  # the registry's
        return out


#: The plot cards, in the page's order.
CARDS = ("adoption", "wellbeing", "leaders")

#: Every panel of the plot cards: which reporters each plot shows, their labels, the y range.
#: Titles fit the pictures' width at 11 pt; the page's legend under each card names the lines.
PANELS: tuple[Panel, ...] = (
    Panel("adoption", "Adoption (share of GPs)",
          (("genuine_{innovation}", "{label}"),),
          dashed=(("shallow_{innovation}", "genuine_{innovation}"),)),
    Panel("wellbeing", "Wellbeing and pressure (mean, 0-1)",
          (("autonomy", "autonomy"), ("strain", "strain"), ("cynicism", "cynicism"),
           ("pressure", "pressure"))),
    Panel("wellbeing", "Quality of care (mean index)", (("quality", "quality"),), unit_range=False),
    Panel("leaders", "Leaders (GPs)",
          (("informal_leaders", "informal"), ("formal_leaders", "formal"), ("brokers", "brokers")),
          unit_range=False),
    Panel("leaders", "Plans (share); badge vs being",
          (("federations_with_plan", "with a plan"), ("badge_being", "badge vs being"))),
)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (axis tops that
    change rarely, so the cached axes are redrawn rarely)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value)


#: The size of the text inside the plot pictures, in points (at 100 dpi, 11 pt is 15 px: the
#: pictures are shown at about their own width, so the text stays at 14 px or more on screen).
FONT_PT = 11.0


class SeriesDrawing(BlittedFigure):
    """Stacked panels of time series from the model's DataCollector. The axes and titles are
    cached; each frame draws only the lines. The x axis spans the lesson's horizon from the
    start (months 0 to ``horizon``); count axes grow in 1-2-5 steps. The lines' legend is the
    page's text (:meth:`legend`). ``panels`` name their reporters one by one
    (:meth:`Panel.for_model`)."""

    def __init__(self, panels: tuple[Panel, ...], horizon: int = 120, size=(3.5, 3.2), dpi: int = 100):
        self.figure = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(self.figure)
        # fixed margins: a layout engine would re-solve the layout at every redraw
        self.figure.subplots_adjust(left=0.15, right=0.96, top=0.91, bottom=0.14,
                                    hspace=0.45 if len(panels) > 1 else 0.2)
        self.axes = self.figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        self.lines: list[list[tuple[str, Line2D]]] = []
        self.entries: list[tuple[str, str, bool]] = []
        for ax, panel in zip(self.axes, panels):
            lines = [(column, ax.plot([], [], label=label, linewidth=1.8)[0]) for column, label in panel.series]
            colours = {column: line.get_color() for column, line in lines}
            self.entries += [(label, colours[column], False) for column, label in panel.series]
            for column, partner in panel.dashed:  # same colour as the solid line it goes with
                lines.append((column, ax.plot([], [], linestyle="--", linewidth=1.5,
                                              color=colours.get(partner))[0]))
            ax.set_title(panel.title, fontsize=FONT_PT, loc="left")
            ax.tick_params(labelsize=FONT_PT)
            ax.grid(alpha=0.3)
            ax.set_ylim(0.0, 1.0)
            self.lines.append(lines)
        self.panels = panels
        self.horizon = int(horizon)
        self.axes[-1].set_xlim(0.0, self.horizon)
        self.axes[-1].set_xticks(np.arange(0, self.horizon + 1, 12 if self.horizon <= 60 else 24))
        self.axes[-1].set_xlabel("month", fontsize=FONT_PT, labelpad=1)
        self.dynamic = [line for lines in self.lines for _, line in lines]

    def legend(self) -> list[tuple[str, str, bool]]:
        """The solid lines as (label, colour, dashed) for the page's legend."""
        return list(self.entries)

    def png(self, model: PrimaryCareModel, others=()) -> bytes:
        """The picture of ``model``'s series; the y axes also fit the models in ``others`` (in
        compare mode both sides share their axes, so that heights compare)."""
        tops = []
        for ax, lines, panel in zip(self.axes, self.lines, self.panels):
            top = 0.0
            for column, line in lines:
                values = model.datacollector.model_vars[column]
                line.set_data(model.datacollector.model_vars["month"], values)
                top = max(top, max(values), *(max(m.datacollector.model_vars[column]) for m in others))
            tops.append(1.0 if panel.unit_range else nice_ceiling(1.1 * top))
            ax.set_ylim(0.0, tops[-1])
        return self.frame(static_key=tuple(tops))


def series_drawing(model: PrimaryCareModel, card: str, **options) -> SeriesDrawing:
    """The drawing of one plot card (see :data:`CARDS`) for ``model``, over its horizon (the
    page's model has one; any other model: ten years)."""
    if card not in CARDS:
        raise ParamError(f"plot card {card!r} is unknown; valid: {', '.join(CARDS)}")
    return SeriesDrawing(tuple(p.for_model(model.params) for p in PANELS if p.card == card),
                         horizon=getattr(model, "horizon", 120), **options)


def adoption_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    return series_drawing(model, "adoption")


def wellbeing_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    return series_drawing(model, "wellbeing")


def leaders_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    return series_drawing(model, "leaders")
