"""The monthly schedule, declared once: the ODD submodels in the order they run, each with the
ODD process it belongs to. ``PrimaryCareModel.step`` runs it, the ODD's schedule section
(``python -m simulation.odd``) is generated from it, and the equivalence tests iterate it.

Within a submodel every GP decides from the old values (synchronous updating); submodels run in
this order, each seeing what the previous ones wrote. Observation (the reporters) follows the
last submodel.
"""

from __future__ import annotations

from .draws import Draws, Uniform
from .submodels import (Month, Submodel, adopt, age_posts, apply_centre, appoint_formal_leaders,
                        credit_influence, exit_and_replace, expose, update_autonomy,
                        update_culture, update_cynicism, update_federations,
                        update_practice_outcomes, update_strain)

SCHEDULE: tuple[Submodel, ...] = (
    Submodel(apply_centre, "Centre"),
    Submodel(appoint_formal_leaders, "Centre"),
    Submodel(update_autonomy, "Autonomy"),
    Submodel(update_strain, "Strain and exits"),
    Submodel(age_posts, "Strain and exits"),
    Submodel(exit_and_replace, "Strain and exits"),
    Submodel(expose, "Exposure"),
    Submodel(adopt, "Adoption"),
    Submodel(update_cynicism, "Adoption"),
    Submodel(credit_influence, "Leadership emergence"),
    Submodel(update_culture, "Practice"),
    Submodel(update_practice_outcomes, "Practice"),
    Submodel(update_federations, "Federation"),
)


def processes() -> list[tuple[str, list[Submodel]]]:
    """The ODD's process overview: each process with its submodels, in schedule order."""
    out: list[tuple[str, list[Submodel]]] = []
    for step in SCHEDULE:
        if out and out[-1][0] == step.process:
            out[-1][1].append(step)
        else:
            out.append((step.process, [step]))
    return out


def draw_plan(params, tables) -> tuple[Uniform, ...]:
    """The uniforms a month draws, in schedule order (a switched-off mechanism draws nothing)."""
    return tuple(u for step in SCHEDULE for u in step.draws(params, tables))


def program(params) -> tuple:
    """The fast engine's month with these parameters: each submodel's ``fast`` function, or
    its ``neutral`` one where it is switched off (looked up now, once per ``Params``)."""
    out = []
    for step in SCHEDULE:
        if step.is_on(params):
            out.append(step.module.fast)
        elif getattr(step.module, "neutral", None) is not None:
            out.append(step.module.neutral)
    return tuple(out)


def run_month(state, ties, params, tables, workspace, draws: Draws, agents=None,
              cache: dict | None = None) -> Month:
    """One month of submodels (with the reference engine's ``agents``, if given; ``cache``:
    what the submodels derive from ``params`` alone, kept by the caller while they stay the
    same object, including the fast engine's :func:`program`)."""
    cache = {} if cache is None else cache
    month = Month(state, ties, params, tables, workspace, draws, cache)
    if agents is not None:
        for step in SCHEDULE:
            step.run(month, agents)
        return month
    functions = cache.get(program)
    if functions is None:
        functions = cache[program] = program(params)
    for function in functions:
        function(month)
    return month
