"""Cynicism about the top-down drive grows with each act of shallow compliance and with
pressure under dictatorial management, and fades, the faster the more seductive (engaging) the
centre is:

c ← clip(c (1 − `cynicism_decay` − `seduction_engagement` × `seduction`)
+ `cynicism_per_compliance` × (shallow adoptions this month) + `cynicism_pressure` × `dictation` × P_i).

Cynicism discounts formal authority in exposure and lowers openness to voluntary adoption.
"""

from __future__ import annotations

from typing import NamedTuple

from ..kernels import njit

SWITCHES = ("wellbeing_on", "cynicism_on")


class Coefficients(NamedTuple):
    keep: float  # 1 - cynicism_decay - seduction_engagement * seduction
    per_compliance: float
    per_pressure: float  # cynicism_pressure * dictation

    @classmethod
    def of(cls, p) -> "Coefficients":
        return cls(max(1.0 - p.cynicism_decay - p.seduction_engagement * p.seduction, 0.0),
                   p.cynicism_per_compliance, p.cynicism_pressure * p.dictation)


@njit
def new_cynicism(c, cynicism, complied, pressure):
    """One GP's new cynicism after ``complied`` shallow adoptions this month."""
    value = cynicism * c.keep + c.per_compliance * complied + c.per_pressure * pressure
    return min(max(value, 0.0), 1.0)


def fast(month) -> None:
    _kernel(month.gps.cynicism, month.new_shallow, month.pressure,
            month.coefficients(Coefficients))


@njit
def _kernel(cynicism, new_shallow, pressure, c):
    """GP by GP (each reads only its own old value: in place)."""
    c = Coefficients(*c)
    n, m = new_shallow.shape
    for i in range(n):
        count = 0.0
        for k in range(m):
            count = count + new_shallow[i, k]
        cynicism[i] = new_cynicism(c, cynicism[i], count, pressure[i])


def reference(month, agents) -> None:
    c = Coefficients.of(month.params)
    new = []
    for gp in agents.gps:
        count = 0.0
        for k in range(month.new_shallow.shape[1]):
            count = count + month.new_shallow[gp.index, k]
        new.append(new_cynicism(c, gp.cynicism, count, month.pressure[gp.index]))
    for gp, value in zip(agents.gps, new):
        gp.cynicism = value
