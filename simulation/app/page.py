"""The teaching page itself: the model as its controls build it, the Solara components, ``Page``.

The main area shows the network card, the lesson text and the three plot cards (drawings from
:mod:`.drawing`); the sidebar holds the lesson and scenario pickers (:mod:`.lessons`), Mesa's
play / pause / step / reset controls and the sliders, whose bounds come from
:data:`simulation.params.SPECS`.

Settings are state: :data:`parameters` holds the keyword arguments of the model as the sidebar
shows them (every slider's value, the scenario and a setting's parameters that have no slider).
Loading a lesson's setting or a scenario writes its values there, moving a slider writes its
value there, and Mesa's Reset builds the model from exactly that dict. Slider changes take
effect at Reset, as in every Mesa page.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass, replace
from typing import Any, Mapping

import solara
from mesa.visualization.solara_viz import ComponentsView, ModelController, ModelCreator, ShowSteps
from mesa.visualization.utils import update_counter

from .. import scenarios as scenario_files
from ..model import PrimaryCareModel, build_params
from ..params import SPECS, Params, ParamError
from ..population import PRESETS
from .drawing import NetworkDrawing, series_drawing
from .lessons import LESSONS, Setting, lesson

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


def setting_parameters(setting: Setting, seed: int) -> dict:
    """The model's keyword arguments for a setting and a seed: the scenario, the setting's
    parameters that have no slider (as the setting names them), every slider's value."""
    values = build_params(setting.scenario, "county", **setting.params)
    return {"pcsim_scenario": setting.scenario,
            **{k: v for k, v in setting.params.items() if k not in CONTROLLED},
            **{name: getattr(values, name) for name in CONTROLLED},
            "rng": int(seed)}


def model_params(parameters: Mapping[str, Any]) -> dict:
    """Mesa's ``model_params`` for the model's keyword arguments ``parameters``: the controlled
    parameters and the seed as inputs showing their values, every other one fixed."""
    fixed = {k: v for k, v in parameters.items() if k not in CONTROLLED and k != "rng"}
    inputs = {name: control(name, parameters[name]) for name in CONTROLLED}
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
def _baseline() -> dict[str, Any]:
    return flat(build_params("baseline", "county"))


def differences(params: Params, skip=CONTROLLED) -> list[str]:
    """``name value`` for every parameter (but those in ``skip``) that differs from the
    baseline scenario at county scale, in declaration order."""
    base = _baseline()
    return [f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
            for name, value in flat(params).items() if name not in skip and value != base[name]]


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the page has loaded: a scenario, or a lesson and one of its settings."""

    scenario: str = "baseline"
    lesson: str | None = None
    setting: int = 0
    serial: int = 0  # counts loads, so that loading the same preset again restarts it

    def current(self) -> Setting:
        if self.lesson is None:
            return Setting(f"scenario {self.scenario}", self.scenario)
        return lesson(self.lesson).settings[self.setting]


DEFAULT_SEED = 1

#: Page state, one value per browser session (Solara scopes module-level reactives to a session).
choice = solara.reactive(Choice())
#: The model's keyword arguments as the sidebar shows them: what Reset builds the model from.
#: Mesa's ModelCreator writes a moved slider's value here, ModelController's Reset reads it.
parameters = solara.reactive(setting_parameters(Choice().current(), DEFAULT_SEED))
shown = solara.reactive("pdsa")


def load(new: Choice, current_model: PrimaryCareModel | None) -> None:
    """Load a preset: write its values into :data:`parameters` (the sliders show them, Reset
    builds from them), keeping the seed of the model on the page (so A and B compare fairly);
    the page then builds the new model from them."""
    seed = current_model.seed if current_model is not None else DEFAULT_SEED
    seed = int(seed) if SEED_RANGE[0] <= seed <= SEED_RANGE[1] else DEFAULT_SEED
    parameters.value = setting_parameters(new.current(), seed)
    choice.value = replace(new, serial=choice.value.serial + 1)
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


def _series_card(plots: str, name: str):
    @solara.component
    def SeriesCard(model):
        update_counter.get()
        drawing = solara.use_memo(lambda: series_drawing(model, plots), [model])
        with solara.Card(classes=["pcsim-card", "pcsim-figure"], margin=0) as card:
            solara.Image(drawing.png(model))
        return card

    SeriesCard.__name__ = SeriesCard.__qualname__ = name
    return SeriesCard


AdoptionCard = _series_card("adoption", "AdoptionCard")
WellbeingCard = _series_card("wellbeing", "WellbeingCard")
LeadersCard = _series_card("leaders", "LeadersCard")


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
        solara.Text(running_text(current), classes=["pcsim-running"])


def running_text(model: PrimaryCareModel) -> str:
    """What the model on the page is: its month and seed, the sliders' parameters, and every
    other parameter that differs from the baseline (a scenario's, a lesson setting's)."""
    p = model.params
    others = differences(p)
    return (f"Running: month {model.month}, seed {model.seed}, scenario {model.scenario_name}; "
            f"pressure {p.pressure_level:.2f}, autonomy {p.autonomy_base:.2f}, seduction "
            f"{p.seduction:.2f}, dictation {p.dictation:.2f}, propensity "
            f"{p.leadership_propensity:.2f}, drive {p.leadership_drive:.2f} by {p.leader_selection}; "
            f"{p.n_practices} practices, {model.state.n_gps} GP posts; "
            + (f"other changes from the baseline: {', '.join(others)}." if others
               else "nothing else differs from the baseline.")
            + " Sliders take effect when you press Reset.")


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


NAME = "pcsim: leadership from below"


@solara.component
def TeachingViz(model: solara.Reactive, name: str = NAME, play_interval: int = 100):
    """Mesa's SolaraViz page, built from Mesa's own components (ModelController, ModelCreator,
    ShowSteps, ComponentsView) with the page's :data:`parameters` as the model parameters they
    share. SolaraViz keeps that dict in a state of its own that nothing outside can write, and
    its ModelCreator fills it only when first mounted, so a preset loaded later would show in
    the sliders but not reach Reset; here loading a preset writes the dict Reset reads.
    """
    interval = solara.use_reactive(play_interval)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.AppBar():
        solara.AppBarTitle(name)
        solara.lab.ThemeToggle()
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            solara.SliderInt(label="Play Interval (ms)", value=interval, min=1, max=500, step=10)
            solara.SliderInt(label="Render Interval (steps)", value=render_interval, min=1,
                             max=100, step=2)
            solara.Checkbox(label="Use Threads", value=use_threads)
            ModelController(model, model_parameters=parameters, play_interval=interval,
                            render_interval=render_interval, use_threads=use_threads)
        with solara.Card("Model Parameters"):
            ModelCreator(model, model_params(parameters.value), model_parameters=parameters)
        with solara.Card("Information"):
            ShowSteps(model.value)
    ComponentsView([(component, 0) for component in COMPONENTS], model.value)


@solara.component
def Page():
    c = choice.value
    # a new model when a preset is loaded; Reset replaces it in `current`
    model = solara.use_memo(lambda: TeachingModel(**parameters.value), [c.serial])
    current = solara.use_reactive(model)
    solara.Style(CSS)
    solara.Title(NAME)
    with solara.Sidebar():
        PresetPicker(current)
    TeachingViz(current)
