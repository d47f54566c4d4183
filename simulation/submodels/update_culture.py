"""A practice's innovation culture drifts toward its members' openness, led by its leaders and
slowed by inertia:

culture ← culture + `culture_rate` × (1 − inertia) × (clip(mean openness + `rel_leader_culture`
× leader share) − culture), over active GPs (openness: (autonomy + culture + (1 − strain))/3;
leaders: the informal leaders, whose influence is earned; a badge alone leads nobody). A
practice with no active GP keeps its culture.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import is_informal, njit, openness
from ..records import Practices, view

SWITCHES = ("practice_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads."""

    practice: np.ndarray
    active: np.ndarray
    informal_since: np.ndarray
    autonomy: np.ndarray
    strain: np.ndarray


class Coefficients(NamedTuple):
    rel_leader_culture: float
    rate: float

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(p.rel_leader_culture, p.culture_rate)


@njit
def new_culture(c, culture, inertia, open_sum, leader_sum, count):
    """A practice's new culture from its totals over ``count`` active GPs."""
    target = min(max(open_sum / count + c.rel_leader_culture * (leader_sum / count), 0.0), 1.0)
    return culture + c.rate * (1.0 - inertia) * (target - culture)


def fast(month) -> None:
    _kernel(view(month.gps, Reads), tuple(month.practices), month.coefficients(Coefficients))


@njit
def _kernel(gps, practices, c):
    """Practice totals of openness and leaders over active GPs (added in GP order, as
    ``np.bincount``, from the old culture), then each practice's new culture."""
    gps, practices, c = Reads(*gps), Practices(*practices), Coefficients(*c)
    culture = practices.culture
    n, n_p = gps.practice.size, culture.size
    count = np.zeros(n_p)
    open_sum = np.zeros(n_p)
    leader_sum = np.zeros(n_p)
    for i in range(n):
        p = gps.practice[i]
        active = gps.active[i]
        informal = is_informal(active, gps.informal_since[i])
        count[p] += active
        open_sum[p] += openness(gps.autonomy[i], culture[p], gps.strain[i]) * active
        leader_sum[p] += informal & active
    for p in range(n_p):
        if count[p] > 0:
            culture[p] = new_culture(c, culture[p], practices.inertia[p], open_sum[p],
                                     leader_sum[p], count[p])


def reference(month, agents) -> None:
    c = Coefficients.of(month.params)
    _, active, _ = agents.vacancy_shares()
    open_sum = agents.practice_totals(lambda gp: agents.openness(gp) * gp.active)
    leaders = agents.practice_totals(
        lambda gp: agents.informal_leader(gp, month.params) and gp.active)
    new = []
    for practice in agents.practices:
        p = practice.index
        if not active[p] > 0:
            new.append(practice.culture)
            continue
        new.append(new_culture(c, practice.culture, practice.inertia, open_sum[p], leaders[p], active[p]))
    for practice, value in zip(agents.practices, new):
        practice.culture = value
