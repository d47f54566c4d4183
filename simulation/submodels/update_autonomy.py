"""Autonomy relaxes toward a target that falls with pressure and rises with decentralisation;
partners start higher than salaried GPs: a ← a + `autonomy_rate` × (target − a), where

target = clip(`autonomy_base` + `autonomy_partner_bonus` × partner + `decentralisation`
− `rel_pressure_autonomy` × P_i − `trust_autonomy_penalty` × [f(i) is a trust]).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import njit
from ..records import view
from ..state import TRUST

SWITCHES = ("wellbeing_on", "autonomy_on")


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    autonomy: np.ndarray
    partner: np.ndarray
    federation: np.ndarray


class Coefficients(NamedTuple):
    base: float
    partner_bonus: float
    decentralisation: float
    rel_pressure: float
    trust_penalty: float
    rate: float

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(p.autonomy_base, p.autonomy_partner_bonus, p.decentralisation,
                   p.rel_pressure_autonomy, p.trust_autonomy_penalty, p.autonomy_rate)


@njit
def target(c, partner, pressure, in_trust):
    """The autonomy a GP relaxes toward."""
    t = (c.base + c.partner_bonus * partner + c.decentralisation - c.rel_pressure * pressure
         - c.trust_penalty * in_trust)
    return min(max(t, 0.0), 1.0)


def fast(month) -> None:
    _kernel(view(month.gps, Reads), month.federations.form, month.pressure,
            month.coefficients(Coefficients))


@njit
def _kernel(gps, form, pressure, c):
    """GP by GP (each reads only its own old value: in place)."""
    gps, c = Reads(*gps), Coefficients(*c)
    a = gps.autonomy
    for i in range(a.size):
        goal = target(c, gps.partner[i], pressure[i], form[gps.federation[i]] == TRUST)
        a[i] = a[i] + c.rate * (goal - a[i])


def reference(month, agents) -> None:
    c = Coefficients.of(month.params)
    new = [gp.autonomy + c.rate * (target(c, gp.partner, month.pressure[gp.index], agents.in_trust(gp))
                                   - gp.autonomy)
           for gp in agents.gps]
    for gp, value in zip(agents.gps, new):
        gp.autonomy = value
