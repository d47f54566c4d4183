"""GPs leave under strain and vacant posts are refilled, both decided from the old state:

- a vacant post is filled with probability `p_fill_vacancy`;
- an active GP leaves with probability `p_exit_base` + `p_exit_strain` × s². Its post falls
  vacant, and its roles, adoptions and influence go with it;
- a new GP is a partner with probability `newcomer_partner_share`. It has a fresh propensity,
  style, thresholds and market-potential membership, and brings each innovation with its
  `initial_share` (from training), drawn as at initialisation
  (:func:`simulation.population.draw_newcomers`);
- the new GP starts with autonomy min(`autonomy_base` + `autonomy_partner_bonus` × partner, 1),
  strain `workload_base`, cynicism `initial_cynicism`, embeddedness `newcomer_embeddedness`,
  and no influence.

Switched off (`exits_on`), nobody leaves and no post is filled.
"""

from __future__ import annotations

import numpy as np

from ..draws import Uniform

SWITCHES = ("exits_on",)
DRAWS = (Uniform("u_fill"), Uniform("u_exit"))


def vacate_posts(state, leave) -> None:
    """The GPs in ``leave`` (mask or indices) leave: their posts fall vacant and what they held
    (roles, adoptions, influence) goes with them. Also used by interventions."""
    leave = np.asarray(leave)
    if leave.dtype == bool:  # a mask: index the few leavers rather than every row
        leave = np.flatnonzero(leave)
    state.active[leave] = False
    for name in ("formal", "genuine", "shallow"):
        getattr(state, name)[leave] = False
    state.month_appointed[leave] = -1
    state.month_adopted[leave] = -1
    state.influence[leave] = 0.0
    state.cross_influence[leave] = 0.0


def newcomer_autonomy(params, partner):
    """A new GP's autonomy: min(autonomy_base + autonomy_partner_bonus * partner, 1)."""
    return np.minimum(params.autonomy_base + params.autonomy_partner_bonus * partner, 1.0)


def fast(month) -> None:
    state, params, draws = month.state, month.params, month.draws
    fill = ~state.active & (draws["u_fill"] < params.p_fill_vacancy)
    hazard = params.p_exit_base + params.p_exit_strain * (state.strain * state.strain)
    leave = state.active & (draws["u_exit"] < hazard)

    vacate_posts(state, leave)
    state.active |= fill  # (in place: the month's records view this array)

    idx = np.flatnonzero(fill)
    new = draws.newcomers(idx.size)
    state.partner[idx] = new["partner"]
    state.propensity[idx] = new["propensity"]
    state.style[idx] = new["style"]
    state.threshold[idx] = new["threshold"]
    state.potential[idx] = new["potential"]
    state.genuine[idx] = new["genuine"]
    state.shallow[idx] = False
    state.month_adopted[idx] = np.where(new["genuine"], state.month, -1)
    state.seniority[idx] = 0.0
    state.autonomy[idx] = newcomer_autonomy(params, new["partner"])
    state.strain[idx] = params.workload_base
    state.cynicism[idx] = params.initial_cynicism
    state.embeddedness[idx] = params.newcomer_embeddedness
    state.informal_since[idx] = -1
    state.person[idx] = state.next_person + np.arange(idx.size)
    state.next_person += idx.size
    state.leavers = int(np.count_nonzero(leave))
    state.joiners = int(idx.size)


def neutral(month) -> None:
    month.state.leavers = month.state.joiners = 0


def reference(month, agents) -> None:
    state, params, draws = month.state, month.params, month.draws
    u_fill, u_exit = draws["u_fill"], draws["u_exit"]
    fill = [gp for gp in agents.gps if not gp.active and u_fill[gp.index] < params.p_fill_vacancy]
    leave = [gp for gp in agents.gps if gp.active and u_exit[gp.index]
             < params.p_exit_base + params.p_exit_strain * (gp.strain * gp.strain)]
    for gp in leave:
        agents.vacate(gp)
    new = draws.newcomers(len(fill))
    for j, gp in enumerate(fill):
        i = gp.index
        gp.active = True
        gp.partner = new["partner"][j]
        gp.leadership_propensity = new["propensity"][j]
        gp.style_index = new["style"][j]
        state.threshold[i] = new["threshold"][j]
        state.potential[i] = new["potential"][j]
        state.genuine[i] = new["genuine"][j]
        state.shallow[i] = False
        for k in range(state.genuine.shape[1]):
            state.month_adopted[i, k] = state.month if new["genuine"][j, k] else -1
        gp.seniority = 0.0
        gp.autonomy = float(newcomer_autonomy(params, new["partner"][j]))
        gp.strain = params.workload_base
        gp.cynicism = params.initial_cynicism
        gp.embeddedness = params.newcomer_embeddedness
        state.informal_since[i] = -1
        state.person[i] = state.next_person + j
    state.next_person += len(fill)
    state.leavers = len(leave)
    state.joiners = len(fill)
