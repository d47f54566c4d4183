"""The teaching page: watch leadership emerge from below, or fail to, in a region of GPs.

A Mesa ``SolaraViz`` page (``pcsim app``, or ``solara run simulation.app``) for a teacher in
front of a class. The main area shows the GP network of a county (or a smaller region) laid out
once from its structure (practices as tight clusters, federations as groups), coloured by the
adoption of one innovation (genuine, shallow, none), sized by influence, with formal leaders
and brokers marked; beside it the lesson text, and live plots of the model's reporters. The
sidebar holds the lesson and scenario pickers, Mesa's play / pause / step / reset controls and
the sliders, whose bounds come from :data:`simulation.params.SPECS`. Slider changes take effect
at Reset, as in every Mesa page.

Lessons follow NetLogo's Info-tab habit (what to do, what to look for, a question to discuss).
Each has two settings, A and B, to run with the same seed and compare; :func:`check_lesson`
runs the model to confirm that a lesson shows what its text says, and the tests run it for
every lesson, so a recalibration that breaks a lesson fails a test rather than a class.

Core code never imports this module.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import PIL.Image
import scipy.sparse as sp
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from . import rules
from . import scenarios as scenario_files
from .layout import GOLDEN_ANGLE, NetworkLayout, network_layout, pack_circles, sunflower  # noqa: F401 (re-exported)
from .model import PrimaryCareModel, build_params, run
from .params import SPECS, ParamError
from .population import PRESETS
from .state import TRUST

# ---------------------------------------------------------------------------------------------
# the model as the page builds it
# ---------------------------------------------------------------------------------------------


class TeachingModel(PrimaryCareModel):
    """:class:`PrimaryCareModel` at county scale, as the page's controls build it.

    ``pcsim_scenario`` names the pcsim scenario (``scenario`` is taken: Mesa's ``Model`` has a
    ``scenario`` of its own, and SolaraViz's Reset passes a Mesa ``Scenario`` object under that
    name, which this class accepts and ignores). Every other keyword is a model parameter.
    """

    def __init__(self, pcsim_scenario: str = "baseline", rng: int = 1, scenario=None, **params):
        super().__init__(scenario=pcsim_scenario, scale="county", rng=rng, **params)


#: The parameters with a control in the sidebar, in the order shown.
CONTROLLED = ("leadership_propensity", "leadership_drive", "leader_selection", "autonomy_base",
              "pressure_level", "management_mode", "n_practices")

LABELS = {
    "leadership_propensity": "Leadership propensity of GPs (mean, 0-1)",
    "leadership_drive": "Formal leadership drive (share of GPs)",
    "leader_selection": "How the drive chooses formal leaders",
    "autonomy_base": "Autonomy (salaried GP, no pressure)",
    "pressure_level": "Performance pressure (0-1)",
    "management_mode": "Management: 0 seductive - 1 dictatorial",
    "n_practices": "Practices in the region",
}

#: The drawing is made for a region: at most the county preset, at least one federation's worth.
REGION_PRACTICES = (10, PRESETS["county"]["n_practices"])
SEED_RANGE = (0, 99)


def control(name: str, value: Any) -> dict:
    """A SolaraViz input for one parameter, its bounds taken from the parameter's declaration."""
    spec = SPECS[name]
    label = LABELS.get(name, name.replace("_", " "))
    if spec["kind"] == "choice":
        return {"type": "Select", "label": label, "value": value, "values": list(spec["choices"])}
    if name == "n_practices":
        low, high = max(spec["low"], REGION_PRACTICES[0]), min(spec["high"], REGION_PRACTICES[1])
        return {"type": "SliderInt", "label": label, "value": int(value), "min": low, "max": high,
                "step": 1}
    if spec["kind"] == "int":
        return {"type": "SliderInt", "label": label, "value": int(value), "min": spec["low"],
                "max": spec["high"], "step": 1}
    if spec["kind"] == "float":
        return {"type": "SliderFloat", "label": label, "value": float(value),
                "min": float(spec["low"]), "max": float(spec["high"]), "step": 0.01}
    raise ParamError(f"parameter {name} (kind {spec['kind']}) has no slider on the teaching page")


@dataclass(frozen=True)
class Setting:
    """A preset of the page: a pcsim scenario plus parameter values (any parameter by name)."""

    label: str
    scenario: str = "baseline"
    params: Mapping[str, Any] = field(default_factory=dict)


def model_params(setting: Setting, seed: int) -> dict:
    """SolaraViz's ``model_params`` for a setting: the controlled parameters as inputs showing
    the setting's values; the scenario and any other parameter of the setting fixed."""
    values = build_params(setting.scenario, "county", **setting.params)
    fixed = {"pcsim_scenario": setting.scenario,
             **{k: v for k, v in setting.params.items() if k not in CONTROLLED}}
    inputs = {name: control(name, getattr(values, name)) for name in CONTROLLED}
    inputs["rng"] = {"type": "SliderInt", "label": "Seed (same seed, same run)", "value": int(seed),
                     "min": SEED_RANGE[0], "max": SEED_RANGE[1], "step": 1}
    return {**fixed, **inputs}


def build_model(setting: Setting, seed: int) -> TeachingModel:
    """The model a setting starts from (what Reset would build with untouched sliders)."""
    return TeachingModel(pcsim_scenario=setting.scenario, rng=seed, **dict(setting.params))


# ---------------------------------------------------------------------------------------------
# guided lessons
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lesson:
    """A guided lesson: two settings to compare with the same seed, and what B shows against A.

    ``expect`` maps a reporter (see :mod:`simulation.metrics`, plus ``leavers_total``) to +1 or
    -1: its value after ``months`` is higher (+1) or lower (-1) under setting B than under A in
    (nearly) every run, so a class sees it with any seed. ``on_average`` holds claims that hold
    in the mean over many seeds but not in every run; the lesson text says so.
    """

    key: str
    title: str
    innovation: str  # shown in the network when the lesson loads
    settings: tuple[Setting, Setting]
    what_to_do: str
    look_for: str
    question: str
    expect: Mapping[str, int]
    on_average: Mapping[str, int] = field(default_factory=dict)
    months: int = 120


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        key="badge",
        title="A badge or a way of being?",
        innovation="pdsa",
        settings=(
            Setting("A: badges handed out at random", "top_down_drive"),
            Setting("B: badges for those who already lead", "top_down_drive",
                    {"leader_selection": "influence"}),
        ),
        what_to_do="Setting A is a strong top-down drive: one GP in five gets a formal "
                   "leadership role, chosen at random. Press play and let it run ten years "
                   "(120 months). Then load setting B, the same drive choosing the GPs whose "
                   "colleagues already follow them, and run it again with the same seed.",
        look_for="Black squares are formal leaders (the badge); dark-edged, larger dots are "
                 "informal leaders, the GPs whose adoptions colleagues actually follow (the way "
                 "of being). In A the squares mostly sit on ordinary dots and the 'badge vs "
                 "being' overlap stays near 0.2; in B squares and leaders coincide (about 0.7). "
                 "On average B also has more brokers and more federations with a plan, but not "
                 "in every run: try a few seeds.",
        question="If the badge goes to the people who already lead, what did the badge add? "
                 "What would you measure to tell leadership from a leadership role?",
        expect={"badge_being": +1},
        on_average={"federations_with_plan": +1, "brokers": +1},
    ),
    Lesson(
        key="pressure",
        title="Pressure and autonomy",
        innovation="extended_access",
        settings=(
            Setting("A: moderate pressure (0.3)", "baseline"),
            Setting("B: intense pressure (0.8)", "baseline", {"pressure_level": 0.8}),
        ),
        what_to_do="Run setting A for ten years and note autonomy, strain and quality. Load B, "
                   "where performance pressure from the centre is 0.8, and run it with the same "
                   "seed. Then try B again with the autonomy slider raised to 0.8 and press Reset: "
                   "can protected autonomy offset the pressure?",
        look_for="Under pressure autonomy falls and strain rises, more GPs leave (white, empty "
                 "posts appear), cynicism climbs and quality falls. The network shows the "
                 "mandated extended-access scheme: orange dots are GPs complying on paper "
                 "(shallow adoption), and there are more of them under pressure.",
        question="The centre wants quality; which of its levers raised it and which lowered it? "
                 "Why might compliance look like adoption on a dashboard but not in a practice?",
        expect={"autonomy": -1, "strain": +1, "cynicism": +1, "leavers_total": +1,
                "quality": -1, "shallow_extended_access": +1},
    ),
    Lesson(
        key="from_below",
        title="Leadership from below reaches the federation",
        innovation="pdsa",
        settings=(
            Setting("A: leadership qualities rare (propensity 0.1)", "baseline",
                    {"leadership_propensity": 0.1}),
            Setting("B: leadership qualities common (propensity 0.5)", "baseline",
                    {"leadership_propensity": 0.5}),
        ),
        what_to_do="Setting A gives few GPs the qualities that turn adoption into influence. Run "
                   "it ten years, watching the federation outlines. Load B, where those "
                   "qualities are common, and run with the same seed. Move the propensity slider "
                   "between the two and press Reset to find where plans start to form.",
        look_for="Purple rings mark brokers: informal leaders whose influence crosses practice "
                 "boundaries. A federation's outline turns solid purple when it has a plan. In A "
                 "leaders appear inside practices but hardly any brokers, and federations stay "
                 "without a plan; in B brokers link practices and most federations form a plan.",
        question="Federations were set up from above; what made some of them have a plan? What "
                 "could a federation do to grow brokers rather than appoint them?",
        expect={"informal_leaders": +1, "brokers": +1, "federations_with_plan": +1,
                "complex_adoption": +1},
    ),
    Lesson(
        key="clustered",
        title="Complex methods need clustered ties",
        innovation="run_charts",
        settings=(
            Setting("A: ties clustered between partner practices", "baseline",
                    {"practices_per_federation": 2.0, "federation_ties_per_gp": 4.0,
                     "w_federation": 1.0, "regional_ties_per_gp": 0.0,
                     "innovations": {"run_charts": {"threshold_mean": 0.6, "threshold_sd": 0.07,
                                                    "initial_share": 0.03}}}),
            Setting("B: as many ties, spread at random across the region", "baseline",
                    {"practices_per_federation": 2.0, "federation_ties_per_gp": 0.0,
                     "regional_ties_per_gp": 4.0, "w_regional": 1.0,
                     "innovations": {"run_charts": {"threshold_mean": 0.6, "threshold_sd": 0.07,
                                                    "initial_share": 0.03}}}),
        ),
        what_to_do="Both settings give every GP four ties outside the practice, of equal "
                   "weight. In A they link pairs of partner practices, so two practices share "
                   "many ties; in B they go to random GPs anywhere in the region. The network "
                   "shows run charts, a demanding method: a GP takes it up only when a large "
                   "share of their contacts use it (this lesson seeds it in 3% of GPs so that it "
                   "moves). Run A for ten years, then B with the same seed. Switch the network "
                   "to PDSA and compare again.",
        look_for="Run charts reach more GPs in A: a practice whose partner practice uses the "
                 "method hears it from many ties at once. The random ties of B dilute it: each "
                 "GP hears it from one or two contacts among many who do not use it. The "
                 "structured methods (PDSA too) all need reinforcement from several peers, so "
                 "none of them gains from the random ties.",
        question="Why do random ties, which spread news quickly, strand a demanding method? What "
                 "does that suggest about spreading a demanding QI method: broadcast it widely, "
                 "or build it in clusters of practices that work closely?",
        expect={"genuine_run_charts": -1},
    ),
    Lesson(
        key="seductive",
        title="Seductive or dictatorial?",
        innovation="extended_access",
        settings=(
            Setting("A: seductive management (mode 0.1), pressure 0.6", "baseline",
                    {"management_mode": 0.1, "pressure_level": 0.6}),
            Setting("B: dictatorial management (mode 0.9), pressure 0.6", "baseline",
                    {"management_mode": 0.9, "pressure_level": 0.6}),
        ),
        what_to_do="Both settings apply the same pressure; they differ in how the centre uses "
                   "it: engagement and discourse (A) or targets and mandated compliance (B). "
                   "Run each for ten years with the same seed, watching the mandated "
                   "extended-access scheme.",
        look_for="In B many GPs adopt extended access shallowly (orange) and cynicism about "
                 "the leadership drive climbs. Watch the federation outlines too: a plan needs "
                 "engaged GPs as well as brokers, so see whether cynicism stops plans forming.",
        question="Dictatorial management buys compliance quickly. What does it cost, and who "
                 "pays? When would you accept that cost?",
        expect={"shallow_extended_access": +1, "cynicism": +1},
    ),
)

LESSONS_BY_KEY = {lesson.key: lesson for lesson in LESSONS}


def lesson(key: str) -> Lesson:
    if key not in LESSONS_BY_KEY:
        raise ParamError(f"lesson {key!r} is unknown; valid: {', '.join(LESSONS_BY_KEY)}")
    return LESSONS_BY_KEY[key]


@dataclass(frozen=True)
class LessonCheck:
    """What a lesson's two settings gave: mean outcomes over seeds, and which claims held."""

    lesson: str
    seeds: tuple[int, ...]
    a: dict[str, float]
    b: dict[str, float]
    held: dict[str, bool]

    @property
    def ok(self) -> bool:
        return all(self.held.values())


def check_lesson(item: Lesson, seeds=range(1, 4), claims: str = "expect") -> LessonCheck:
    """Run both settings of a lesson over ``seeds`` (the same seeds for A and B) and check that
    each claim in ``item.expect`` (or ``item.on_average``) has its sign in the mean over seeds."""
    seeds = tuple(seeds)
    expected = dict(getattr(item, claims))
    means = []
    for setting in item.settings:
        rows = [run(scenario=setting.scenario, months=item.months, seed=s, **dict(setting.params))
                .summary() for s in seeds]
        means.append({k: float(np.mean([r[k] for r in rows])) for k in expected})
    a, b = means
    held = {k: (b[k] - a[k]) * sign > 0 for k, sign in expected.items()}
    return LessonCheck(item.key, seeds, a, b, held)


# ---------------------------------------------------------------------------------------------
# the network: laid out once from the structure, redrawn by changing colours and sizes only
# ---------------------------------------------------------------------------------------------

COLOURS = {
    "genuine": "#1b9e77", "shallow": "#f0a202", "none": "#cfcfcf", "vacant": "#ffffff",
    "informal": "#1f1f1f", "formal": "#000000", "broker": "#7b2cbf", "plan": "#7b2cbf",
    "no_plan": "#9a9a9a", "practice": "#e4e4e4", "federation": "#f6f6fa", "trust": "#fbeeee",
    "federation_tie": "#5b7fa6", "regional_tie": "#8c8c8c",
}


def adoption_colours(state, k: int) -> np.ndarray:
    """Node colours for innovation k: genuine, shallow, not adopted, or a vacant post."""
    colour = np.full(state.n_gps, COLOURS["none"], dtype=object)
    colour[state.shallow[:, k]] = COLOURS["shallow"]
    colour[state.genuine[:, k]] = COLOURS["genuine"]
    colour[~state.active] = COLOURS["vacant"]
    return colour


ABBREVIATIONS = {"pdsa": "PDSA"}


def innovation_label(name: str) -> str:
    return ABBREVIATIONS.get(name, name.replace("_", " "))


class BlittedFigure:
    """A figure whose static part is drawn once and kept as pixels; each frame restores them,
    draws only the artists that change, and encodes a PNG (matplotlib's blitting pattern).

    Subclasses set ``self.figure`` (with an Agg canvas) and ``self.dynamic`` (artists drawn
    each frame, in order), and call :meth:`frame` with ``static_key`` (any value that changes
    when the static part must be redrawn, e.g. new axis limits)."""

    figure: Figure
    dynamic: list

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
        image.save(buffer, format="png", compress_level=1)  # fast: the page redraws every step
        return buffer.getvalue()


class NetworkDrawing(BlittedFigure):
    """The network of one model, laid out once. Static: federation and practice discs, ties,
    legend. Each frame: node colours (adoption), sizes (influence) and edges (informal
    leaders), formal-leader squares, broker rings, federation plans and the caption."""

    def __init__(self, model: PrimaryCareModel, size=(6.6, 4.6), dpi: int = 100):
        state = model.state
        self.layout = lay = network_layout(state.practice, state.practice_federation)
        self.figure = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(self.figure)
        ax = self.axes = self.figure.add_axes([0.01, 0.12, 0.98, 0.78])
        ax.set_axis_off()
        ax.set_aspect("equal")
        low = (lay.federation_xy - lay.federation_radius[:, None]).min(axis=0) - 0.5
        high = (lay.federation_xy + lay.federation_radius[:, None]).max(axis=0) + 1.5
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
        self.figure.legend(handles=legend_handles(), loc="lower center", ncol=4, fontsize=7.5,
                           frameon=False, handletextpad=0.3, columnspacing=1.0,
                           bbox_to_anchor=(0.5, 0.0))

        # drawn every frame, in this order
        self.plans = [ax.add_patch(Circle(centre, radius, facecolor="none", edgecolor=COLOURS["plan"],
                                          linewidth=1.8, zorder=2.5))
                      for centre, radius in zip(lay.federation_xy, lay.federation_radius)]
        self.labels = [ax.text(centre[0], centre[1] + radius, f"F{f + 1}", ha="center", va="bottom",
                               fontsize=7, color="#555555")
                       for f, (centre, radius) in enumerate(zip(lay.federation_xy, lay.federation_radius))]
        self.nodes = ax.scatter(lay.xy[:, 0], lay.xy[:, 1], s=self.node_diameter ** 2, zorder=3,
                                c=COLOURS["none"], edgecolors="white", linewidths=0.4)
        empty = np.empty((0, 2))
        self.formal = ax.scatter(empty[:, 0], empty[:, 1], marker="s", facecolors="none",
                                 edgecolors=COLOURS["formal"], linewidths=1.0, zorder=4)
        self.brokers = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none",
                                  edgecolors=COLOURS["broker"], linewidths=1.8, zorder=5)
        self.caption = self.figure.text(0.01, 0.985, "", ha="left", va="top", fontsize=9)
        self.dynamic = [*self.plans, self.nodes, self.formal, self.brokers, *self.labels, self.caption]

    def update(self, model: PrimaryCareModel, innovation: str) -> None:
        """Set colours, sizes and marks from the model's current state."""
        state, params = model.state, model.params
        k = params.innovation_index(innovation)
        informal = rules.informal_leaders(state, params)
        brokers = rules.brokers(state, params)
        bar = params.informal_bar if params.informal_bar > 0 else 1.0
        diameter = self.node_diameter * (0.8 + 0.6 * np.sqrt(np.minimum(state.influence / bar, 3.0)))
        diameter[~state.active] = self.node_diameter * 0.8
        self.nodes.set_facecolors(adoption_colours(state, k))
        self.nodes.set_sizes(diameter ** 2)
        self.nodes.set_edgecolors(np.where(informal, COLOURS["informal"],
                                           np.where(state.active, "white", COLOURS["no_plan"])))
        self.nodes.set_linewidths(np.where(informal, 1.3, 0.4))
        formal = state.formal & state.active
        self.formal.set_offsets(self.layout.xy[formal])
        self.formal.set_sizes((diameter[formal] + 0.35 * self.node_diameter) ** 2)
        self.brokers.set_offsets(self.layout.xy[brokers])
        self.brokers.set_sizes((diameter[brokers] + 0.9 * self.node_diameter) ** 2)
        trust = state.form == TRUST
        for f, (ring, label) in enumerate(zip(self.plans, self.labels)):
            ring.set_visible(bool(state.has_plan[f]))
            label.set_text(f"F{f + 1}" + (": plan" if state.has_plan[f] else "")
                           + (" (trust)" if trust[f] else ""))
        self.caption.set_text(caption(model, innovation))

    def png(self, model: PrimaryCareModel, innovation: str) -> bytes:
        self.update(model, innovation)
        trust = model.state.form == TRUST
        for patch, in_trust in zip(self.federations, trust):
            patch.set_facecolor(COLOURS["trust"] if in_trust else COLOURS["federation"])
        return self.frame(static_key=trust.tobytes())


def legend_handles() -> list:
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
# live plots: one figure per card, lines updated in place
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    title: str
    series: tuple[tuple[str, str], ...]  # (reporter, label)
    unit_range: bool = True  # y from 0 to 1; otherwise from 0 to a 1-2-5 ceiling of the data


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``value`` (axis tops that
    change rarely, so the cached axes are redrawn rarely)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value)


class SeriesDrawing(BlittedFigure):
    """Stacked panels of time series from the model's DataCollector. The axes (ticks, legends)
    are cached; each frame draws only the lines. The x axis spans the ten-year horizon (longer
    runs extend it by five years at a time); count axes grow in 1-2-5 steps."""

    def __init__(self, panels: tuple[Panel, ...], dashed: tuple[tuple[str, str], ...] = (),
                 size=(5.8, 4.0), dpi: int = 100):
        self.figure = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(self.figure)
        # fixed margins: a layout engine would re-solve the layout at every redraw
        self.figure.subplots_adjust(left=0.09, right=0.74, top=0.93, bottom=0.11, hspace=0.35)
        self.axes = self.figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        self.lines: list[list[tuple[str, Line2D]]] = []
        for ax, panel in zip(self.axes, panels):
            lines = [(column, ax.plot([], [], label=label, linewidth=1.4)[0]) for column, label in panel.series]
            if panel is panels[0]:
                colours = {column: line.get_color() for column, line in lines}
                for column, partner in dashed:  # same colour as the solid line of its innovation
                    lines.append((column, ax.plot([], [], linestyle="--", linewidth=1.2,
                                                  color=colours.get(partner))[0]))
            ax.set_title(panel.title, fontsize=9, loc="left")
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            ax.set_ylim(0.0, 1.0)
            ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
            self.lines.append(lines)
        self.panels = panels
        self.axes[-1].set_xlabel("month", fontsize=8)
        self.dynamic = [line for lines in self.lines for _, line in lines]

    def png(self, model: PrimaryCareModel) -> bytes:
        data = model.datacollector.model_vars
        months = np.asarray(data["month"], dtype=float)
        tops = []
        for ax, lines, panel in zip(self.axes, self.lines, self.panels):
            top = 0.0
            for column, line in lines:
                values = np.asarray(data[column], dtype=float)
                line.set_data(months, values)
                top = max(top, float(values.max()))
            tops.append(1.0 if panel.unit_range else nice_ceiling(1.1 * top))
            ax.set_ylim(0.0, tops[-1])
        horizon = 120.0 if months[-1] <= 120 else 60.0 * math.ceil(months[-1] / 60.0)
        self.axes[-1].set_xlim(0.0, horizon)
        return self.frame(static_key=(horizon, *tops))


def adoption_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    names = [i.name for i in model.params.innovations]
    mandated = [i.name for i in model.params.innovations if i.mandated]
    panel = Panel("Adoption by GPs (solid genuine, dashed shallow)",
                  tuple((f"genuine_{n}", innovation_label(n)) for n in names))
    return SeriesDrawing((panel,), dashed=tuple((f"shallow_{n}", f"genuine_{n}") for n in mandated))


def wellbeing_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    return SeriesDrawing((
        Panel("Autonomy, strain, cynicism, pressure (mean, 0-1)",
              (("autonomy", "autonomy"), ("strain", "strain"), ("cynicism", "cynicism"),
               ("pressure", "pressure"))),
        Panel("Quality of care (mean index)", (("quality", "quality"),), unit_range=False),
    ))


def leaders_drawing(model: PrimaryCareModel) -> SeriesDrawing:
    return SeriesDrawing((
        Panel("Leaders (GPs)", (("informal_leaders", "informal"), ("formal_leaders", "formal"),
                                ("brokers", "brokers")), unit_range=False),
        Panel("Federations with a plan; badge vs being", (("federations_with_plan", "with a plan"),
                                                          ("badge_being", "badge vs being"))),
    ))


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the page is set to: a scenario, or a lesson and one of its settings; and the seed."""

    scenario: str = "baseline"
    lesson: str | None = None
    setting: int = 0
    seed: int = 1
    serial: int = 0  # counts loads, so that loading the same preset again restarts it

    def current(self) -> Setting:
        if self.lesson is None:
            return Setting(f"scenario {self.scenario}", self.scenario)
        return lesson(self.lesson).settings[self.setting]


#: Page state, one value per browser session (Solara scopes module-level reactives to a session).
choice = solara.reactive(Choice())
shown = solara.reactive("pdsa")


def load(new: Choice, current_model: PrimaryCareModel | None) -> None:
    """Load a preset, keeping the seed of the model on the page (so A and B compare fairly)."""
    seed = current_model.seed if current_model is not None else new.seed
    choice.value = replace(new, seed=int(seed) if SEED_RANGE[0] <= seed <= SEED_RANGE[1] else 1,
                           serial=choice.value.serial + 1)
    if new.lesson is not None:
        shown.value = lesson(new.lesson).innovation


def shown_innovation(model: PrimaryCareModel) -> str:
    names = [i.name for i in model.params.innovations]
    return shown.value if shown.value in names else names[min(2, len(names) - 1)]


@solara.component
def NetworkCard(model):
    update_counter.get()
    drawing = solara.use_memo(lambda: NetworkDrawing(model), [model])
    with solara.Card(classes=["pcsim-card", "pcsim-figure"], margin=0) as card:
        solara.Image(drawing.png(model, shown_innovation(model)))
    return card


def _series_card(make, name: str):
    @solara.component
    def SeriesCard(model):
        update_counter.get()
        drawing = solara.use_memo(lambda: make(model), [model])
        with solara.Card(classes=["pcsim-card", "pcsim-figure"], margin=0) as card:
            solara.Image(drawing.png(model))
        return card

    SeriesCard.__name__ = SeriesCard.__qualname__ = name
    return SeriesCard


AdoptionCard = _series_card(adoption_drawing, "AdoptionCard")
WellbeingCard = _series_card(wellbeing_drawing, "WellbeingCard")
LeadersCard = _series_card(leaders_drawing, "LeadersCard")


def paragraphs(*items: tuple[str, str]) -> str:
    """HTML paragraphs with a bold lead-in each, from the page's own (escaped) text."""
    return "".join(f"<p><b>{html.escape(lead)}</b> {html.escape(text)}</p>" for lead, text in items)


HOW_TO = ("Press Step for one month or ▶ to play. Colours show who uses the innovation chosen in "
          "the sidebar; black squares are formal leaders, dark-edged dots informal leaders, "
          "purple rings brokers. Move a slider, then press Reset to rebuild the region with it. "
          "Pick a guided lesson in the sidebar to compare two settings.")


@solara.component
def LessonCard(model):
    c = choice.value
    with solara.Card(classes=["pcsim-card", "pcsim-lesson"], margin=0) as card:
        if c.lesson is None:
            solara.HTML(tag="h3", unsafe_innerHTML=f"Free play: scenario {html.escape(c.scenario)}")
            solara.HTML(tag="div", unsafe_innerHTML=paragraphs(
                ("The scenario.", scenario_files.load(c.scenario).description), ("How to use it.", HOW_TO)))
        else:
            item = lesson(c.lesson)
            solara.HTML(tag="h3", unsafe_innerHTML=html.escape(item.title))
            with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "margin": "6px 0"}):
                for i, setting in enumerate(item.settings):
                    solara.Button(setting.label, small=True, outlined=i != c.setting, color="primary",
                                  on_click=lambda i=i: load(replace(c, setting=i), model))
            solara.HTML(tag="div", unsafe_innerHTML=paragraphs(
                ("What to do.", item.what_to_do), ("What to look for.", item.look_for),
                ("To discuss.", item.question)))
    return card


NO_LESSON = "(free play)"


@solara.component
def PresetPicker(model: solara.Reactive):
    """The sidebar's first card: lesson and scenario pickers (each loads a preset into the
    sliders and the model), the innovation shown in the network, and what the running model is."""
    c = choice.value
    titles = {item.title: item.key for item in LESSONS}
    current = model.value
    update_counter.get()

    def pick_lesson(title: str):
        key = titles.get(title)
        item = lesson(key) if key else None
        load(Choice(scenario=item.settings[0].scenario if item else c.scenario, lesson=key), model.value)

    def pick_scenario(name: str):
        load(Choice(scenario=name), model.value)

    with solara.Card("Lesson", margin=0):
        solara.Select("Guided lesson", value=lesson(c.lesson).title if c.lesson else NO_LESSON,
                      values=[NO_LESSON, *titles], on_value=pick_lesson)
        solara.Select("Scenario", value=c.scenario, values=scenario_files.names(), on_value=pick_scenario)
        solara.Select("Innovation shown in the network", value=shown_innovation(current),
                      values=[i.name for i in current.params.innovations], on_value=shown.set)
        p = current.params
        solara.Text(f"Running: month {current.month}, seed {current.seed}; pressure "
                    f"{p.pressure_level:.2f}, autonomy {p.autonomy_base:.2f}, management "
                    f"{p.management_mode:.2f}, propensity {p.leadership_propensity:.2f}, drive "
                    f"{p.leadership_drive:.2f} by {p.leader_selection}; {p.n_practices} practices, "
                    f"{current.state.n_gps} GP posts. Sliders take effect when you press Reset.",
                    classes=["pcsim-running"])


CSS = """
.pcsim-card { height: 100%; display: flex; flex-direction: column; overflow: hidden; }
.pcsim-card > .v-card__text { flex: 1 1 auto; min-height: 0; padding: 6px; }
.pcsim-figure img { width: 100% !important; height: 100% !important; object-fit: contain; }
.pcsim-lesson > .v-card__text { overflow-y: auto; font-size: 0.92em; line-height: 1.35; }
.pcsim-lesson h3 { margin-bottom: 4px; }
.pcsim-lesson p { margin-bottom: 6px; }
.pcsim-running { display: block; font-size: 0.8em; color: #555; margin-top: 4px; }
/* slider labels on their own line, so long labels leave the slider its full width */
.v-navigation-drawer .v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-navigation-drawer .v-input__slider .v-label { flex: 1 0 100%; margin-bottom: 14px; }
/* every slider shows its value above the thumb (read from the slider's ARIA value) */
.v-slider__thumb-container[aria-valuenow]::after {
  content: attr(aria-valuenow); position: absolute; top: -20px; left: 0;
  transform: translateX(-50%); font-size: 11px; color: #333; white-space: nowrap;
}
"""

COMPONENTS = (NetworkCard, LessonCard, AdoptionCard, WellbeingCard, LeadersCard)


@solara.component
def Page():
    c = choice.value
    setting = c.current()
    model = solara.use_memo(lambda: build_model(setting, c.seed), [c])
    current = solara.use_reactive(model)  # SolaraViz's Reset replaces the model in here
    solara.Style(CSS)
    solara.Title("pcsim: leadership from below")
    with solara.Sidebar():
        PresetPicker(current)
    # keyed: a new preset remounts SolaraViz, so its sliders start from the preset's values
    SolaraViz(current, components=[(component, 0) for component in COMPONENTS],
              model_params=model_params(setting, c.seed), name="pcsim: leadership from below",
              play_interval=100).key(f"preset-{c.serial}")
