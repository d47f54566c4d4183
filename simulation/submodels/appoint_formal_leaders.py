"""The formal leadership drive: target = ⌊`leadership_drive` × active GPs⌋. If the gap
g = target − current formal leaders is positive, the drive appoints k = ⌈g × `drive_fill_rate`⌉
leaders: the k active non-leaders ranked highest by `leader_selection` (random, by the draw
alone; propensity; seniority; or influence). A uniform draw breaks ties, lowest first.
"""

from __future__ import annotations

import math

import numpy as np

from ..draws import Uniform

SWITCHES = ("drive_on",)
DRAWS = (Uniform("u_appoint"),)


def selection_key(state, params) -> np.ndarray:
    """What the drive ranks candidates by (higher first); ties broken by a uniform draw."""
    return {
        "random": np.zeros(state.n_gps), "propensity": state.propensity,
        "seniority": state.seniority, "influence": state.influence,
    }[params.leader_selection]


def _to_appoint(n_active: int, n_formal: int, params) -> int:
    """k = ceil((floor(drive * active) - current) * fill_rate), or 0 when there is no gap."""
    gap = math.floor(params.leadership_drive * n_active) - n_formal
    if gap <= 0 or params.drive_fill_rate <= 0:
        return 0
    return math.ceil(gap * params.drive_fill_rate)


def fast(month) -> None:
    state, params, u_appoint = month.state, month.params, month.draws["u_appoint"]
    k = _to_appoint(int(np.count_nonzero(state.active)),
                    int(np.count_nonzero(state.formal & state.active)), params)
    if k == 0:
        return
    candidates = np.flatnonzero(state.active & ~state.formal)
    if k >= candidates.size:
        chosen = candidates
    else:
        # the first k of a stable sort by (-key, draw), found in linear time
        key = -selection_key(state, params)[candidates]
        kth = np.partition(key, k - 1)[k - 1]
        sure = np.flatnonzero(key < kth)
        tied = np.flatnonzero(key == kth)
        chosen = candidates[np.concatenate(
            [sure, tied[smallest(u_appoint[candidates[tied]], k - sure.size)]])]
    state.formal[chosen] = True
    state.month_appointed[chosen] = state.month


def smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest values, equal values taken in position order (as the
    first ``k`` of a stable sort), in linear time."""
    if k >= values.size:
        return np.arange(values.size)
    kth = np.partition(values, k - 1)[k - 1]
    below = np.flatnonzero(values < kth)
    return np.concatenate([below, np.flatnonzero(values == kth)[:k - below.size]])


def reference(month, agents) -> None:
    state, params, u_appoint = month.state, month.params, month.draws["u_appoint"]
    active = [gp for gp in agents.gps if gp.active]
    k = _to_appoint(len(active), sum(1 for gp in active if gp.formal_leader), params)
    if k == 0:
        return
    rank = {
        "random": lambda gp: 0.0,
        "propensity": lambda gp: gp.leadership_propensity,
        "seniority": lambda gp: gp.seniority,
        "influence": lambda gp: gp.influence,
    }[params.leader_selection]
    candidates = [gp for gp in active if not gp.formal_leader]
    candidates.sort(key=lambda gp: (-rank(gp), u_appoint[gp.index]))  # a stable sort
    for gp in candidates[:k]:
        gp.formal_leader = True
        gp.month_appointed = state.month
