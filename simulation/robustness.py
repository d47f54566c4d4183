"""Whether the shipped scenario contrasts keep their sign when the assumed parameters move.

``simulation/data/robustness.toml`` holds the result of the Morris screening of every assumed
parameter (``scripts/screen_assumptions.py``; ``docs/screening.md``): for each shipped scenario
minus the baseline and each key outcome, whether its sign held over the screened ranges. Reports,
docs and lessons ask :func:`flag` and print its text next to a contrast they state.

File format, one table per contrast and outcome::

    [contrasts.SCENARIO.OUTCOME]   # SCENARIO minus baseline
    robust = true                  # false: clearly positive at some design points, clearly
                                   # negative at others
    sign = "-"                     # "+", "-", "0" (never clear), "+/-" (not robust)
    at_defaults = -0.045           # the contrast at the default parameters (seed mean)
    low = -0.07                    # its range over the design points
    high = -0.02
    top_parameters = ["...", ...]  # the largest mu* first

and an ``[about]`` table describing the screening (design, seeds, ranges).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

OUTCOMES = ("exit_rate", "complex_adoption", "federations_with_plan", "informal_leaders", "quality")


@dataclass(frozen=True)
class Robustness:
    """One contrast (``scenario`` minus baseline) on one outcome, over the screened ranges."""

    scenario: str
    outcome: str
    robust: bool
    sign: str
    at_defaults: float
    low: float
    high: float
    top_parameters: tuple[str, ...]
    evidence: Mapping[str, Any]

    @property
    def label(self) -> str:
        """``"robust"`` or ``"not robust"``."""
        return "robust" if self.robust else "not robust"


@functools.cache
def _data(path: str | None = None) -> dict[str, Any]:
    if path is None:
        return tomllib.loads(resources.files("simulation.data").joinpath("robustness.toml").read_text())
    return tomllib.loads(Path(path).read_text())


def about(path: str | Path | None = None) -> dict[str, Any]:
    """How the screening was made: design, seeds, ranges, runs."""
    return dict(_data(None if path is None else str(path))["about"])


def load(path: str | Path | None = None) -> dict[str, dict[str, Robustness]]:
    """``{scenario: {outcome: Robustness}}`` for every screened contrast (scenario minus
    baseline): the shipped screening, or the ``robustness.toml`` a screening wrote at ``path``."""
    out: dict[str, dict[str, Robustness]] = {}
    for scenario, outcomes in _data(None if path is None else str(path))["contrasts"].items():
        for outcome, r in outcomes.items():
            out.setdefault(scenario, {})[outcome] = Robustness(
                scenario=scenario, outcome=outcome, robust=bool(r["robust"]), sign=r["sign"],
                at_defaults=float(r["at_defaults"]), low=float(r["low"]), high=float(r["high"]),
                top_parameters=tuple(r["top_parameters"]), evidence=dict(r))
    return out


def get(scenario: str, outcome: str) -> Robustness | None:
    """The screening's verdict on ``scenario`` minus the baseline for ``outcome``, or None when
    that contrast was not screened (a scenario file of the user's, an outcome not screened)."""
    return load().get(scenario, {}).get(outcome)


def flag(scenario: str, outcome: str) -> str:
    """``"not robust"`` for a contrast whose sign changes within the screened ranges of the
    assumed parameters, ``""`` otherwise (robust, or not screened): the text a report puts next
    to the contrast."""
    r = get(scenario, outcome)
    return "not robust" if r is not None and not r.robust else ""
