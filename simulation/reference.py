"""The reference engine: every submodel of the ODD written the plain Mesa way, one agent at a time.

This is the model as a teaching text. Each method below is one ODD submodel, with the same name
and arguments as its vectorised twin in :mod:`simulation.rules`; ``PrimaryCareModel(engine=
"reference")`` (or ``pcsim run --engine reference``) steps the model with it. Each method loops
over the GP, Practice and Federation agents in index order; every agent first *decides* from the
old state (reading its own attributes and those of the colleagues it is tied to), and only then
do all agents *apply* their decisions (synchronous updating).

Both engines consume the identical random draws (:func:`simulation.rules.draw_month`) and must
give bit-identical trajectories (``tests/test_equivalence.py``). That is why the arithmetic here
follows the vectorised formulas operation for operation:

- only exactly rounded operations (+ - * / min max, comparisons), in the same order and grouping
  as in :mod:`simulation.rules` (``a * b * c`` is ``(a * b) * c`` in both);
- sums start from 0.0 and add their terms in the order the vectorised code does: over a GP's
  ties in CSR order (a sparse product adds ``a_ij * x_j`` along row i), over GPs in index order
  (``np.bincount``), over innovations k = 0, 1, ... (the explicit loops of the rules).

It is slow (Python loops over tens of thousands of GPs and their ties): use it to read, check
and change the rules, and the fast engine to run experiments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .rules import centre_pressure
from .state import TRUST


@dataclass
class Heard:
    """What each GP heard this month (lists indexed by GP), kept for adoption and credit."""

    exposure: list  # exposure[i][k]: weighted share of i's ties using innovation k
    den: list  # den[i]: total weight GP i listens to
    visible: list  # visible[j][k] = genuine + rel_shallow_visibility * shallow
    voice: list  # voice[j]: weight of j's adoptions in its colleagues' exposure
    authority: list  # authority[j]: extra weight of j as a formal leader
    reach: list  # reach[j]: multiplier on j's ties across practice boundaries
    trust: list  # trust[i] = 1 - cynicism: how much formal authority counts for i
    with_authority: bool  # whether any GP has authority this month


class ReferenceEngine:
    """The ODD submodels, per agent. Constructed with the model whose agents it steps."""

    def __init__(self, model):
        self.model = model
        self._tie_lists = None  # (ties, rows within practices, rows across), read once

    # --- the model's agents and structure ------------------------------------------------------
    @property
    def gps(self):
        return self.model.gp_agents

    @property
    def practices(self):
        return self.model.practice_agents

    @property
    def federations(self):
        return self.model.federation_agents

    def ties_of(self, ties, i: int) -> tuple[list, list]:
        """GP i's ties as (neighbour, weight) pairs in CSR row order: within its practice, and
        across practice boundaries."""
        if self._tie_lists is None or self._tie_lists[0] is not ties:
            self._tie_lists = (ties, self._rows(ties.inside), self._rows(ties.across))
        return self._tie_lists[1][i], self._tie_lists[2][i]

    @staticmethod
    def _rows(matrix) -> list:
        ptr, idx, w = matrix.indptr.tolist(), matrix.indices.tolist(), matrix.data.tolist()
        return [list(zip(idx[ptr[i]:ptr[i + 1]], w[ptr[i]:ptr[i + 1]])) for i in range(len(ptr) - 1)]

    def federation_of(self, gp) -> int:
        return self.model.state.practice_federation[gp.practice_index]

    def in_trust(self, gp) -> bool:
        return self.model.state.form[self.federation_of(gp)] == TRUST

    def informal_leader(self, gp, params) -> bool:
        """An active GP whose influence is positive and at or above the bar."""
        return gp.active and gp.influence > 0 and gp.influence >= params.informal_bar

    def openness(self, gp) -> float:
        """o_i = (autonomy + culture of the practice + (1 - strain)) / 3."""
        culture = self.model.state.culture[gp.practice_index]
        return (gp.autonomy + culture + (1.0 - gp.strain)) / 3.0

    # --- 1. centre ------------------------------------------------------------------------------
    def apply_centre(self, state, params) -> np.ndarray:
        """The centre sets P(t); at absorb_month a share of federations becomes trusts. Each GP's
        pressure is P_i = min(P(t) + trust_pressure * [its federation is a trust], 1)."""
        state.pressure = centre_pressure(params, state.month)
        if params.absorb_share > 0 and state.month == params.absorb_month:
            k = int(round(params.absorb_share * state.n_federations))
            for f in state.absorb_order[:k]:
                state.form[f] = TRUST
        return np.array([min(state.pressure + params.trust_pressure * self.in_trust(gp), 1.0)
                         for gp in self.gps])

    def appoint_formal_leaders(self, state, params, u_appoint) -> None:
        """The drive wants floor(drive * active GPs) formal leaders and fills a share
        (drive_fill_rate, rounded up) of the gap with the non-leaders ranked highest by the
        selection rule; equal ranks go to the lower draw."""
        active = [gp for gp in self.gps if gp.active]
        target = math.floor(params.leadership_drive * len(active))
        gap = target - sum(1 for gp in active if gp.formal_leader)
        if gap <= 0 or params.drive_fill_rate <= 0:
            return
        k = math.ceil(gap * params.drive_fill_rate)
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

    # --- 2. autonomy, 3. strain and exits ------------------------------------------------------------
    def update_autonomy(self, state, params, pressure) -> None:
        """Autonomy relaxes toward target = clip(base + partner bonus + decentralisation
        - rel * P_i - trust penalty, 0, 1): a <- a + rate * (target - a)."""
        new = []
        for gp in self.gps:
            target = (params.autonomy_base + params.autonomy_partner_bonus * gp.partner
                      + params.decentralisation - params.rel_pressure_autonomy * pressure[gp.index]
                      - params.trust_autonomy_penalty * self.in_trust(gp))
            target = min(max(target, 0.0), 1.0)
            new.append(gp.autonomy + params.autonomy_rate * (target - gp.autonomy))
        for gp, value in zip(self.gps, new):
            gp.autonomy = value

    def practice_totals(self, value) -> list[float]:
        """Per practice: the sum of ``value(gp)`` over its GPs, added in GP index order."""
        totals = [0.0] * len(self.practices)
        for gp in self.gps:
            totals[gp.practice_index] += value(gp)
        return totals

    def vacancy_shares(self) -> tuple[list, list, list]:
        """Per practice: posts, active GPs and the share of posts vacant."""
        posts = [0] * len(self.practices)
        for gp in self.gps:
            posts[gp.practice_index] += 1
        active = self.practice_totals(lambda gp: gp.active)
        return posts, active, [(posts[p] - active[p]) / posts[p] for p in range(len(posts))]

    def update_strain(self, state, params, tables, pressure) -> None:
        """Strain relaxes toward its load: clip(base + rel * P_i + workload of what the GP uses
        + vacancy_load * vacancy share - servant_relief * leadership support, 0, 1), where the
        support is the sum of the style 'support' of the practice's active leaders per post."""
        posts, _, vacancy = self.vacancy_shares()
        support = self.practice_totals(
            lambda gp: tables.support[gp.style_index]
            * ((gp.formal_leader or self.informal_leader(gp, params)) and gp.active))
        support = [support[p] / posts[p] for p in range(len(posts))]
        new = []
        for gp in self.gps:
            i, p = gp.index, gp.practice_index
            work = 0.0
            for k in range(len(tables.workload_cost)):
                work = work + tables.workload_cost[k] * (
                    state.genuine[i, k] + params.rel_shallow_cost * state.shallow[i, k])
            load = (params.workload_base + params.rel_pressure_strain * pressure[i] + work
                    + params.vacancy_load * vacancy[p] - params.servant_relief * support[p])
            load = min(max(load, 0.0), 1.0)
            new.append(gp.strain + params.strain_rate * (load - gp.strain))
        for gp, value in zip(self.gps, new):
            gp.strain = value

    def age_posts(self, state, params) -> None:
        """Each active GP gains a month of seniority and embeddedness (up to 1)."""
        for gp in self.gps:
            if gp.active:
                gp.seniority = gp.seniority + 1.0 / 12.0
                gp.embeddedness = min(gp.embeddedness + params.embed_rate, 1.0)

    def vacate(self, gp) -> None:
        """The GP leaves; the post falls vacant and what the GP held goes with them."""
        state, i = self.model.state, gp.index
        gp.active = False
        gp.formal_leader = False
        gp.month_appointed = -1
        state.genuine[i, :] = False
        state.shallow[i, :] = False
        state.month_adopted[i, :] = -1
        gp.influence = 0.0
        gp.cross_influence = 0.0

    def exit_and_replace(self, state, params, draws, pressure) -> None:
        """A vacant post is filled with probability p_fill_vacancy; an active GP leaves with
        probability p_exit_base + p_exit_strain * strain^2. Both decided from the old state; the
        newcomers' attributes are drawn together, in post order."""
        fill = [gp for gp in self.gps if not gp.active and draws.u_fill[gp.index] < params.p_fill_vacancy]
        leave = [gp for gp in self.gps if gp.active and draws.u_exit[gp.index]
                 < params.p_exit_base + params.p_exit_strain * (gp.strain * gp.strain)]
        for gp in leave:
            self.vacate(gp)
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
            gp.autonomy = min(params.autonomy_base + params.autonomy_partner_bonus * new["partner"][j], 1.0)
            gp.strain = params.workload_base
            gp.cynicism = params.initial_cynicism
            gp.embeddedness = params.newcomer_embeddedness
            state.person[i] = state.next_person + j
        state.next_person += len(fill)
        state.leavers = len(leave)
        state.joiners = len(fill)

    # --- 4. exposure, 5. adoption ---------------------------------------------------------------
    def expose(self, state, ties, params, tables) -> Heard:
        """Each GP i listens to its ties j. A tie carries j's voice s_j = active * embeddedness *
        (1 + rel_informal_weight * [informal leader]) * persuasion[style] and, if j is a formal
        leader, its authority f_j = active * embeddedness * rel_formal_authority, which counts
        only as far as i trusts it (1 - cynicism); ties across practices are scaled by j's reach.
        exposure_ik = sum_j w_ij (s_j + trust_i f_j) A_jk / sum_j w_ij (s_j + trust_i f_j), with
        A_jk = genuine + rel_shallow_visibility * shallow (0 if i hears nobody)."""
        m = state.genuine.shape[1]
        visible, voice, authority, reach = [], [], [], []
        for gp in self.gps:  # what each GP says (old state)
            i = gp.index
            visible.append([state.genuine[i, k] + params.rel_shallow_visibility * state.shallow[i, k]
                            for k in range(m)])
            base = gp.active * gp.embeddedness
            voice.append(base * (1.0 + params.rel_informal_weight * self.informal_leader(gp, params))
                         * tables.persuasion[gp.style_index])
            authority.append(base * gp.formal_leader * params.rel_formal_authority)
            reach.append(tables.reach[gp.style_index])
        with_authority = any(f > 0 for f in authority)

        exposure, den, trust = [], [], []
        for gp in self.gps:  # what each GP hears
            inside, across = self.ties_of(ties, gp.index)
            heard = self._listen(inside, visible, voice, m, scale=None)
            heard_across = self._listen(across, visible, voice, m, scale=reach)
            num = [heard[k] + heard_across[k] for k in range(m + 1)]
            t = 1.0 - gp.cynicism
            if with_authority:
                formal = self._listen(inside, visible, authority, m, scale=None)
                formal_across = self._listen(across, visible, authority, m, scale=reach)
                num = [num[k] + t * (formal[k] + formal_across[k]) for k in range(m + 1)]
            total = num[m]
            exposure.append([num[k] / total if total > 0 else 0.0 for k in range(m)])
            den.append(total)
            trust.append(t)
        return Heard(exposure, den, visible, voice, authority, reach, trust, with_authority)

    @staticmethod
    def _listen(ties, visible, weight, m, scale) -> list[float]:
        """sum over ties (in order) of w * (weight_j * A_jk) for each k, and of w * weight_j
        (the last entry); ``scale`` (reach) multiplies weight_j first on ties across practices."""
        sums = [0.0] * (m + 1)
        for j, w in ties:
            s = weight[j] if scale is None else weight[j] * scale[j]
            for k in range(m):
                sums[k] += w * (s * visible[j][k])
            sums[m] += w * s
        return sums

    def adopt(self, state, params, tables, heard: Heard, draws, pressure):
        """For each GP and available innovation, from the old adoption state:
        openness o = o_i - 0.5, multiplier 1 + rel_openness_simple * o, p_vol its external (and,
        for a simple innovation, social) probability. Simple: adopt if u < (p_external + q_social *
        exposure) * multiplier. Complex: adopt if exposure >= threshold - rel_openness_threshold * o
        - plan_threshold_bonus * [the federation's plan names it], or u < p_external * multiplier.
        A mandated innovation not adopted voluntarily is complied with (shallowly) if u < p_vol +
        p_compliance * mode * P_i * (1 - resistance). A shallow adopter abandons if u_abandon <
        p_abandon * strain. Returns the new genuine and new shallow adoptions."""
        n, m = state.genuine.shape
        u, u_abandon = draws.u_adopt, draws.u_abandon
        new_genuine = np.zeros((n, m), dtype=bool)
        new_shallow = np.zeros((n, m), dtype=bool)
        abandon = np.zeros((n, m), dtype=bool)
        for gp in self.gps:
            i = gp.index
            o = self.openness(gp) - 0.5
            mult = 1.0 + params.rel_openness_simple * o
            plan = state.plan[self.federation_of(gp)]
            comply = (params.p_compliance * params.management_mode * pressure[i]
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
        for gp in self.gps:  # apply
            i = gp.index
            for k in range(m):
                if (new_genuine[i, k] or new_shallow[i, k]) and state.month_adopted[i, k] < 0:
                    state.month_adopted[i, k] = state.month
                state.genuine[i, k] = state.genuine[i, k] or new_genuine[i, k]
                state.shallow[i, k] = ((state.shallow[i, k] and not new_genuine[i, k] and not abandon[i, k])
                                       or new_shallow[i, k])
        return new_genuine, new_shallow

    def update_cynicism(self, state, params, new_shallow, pressure) -> None:
        """c <- clip(c * (1 - decay) + per_compliance * (shallow adoptions this month)
        + cynicism_pressure * mode * P_i, 0, 1)."""
        new = []
        for gp in self.gps:
            count = 0.0
            for k in range(new_shallow.shape[1]):
                count = count + new_shallow[gp.index, k]
            c = (gp.cynicism * (1.0 - params.cynicism_decay) + params.cynicism_per_compliance * count
                 + (params.cynicism_pressure * params.management_mode) * pressure[gp.index])
            new.append(min(max(c, 0.0), 1.0))
        for gp, value in zip(self.gps, new):
            gp.cynicism = value

    # --- 6. leadership emergence -----------------------------------------------------------------
    def credit_influence(self, state, ties, params, heard: Heard, new_genuine) -> None:
        """Each GP j that uses an innovation k is credited by each tie i who adopted k genuinely
        this month, with the share of i's exposure j gave: w_ij (s_j + trust_i f_j) A_jk / den_i
        (times j's reach across practices). influence <- influence * (1 - decay) + propensity *
        credit; cross_influence, the part from across practices, likewise."""
        m = new_genuine.shape[1]
        # what each adopter i sends back per innovation: G_ik = 1/den_i, and H_ik = trust_i G_ik
        g = [[new_genuine[i, k] / heard.den[i] if heard.den[i] > 0 else 0.0 for k in range(m)]
             for i in range(len(self.gps))]
        h = [[heard.trust[i] * g[i][k] for k in range(m)] for i in range(len(self.gps))]
        keep = 1.0 - params.influence_decay
        new = []
        for gp in self.gps:
            j = gp.index
            inside, across = self.ties_of(ties, j)
            back_in, back_out = self._gather(inside, g, m), self._gather(across, g, m)
            if heard.with_authority:
                back_in_h, back_out_h = self._gather(inside, h, m), self._gather(across, h, m)
            voice, authority, reach = heard.voice[j], heard.authority[j], heard.reach[j]
            credit_in = credit_out = 0.0
            for k in range(m):
                part_in = voice * back_in[k]
                part_out = (voice * reach) * back_out[k]
                if heard.with_authority:
                    part_in = part_in + authority * back_in_h[k]
                    part_out = part_out + (authority * reach) * back_out_h[k]
                credit_in = credit_in + heard.visible[j][k] * part_in
                credit_out = credit_out + heard.visible[j][k] * part_out
            new.append((gp.influence * keep + gp.leadership_propensity * (credit_in + credit_out),
                        gp.cross_influence * keep + gp.leadership_propensity * credit_out))
        for gp, (influence, cross) in zip(self.gps, new):
            gp.influence = influence
            gp.cross_influence = cross

    @staticmethod
    def _gather(ties, values, m) -> list[float]:
        """sum over ties (in order) of w * values[i][k], for each k."""
        sums = [0.0] * m
        for i, w in ties:
            for k in range(m):
                sums[k] += w * values[i][k]
        return sums

    # --- 7. practices, 8. federations ------------------------------------------------------------
    def update_culture(self, state, params) -> None:
        """A practice's culture drifts toward clip(mean openness of its active GPs +
        rel_leader_culture * their share of leaders, 0, 1) at rate culture_rate * (1 - inertia);
        a practice with no active GP keeps its culture."""
        _, active, _ = self.vacancy_shares()
        openness = self.practice_totals(lambda gp: self.openness(gp) * gp.active)
        leaders = self.practice_totals(
            lambda gp: (gp.formal_leader or self.informal_leader(gp, params)) and gp.active)
        new = []
        for practice in self.practices:
            p = practice.index
            if not active[p] > 0:
                new.append(practice.culture)
                continue
            target = min(max(openness[p] / active[p] + params.rel_leader_culture * (leaders[p] / active[p]),
                             0.0), 1.0)
            new.append(practice.culture + params.culture_rate * (1.0 - practice.inertia)
                       * (target - practice.culture))
        for practice, value in zip(self.practices, new):
            practice.culture = value

    def update_practice_outcomes(self, state, params, tables) -> None:
        """A practice adopts an innovation when genuine adopters >= practice_adoption_share *
        active GPs. Quality = base + sum_k benefit_k * (genuine share + rel_shallow_benefit *
        shallow share) - strain_quality_penalty * mean strain - vacancy_quality_penalty * vacancy
        share."""
        m = state.genuine.shape[1]
        _, active, vacancy = self.vacancy_shares()
        genuine = [self.practice_totals(lambda gp: state.genuine[gp.index, k] * gp.active) for k in range(m)]
        shallow = [self.practice_totals(lambda gp: state.shallow[gp.index, k] * gp.active) for k in range(m)]
        strain = self.practice_totals(lambda gp: gp.strain * gp.active)
        for practice in self.practices:
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

    def update_federations(self, state, params) -> None:
        """A federation forms a plan when it has at least plan_min_brokers brokers and its
        engagement (1 - mean cynicism of active GPs) is at least plan_min_engagement; a plan lapses
        when no broker is left. The plan names the innovations some broker uses genuinely."""
        n_f, m = len(self.federations), state.plan.shape[1]
        brokers, active, cynicism = [0.0] * n_f, [0.0] * n_f, [0.0] * n_f
        champions = [[False] * m for _ in range(n_f)]
        for gp in self.gps:  # each GP reports to its federation, in GP order
            f = self.federation_of(gp)
            broker = self.informal_leader(gp, params) and gp.cross_influence >= params.broker_bar
            brokers[f] += broker
            active[f] += gp.active
            cynicism[f] += gp.cynicism * gp.active
            for k in range(m):
                champions[f][k] = champions[f][k] or (broker and state.genuine[gp.index, k])
        for federation in self.federations:
            f = federation.index
            engagement = 1.0 - cynicism[f] / (active[f] if active[f] > 0 else 1.0)
            if federation.has_plan:
                federation.has_plan = brokers[f] > 0 or params.plan_min_brokers == 0
            else:
                federation.has_plan = (brokers[f] >= params.plan_min_brokers
                                       and engagement >= params.plan_min_engagement and active[f] > 0)
            for k in range(m):
                state.plan[f, k] = federation.has_plan and champions[f][k]
