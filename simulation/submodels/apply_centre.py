"""The centre sets the performance pressure of the month:

P(t) = clip(`pressure_level` + `pressure_trend` × t/12 + `p4p_pressure_jump` × [t ≥ `p4p_month`]).

At t = `absorb_month`, the first round(`absorb_share` × F) federations in `absorb_order` become
trusts. Each GP feels P_i = min(P(t) + `trust_pressure` × [f(i) is a trust], 1).

Switched off (`centre_on`), P(t) stays at its value of the month before and no federation is
absorbed; each GP still feels P_i.
"""

from __future__ import annotations

import numpy as np

from ..state import TRUST

SWITCHES = ("centre_on",)


def centre_pressure(params, month: int) -> float:
    """P(t) = clip(pressure_level + pressure_trend * t/12 + jump * [t >= p4p_month], 0, 1)."""
    p = params.pressure_level + params.pressure_trend * (month / 12.0)
    if params.p4p_pressure_jump > 0 and month >= params.p4p_month:
        p = p + params.p4p_pressure_jump
    return min(max(p, 0.0), 1.0)


def _set_pressure(state, params) -> None:
    state.pressure = centre_pressure(params, state.month)


def fast(month) -> None:
    state, params = month.state, month.params
    _set_pressure(state, params)
    if params.absorb_share > 0 and state.month == params.absorb_month:
        k = int(round(params.absorb_share * state.n_federations))
        state.form[state.absorb_order[:k]] = TRUST
    neutral(month)


def neutral(month) -> None:
    """Each GP's pressure P_i from the centre's P(t) (as it stands) and its federation's form."""
    state, params = month.state, month.params
    # the same value for every GP of a federation: compute it per federation, then look it up
    by_federation = np.minimum(state.pressure + params.trust_pressure * (state.form == TRUST), 1.0)
    month.pressure = by_federation[month.gps.federation]


def reference(month, agents) -> None:
    state, params = month.state, month.params
    _set_pressure(state, params)
    if params.absorb_share > 0 and state.month == params.absorb_month:
        k = int(round(params.absorb_share * state.n_federations))
        for f in state.absorb_order[:k]:
            state.form[f] = TRUST
    month.pressure = np.array([min(state.pressure + params.trust_pressure * agents.in_trust(gp), 1.0)
                               for gp in agents.gps])
