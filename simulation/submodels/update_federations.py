"""A federation forms a plan when it has at least `plan_min_brokers` brokers and its engagement
(1 − mean cynicism of its active GPs) is at least `plan_min_engagement`. The plan lapses when no
broker is left. It names the innovations that at least one of its brokers has adopted
genuinely; those innovations get the `plan_threshold_bonus` in adoption.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import is_broker, njit
from ..records import Federations, view

SWITCHES = ("federation_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads."""

    federation: np.ndarray
    active: np.ndarray
    informal_since: np.ndarray
    cross_influence: np.ndarray
    cynicism: np.ndarray
    genuine: np.ndarray


class Coefficients(NamedTuple):
    broker_bar: float
    min_brokers: int
    min_engagement: float

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(p.broker_bar, p.plan_min_brokers, p.plan_min_engagement)


@njit
def new_has_plan(c, has_plan, brokers, active, cynical):
    """Whether a federation has a plan after this month, from its totals over its GPs."""
    if has_plan:
        return (brokers > 0) | (c.min_brokers == 0)
    engagement = 1.0 - cynical / (active if active > 0 else 1.0)
    return (brokers >= c.min_brokers) & (engagement >= c.min_engagement) & (active > 0)


def fast(month) -> None:
    _kernel(view(month.gps, Reads), tuple(month.federations), month.coefficients(Coefficients))


@njit
def _kernel(gps, federations, c):
    """Each GP reports to its federation (added in GP order, as ``np.bincount``), then each
    federation's plan."""
    gps, federations, c = Reads(*gps), Federations(*federations), Coefficients(*c)
    has_plan, plan = federations.has_plan, federations.plan
    n, m = gps.genuine.shape
    n_f = has_plan.size
    n_brokers = np.zeros(n_f)
    n_active = np.zeros(n_f)
    cynical = np.zeros(n_f)
    champions = np.zeros((n_f, m), dtype=np.bool_)
    for i in range(n):
        f = gps.federation[i]
        broker = is_broker(gps.active[i], gps.informal_since[i], gps.cross_influence[i],
                           c.broker_bar)
        n_brokers[f] += broker
        n_active[f] += gps.active[i]
        cynical[f] += gps.cynicism[i] * gps.active[i]
        if broker:
            for k in range(m):
                champions[f, k] |= gps.genuine[i, k]
    for f in range(n_f):
        has_plan[f] = new_has_plan(c, has_plan[f], n_brokers[f], n_active[f], cynical[f])
        for k in range(m):
            plan[f, k] = has_plan[f] & champions[f, k]


def reference(month, agents) -> None:
    state, params = month.state, month.params
    c = Coefficients.of(params)
    n_f, m = len(agents.federations), state.plan.shape[1]
    brokers, active, cynicism = [0.0] * n_f, [0.0] * n_f, [0.0] * n_f
    champions = [[False] * m for _ in range(n_f)]
    for gp in agents.gps:  # each GP reports to its federation, in GP order
        f = agents.federation_of(gp)
        broker = agents.broker(gp, params)
        brokers[f] += broker
        active[f] += gp.active
        cynicism[f] += gp.cynicism * gp.active
        for k in range(m):
            champions[f][k] = champions[f][k] or (broker and state.genuine[gp.index, k])
    for federation in agents.federations:
        f = federation.index
        federation.has_plan = bool(new_has_plan(c, federation.has_plan, brokers[f], active[f], cynicism[f]))
        for k in range(m):
            state.plan[f, k] = federation.has_plan and champions[f][k]
