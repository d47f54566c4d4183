"""The formal leadership drive, which rises with pressure (the leadership discourse and
shrinking autonomy go "hand in hand"): target = ⌊`leadership_drive` × (1 + `drive_pressure` ×
P(t)) × active GPs⌋. If the gap g = target − current formal leaders is positive, the drive
appoints k = ⌈g × `drive_fill_rate`⌉ active non-leaders. A seductive centre co-opts: the first
k_co = round(`seduction` × k) of them are the most influential GPs (influence > 0, highest
first); the others are ranked by `leader_selection` (random, by the draw alone; propensity;
seniority; or influence). A uniform draw breaks ties, lowest first.
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


def _to_appoint(n_active: int, n_formal: int, params, pressure: float) -> tuple[int, int]:
    """(k, k_co): k = ceil((floor(drive * (1 + drive_pressure * P) * active) - current) *
    fill_rate), or 0 when there is no gap; k_co = round(seduction * k) of them co-opted."""
    share = params.leadership_drive * (1.0 + params.drive_pressure * pressure)
    gap = math.floor(share * n_active) - n_formal
    if gap <= 0 or params.drive_fill_rate <= 0:
        return 0, 0
    k = math.ceil(gap * params.drive_fill_rate)
    return k, math.floor(params.seduction * k + 0.5)


def _first(candidates: np.ndarray, key: np.ndarray, u: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of ``candidates`` (increasing indices) in a stable sort by (-key, u),
    found in linear time."""
    if k >= candidates.size:
        return candidates
    if k <= 0:
        return candidates[:0]
    key = -key[candidates]
    kth = np.partition(key, k - 1)[k - 1]
    sure = np.flatnonzero(key < kth)
    tied = np.flatnonzero(key == kth)
    return candidates[np.concatenate([sure, tied[smallest(u[candidates[tied]], k - sure.size)]])]


def fast(month) -> None:
    state, params, u_appoint = month.state, month.params, month.draws["u_appoint"]
    k, k_co = _to_appoint(int(np.count_nonzero(state.active)),
                          int(np.count_nonzero(state.formal & state.active)), params, state.pressure)
    if k == 0:
        return
    candidates = np.flatnonzero(state.active & ~state.formal)
    influential = candidates[state.influence[candidates] > 0]
    co_opted = _first(influential, state.influence, u_appoint, k_co)
    rest = np.setdiff1d(candidates, co_opted, assume_unique=True)
    chosen = np.concatenate([co_opted, _first(rest, selection_key(state, params), u_appoint,
                                              k - co_opted.size)])
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
    k, k_co = _to_appoint(len(active), sum(1 for gp in active if gp.formal_leader), params,
                          state.pressure)
    if k == 0:
        return
    rank = {
        "random": lambda gp: 0.0,
        "propensity": lambda gp: gp.leadership_propensity,
        "seniority": lambda gp: gp.seniority,
        "influence": lambda gp: gp.influence,
    }[params.leader_selection]
    candidates = [gp for gp in active if not gp.formal_leader]
    influential = [gp for gp in candidates if gp.influence > 0]
    influential.sort(key=lambda gp: (-gp.influence, u_appoint[gp.index]))  # a stable sort
    co_opted = influential[:k_co]
    rest = [gp for gp in candidates if gp not in co_opted]
    rest.sort(key=lambda gp: (-rank(gp), u_appoint[gp.index]))
    for gp in co_opted + rest[:k - len(co_opted)]:
        gp.formal_leader = True
        gp.month_appointed = state.month
