"""Adoption, compliance and abandonment, for each GP and available innovation:

- Openness to voluntary adoption is o_i = (autonomy + culture_p(i) + (1 − strain))/3 − 0.5
  + `partner_ownership` × partner_i − `rel_cynicism_resistance` × cynicism_i: partners own the
  practice, and a cynical GP resists change. Let m_i = 1 + `rel_openness_simple` × o_i. An
  innovation can be adopted from `month_introduced`, and only by GPs within its market
  potential (`potential`); the others never adopt it, genuinely or shallowly (Bass 1969's m;
  Rogers 2003: some never adopt. In the 2017 survey about one GP in ten had never used audit
  or SEA despite appraisal's push).
- **Simple** innovations: i adopts genuinely if u_ik < (p_external_k + q_social_k ×
  exposure_ik) × m_i. Its ties caused the share σ_ik = q_social_k exposure_ik /
  (p_external_k + q_social_k exposure_ik) of that hazard.
- **Complex** innovations: i adopts genuinely if exposure_ik ≥ threshold_ik −
  `rel_openness_threshold` × o_i − `plan_threshold_bonus` × plan_f(i),k (a crossing its ties
  caused: σ_ik = 1, if exposure_ik > 0), or else if u_ik < p_external_k × m_i (external push:
  σ_ik = 0).
- A shallow adopter who adopts voluntarily becomes genuine.
- **Compliance**: an active non-adopter of a mandated innovation, not yet shallow, who does not
  adopt voluntarily, adopts shallowly if u_ik < p_vol + `p_compliance` × `dictation` ×
  P_i × (1 − resistance(style_i)).
- **Abandonment**: a shallow adopter abandons if u′_ik < `p_abandon` × strain_i.
- Nothing about a mandated innovation is caused by ties (σ_ik = 0): a mandate is the centre's.

Each decision reads only the GP's own old values and this month's exposure. The month's new
adoptions are counted by cause (σ social, 1 − σ external, compliance mandated; the
`new_social_*`, `new_external_*` and `new_mandated_*` reporters), and σ goes to leadership
emergence, which credits the ties for what they caused. Switched off (`adoption_on`), nobody
adopts, complies or abandons.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..draws import Uniform
from ..kernels import njit, openness
from ..records import view

SWITCHES = ("adoption_on",)
DRAWS = (Uniform("u_adopt", per_innovation=True), Uniform("u_abandon", per_innovation=True))


def draws_needed(params, tables) -> bool:
    """Whether any adoption or abandonment draw can matter (not in the Watts limit)."""
    return tables.adoption_is_random()


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    practice: np.ndarray
    federation: np.ndarray
    style: np.ndarray
    active: np.ndarray
    autonomy: np.ndarray
    strain: np.ndarray
    cynicism: np.ndarray
    partner: np.ndarray
    genuine: np.ndarray
    shallow: np.ndarray
    month_adopted: np.ndarray
    threshold: np.ndarray
    potential: np.ndarray


class Columns(NamedTuple):
    """The table columns the kernel reads."""

    resistance: np.ndarray
    simple: np.ndarray
    p_external: np.ndarray
    q_social: np.ndarray
    mandated: np.ndarray


class Coefficients(NamedTuple):
    month: int
    random: bool  # whether the month drew u_adopt and u_abandon
    rel_openness_simple: float
    rel_openness_threshold: float
    plan_bonus: float
    compliance: float  # p_compliance * dictation
    p_abandon: float
    ownership: float
    rel_cynicism: float

    @classmethod
    def of(cls, month, random: bool) -> "Coefficients":
        p = month.params
        return cls(month.state.month, random, p.rel_openness_simple, p.rel_openness_threshold,
                   p.plan_threshold_bonus, p.p_compliance * p.dictation, p.p_abandon,
                   p.partner_ownership, p.rel_cynicism_resistance)


@njit
def voluntary_openness(openness_i, partner, cynicism, ownership, rel_cynicism):
    """o_i: openness - 0.5 + ownership * partner - rel_cynicism * cynicism."""
    return openness_i - 0.5 + ownership * partner - rel_cynicism * cynicism


@njit
def social_share(simple, mandated, p_external, q_social, e, crossed):
    """σ: the part of a voluntary adoption its ties caused (see the module's text)."""
    if mandated:
        return 0.0
    if simple:
        hazard = p_external + q_social * e
        return q_social * e / hazard if hazard > 0 else 0.0
    return 1.0 if crossed and e > 0 else 0.0


def fast(month) -> None:
    state, tables, draws = month.state, month.tables, month.draws
    m = state.genuine.shape[1]
    u = draws["u_adopt"]
    random = u is not None
    if not random:
        u = np.zeros((0, m))
    u_abandon = draws["u_abandon"] if random else u
    available = state.month >= tables.month_introduced
    month.new_genuine, month.new_shallow, month.caused = _kernel(
        view(month.gps, Reads), month.practices.culture, month.federations.plan, view(tables, Columns), available,
        (month.heard.exposure, month.pressure, u, u_abandon), tuple(Coefficients.of(month, random)),
        state.new_by_cause)


def neutral(month) -> None:
    shape = month.state.genuine.shape
    month.new_genuine = np.zeros(shape, dtype=bool)
    month.new_shallow = np.zeros(shape, dtype=bool)
    month.caused = np.zeros(shape)
    month.state.new_by_cause[:] = 0.0


@njit
def _kernel(gps, culture, plan, tables, available, inputs, c, by_cause):
    """For each GP i and available innovation k (``inputs``: exposure, P_i, u, u_abandon): each
    decision reads only GP i's own old values of k (and this month's exposure), so it is
    applied at once. Counts the month's adoptions by cause into ``by_cause`` (3, m)."""
    gps, tables, c = Reads(*gps), Columns(*tables), Coefficients(*c)
    exposure, pressure, u, u_abandon = inputs
    genuine, shallow, month_adopted = gps.genuine, gps.shallow, gps.month_adopted
    n, m = genuine.shape
    new_genuine = np.zeros((n, m), dtype=np.bool_)
    new_shallow = np.zeros((n, m), dtype=np.bool_)
    caused = np.zeros((n, m))
    by_cause[:] = 0.0
    for i in range(n):
        o = voluntary_openness(openness(gps.autonomy[i], culture[gps.practice[i]], gps.strain[i]),
                               gps.partner[i], gps.cynicism[i], c.ownership, c.rel_cynicism)
        mult = 1.0 + c.rel_openness_simple * o
        comply = c.compliance * pressure[i] * (1.0 - tables.resistance[gps.style[i]])
        f = gps.federation[i]
        for k in range(m):
            if not available[k]:
                continue
            # only a GP within the innovation's market potential ever adopts it
            candidate = gps.active[i] & (not genuine[i, k]) & gps.potential[i, k]
            adopts = complies = False
            if candidate:  # (for the others, exposure and the draw decide nothing)
                e = exposure[i, k]
                if tables.simple[k]:
                    p_vol = (tables.p_external[k] + tables.q_social[k] * e) * mult
                    social = False
                else:
                    p_vol = tables.p_external[k] * mult
                    bar = gps.threshold[i, k] - c.rel_openness_threshold * o - c.plan_bonus * plan[f, k]
                    social = e >= bar
                voluntary = social or (c.random and u[i, k] < p_vol)
                adopts = voluntary
                complies = (tables.mandated[k] and not voluntary and not shallow[i, k]
                            and u[i, k] < p_vol + comply)
                if adopts:
                    sigma = social_share(tables.simple[k], tables.mandated[k], tables.p_external[k],
                                         tables.q_social[k], e, social)
                    caused[i, k] = sigma
                    by_cause[0, k] += sigma
                    by_cause[1, k] += 1.0 - sigma
                if complies:
                    by_cause[2, k] += 1.0
            abandons = (c.random and shallow[i, k] and not adopts
                        and u_abandon[i, k] < c.p_abandon * gps.strain[i])
            if adopts or complies:
                if month_adopted[i, k] < 0:
                    month_adopted[i, k] = c.month
                new_genuine[i, k] = adopts
                new_shallow[i, k] = complies
            if adopts:
                genuine[i, k] = True
            if shallow[i, k] or complies:
                shallow[i, k] = (shallow[i, k] and not adopts and not abandons) or complies
    return new_genuine, new_shallow, caused


def reference(month, agents) -> None:
    """Every GP decides from the old adoption state; then all apply their decisions."""
    state, params, tables, heard = month.state, month.params, month.tables, month.heard
    n, m = state.genuine.shape
    u, u_abandon = month.draws["u_adopt"], month.draws["u_abandon"]
    new_genuine = np.zeros((n, m), dtype=bool)
    new_shallow = np.zeros((n, m), dtype=bool)
    abandon = np.zeros((n, m), dtype=bool)
    caused = np.zeros((n, m))
    by_cause = np.zeros((3, m))
    social_of = [[False] * m for _ in range(n)]
    for gp in agents.gps:
        i = gp.index
        o = voluntary_openness(agents.openness(gp), gp.partner, gp.cynicism,
                               params.partner_ownership, params.rel_cynicism_resistance)
        mult = 1.0 + params.rel_openness_simple * o
        plan = state.plan[agents.federation_of(gp)]
        comply = (params.p_compliance * params.dictation * month.pressure[i]
                  * (1.0 - tables.resistance[gp.style_index]))
        for k in range(m):
            if state.month < tables.month_introduced[k]:
                continue
            e = heard.exposure[i][k]
            if tables.simple[k]:
                p_vol = (tables.p_external[k] + tables.q_social[k] * e) * mult
                social = False
            else:
                p_vol = tables.p_external[k] * mult
                bar = (state.threshold[i, k] - params.rel_openness_threshold * o
                       - params.plan_threshold_bonus * plan[k])
                social = e >= bar
            social_of[i][k] = social
            voluntary = social or (u[i, k] < p_vol) if u is not None else social
            # only a GP within the innovation's market potential ever adopts it
            candidate = gp.active and not state.genuine[i, k] and state.potential[i, k]
            new_genuine[i, k] = candidate and voluntary
            if tables.mandated[k]:
                new_shallow[i, k] = (candidate and not voluntary and not state.shallow[i, k]
                                     and u[i, k] < p_vol + comply)
            if u is not None:
                abandon[i, k] = (state.shallow[i, k] and not new_genuine[i, k]
                                 and u_abandon[i, k] < params.p_abandon * gp.strain)
    for gp in agents.gps:  # the causes, in GP order as the kernel adds them
        i = gp.index
        for k in range(m):
            if new_genuine[i, k]:
                caused[i, k] = social_share(tables.simple[k], tables.mandated[k],
                                            tables.p_external[k], tables.q_social[k],
                                            heard.exposure[i][k], social_of[i][k])
                by_cause[0, k] += caused[i, k]
                by_cause[1, k] += 1.0 - caused[i, k]
            if new_shallow[i, k]:
                by_cause[2, k] += 1.0
    for gp in agents.gps:  # apply
        i = gp.index
        for k in range(m):
            if (new_genuine[i, k] or new_shallow[i, k]) and state.month_adopted[i, k] < 0:
                state.month_adopted[i, k] = state.month
            state.genuine[i, k] = state.genuine[i, k] or new_genuine[i, k]
            state.shallow[i, k] = ((state.shallow[i, k] and not new_genuine[i, k] and not abandon[i, k])
                                   or new_shallow[i, k])
    month.new_genuine, month.new_shallow, month.caused = new_genuine, new_shallow, caused
    state.new_by_cause[:] = by_cause
