"""Active GPs gain a month of seniority, and their embeddedness (the weight of their voice in
their ties; new GPs have fewer, weaker ties) grows by `embed_rate`, up to 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import njit
from ..records import view

SWITCHES = ("ageing_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    active: np.ndarray
    seniority: np.ndarray
    embeddedness: np.ndarray


def fast(month) -> None:
    _kernel(view(month.gps, Reads), month.params.embed_rate)


@njit
def _kernel(gps, embed_rate):
    """In place."""
    gps = Reads(*gps)
    for i in range(gps.active.size):
        if gps.active[i]:
            gps.seniority[i] = gps.seniority[i] + 1.0 / 12.0
            gps.embeddedness[i] = min(gps.embeddedness[i] + embed_rate, 1.0)


def reference(month, agents) -> None:
    for gp in agents.gps:
        if gp.active:
            gp.seniority = gp.seniority + 1.0 / 12.0
            gp.embeddedness = min(gp.embeddedness + month.params.embed_rate, 1.0)
