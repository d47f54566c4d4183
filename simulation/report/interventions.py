"""Leadership interventions for ``pcsim impact``: the intervention arm of a paired comparison.

An intervention is applied between two months to one of two identical copies of a model (see
:func:`fork`): the copy that is left alone is the control arm, the other the intervention arm.
:class:`Intervention` says which of the interventions of :mod:`simulation.interventions` to
apply, to how many GPs and how to choose them, checks that request and names it for the report:

* ``remove_informal`` — :func:`remove_informal_leaders`, the ``k`` most influential informal
  leaders leave;
* ``remove_formal`` — :func:`remove_formal_leaders`, ``k`` formal leaders leave, chosen at
  random or by influence or propensity;
* ``add_formal`` — :func:`add_formal_leaders`, ``k`` active GPs without a formal role are
  appointed, chosen at random, by propensity or by influence.

The three functions live in :mod:`simulation.interventions` and are importable from here too.
Random choices use a generator derived from the replicate's seed
(:func:`simulation.report.stats.derived_stream`), never the model's dynamics stream, so the
draws of both arms stay identical.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

# the functions are public here too (``pcsim impact``'s documented Python use)
from ..interventions import (CHOICES, add_formal_leaders, remove_formal_leaders,  # noqa: F401
                             remove_informal_leaders)
from ..params import PcsimInputError

KINDS = ("remove_informal", "remove_formal", "add_formal")


def applied_text(chosen) -> str:
    """How many GPs an intervention reached over the replicates: '21', or '21.5 on average
    (18 to 25)'."""
    chosen = np.asarray(chosen)
    low, high = int(chosen.min()), int(chosen.max())
    if low == high:
        return str(low)
    return f"{chosen.mean():.1f} on average ({low} to {high})"


def fork(model):
    """An independent copy of a model, exact down to its random streams' states: continuing the
    copy and the original gives bit-identical trajectories (checked in ``tests/test_report.py``
    against rebuilding the model from its seed and replaying it to the same month)."""
    return copy.deepcopy(model)


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

    def describe(self, chosen=None) -> str:
        """Plain words, e.g. 'remove the 5 most influential informal leaders'.

        ``chosen``: how many GPs were chosen in each replicate. When fewer than ``k`` qualified
        in any, the words give the number applied (and its range when it varies) and the
        number asked: 'remove the most influential informal leaders, 21.5 on average (18 to 25;
        100000 asked)', or 'remove the 21 most influential informal leaders (100000 asked)'."""
        count, tail = f"{self.k} ", ""
        if chosen is not None and np.any(np.asarray(chosen) != self.k):
            chosen = np.asarray(chosen)
            if chosen.min() == chosen.max():
                count, tail = f"{int(chosen[0])} ", f" ({self.k} asked)"
            else:
                count, tail = "", f", {applied_text(chosen)[:-1]}; {self.k} asked)"
        if self.kind == "remove_informal":
            return f"remove the {count}most influential informal leaders{tail}"
        how = {"random": "chosen at random", "propensity": "with the highest leadership propensity",
               "influence": "with the highest influence"}[self.choose]
        if self.kind == "remove_formal":
            return f"remove {count}formal leaders {how}{tail}"
        return f"appoint {count}extra formal leaders {how}{tail}"

    def shortfall(self, chosen) -> str | None:
        """A warning when fewer than ``k`` GPs qualified in some replicate, e.g. 'asked to
        remove 100000 informal leaders; 21.5 on average (18 to 25) existed and were removed';
        ``None`` when every replicate had ``k``."""
        chosen = np.asarray(chosen)
        fewer = int(np.count_nonzero(chosen < self.k))
        if fewer == 0:
            return None
        asked, existed, done = {
            "remove_informal": (f"remove {self.k} informal leaders", "existed", "were removed"),
            "remove_formal": (f"remove {self.k} formal leaders", "existed", "were removed"),
            "add_formal": (f"appoint {self.k} extra formal leaders",
                           "GPs without a formal role were available", "were appointed"),
        }[self.kind]
        if fewer == chosen.size:
            return f"asked to {asked}; {applied_text(chosen)} {existed} and {done}"
        return (f"asked to {asked}; in {fewer} of {chosen.size} replicates fewer {existed}, so "
                f"{applied_text(chosen)} {done}")

    def slug(self) -> str:
        base = f"{self.kind.replace('_', '-')}-{self.k}"
        return base if self.kind == "remove_informal" else f"{base}-{self.choose}"
