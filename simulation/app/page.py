"""The teaching page itself: the model as its controls build it, the Solara components, ``Page``.

The main area shows the network card, the lesson text and the three plot cards (drawings from
:mod:`.drawing`); the sidebar holds the lesson and scenario pickers (:mod:`.lessons`), the
page's own play / pause / step / reset controls (:func:`Controller`) and Mesa's sliders, whose
bounds come from :data:`simulation.params.SPECS`.

The population is the synthetic county (the lessons' setting) or a real sub-ICB or PCN of
England (:func:`PopulationPicker`, :data:`chosen_area`; ``pcsim app --area`` opens on one).

Settings are state: :data:`parameters` holds the keyword arguments of the model as the sidebar
shows them (every slider's value, the scenario and a setting's parameters that have no slider).
Loading a lesson's setting or a scenario writes its values there, moving a slider writes its
value there, and the controller's Reset builds the model from exactly that dict. Slider
changes take effect at Reset, as in every Mesa page.
"""

from __future__ import annotations

import functools
import html
import os
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

import reacton.ipyvuetify as rv
import solara
from mesa.visualization.solara_viz import ModelCreator, ShowSteps
from mesa.visualization.utils import force_update, update_counter

from .. import england, metrics
from .. import scenarios as scenario_files
from ..app_cli import AREA_ENV  # how `pcsim app --area` names the area, to the server
from ..model import PrimaryCareModel, build_params
from ..params import SPECS, Params, ParamError, PcsimInputError
from ..population import PRESETS
from .drawing import CARDS, LEGEND, PANELS, NetworkDrawing, innovation_label, series_drawing
from .lessons import LESSONS, Setting, lesson, robustness_note

# ---------------------------------------------------------------------------------------------
# the model as the page builds it
# ---------------------------------------------------------------------------------------------


#: The lessons' horizon: ten years. Play and "Run 10 years" stop there; the plots span it.
HORIZON = 120


class TeachingModel(PrimaryCareModel):
    """:class:`PrimaryCareModel` as the page's controls build it: the synthetic county, or with
    ``area`` (an ICB, sub-ICB or PCN code) that area of England (``scale="england"``).

    ``pcsim_scenario`` names the pcsim scenario (``scenario`` is taken: Mesa's ``Model`` has a
    ``scenario`` of its own, and SolaraViz's Reset passes a Mesa ``Scenario`` object under that
    name, which this class accepts and ignores). Every other keyword is a model parameter.

    The model stops at ``horizon`` months: a step there does nothing and ``running`` turns
    False; the page's Play and "Run 10 years" stop there. ``compare`` (compare mode) holds the
    keyword arguments of a second model, :attr:`partner`, built on the same seed and stepped in
    lockstep with this one. Steps are serialised by a lock, so a Step clicked while Play or
    "Run 10 years" is stepping can never step a model twice at once.
    """

    def __init__(self, pcsim_scenario: str = "baseline", rng: int = 1, scenario=None,
                 horizon: int = HORIZON, compare: Mapping[str, Any] | None = None,
                 area: str | None = None, **params):
        super().__init__(scenario=pcsim_scenario, scale="county" if area is None else "england",
                         area=area, rng=rng, **params)
        self.horizon = int(horizon)
        self._lock = threading.Lock()
        self.partner = (TeachingModel(**dict(compare), rng=rng, horizon=horizon)
                        if compare is not None else None)

    def step(self) -> None:
        with self._lock:
            if self.month < self.horizon:
                super().step()
                if self.partner is not None:
                    self.partner.step()
            self.running = self.month < self.horizon


#: The parameters with a control in the sidebar, in the order shown.
CONTROLLED = ("leadership_propensity", "leadership_drive", "leader_selection", "autonomy_base",
              "pressure_level", "seduction", "dictation", "n_practices")

LABELS = {
    "leadership_propensity": "Leadership propensity of GPs (mean, 0-1)",
    "leadership_drive": "Formal leadership drive (share of GPs)",
    "leader_selection": "How the drive chooses formal leaders",
    "autonomy_base": "Autonomy (salaried GP, no pressure)",
    "pressure_level": "Performance pressure (0-1)",
    "seduction": "Seductive management: engagement, co-option (0-1)",
    "dictation": "Dictatorial management: targets, mandates (0-1)",
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


def controlled(area: str | None = None) -> tuple[str, ...]:
    """The parameters with a slider: on a real area, all but the number of practices (the
    data give the practices)."""
    return CONTROLLED if area is None else tuple(n for n in CONTROLLED if n != "n_practices")


def setting_parameters(setting: Setting, seed: int, area: str | None = None) -> dict:
    """The model's keyword arguments for a setting and a seed: the scenario, the setting's
    parameters that have no slider (as the setting names them), every slider's value; on a
    real ``area`` (a code), the area, and the sliders' values as the setting makes them there."""
    if area is None:
        values = build_params(setting.scenario, "county", **setting.params)
    else:
        values = build_params(setting.scenario, "england", area=area,
                              **{k: v for k, v in setting.params.items() if k != "n_practices"})
    return {"pcsim_scenario": setting.scenario,
            **{k: v for k, v in setting.params.items() if k not in CONTROLLED},
            **{name: getattr(values, name) for name in controlled(area)},
            **({} if area is None else {"area": area}),
            "rng": int(seed)}


def model_params(parameters: Mapping[str, Any]) -> dict:
    """Mesa's ``model_params`` for the model's keyword arguments ``parameters``: the controlled
    parameters and the seed as inputs showing their values, every other one fixed."""
    fixed = {k: v for k, v in parameters.items() if k not in CONTROLLED and k != "rng"}
    inputs = {name: control(name, parameters[name]) for name in controlled(parameters.get("area"))}
    inputs["rng"] = {"type": "SliderInt", "label": "Seed (same seed, same run)",
                     "value": int(parameters["rng"]), "min": SEED_RANGE[0], "max": SEED_RANGE[1],
                     "step": 1}
    return {**fixed, **inputs}


def build_model(setting: Setting, seed: int) -> TeachingModel:
    """The model a setting starts from (what Reset builds with untouched sliders)."""
    return TeachingModel(**setting_parameters(setting, seed))


def flat(params: Params) -> dict[str, Any]:
    """Every parameter by name, table cells dotted (``innovations.pdsa.threshold_mean``)."""
    out = params.scalars()
    for table, rows in params.to_dict().items():
        if isinstance(rows, dict):
            for row, cells in rows.items():
                out.update({f"{table}.{row}.{column}": value for column, value in cells.items()})
    return out


@functools.cache
def _baseline(area: str | None = None) -> dict[str, Any]:
    if area is None:
        return flat(build_params("baseline", "county"))
    return flat(build_params("baseline", "england", area=area))


def differences(params: Params, skip=CONTROLLED, area: str | None = None) -> list[str]:
    """``name value`` for every parameter (but those in ``skip``) that differs from the
    baseline scenario at county scale (or on the real ``area``, a code), in declaration order."""
    base = _baseline(area)
    return [f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
            for name, value in flat(params).items() if name not in skip and value != base[name]]


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the page has loaded: a scenario, or a lesson and one of its settings, or (compare)
    both settings of the lesson side by side."""

    scenario: str = "baseline"
    lesson: str | None = None
    setting: int = 0
    serial: int = 0  # counts loads, so that loading the same preset again restarts it
    compare: bool = False

    def current(self) -> Setting:
        """The setting the sliders show (in compare mode: A)."""
        if self.lesson is None:
            return Setting(f"scenario {self.scenario}", self.scenario)
        return lesson(self.lesson).settings[0 if self.compare else self.setting]


def choice_parameters(c: Choice, seed: int, area: str | None = None) -> dict:
    """The model's keyword arguments for what ``c`` loads (on the real ``area``, a code, if
    given); in compare mode with setting B's under ``compare`` (its seed is the model's own, so
    both sides share it)."""
    out = setting_parameters(c.current(), seed, area)
    if c.compare and c.lesson is not None:
        b = setting_parameters(lesson(c.lesson).settings[1], seed, area)
        del b["rng"]
        out["compare"] = b
    return out


DEFAULT_SEED = 1

#: The largest area the page offers, in GP posts: a sub-ICB of this size builds, steps and
#: redraws within the county's time (about 10-20 ms a month with its drawing).
AREA_MAX_GPS = 1000
COUNTY_LABEL = "Synthetic county (the lessons' setting)"


@functools.cache
def area_labels() -> dict[str, str]:
    """The areas the page offers, by code: every sub-ICB and PCN of at most
    :data:`AREA_MAX_GPS` GP posts, labelled with their name, level, code and size."""
    table = england.steppable_areas(AREA_MAX_GPS)
    return {r.code: f"{england.Area(r.level, r.code, r.name, r.icb_code).label()}: "
                    f"{r.practices} practices, {r.gps} GPs" for r in table.itertuples()}


def offered_area(text: str) -> str:
    """The code of the area ``text`` names (:func:`simulation.england.find_area`), if the page
    offers it; refused otherwise, naming the offered areas within it."""
    found = england.find_area(text)
    if found.code in area_labels():
        return found.code
    table = england.steppable_areas(AREA_MAX_GPS)
    inside = table[table.icb_code == found.icb_code] if found.level == "icb" else table.iloc[:0]
    hint = ("; within it: " + "; ".join(f"{r.level} {r.code} {r.name}" for r in inside.head(5).itertuples())
            if not inside.empty else "")
    raise PcsimInputError(
        f"area = {text!r} ({found.label()}) is not allowed on the teaching page: it offers sub-ICBs "
        f"and PCNs of at most {AREA_MAX_GPS:,} GP posts, to step quickly{hint} "
        "(see `pcsim areas --level sub-icb`)")


def _area_from_environment() -> str | None:
    text = os.environ.get(AREA_ENV, "").strip()
    return offered_area(text) if text else None


#: Page state, one value per browser session (Solara scopes module-level reactives to a session).
choice = solara.reactive(Choice())
#: The population: None for the synthetic county, or the code of a real area of England.
chosen_area = solara.reactive(_area_from_environment())
#: The model's keyword arguments as the sidebar shows them: what Reset builds the model from.
#: Mesa's ModelCreator writes a moved slider's value here, the controller's Reset reads it.
parameters = solara.reactive(setting_parameters(Choice().current(), DEFAULT_SEED, chosen_area.value))
shown = solara.reactive("pdsa")
#: Whether Mesa's developer controls (play and render intervals, time) are shown.
advanced = solara.reactive(False)
#: What the controller is running (a :class:`Going`: the model, played or run to its horizon),
#: or None. It names the model, so loading another stops it and leaves the new one still.
going = solara.reactive(None)


def load(new: Choice, current_model: PrimaryCareModel | None) -> None:
    """Load a preset: write its values into :data:`parameters` (the sliders show them, Reset
    builds from them), keeping the seed of the model on the page (so A and B compare fairly);
    the page then builds the new model from them."""
    seed = current_model.seed if current_model is not None else DEFAULT_SEED
    seed = int(seed) if SEED_RANGE[0] <= seed <= SEED_RANGE[1] else DEFAULT_SEED
    parameters.value = choice_parameters(new, seed, chosen_area.value)
    choice.value = replace(new, serial=choice.value.serial + 1)
    if new.lesson is not None:
        shown.value = lesson(new.lesson).innovation


def shown_innovation(model: PrimaryCareModel) -> str:
    names = [i.name for i in model.params.innovations]
    return shown.value if shown.value in names else names[min(2, len(names) - 1)]


# ---------------------------------------------------------------------------------------------
# what the page says in words: key figures, the difference between A and B
# ---------------------------------------------------------------------------------------------


def current_value(model: PrimaryCareModel, name: str) -> float:
    """An outcome of ``model`` at its current month: a reporter's value, or for a run total
    (``leavers_total``) the sum of its flow over months 1 to now, as a run's summary sums it."""
    o = metrics.outcome(name, model.params)
    if o.total_of is not None:
        return float(sum(model.datacollector.model_vars[o.total_of][1:]))
    return float(model.observation[name])


#: The figures shown under each network, by outcome name (all from the model, each month).
KEY_FIGURES = ("informal_leaders", "formal_leaders", "brokers", "federations_with_plan",
               "badge_being", "leavers_total", "vacancies")


def shown_value(model: PrimaryCareModel, name: str) -> str:
    o = metrics.outcome(name, model.params)
    value = current_value(model, name)
    if o.kind == "share":
        return f"{value:.0%}"
    if o.kind == "count":
        return f"{value:.0f}"
    return f"{value:.2f}"


def key_figures(model: PrimaryCareModel) -> list[tuple[str, str]]:
    """(label, value) for the key figures of ``model`` now, the innovation shown first."""
    name = shown_innovation(model)
    label = innovation_label(name)
    out = [("month", f"{model.month}"),
           (f"{label}: genuine", shown_value(model, f"genuine_{name}")),
           (f"{label}: shallow", shown_value(model, f"shallow_{name}"))]
    short = {"federations_with_plan": "federations with a plan", "badge_being": "badge vs being",
             "leavers_total": "GPs who left", "vacancies": "vacant posts"}
    return out + [(short.get(k, metrics.outcome(k).short), shown_value(model, k)) for k in KEY_FIGURES]


def figures_html(model: PrimaryCareModel) -> str:
    return "".join(f'<span class="pcsim-figure-item"><b>{html.escape(value)}</b> {html.escape(label)}</span>'
                   for label, value in key_figures(model))


def difference(a: PrimaryCareModel, b: PrimaryCareModel, name: str) -> str:
    """One sentence: how B differs from A in outcome ``name`` at the current month, from the
    values as the page shows them (so the difference is the difference of the shown numbers)."""
    o = metrics.outcome(name, a.params)
    both = f"(A {shown_value(a, name)}, B {shown_value(b, name)})"
    if o.kind == "count":
        d = round(current_value(b, name)) - round(current_value(a, name))
        if d == 0:
            return f"A and B have the same number of {o.short} {both}."
        what = o.short if name != "leavers_total" else "GPs who left"
        return f"B has {abs(d)} {'more' if d > 0 else 'fewer'} {what} than A {both}."
    if o.kind == "share":
        d = round(100 * current_value(b, name)) - round(100 * current_value(a, name))
        size = f"{abs(d)} percentage points"
    else:
        d = round(current_value(b, name), 2) - round(current_value(a, name), 2)
        size = f"{abs(d):.2f}"
    if round(d, 2) == 0:
        return f"{o.label}: about the same in A and B {both}."
    return f"{o.label}: {size} {'higher' if d > 0 else 'lower'} in B than in A {both}."


def key_outcomes(c: Choice) -> list[str]:
    """The outcomes a lesson's text is about: its claims, every run's first."""
    if c.lesson is None:
        return []
    item = lesson(c.lesson)
    return [*item.expect, *item.on_average]


def compare_text(model: TeachingModel, c: Choice) -> list[str]:
    """The difference between B and A at the current month, in words, one sentence per key
    outcome of the lesson."""
    return [difference(model, model.partner, name) for name in key_outcomes(c)]


def key_card(c: Choice) -> str:
    """The plot card that shows most of a lesson's every-run claims (then most of its
    on-average ones): compare mode shows that one for each side."""
    item = lesson(c.lesson)

    def shows(card: str, keys) -> int:
        reporters = {r.replace("{innovation}", "") for p in PANELS if p.card == card
                     for r, _ in (*p.series, *p.dashed)}
        return sum(any(k == r or (r.endswith("_") and k.startswith(r)) for r in reporters) for k in keys)

    return max(CARDS, key=lambda card: (shows(card, item.expect), shows(card, item.on_average)))


# ---------------------------------------------------------------------------------------------
# the components
# ---------------------------------------------------------------------------------------------


def legend_html() -> str:
    return "".join(f'<span class="pcsim-key"><i class="pcsim-key-{symbol}"></i>{html.escape(label)}</span>'
                   for symbol, label in LEGEND)


@solara.component
def NetworkView(model, title: str | None = None, tick: int = 0):
    """One network with its key figures underneath (and a title in compare mode). ``tick``
    (Mesa's update counter, read once by :func:`MainView`) makes it redraw after a step."""
    drawing = solara.use_memo(lambda: NetworkDrawing(model), [model])
    with solara.Card(classes=["pcsim-card", "pcsim-network"], margin=0) as card:
        if title:
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(title), classes=["pcsim-side"])
        with solara.Div(classes=["pcsim-figure"]):
            solara.Image(drawing.png(model, shown_innovation(model)), format=drawing.image_format)
        solara.HTML(tag="div", unsafe_innerHTML=figures_html(model), classes=["pcsim-figures"])
    return card


@solara.component
def NetworkCard(model, tick: int = 0):
    """The network of the model on the page, with the legend."""
    with solara.Column(gap="6px") as column:
        NetworkView(model, tick=tick)
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(), classes=["pcsim-legend"])
    return column


def series_legend_html(entries) -> str:
    return "".join(f'<span class="pcsim-key"><i class="pcsim-line" style="background:{colour}"></i>'
                   f"{html.escape(label)}</span>" for label, colour, _ in entries)


@solara.component
def SeriesCard(model, card: str, others: tuple = (), title: str | None = None, tick: int = 0):
    """A plot card: its panels for ``model`` (y axes shared with ``others``) and their legend."""
    drawing = solara.use_memo(lambda: series_drawing(model, card), [model, card])
    with solara.Card(classes=["pcsim-card", "pcsim-plot"], margin=0) as out:
        if title:
            solara.HTML(tag="div", unsafe_innerHTML=html.escape(title), classes=["pcsim-side"])
        with solara.Div(classes=["pcsim-figure"]):
            solara.Image(drawing.png(model, others))
        legend = series_legend_html(drawing.legend())
        if card == "adoption":
            legend += '<span class="pcsim-key">dashed: shallow (mandated methods)</span>'
        solara.HTML(tag="div", unsafe_innerHTML=legend, classes=["pcsim-legend"])
    return out


def _series_card(card: str, name: str):
    @solara.component
    def Card(model):
        return SeriesCard(model, card)

    Card.__name__ = Card.__qualname__ = name
    return Card


AdoptionCard = _series_card("adoption", "AdoptionCard")
WellbeingCard = _series_card("wellbeing", "WellbeingCard")
LeadersCard = _series_card("leaders", "LeadersCard")


def paragraphs(*items: tuple[str, str]) -> str:
    """HTML paragraphs with a bold lead-in each, from the page's own (escaped) text."""
    return "".join(f"<p><b>{html.escape(lead)}</b> {html.escape(text)}</p>" for lead, text in items)


HOW_TO = ("Press Step for one month, ▶ to play or Run 10 years. Colours show who uses the "
          "innovation chosen in the sidebar; black squares are formal leaders, dark-edged dots "
          "informal leaders, purple rings brokers, white dots vacant posts. Move a slider, then "
          "press Reset to rebuild the region with it. Pick a guided lesson in the sidebar to "
          "compare two settings.")

COMPARE_LABEL = "Compare A and B side by side"


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
            AreaNote(model)
            with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "margin": "6px 0"}):
                for i, setting in enumerate(item.settings):
                    solara.Button(setting.label, small=True, outlined=c.compare or i != c.setting,
                                  color="primary",
                                  on_click=lambda i=i: load(replace(c, setting=i, compare=False), model))
                solara.Button(COMPARE_LABEL, small=True, outlined=not c.compare, color="primary",
                              on_click=lambda: load(replace(c, compare=True), model))
            solara.HTML(tag="div", unsafe_innerHTML=paragraphs(
                ("What to do.", item.what_to_do), ("What to look for.", item.look_for),
                *([("How robust.", robustness_note(item))] if robustness_note(item) else []),
                ("To discuss.", item.question)))
    return card


@solara.component
def CompareText(model, tick: int = 0):
    sentences = compare_text(model, choice.value)
    with solara.Card(classes=["pcsim-card", "pcsim-compare"], margin=0) as card:
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>Month {model.month}, seed {model.seed}: B against A.</b> "
            + " ".join(html.escape(s) for s in sentences)))
    return card


@solara.component
def SingleView(model, tick: int = 0):
    """One model: the network beside the lesson, the three plot cards underneath."""
    with solara.Column(gap="0px") as column:
        with solara.ColumnsResponsive(12, medium=[12, 12], large=[8, 4], xlarge=[8, 4], gutters_dense=True):
            NetworkCard(model, tick)
            LessonCard(model)
        with solara.ColumnsResponsive(12, medium=[6, 6, 6], large=4, gutters_dense=True):
            for card in CARDS:
                SeriesCard(model, card, tick=tick)
    return column


@solara.component
def CompareView(model, tick: int = 0):
    """Compare mode: A and B side by side, networks and the lesson's key plot, the difference
    in words, then the lesson."""
    c = choice.value
    item = lesson(c.lesson)
    card = key_card(c)
    with solara.Column(gap="6px") as column:
        CompareText(model, tick)
        with solara.ColumnsResponsive(6, gutters_dense=True):
            NetworkView(model, item.settings[0].label, tick)
            NetworkView(model.partner, item.settings[1].label, tick)
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(), classes=["pcsim-legend"])
        with solara.ColumnsResponsive(6, gutters_dense=True):
            SeriesCard(model, card, (model.partner,), "A", tick)
            SeriesCard(model.partner, card, (model,), "B", tick)
        LessonCard(model)
    return column


@solara.component
def MainView(model, tick: int = 0):
    """The main area: in compare mode A and B side by side, otherwise the one model."""
    if getattr(model, "partner", None) is not None and choice.value.lesson is not None:
        CompareView(model, tick)
    else:
        SingleView(model, tick)


NO_LESSON = "(free play)"


def area_note(model: PrimaryCareModel) -> str | None:
    """What a lesson's card says when the model runs on a real area: its figures are the
    county's."""
    if getattr(model, "area", None) is None:
        return None
    return (f"This lesson's figures were checked on the synthetic county; here it runs on "
            f"{model.area.label()}, where what it describes may show more weakly, or not at all: "
            "a question for the class.")


@solara.component
def AreaNote(model):
    text = area_note(model)
    if text is not None:
        solara.HTML(tag="p", unsafe_innerHTML=f"<i>{html.escape(text)}</i>", classes=["pcsim-area-note"])


@solara.component
def PopulationPicker(model: solara.Reactive):
    """The sidebar's population card: the synthetic county (the lessons' setting) or a real
    area of England, searchable by name or code. Choosing one loads what the page has loaded
    (lesson or scenario) on it; Reset keeps it."""
    labels = area_labels()
    items = _population_items()
    code = chosen_area.value
    current = COUNTY_LABEL if code is None else labels[code]

    def pick(label):
        if not label or label == current:  # cleared, or chosen again
            return
        chosen_area.value = None if label == COUNTY_LABEL else _codes_by_label()[label]
        load(choice.value, model.value)

    with solara.Card("Population", margin=0):
        # Vuetify's autocomplete: a select whose box filters the list as one types
        rv.Autocomplete(label="County, or type an English area", v_model=current,
                        on_v_model=pick, items=items, hide_details=True,
                        no_data_text="No sub-ICB or PCN of that name",
                        class_="pcsim-population")


@functools.cache
def _population_items() -> list[str]:
    return [COUNTY_LABEL, *area_labels().values()]


@functools.cache
def _codes_by_label() -> dict[str, str]:
    return {label: code for code, label in area_labels().items()}


@solara.component
def PresetPicker(model: solara.Reactive, tick: int = 0):
    """The sidebar's first card: lesson and scenario pickers (each loads a preset into the
    sliders and the model), the innovation shown in the network, and what the running model is."""
    c = choice.value
    titles = {item.title: item.key for item in LESSONS}
    current = model.value

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
        solara.Text(running_text(current), classes=["pcsim-running"])


def running_text(model: PrimaryCareModel) -> str:
    """What the model on the page is: its month and seed, the sliders' parameters, and every
    other parameter that differs from the baseline (a scenario's, a lesson setting's); in
    compare mode, also what B changes."""
    p = model.params
    area = model.area.code if getattr(model, "area", None) is not None else None
    others = differences(p, area=area)
    partner = getattr(model, "partner", None)
    return (f"Running: month {model.month}, seed {model.seed}, scenario {model.scenario_name}; "
            f"pressure {p.pressure_level:.2f}, autonomy {p.autonomy_base:.2f}, seduction "
            f"{p.seduction:.2f}, dictation {p.dictation:.2f}, propensity "
            f"{p.leadership_propensity:.2f}, drive {p.leadership_drive:.2f} by {p.leader_selection}; "
            f"{p.n_practices} practices, {model.state.n_gps} GP posts "
            + (f"of {model.area.label()}; " if getattr(model, "area", None) is not None
               else "in the synthetic county; ")
            + (f"other changes from the baseline: {', '.join(others)}." if others
               else "nothing else differs from the baseline.")
            + (f" Compared with B (same seed): {', '.join(differences(partner.params, skip=(), area=area)) or 'the baseline'}."
               if partner is not None else "")
            + " Sliders take effect when you press Reset"
            + (" (in compare mode they change A)." if partner is not None else "."))


CSS = """
.pcsim-card { display: flex; flex-direction: column; }
.pcsim-card > .v-card__text, .pcsim-card { padding: 6px; }
.pcsim-figure img { width: 100% !important; height: auto !important; display: block; }
.pcsim-lesson { font-size: 16px; line-height: 1.4; }
.pcsim-lesson h3 { margin-bottom: 4px; font-size: 20px; }
.pcsim-lesson p { margin-bottom: 8px; }
.pcsim-lesson .v-btn.v-size--small { font-size: 14px; height: auto; min-height: 30px; white-space: normal;
  text-transform: none; letter-spacing: 0; padding: 4px 8px; }
.pcsim-lesson .v-btn__content { white-space: normal; flex: 1 1 auto; }
.pcsim-side { font-size: 16px; font-weight: bold; margin: 2px 4px; }
.pcsim-figures { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 15px; margin: 4px; }
.pcsim-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 15px; margin: 4px; }
.pcsim-compare { font-size: 17px; line-height: 1.45; }
.pcsim-key { white-space: nowrap; display: inline-flex; align-items: center; }
.pcsim-key i { display: inline-block; width: 14px; height: 14px; margin-right: 5px; box-sizing: border-box; }
.pcsim-key-genuine { background: #1b9e77; border-radius: 50%; }
.pcsim-key-shallow { background: #f0a202; border-radius: 50%; }
.pcsim-key-none { background: #cfcfcf; border-radius: 50%; }
.pcsim-key-vacant { background: #fff; border: 1.5px solid #9a9a9a; border-radius: 50%; }
.pcsim-key-informal { background: #cfcfcf; border: 2px solid #1f1f1f; border-radius: 50%; width: 17px !important; height: 17px !important; }
.pcsim-key-formal { border: 2px solid #000; }
.pcsim-key-broker { border: 2.5px solid #7b2cbf; border-radius: 50%; width: 18px !important; height: 18px !important; }
.pcsim-key-plan { height: 3px !important; width: 20px !important; background: #7b2cbf; }
.pcsim-key-trust { background: #fbeeee; border: 1px solid #d8a0a0; border-radius: 50%; }
.pcsim-line { height: 3px !important; width: 20px !important; }
/* a narrower sidebar than Solara's 400 px, so that the network gets half of a 1400 px screen */
.v-navigation-drawer.solara-content-main { min-width: 280px !important; width: 280px !important; }
.v-navigation-drawer .v-card .v-btn { min-width: 0 !important; padding: 0 14px !important; }
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


NAME = "pcsim: leadership from below"
#: Months stepped between two redraws by "Run 10 years" (the plots still show every month).
MONTHS_PER_FRAME = 3


@dataclass(frozen=True, eq=False)
class Going:
    """What the page's controller is running: ``model`` played month by month (``mode``
    "play", the ▶ button) or run to its horizon (``mode`` "horizon", "Run 10 years")."""

    model: PrimaryCareModel
    mode: str


def is_going(model: PrimaryCareModel, mode: str | None = None) -> bool:
    """Whether the controller is running ``model`` (in ``mode``, if given). The state names the
    model it runs, so a newly loaded model is never playing, with no state to reset."""
    g = going.value
    return g is not None and g.model is model and (mode is None or g.mode == mode)


@solara.component
def Controller(model: solara.Reactive, interval: solara.Reactive, render_interval: solara.Reactive,
               tick: int = 0, months_per_frame: int = MONTHS_PER_FRAME):
    """The page's own controller: Reset, ▶ / ❚❚, Step and "Run 10 years".

    Reset builds the model from exactly :data:`parameters` (what the sliders show); Step steps
    one month; ▶ steps ``render_interval`` months every ``interval`` ms, "Run 10 years"
    ``months_per_frame`` months at a time with no pause, each redrawing after its months, until
    paused or the horizon (pressed again, either stops). Compare mode steps both sides: the
    model steps its partner. At the horizon every button but Reset is disabled.

    Its state is :data:`going`, which names the model it runs, and the model's own month: the
    component stays mounted across loads (Mesa's ModelController keeps "playing" and "running"
    as state of its own, which a newly loaded model inherits, so the page used to mount fresh
    controls on each load, and a click in that moment could be lost). ``tick`` (Mesa's update
    counter) redraws it after a step.
    """
    error = solara.use_reactive(None)
    m = model.value

    def run():
        g = going.value
        if g is None:
            return
        months, pause = ((render_interval.value, interval.value / 1000) if g.mode == "play"
                         else (months_per_frame, 0))
        while True:
            if pause:
                time.sleep(pause)
            # checked after the pause: a pause, Reset or load while waiting steps nothing more
            if not (going.value is g and model.value is g.model and g.model.month < g.model.horizon):
                break
            for _ in range(max(1, int(months))):
                g.model.step()
            force_update()
        if going.value is g:
            going.value = None

    solara.lab.use_task(run, dependencies=[going.value], prefer_threaded=True)

    def reset():
        going.value = None
        try:
            model.value = TeachingModel(**parameters.value)
            error.value = None
        except (ParamError, PcsimInputError) as e:
            error.value = str(e)

    def step():
        model.value.step()
        force_update()

    def toggle(mode: str):
        going.value = None if is_going(model.value, mode) else Going(model.value, mode)

    at_horizon = m.month >= m.horizon
    playing, to_horizon = is_going(m, "play"), is_going(m, "horizon")
    with solara.Column(gap="0px") as column:
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button("❚❚" if playing else "▶", color="primary", disabled=at_horizon,
                          on_click=lambda: toggle("play"))
            solara.Button("Step", color="primary", disabled=at_horizon or is_going(m),
                          on_click=step)
        solara.Button("Stop" if to_horizon else f"Run {m.horizon // 12} years", color="primary",
                      block=True, disabled=at_horizon, on_click=lambda: toggle("horizon"),
                      style={"margin-top": "8px"})
        if error.value:
            solara.Error(error.value)
    return column


@solara.component
def TeachingViz(model: solara.Reactive, name: str = NAME, play_interval: int = 100, tick: int = 0):
    """Mesa's SolaraViz page, laid out for a class: the page's own :func:`Controller`, Mesa's
    ModelCreator for the sliders with the page's :data:`parameters` as the model parameters,
    and Mesa's developer controls (play and render intervals, the time card) behind an
    "Advanced" switch. SolaraViz keeps the parameters in a state of its own that nothing
    outside can write, and its ModelCreator fills it only when first mounted, so a preset
    loaded later would show in the sliders but not reach Reset; here loading a preset writes
    the dict Reset reads. ``tick`` (Mesa's update counter) redraws the controller after a step.
    The main area is :func:`MainView`, beside it in :func:`Page`.
    """
    interval = solara.use_reactive(play_interval)
    render_interval = solara.use_reactive(1)
    with solara.AppBar():
        solara.AppBarTitle(name)
        solara.lab.ThemeToggle()
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            Controller(model, interval, render_interval, tick)
            solara.Switch(label="Advanced", value=advanced)
            if advanced.value:
                solara.SliderInt(label="Play Interval (ms)", value=interval, min=1, max=500, step=10)
                solara.SliderInt(label="Render Interval (steps)", value=render_interval, min=1,
                                 max=100, step=2)
                ShowSteps(model.value)
        with solara.Card("Model Parameters"):
            ModelCreator(model, model_params(parameters.value), model_parameters=parameters)


@solara.component
def Page():
    c = choice.value
    # Mesa's update counter (a step happened), read here alone and handed down as an argument:
    # every reader of the counter is notified on its own, and each notification costs reacton a
    # pass over the whole page (one reader instead of seven: a Step in compare mode went from
    # 152 to 87 ms on the server, rendered headless)
    tick = update_counter.get()
    # a new model when a preset is loaded; Reset replaces it in `current`
    model = solara.use_memo(lambda: TeachingModel(**parameters.value), [c.serial])
    current = solara.use_reactive(model)
    with solara.Column(gap="0px") as column:  # no gaps around the elements that show nothing here
        solara.Style(CSS)
        solara.Title(NAME)
        with solara.Sidebar():
            PresetPicker(current, tick)
            PopulationPicker(current)
        TeachingViz(current, tick=tick)
        MainView(current.value, tick)
    return column
