"""The teaching page: watch leadership emerge from below, or fail to, in a region of GPs.

A Mesa page built from ``SolaraViz``'s components (``pcsim app``, or ``solara run
simulation.app``) for a teacher in front of a class. The main area shows the GP network of a county (or a smaller region) laid out
once from its structure (practices as tight clusters, federations as groups), coloured by the
adoption of one innovation (genuine, shallow, none), sized by influence, with formal leaders
and brokers marked; beside it the lesson text, and live plots of the model's reporters. The
sidebar holds the lesson and scenario pickers, the page's own play / pause / step / reset
controls and Mesa's sliders, whose bounds come from :data:`simulation.params.SPECS`. Slider changes take effect
at Reset, as in every Mesa page; loading a lesson's setting or a scenario writes its values into
the parameters the sliders show, so Reset rebuilds exactly what the sidebar shows.

The package, by role:

* :mod:`.lessons` — the guided lessons and their settings, as data, and :func:`check_lesson`,
  which runs the model to confirm that a lesson shows what its text says;
* :mod:`.drawing` — the network and series drawings (colours, legends, captions) and the plot
  cards' panels, as data (:data:`PANELS`);
* :mod:`.page` — the model as the page's controls build it, the Solara components and
  :func:`Page`.

The network's positions come from :mod:`simulation.layout`, shared with the reports. Core code
never imports this package.
"""

from __future__ import annotations

import solara

from ..layout import GOLDEN_ANGLE, NetworkLayout, network_layout, pack_circles, sunflower
from .drawing import (ABBREVIATIONS, CARDS, COLOURS, FONT_PT, LEGEND, PANELS,
                      BlittedFigure, NetworkDrawing, Panel, SeriesDrawing,
                      adoption_colours, adoption_drawing, caption, innovation_label,
                      leaders_drawing, legend_handles, nice_ceiling, series_drawing,
                      wellbeing_drawing)
from .lessons import LESSONS, LESSONS_BY_KEY, Lesson, LessonCheck, Setting, check_lesson, lesson
from .page import (COMPARE_LABEL, COMPONENTS, HORIZON, KEY_FIGURES, CompareView, MainView, Controller, SeriesCard, SingleView, choice_parameters, compare_text, current_value, difference, key_card, key_figures, key_outcomes, CONTROLLED, CSS, HOW_TO, LABELS, NO_LESSON, REGION_PRACTICES,
                   SEED_RANGE, AdoptionCard, Choice, LeadersCard, LessonCard, NetworkCard, Page,
                   PresetPicker, TeachingModel, TeachingViz, WellbeingCard, build_model, choice,
                   control, differences, load, model_params, paragraphs, parameters, running_text,
                   setting_parameters, shown, shown_innovation, advanced)

#: What ``solara run simulation.app`` serves: the page alone. Without it, Solara would make a
#: route of every submodule that defines a ``Page`` (here :mod:`.page`), adding a second page.
routes = [solara.Route(path="/", component=Page, label="App")]

__all__ = [
    "ABBREVIATIONS", "CARDS", "COLOURS", "COMPONENTS", "CONTROLLED", "CSS", "GOLDEN_ANGLE",
    "COMPARE_LABEL", "FONT_PT", "HORIZON", "KEY_FIGURES", "LEGEND", "CompareView", "MainView",
    "Controller", "SeriesCard", "SingleView", "advanced", "choice_parameters", "compare_text",
    "current_value", "difference", "key_card", "key_figures", "key_outcomes",
    "HOW_TO", "LABELS", "LESSONS", "LESSONS_BY_KEY", "NO_LESSON",
    "PANELS", "REGION_PRACTICES", "SEED_RANGE", "AdoptionCard",
    "BlittedFigure", "Choice", "LeadersCard", "Lesson", "LessonCard", "LessonCheck",
    "NetworkCard", "NetworkDrawing", "NetworkLayout", "Page", "Panel", "PresetPicker",
    "SeriesDrawing", "Setting", "TeachingModel", "WellbeingCard", "adoption_colours",
    "TeachingViz", "adoption_drawing", "build_model", "caption", "check_lesson", "choice",
    "control", "differences", "innovation_label", "leaders_drawing", "legend_handles", "lesson",
    "load", "model_params", "nice_ceiling", "pack_circles", "network_layout", "paragraphs",
    "parameters", "routes", "running_text", "series_drawing", "setting_parameters", "shown",
    "shown_innovation", "sunflower", "wellbeing_drawing",
]
