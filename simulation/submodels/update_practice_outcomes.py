"""A practice counts as having adopted innovation k when its genuine adopters number at least
`practice_adoption_share` × its active GPs. Its quality of care is

quality = `quality_base` + Σ_k benefit_k (genuine share + `rel_shallow_benefit` × shallow share)
− `strain_quality_penalty` × mean strain − `vacancy_quality_penalty` × vacancy share,

with shares and the mean over its active GPs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import njit, share
from ..records import Practices, view

SWITCHES = ("outcomes_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads."""

    practice: np.ndarray
    active: np.ndarray
    strain: np.ndarray
    genuine: np.ndarray
    shallow: np.ndarray


class Coefficients(NamedTuple):
    adoption_share: float
    rel_shallow_benefit: float
    quality_base: float
    strain_penalty: float
    vacancy_penalty: float

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(p.practice_adoption_share, p.rel_shallow_benefit, p.quality_base,
                   p.strain_quality_penalty, p.vacancy_quality_penalty)


def fast(month) -> None:
    _kernel(view(month.gps, Reads), tuple(month.practices), month.tables.quality_benefit,
            month.coefficients(Coefficients))


@njit
def _kernel(gps, practices, quality_benefit, c):
    """Per-practice counts and strain totals over active GPs (added in GP order), then each
    practice's adoption flags and quality."""
    gps, practices, c = Reads(*gps), Practices(*practices), Coefficients(*c)
    posts, adopted, quality = practices.posts, practices.adopted, practices.quality
    n, m = gps.genuine.shape
    n_p = posts.size
    count = np.zeros(n_p)
    strain_sum = np.zeros(n_p)
    g = np.zeros((n_p, m))
    s = np.zeros((n_p, m))
    # flags read as bytes (numba's 2-d bool reads cost more than the counting)
    g_bytes = gps.genuine.reshape(n * m).view(np.uint8)
    s_bytes = gps.shallow.reshape(n * m).view(np.uint8)
    for i in range(n):
        p = gps.practice[i]
        a = np.uint8(gps.active[i])
        count[p] += gps.active[i]
        strain_sum[p] += gps.strain[i] * gps.active[i]
        for k in range(m):
            g[p, k] += g_bytes[i * m + k] & a
            s[p, k] += s_bytes[i * m + k] & a
    for p in range(n_p):
        has = count[p] > 0
        n_safe = count[p] if has else 1.0
        benefit = 0.0
        for k in range(m):
            adopted[p, k] = has & (g[p, k] >= c.adoption_share * count[p])
            benefit = benefit + quality_benefit[k] * (share(g[p, k], n_safe)
                                                      + c.rel_shallow_benefit * share(s[p, k], n_safe))
        quality[p] = (c.quality_base + benefit - c.strain_penalty * share(strain_sum[p], n_safe)
                      - c.vacancy_penalty * share(posts[p] - count[p], posts[p]))


def reference(month, agents) -> None:
    state, params, tables = month.state, month.params, month.tables
    m = state.genuine.shape[1]
    _, active, vacancy = agents.vacancy_shares()
    genuine = [agents.practice_totals(lambda gp: state.genuine[gp.index, k] * gp.active) for k in range(m)]
    shallow = [agents.practice_totals(lambda gp: state.shallow[gp.index, k] * gp.active) for k in range(m)]
    strain = agents.practice_totals(lambda gp: gp.strain * gp.active)
    for practice in agents.practices:
        p = practice.index
        has = active[p] > 0
        n = active[p] if has else 1.0
        benefit = 0.0
        for k in range(m):
            state.practice_adopted[p, k] = has and genuine[k][p] >= params.practice_adoption_share * active[p]
            benefit = benefit + tables.quality_benefit[k] * (
                genuine[k][p] / n + params.rel_shallow_benefit * (shallow[k][p] / n))
        practice.quality = (params.quality_base + benefit - params.strain_quality_penalty * (strain[p] / n)
                            - params.vacancy_quality_penalty * vacancy[p])
