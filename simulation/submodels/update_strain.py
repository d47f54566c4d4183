"""Strain relaxes toward its load: s ← s + `strain_rate` × (clip(load) − s), where

load = `workload_base` + `rel_pressure_strain` × P_i + Σ_k cost_k (genuine_ik + `rel_shallow_cost` × shallow_ik)
+ `vacancy_load` × vacancy share of p(i) − `servant_relief` × support of p(i).

Shallow adoption costs more for less. The support of a practice is Σ over its active informal
leaders of their style's `support`, divided by its posts: servant-style leaders nearby relieve
strain. A formal title alone relieves nobody: a formal leader supports colleagues only as far
as it has earned influence like anyone else.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import is_informal, njit, share
from ..records import view

SWITCHES = ("wellbeing_on", "strain_on")


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    practice: np.ndarray
    active: np.ndarray
    informal_since: np.ndarray
    style: np.ndarray
    genuine: np.ndarray
    shallow: np.ndarray
    strain: np.ndarray


class Columns(NamedTuple):
    """The table columns the kernel reads."""

    support: np.ndarray
    workload_cost: np.ndarray


class Coefficients(NamedTuple):
    rel_shallow_cost: float
    workload_base: float
    rel_pressure: float
    vacancy_load: float
    servant_relief: float
    rate: float

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(p.rel_shallow_cost, p.workload_base, p.rel_pressure_strain,
                   p.vacancy_load, p.servant_relief, p.strain_rate)


@njit
def new_strain(c, strain, pressure, work, vacancy, support):
    """One GP's new strain from its load."""
    load = (c.workload_base + c.rel_pressure * pressure + work + c.vacancy_load * vacancy
            - c.servant_relief * support)
    load = min(max(load, 0.0), 1.0)
    return strain + c.rate * (load - strain)


def fast(month) -> None:
    _kernel(view(month.gps, Reads), month.practices.posts, view(month.tables, Columns), month.pressure,
            month.coefficients(Coefficients))


@njit
def _kernel(gps, posts, tables, pressure, c):
    """Practice totals first (added in GP order, as ``np.bincount``), then each GP's new
    strain, which reads only its own old strain (so it is written in place)."""
    gps, tables, c = Reads(*gps), Columns(*tables), Coefficients(*c)
    n, m = gps.genuine.shape
    n_p = posts.size
    count = np.zeros(n_p)
    support = np.zeros(n_p)
    for i in range(n):  # (& and | rather than and/or: no branches)
        informal = is_informal(gps.active[i], gps.informal_since[i])
        count[gps.practice[i]] += gps.active[i]
        support[gps.practice[i]] += tables.support[gps.style[i]] * (informal & gps.active[i])
    vacancy = np.empty(n_p)
    for p in range(n_p):
        vacancy[p] = share(posts[p] - count[p], posts[p])
        support[p] = share(support[p], posts[p])
    g_bytes = gps.genuine.reshape(n * m).view(np.uint8)
    s_bytes = gps.shallow.reshape(n * m).view(np.uint8)
    cost = tables.workload_cost
    for i in range(n):
        p = gps.practice[i]
        work = 0.0
        for k in range(m):  # (flags read as bytes)
            work = work + cost[k] * (g_bytes[i * m + k] + c.rel_shallow_cost * s_bytes[i * m + k])
        gps.strain[i] = new_strain(c, gps.strain[i], pressure[i], work, vacancy[p], support[p])


def reference(month, agents) -> None:
    state, params, tables = month.state, month.params, month.tables
    c = Coefficients.of(params)
    posts, _, vacancy = agents.vacancy_shares()
    support = agents.practice_totals(
        lambda gp: tables.support[gp.style_index]
        * (agents.informal_leader(gp, params) and gp.active))
    support = [support[p] / posts[p] for p in range(len(posts))]
    new = []
    for gp in agents.gps:
        i, p = gp.index, gp.practice_index
        work = 0.0
        for k in range(len(tables.workload_cost)):
            work = work + tables.workload_cost[k] * (
                state.genuine[i, k] + params.rel_shallow_cost * state.shallow[i, k])
        new.append(new_strain(c, gp.strain, month.pressure[i], work, vacancy[p], support[p]))
    for gp, value in zip(agents.gps, new):
        gp.strain = value
