"""The guided lessons of the teaching page, as data, and the check that each shows what it says.

Lessons follow NetLogo's Info-tab habit (what to do, what to look for, a question to discuss).
Each has two settings, A and B, to run with the same seed and compare, and claims: which
reporters B moves up or down against A. :func:`check_lesson` runs the model to confirm that a
lesson shows what its text says, and the tests run it for every lesson, so a recalibration that
breaks a lesson fails a test rather than a class.

Each claim is also checked on every parameter set of the calibrated ensemble
(:func:`check_on_set`, ``scripts/check_lessons.py --ensemble``); the result ships in
``simulation/data/lesson_robustness.toml`` and :func:`claim_robustness` reads it, so the page
marks a claim that fails in a material share of the sets as not robust.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import metrics
from ..model import run
from ..params import ParamError


@dataclass(frozen=True)
class Setting:
    """A preset of the page: a pcsim scenario plus parameter values (any parameter by name)."""

    label: str
    scenario: str = "baseline"
    params: Mapping[str, Any] = field(default_factory=dict)


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
                 "being' overlap stays near 0.2; in B many squares and leaders coincide (about "
                 "0.6 on average over seeds). "
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
                     "innovations": {"run_charts": {"threshold_mean": 0.75, "threshold_sd": 0.07,
                                                    "initial_share": 0.03,
                                                    "market_potential": 1.0}}}),
            Setting("B: as many ties, spread at random across the region", "baseline",
                    {"practices_per_federation": 2.0, "federation_ties_per_gp": 0.0,
                     "regional_ties_per_gp": 4.0, "w_regional": 1.0,
                     "innovations": {"run_charts": {"threshold_mean": 0.75, "threshold_sd": 0.07,
                                                    "initial_share": 0.03,
                                                    "market_potential": 1.0}}}),
        ),
        what_to_do="Both settings give every GP four ties outside the practice, of equal "
                   "weight. In A they link pairs of partner practices, so two practices share "
                   "many ties; in B they go to random GPs anywhere in the region. The network "
                   "shows run charts, a demanding method: a GP takes it up only when about three "
                   "quarters of their contacts use it (this lesson seeds it in 3% of GPs and lets "
                   "every GP take it up, so that it moves). Run A for ten years, then B with the same seed. Switch the network "
                   "to PDSA and compare again.",
        look_for="Run charts reach more GPs in A: a practice whose partner practice uses the "
                 "method hears it from many ties at once. The random ties of B dilute it: each "
                 "GP hears it from one or two contacts among many who do not use it. The other "
                 "structured methods need reinforcement from several peers too: on average none "
                 "of them does better with the random ties.",
        question="Why do random ties, which spread news quickly, strand a demanding method? What "
                 "does that suggest about spreading a demanding QI method: broadcast it widely, "
                 "or build it in clusters of practices that work closely?",
        expect={"genuine_run_charts": -1},
        on_average={"complex_adoption": -1},
    ),
    Lesson(
        key="seductive",
        title="Seductive or dictatorial?",
        innovation="extended_access",
        settings=(
            Setting("A: seductive management (seduction 0.9, dictation 0.1), pressure 0.6",
                    "baseline", {"seduction": 0.9, "dictation": 0.1, "pressure_level": 0.6}),
            Setting("B: dictatorial management (seduction 0.1, dictation 0.9), pressure 0.6",
                    "baseline", {"seduction": 0.1, "dictation": 0.9, "pressure_level": 0.6}),
        ),
        what_to_do="Both settings apply the same pressure; they differ in how the centre uses "
                   "it: engagement and discourse (A) or targets and mandated compliance (B). "
                   "Run each for ten years with the same seed, watching the mandated "
                   "extended-access scheme.",
        look_for="In B many GPs adopt extended access shallowly (orange) and cynicism about "
                 "the leadership drive climbs. Compliance earns nobody influence, and cynical "
                 "GPs resist voluntary change too: on average B ends with fewer informal "
                 "leaders (about 67 against 82 over twelve seeds) and fewer federations with a "
                 "plan (a plan needs engaged GPs as well as brokers).",
        question="Dictatorial management buys compliance quickly. What does it cost, and who "
                 "pays? When would you accept that cost?",
        expect={"shallow_extended_access": +1, "cynicism": +1},
        on_average={"informal_leaders": -1, "federations_with_plan": -1},
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


def _means(item: Lesson, seeds: tuple[int, ...], keys, parameter_set=None):
    """Each setting's mean of ``keys`` over ``seeds``: at the defaults, or on one parameter set
    of the calibrated ensemble (the setting's own values on top of the set)."""
    from .. import ensemble

    means = []
    for setting in item.settings:
        if parameter_set is None:
            rows = [run(scenario=setting.scenario, months=item.months, seed=s,
                        **dict(setting.params)).summary() for s in seeds]
        else:
            p = ensemble.arm_params(setting.scenario, "county", parameter_set, setting.params)
            rows = [run(scenario=setting.scenario, months=item.months, seed=s, params=p).summary()
                    for s in seeds]
        means.append({k: float(np.mean([r[k] for r in rows])) for k in keys})
    return means


def check_lesson(item: Lesson, seeds=range(1, 4), claims: str = "expect") -> LessonCheck:
    """Run both settings of a lesson over ``seeds`` (the same seeds for A and B) and check that
    each claim in ``item.expect`` (or ``item.on_average``) has its sign in the mean over seeds."""
    seeds = tuple(seeds)
    expected = dict(getattr(item, claims))
    a, b = _means(item, seeds, expected)
    held = {k: (b[k] - a[k]) * sign > 0 for k, sign in expected.items()}
    return LessonCheck(item.key, seeds, a, b, held)


# --- robustness across the calibrated ensemble ------------------------------------------------

#: A claim is **robust** when it holds in at least this share of the calibrated parameter sets;
#: one that fails in more than one set in five depends on parameters the calibration patterns
#: do not pin down, and the page says so.
ROBUST_SHARE = 0.8
KINDS = {"expect": "every run", "on_average": "on average"}


def claims(item: Lesson) -> dict[str, tuple[int, str]]:
    """Every claim of a lesson: reporter -> (sign, "every run" or "on average")."""
    return {**{k: (v, KINDS["expect"]) for k, v in item.expect.items()},
            **{k: (v, KINDS["on_average"]) for k, v in item.on_average.items()}}


def check_on_set(item: Lesson, parameter_set, seeds) -> dict[str, bool]:
    """Whether each claim of a lesson holds on one parameter set of the ensemble: the mean of B
    minus A over ``seeds`` (the same for A and B) has the claimed sign."""
    every = claims(item)
    a, b = _means(item, tuple(seeds), every, parameter_set)
    return {k: (b[k] - a[k]) * sign > 0 for k, (sign, _) in every.items()}


@dataclass(frozen=True)
class ClaimRobustness:
    """How many of the calibrated parameter sets a lesson's claim holds in."""

    lesson: str
    claim: str
    sign: int
    kind: str
    held: int
    sets: int
    failed_sets: tuple[int, ...] = ()  # ids of the sets it does not hold in

    @property
    def robust(self) -> bool:
        return self.held >= ROBUST_SHARE * self.sets

    def text(self) -> str:
        """'the number of brokers higher in B, on average (not robust: holds in only 22 of 31
        calibrated parameter sets)', or '...: holds in 31 of 31 sets' for a robust claim."""
        what = f"{metrics.outcome(self.claim).phrase} {'higher' if self.sign > 0 else 'lower'} in B"
        if self.kind != KINDS["expect"]:
            what += f", {self.kind}"
        if self.robust:
            return f"{what}: holds in {self.held} of {self.sets} sets"
        return f"{what} (not robust: holds in only {self.held} of {self.sets} calibrated parameter sets)"


@functools.cache
def _robustness_data(path: str | None = None) -> dict[str, Any]:
    if path is None:
        return tomllib.loads(resources.files("simulation.data")
                             .joinpath("lesson_robustness.toml").read_text())
    return tomllib.loads(Path(path).read_text())


def robustness_about(path: str | Path | None = None) -> dict[str, Any]:
    """How the shipped check was made: the ensemble's size, seeds, months, rule."""
    return dict(_robustness_data(None if path is None else str(path))["about"])


def claim_robustness(key: str, path: str | Path | None = None) -> dict[str, ClaimRobustness]:
    """A lesson's claims with the number of calibrated parameter sets each holds in, from the
    shipped check (``scripts/check_lessons.py --ensemble --write``), or the file at ``path``."""
    table = _robustness_data(None if path is None else str(path))["lessons"].get(key, {})
    return {claim: ClaimRobustness(key, claim, int(r["sign"]), r["kind"], int(r["held"]),
                                   int(r["sets"]), tuple(r["failed_sets"]))
            for claim, r in table.items()}


def robustness_note(item: Lesson) -> str:
    """The page's line on how robust a lesson's claims are across the calibrated ensemble."""
    found = claim_robustness(item.key)
    if not found:
        return ""
    sets = next(iter(found.values())).sets
    fragile = [r.text() for r in found.values() if not r.robust]
    robust = [r.held for r in found.values() if r.robust]
    # the robust claims in one phrase: a lesson card must stay short enough for a projector
    least = (f"all {sets}" if robust and min(robust) == sets
             else f"at least {min(robust, default=0)} of {sets}")
    rest = f"{'every other claim' if fragile else 'every claim'} holds in {least}" if robust else ""
    return (f"Checked on the {sets} calibrated parameter sets (values that fit the observed "
            "patterns as well as the defaults): " + "; ".join(fragile + [rest] * bool(rest)) + ".")


def robustness_toml(results: Mapping[str, Mapping[str, ClaimRobustness]],
                    about: Mapping[str, Any]) -> str:
    """The shipped file's text from a check's results (``{lesson: {claim: ClaimRobustness}}``)."""
    def value(v):
        return f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)

    lines = ["# How many calibrated parameter sets each lesson claim holds in: written by",
             "# scripts/check_lessons.py --ensemble --write; read by simulation.app.lessons.",
             f"# A claim is not robust when it holds in fewer than {ROBUST_SHARE:.0%} of the sets.",
             "", "[about]"]
    lines += [f"{k} = {value(v)}" for k, v in about.items()]
    for key, found in results.items():
        for claim, r in found.items():
            lines += ["", f"[lessons.{key}.{claim}]", f"sign = {r.sign}", f'kind = "{r.kind}"',
                      f"held = {r.held}", f"sets = {r.sets}", f"robust = {value(r.robust)}",
                      f"failed_sets = {list(r.failed_sets)}"]
    return "\n".join(lines) + "\n"
