"""Leadership interventions on a running model, for measuring the impact of leadership.

An intervention is applied between two months to one of two identical copies of a model (see
:func:`fork`): the copy that is left alone is the control arm, the other the intervention arm.
Each function changes the model's state arrays in place and returns the GP posts it touched.

* :func:`remove_informal_leaders` — the ``k`` informal leaders with the highest influence leave
  (their posts fall vacant, as when a GP quits: :func:`simulation.vacate_posts`);
* :func:`remove_formal_leaders` — ``k`` formal leaders leave the same way, chosen at random
  (the badge, not the influence) or by influence or propensity;
* :func:`add_formal_leaders` — ``k`` active GPs who are not formal leaders are appointed
  (``formal = True``, ``month_appointed`` = this month), chosen at random, by propensity or by
  influence — the centre's drive with a different choice rule.

Random choices use a generator the caller derives from the replicate's seed
(:func:`simulation.report.stats.derived_stream`), never the model's dynamics stream, so the
draws of both arms stay identical. Ranked choices break ties by post index (stable order).

When fewer than ``k`` GPs qualify, every qualifying GP is chosen; the returned indices say how
many were.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..submodels.exit_and_replace import vacate_posts
from ..params import PcsimInputError

CHOICES = ("random", "propensity", "influence")
KINDS = ("remove_informal", "remove_formal", "add_formal")


def fork(model):
    """An independent copy of a model, exact down to its random streams' states: continuing the
    copy and the original gives bit-identical trajectories (checked in ``tests/test_report.py``
    against rebuilding the model from its seed and replaying it to the same month)."""
    return copy.deepcopy(model)


def _top(candidates: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest key; ties go to the lower post index."""
    order = np.argsort(-key[candidates], kind="stable")
    return candidates[order[:k]]


def _choose(candidates: np.ndarray, k: int, choose: str, state, rng) -> np.ndarray:
    if choose == "random":
        k = min(k, candidates.size)
        return np.sort(rng.choice(candidates, size=k, replace=False))
    key = {"propensity": state.propensity, "influence": state.influence}[choose]
    return _top(candidates, key, k)


def remove_informal_leaders(model, k: int) -> np.ndarray:
    """The ``k`` most influential informal leaders leave; their posts fall vacant."""
    state = model.state
    candidates = np.flatnonzero(kernels.informal_leaders(state, model.params))
    chosen = _top(candidates, state.influence, k)
    vacate_posts(state, chosen)
    return chosen


def remove_formal_leaders(model, k: int, choose: str = "random", rng=None) -> np.ndarray:
    """``k`` active formal leaders leave (posts fall vacant), chosen by ``choose``."""
    state = model.state
    candidates = np.flatnonzero(state.formal & state.active)
    chosen = _choose(candidates, k, choose, state, rng)
    vacate_posts(state, chosen)
    return chosen


def add_formal_leaders(model, k: int, choose: str = "random", rng=None) -> np.ndarray:
    """``k`` active GPs who hold no formal role are appointed formal leaders this month."""
    state = model.state
    candidates = np.flatnonzero(state.active & ~state.formal)
    chosen = _choose(candidates, k, choose, state, rng)
    state.formal[chosen] = True
    state.month_appointed[chosen] = state.month
    return chosen


@dataclass(frozen=True)
class Intervention:
    """What to do to the intervention arm: ``kind`` (one of :data:`KINDS`), how many GPs, and
    how to choose them (``choose``; the informal leaders removed are always the most
    influential)."""

    kind: str
    k: int
    choose: str = "random"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise PcsimInputError(f"intervention {self.kind!r} is not allowed: expected one of "
                                  f"{', '.join(KINDS)}")
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise PcsimInputError(f"number of GPs k = {self.k!r} is not allowed: expected a whole "
                                  "number >= 1")
        if self.choose not in CHOICES:
            raise PcsimInputError(f"--choose {self.choose!r} is not allowed: expected one of "
                                  f"{', '.join(CHOICES)}")

    def apply(self, model, rng: np.random.Generator) -> np.ndarray:
        """Apply to ``model`` (in place); return the GP posts chosen."""
        if self.kind == "remove_informal":
            return remove_informal_leaders(model, self.k)
        if self.kind == "remove_formal":
            return remove_formal_leaders(model, self.k, self.choose, rng)
        return add_formal_leaders(model, self.k, self.choose, rng)

    def describe(self) -> str:
        """Plain words, e.g. 'remove the 5 most influential informal leaders'."""
        if self.kind == "remove_informal":
            return f"remove the {self.k} most influential informal leaders"
        how = {"random": "chosen at random", "propensity": "with the highest leadership propensity",
               "influence": "with the highest influence"}[self.choose]
        if self.kind == "remove_formal":
            return f"remove {self.k} formal leaders {how}"
        return f"appoint {self.k} extra formal leaders {how}"

    def slug(self) -> str:
        base = f"{self.kind.replace('_', '-')}-{self.k}"
        return base if self.kind == "remove_informal" else f"{base}-{self.choose}"
