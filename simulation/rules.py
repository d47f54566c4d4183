"""The submodels, vectorised: one function per ODD submodel, in schedule order.

Each function is pure over (state, ties, tables, params, draws) except that it writes the new
values into ``state``. Within a submodel every GP decides from the old values (synchronous);
submodels run in the order of the ODD schedule, each seeing what the previous ones wrote.

Exactness: a per-agent reference engine (:mod:`simulation.reference`) must reproduce these
kernels bit for bit, so the rules use only exactly rounded arithmetic (+, -, *, /, comparisons,
min/max), sums are taken in GP index order (sparse products in CSR order, ``np.bincount``,
and explicit loops over innovations — never ``np.sum``, whose pairwise order differs), and every
random number is drawn here, in :func:`draw_month`, as whole arrays that both engines consume.
The order of operations in each formula is part of its definition: change it in both engines.

Speed without changing a bit: elementwise formulas act on whole (GPs x innovations) arrays at
once (elementwise results do not depend on how the work is batched); sums of 0/1 values are
exact integers, so practice counts may be taken in any order; and a sum that starts at +0.0
is unchanged by leaving out terms that are exactly zero (x + 0.0 == x, and such a sum can
never be -0.0), so sparse products may skip the GPs whose contributions are all zero (formal
leaders' authority, this month's new adopters) as long as the remaining terms keep their CSR
order (:func:`product_from_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .population import draw_initial_adoption, draw_thresholds
from .state import TRUST

SELECTION = {"random": 0, "propensity": 1, "seniority": 2, "influence": 3}


@dataclass(frozen=True)
class Tables:
    """Per-style and per-innovation columns of the parameter tables, as arrays."""

    persuasion: np.ndarray
    reach: np.ndarray
    support: np.ndarray
    resistance: np.ndarray
    simple: np.ndarray  # bool (m)
    p_external: np.ndarray
    q_social: np.ndarray
    workload_cost: np.ndarray
    quality_benefit: np.ndarray
    mandated: np.ndarray
    month_introduced: np.ndarray

    @classmethod
    def from_params(cls, params) -> "Tables":
        st, inn = params.styles, params.innovations
        col = lambda rows, name, dtype=float: np.array([getattr(r, name) for r in rows], dtype=dtype)
        return cls(
            persuasion=col(st, "persuasion"), reach=col(st, "reach"), support=col(st, "support"),
            resistance=col(st, "resistance"),
            simple=np.array([i.kind == "simple" for i in inn]),
            p_external=col(inn, "p_external"), q_social=col(inn, "q_social"),
            workload_cost=col(inn, "workload_cost"), quality_benefit=col(inn, "quality_benefit"),
            mandated=col(inn, "mandated", bool), month_introduced=col(inn, "month_introduced", np.int64),
        )

    def adoption_is_random(self) -> bool:
        """Whether any adoption or abandonment draw can matter (not in the Watts limit)."""
        return bool(np.any(self.p_external > 0) or np.any(self.q_social > 0) or np.any(self.mandated))


@dataclass
class Draws:
    """The random numbers of one month, drawn as whole arrays from the dynamics stream."""

    u_appoint: np.ndarray | None
    u_fill: np.ndarray | None
    u_exit: np.ndarray | None
    u_adopt: np.ndarray | None
    u_abandon: np.ndarray | None
    newcomers: Callable[[int], dict] | None


def draw_month(rng, params, tables: Tables, n: int, m: int, newcomer_rng=None) -> Draws:
    """All uniform draws of a month, in a fixed order; a switched-off mechanism draws nothing.
    Newcomers' attributes come from ``newcomer_rng`` (the month's own stream), so the number of
    posts filled never shifts the dynamics stream."""
    u_appoint = rng.random(n) if params.drive_on else None
    u_fill = rng.random(n) if params.exits_on else None
    u_exit = rng.random(n) if params.exits_on else None
    if tables.adoption_is_random():
        u_adopt, u_abandon = rng.random((n, m)), rng.random((n, m))
    else:
        u_adopt = u_abandon = None
    return Draws(u_appoint, u_fill, u_exit, u_adopt, u_abandon,
                 newcomers=lambda k: draw_newcomers(newcomer_rng if newcomer_rng is not None else rng,
                                                    params, k))


def draw_newcomers(rng, params, k: int) -> dict:
    """Attributes of ``k`` new GPs filling vacant posts (in post order)."""
    a = params.leadership_propensity * params.propensity_concentration
    b = (1.0 - params.leadership_propensity) * params.propensity_concentration
    shares = np.array([s.share for s in params.styles])
    return dict(
        partner=rng.random(k) < params.newcomer_partner_share,
        propensity=rng.beta(a, b, k),
        style=rng.choice(len(shares), k, p=shares / shares.sum()).astype(np.int64),
        threshold=draw_thresholds(params, rng, k),
        **dict(zip(("genuine", "potential"), draw_initial_adoption(params, rng, k))),
    )


# ---------------------------------------------------------------------------------------------
# derived quantities (shared by both engines)
# ---------------------------------------------------------------------------------------------

def centre_pressure(params, month: int) -> float:
    """P(t) = clip(pressure_level + pressure_trend * t/12 + jump * [t >= p4p_month], 0, 1)."""
    p = params.pressure_level + params.pressure_trend * (month / 12.0)
    if params.p4p_pressure_jump > 0 and month >= params.p4p_month:
        p = p + params.p4p_pressure_jump
    return min(max(p, 0.0), 1.0)


def informal_leaders(state, params) -> np.ndarray:
    """Informal leader: an active GP whose influence is positive and at or above the bar."""
    return state.active & (state.influence > 0) & (state.influence >= params.informal_bar)


def brokers(state, params) -> np.ndarray:
    """Broker: an informal leader with enough influence earned across practice boundaries."""
    return informal_leaders(state, params) & (state.cross_influence >= params.broker_bar)


def in_trust(state) -> np.ndarray:
    return (state.form == TRUST)[state.layout.gp_federation]


#: below this many GPs a product skipping zero rows costs more (in scipy calls) than it saves
SPARSE_MIN_GPS = 2000


def few(k: int, n: int) -> bool:
    """Whether k source rows of n are few enough for :func:`product_from_rows` to skip the rest."""
    return n >= SPARSE_MIN_GPS and k * 8 < n


def product_from_rows(matrix, transposed, values, rows):
    """``matrix @ Y`` for an (n, c) array Y that is zero outside ``rows`` (sorted), where
    ``values = Y[rows]`` and ``transposed`` is ``matrix.T`` as CSR. Returns ``(listeners, sums)``:
    the rows of the product that can be nonzero (sorted) and those rows; or ``(None, product)``
    when it was computed whole (with many source rows). Every other row is exactly 0.

    Bit-identical to the full product. With few source rows j, each nonzero y_jc's terms
    a_ij * y_jc are scattered to the rows i that hold it (``np.bincount``, which adds in input
    order): row i then receives its terms in increasing j, the order of its sorted CSR row,
    summed from +0.0. The terms left out are a_ij * 0 = 0, which cannot change such a sum."""
    n, c = matrix.shape[0], values.shape[1]
    if matrix.nnz == 0:  # no ties in this layer (e.g. each GP its own practice): empty sums
        return np.zeros(0, dtype=np.int64), np.zeros((0, c))
    if few(rows.size, n) and matrix.has_canonical_format and transposed.has_canonical_format:
        source, column = np.nonzero(values)  # the nonzero y_jc, by source row j, then column
        start, stop = transposed.indptr[rows[source]], transposed.indptr[rows[source] + 1]
        counts = stop - start
        entry = np.arange(counts.sum()) + np.repeat(start - (np.cumsum(counts) - counts), counts)
        target = transposed.indices[entry]  # the rows i of ``matrix`` that hear source j
        terms = transposed.data[entry] * np.repeat(values[source, column], counts)
        listeners, local = compress(target, n)
        sums = np.bincount(local * c + np.repeat(column, counts), weights=terms,
                           minlength=listeners.size * c).reshape(listeners.size, c)
        return listeners, sums
    full = np.zeros((n, c))
    full[rows] = values
    return None, matrix @ full


def compress(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``index`` (in 0..n-1, sorted) and each entry's position among them."""
    seen = np.zeros(n, dtype=bool)
    seen[index] = True
    return np.flatnonzero(seen), (np.cumsum(seen) - 1)[index]


def expand(listeners, sums, n: int) -> np.ndarray:
    """The whole (n, c) product from :func:`product_from_rows`'s result (other rows 0)."""
    if listeners is None:
        return sums
    full = np.zeros((n, sums.shape[1]))
    full[listeners] = sums
    return full


def any_innovation(flags: np.ndarray) -> np.ndarray:
    """Per GP: whether any innovation's flag is set (faster than ``flags.any(axis=1)``)."""
    out = flags[:, 0].copy()
    for k in range(1, flags.shape[1]):
        out |= flags[:, k]
    return out


# ---------------------------------------------------------------------------------------------
# 1. centre
# ---------------------------------------------------------------------------------------------

def apply_centre(state, params) -> np.ndarray:
    """Set P(t), absorb federations into trusts at ``absorb_month``; return each GP's pressure
    P_i = min(P(t) + trust_pressure * [federation is a trust], 1)."""
    state.pressure = centre_pressure(params, state.month)
    if params.absorb_share > 0 and state.month == params.absorb_month:
        k = int(round(params.absorb_share * state.n_federations))
        state.form[state.absorb_order[:k]] = TRUST
    # the same value for every GP of a federation: compute it per federation, then look it up
    by_federation = np.minimum(state.pressure + params.trust_pressure * (state.form == TRUST), 1.0)
    return by_federation[state.layout.gp_federation]


def selection_key(state, params) -> np.ndarray:
    """What the drive ranks candidates by (higher first); ties broken by a uniform draw."""
    return {
        "random": np.zeros(state.n_gps), "propensity": state.propensity,
        "seniority": state.seniority, "influence": state.influence,
    }[params.leader_selection]


def appoint_formal_leaders(state, params, u_appoint) -> None:
    """target = floor(drive * active GPs); k = ceil((target - current) * fill_rate) new leaders,
    the k non-leaders ranked highest by the selection key (ties: lowest draw first)."""
    n_active = int(np.count_nonzero(state.active))
    target = math.floor(params.leadership_drive * n_active)
    gap = target - int(np.count_nonzero(state.formal & state.active))
    if gap <= 0 or params.drive_fill_rate <= 0:
        return
    k = math.ceil(gap * params.drive_fill_rate)
    candidates = np.flatnonzero(state.active & ~state.formal)
    if k >= candidates.size:
        chosen = candidates
    else:
        # the first k of a stable sort by (-key, draw), found in linear time
        key = -selection_key(state, params)[candidates]
        kth = np.partition(key, k - 1)[k - 1]
        sure = np.flatnonzero(key < kth)
        tied = np.flatnonzero(key == kth)
        chosen = candidates[np.concatenate(
            [sure, tied[smallest(u_appoint[candidates[tied]], k - sure.size)]])]
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


# ---------------------------------------------------------------------------------------------
# 2. autonomy, 3. strain and exits
# ---------------------------------------------------------------------------------------------

def update_autonomy(state, params, pressure) -> None:
    """a <- a + rate * (clip(base + bonus*partner + decentralisation - rel*P_i
    - penalty*[trust], 0, 1) - a)."""
    target = (params.autonomy_base + params.autonomy_partner_bonus * state.partner
              + params.decentralisation - params.rel_pressure_autonomy * pressure
              - params.trust_autonomy_penalty * in_trust(state))
    target = np.minimum(np.maximum(target, 0.0), 1.0)
    state.autonomy = state.autonomy + params.autonomy_rate * (target - state.autonomy)


def practice_counts(state):
    """Posts, active GPs and vacancy share per practice."""
    posts = state.layout.posts
    active = np.bincount(state.practice, weights=state.active, minlength=state.n_practices)
    vacancy_share = (posts - active) / posts
    return posts, active, vacancy_share


def uses(state, params, rel_shallow: float) -> np.ndarray:
    """genuine + rel_shallow * shallow, as floats (n, m); with no shallow adopter the second
    term is 0 and adds nothing, so it is skipped."""
    if state.shallow.any():
        return state.genuine + rel_shallow * state.shallow
    return state.genuine.astype(np.float64)


def workload(state, params, tables) -> np.ndarray:
    """Workload of what each GP uses: sum_k cost_k * (genuine + rel_shallow_cost * shallow)."""
    cost = tables.workload_cost * uses(state, params, params.rel_shallow_cost)
    total = np.zeros(state.n_gps)
    for k in range(cost.shape[1]):
        total = total + cost[:, k]
    return total


def leadership_support(state, params, tables) -> np.ndarray:
    """Per practice: sum of the style 'support' of its active leaders (formal or informal) / posts."""
    leaders = (state.formal | informal_leaders(state, params)) & state.active
    return np.bincount(state.practice, weights=tables.support[state.style] * leaders,
                       minlength=state.n_practices) / state.layout.posts


def update_strain(state, params, tables, pressure) -> None:
    """s <- s + rate * (clip(base + rel*P_i + workload + vacancy_load * vacancies
    - servant_relief * support, 0, 1) - s)."""
    _, _, vacancy_share = practice_counts(state)
    support = leadership_support(state, params, tables)
    load = (params.workload_base + params.rel_pressure_strain * pressure + workload(state, params, tables)
            + params.vacancy_load * vacancy_share[state.practice]
            - params.servant_relief * support[state.practice])
    load = np.minimum(np.maximum(load, 0.0), 1.0)
    state.strain = state.strain + params.strain_rate * (load - state.strain)


def age_posts(state, params) -> None:
    """Active GPs gain a month of seniority and grow their ties (embeddedness, up to 1)."""
    a = state.active
    state.seniority = np.where(a, state.seniority + 1.0 / 12.0, state.seniority)
    state.embeddedness = np.where(a, np.minimum(state.embeddedness + params.embed_rate, 1.0),
                                  state.embeddedness)


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


def exit_and_replace(state, params, draws: Draws, pressure) -> None:
    """Vacant posts are filled with probability p_fill_vacancy; active GPs leave with
    probability p_exit_base + p_exit_strain * strain^2. Both from the old state."""
    fill = ~state.active & (draws.u_fill < params.p_fill_vacancy)
    hazard = params.p_exit_base + params.p_exit_strain * (state.strain * state.strain)
    leave = state.active & (draws.u_exit < hazard)

    vacate_posts(state, leave)
    state.active = state.active | fill

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
    state.autonomy[idx] = np.minimum(params.autonomy_base + params.autonomy_partner_bonus * new["partner"], 1.0)
    state.strain[idx] = params.workload_base
    state.cynicism[idx] = params.initial_cynicism
    state.embeddedness[idx] = params.newcomer_embeddedness
    state.person[idx] = state.next_person + np.arange(idx.size)
    state.next_person += idx.size
    state.leavers = int(np.count_nonzero(leave))
    state.joiners = int(idx.size)


# ---------------------------------------------------------------------------------------------
# 4. exposure, 5. adoption
# ---------------------------------------------------------------------------------------------

@dataclass
class Exposure:
    """What exposure computed, kept for adoption and for crediting influence."""

    exposure: np.ndarray  # (n, m)
    den: np.ndarray  # (n) total weight a GP listens to
    visible: np.ndarray  # (n, m) A = genuine + rel_shallow_visibility * shallow (old state)
    voice: np.ndarray  # (n) s_j
    authority: np.ndarray  # (n) f_j
    reach: np.ndarray  # (n) r_j
    trust: np.ndarray  # (n) 1 - cynicism


def speaker_weights(state, params, tables):
    """s_j = active * embeddedness * (1 + rel_informal_weight * informal) * persuasion[style];
    f_j = active * embeddedness * formal * rel_formal_authority; r_j = reach[style]."""
    base = state.active * state.embeddedness
    voice = base * (1.0 + params.rel_informal_weight * informal_leaders(state, params)) * tables.persuasion[state.style]
    authority = base * state.formal * params.rel_formal_authority
    return voice, authority, tables.reach[state.style]


def expose(state, ties, params, tables) -> Exposure:
    """exposure_ik = (X_s + trust_i X_f)_ik / (D_s + trust_i D_f)_i, where
    X_s = inside @ (s A) + across @ ((s r) A),  X_f = inside @ (f A) + across @ ((f r) A),
    D_s = inside @ s + across @ (s r),          D_f likewise with f;  0 where the denominator is 0.
    The formal columns are left out when no GP has authority (their terms are exactly 0)."""
    m = state.genuine.shape[1]
    said = spoken(state, params.rel_shallow_visibility)  # [A, 1]: one product gives X and D
    voice, authority, reach = speaker_weights(state, params, tables)
    trust = 1.0 - state.cynicism
    formal = np.flatnonzero(authority != 0) if np.any(authority > 0) else None
    if formal is not None and not few(formal.size, state.n_gps):
        # many formal leaders: their columns go into the same two products
        fr = authority * reach
        x = (ties.inside @ np.hstack([voice[:, None] * said, authority[:, None] * said])
             + ties.across @ np.hstack([(voice * reach)[:, None] * said, fr[:, None] * said]))
        x = x[:, :m + 1] + trust[:, None] * x[:, m + 1:]
    else:
        x = heard(state, ties, voice, voice * reach, said)
        if formal is not None:
            # only formal leaders have authority: the other GPs' authority terms are all zero,
            # and a GP who hears no formal leader keeps [X, D] + trust * 0 = [X, D]
            listeners, x_f = spread(ties, authority[formal, None] * said[formal],
                                    (authority * reach)[formal, None] * said[formal], formal)
            x[listeners] = x[listeners] + trust[listeners, None] * x_f
    num, den = x[:, :m], x[:, m]
    safe = np.where(den > 0, den, 1.0)
    exposure = num / safe[:, None]
    silent = ~(den > 0)
    if silent.any():
        exposure[silent] = 0.0
    return Exposure(exposure, den, said[:, :m], voice, authority, reach, trust)


def spoken(state, rel_shallow: float) -> np.ndarray:
    """[genuine + rel_shallow * shallow, 1] as one (n, m + 1) array of floats: what each GP's
    ties see of its adoptions, and a column of ones for the total weight it carries."""
    n, m = state.genuine.shape
    out = np.empty((n, m + 1))
    out[:, m] = 1.0
    if state.shallow.any():
        np.add(state.genuine, rel_shallow * state.shallow, out=out[:, :m])
    else:  # the second term is 0 and adds nothing
        out[:, :m] = state.genuine
    return out


def heard(state, ties, weight, weight_across, said):
    """[X, D] = inside @ (w [A, 1]) + across @ (w' [A, 1]): what each GP hears per innovation,
    and the total weight it listens to. When few GPs use any innovation, only their rows enter X
    (and D, which changes only with the weights, is remembered)."""
    n, m = state.n_gps, said.shape[1] - 1
    if few(np.count_nonzero(state.genuine) + np.count_nonzero(state.shallow), n):
        users = np.flatnonzero(any_innovation(state.genuine) | any_innovation(state.shallow))
        x = np.empty((n, m + 1))
        x[:, :m] = expand(*spread(ties, weight[users, None] * said[users, :m],
                                  weight_across[users, None] * said[users, :m], users), n)
        x[:, m] = listening(ties, weight, weight_across)
        return x
    return ties.inside @ (weight[:, None] * said) + ties.across @ (weight_across[:, None] * said)


def spread(ties, inside_values, across_values, rows):
    """inside @ Y + across @ Y' for Y, Y' zero outside ``rows``: what the GPs tied to ``rows``
    hear from them, as :func:`product_from_rows` gives it (listeners and their sums, or None and
    the whole sum). Each listener's two sums are added as in the whole product: X_in + X_out."""
    n = ties.n
    inside_t, across_t = ties.transposed
    heard_in = product_from_rows(ties.inside, inside_t, inside_values, rows)
    heard_out = product_from_rows(ties.across, across_t, across_values, rows)
    if heard_in[0] is None or heard_out[0] is None:
        return None, expand(*heard_in, n) + expand(*heard_out, n)
    listeners, position = compress(np.concatenate([heard_in[0], heard_out[0]]), n)
    out = np.zeros((listeners.size, inside_values.shape[1]))
    out[position[:heard_in[0].size]] = heard_in[1]
    out[position[heard_in[0].size:]] += heard_out[1]  # 0 + X_out where a GP hears only across
    return listeners, out


def listening(ties, weight, weight_across) -> np.ndarray:
    """inside @ weight + across @ weight_across, remembered for the last weights seen with these
    ties: it changes only when some speaker's weight does (never, in the Watts and Bass limits)."""
    last = ties.__dict__.get("_listening")
    if last is not None and np.array_equal(last[0], weight) and np.array_equal(last[1], weight_across):
        return last[2].copy()
    total = ties.inside @ weight + ties.across @ weight_across
    ties.__dict__["_listening"] = (weight.copy(), weight_across.copy(), total.copy())
    return total


def openness(state) -> np.ndarray:
    """o_i = (autonomy + culture of the practice + (1 - strain)) / 3."""
    return (state.autonomy + state.culture[state.practice] + (1.0 - state.strain)) / 3.0


def adopt(state, params, tables, exp: Exposure, draws: Draws, pressure):
    """Voluntary (genuine) adoption, shallow compliance with mandated innovations, abandonment.

    o = openness - 0.5; external p_i = p_external * (1 + rel_openness_simple * o).
    Simple: adopt if u < (p_external + q_social * exposure) * (1 + rel_openness_simple * o).
    Complex: adopt if exposure >= threshold - rel_openness_threshold * o - plan_bonus * [plan]
    or u < external p_i. A shallow adopter who adopts voluntarily becomes genuine.
    Mandated, not adopting voluntarily, not yet shallow: comply (shallow) if
    u < p_voluntary + p_compliance * mode * P_i * (1 - resistance[style]).
    Shallow adopters (old) abandon if u_abandon < p_abandon * strain.
    Only GPs within an innovation's market potential (``state.potential``) ever adopt it.
    Returns the new genuine and new shallow adoptions (n, m)."""
    n, m = state.genuine.shape
    o = openness(state) - 0.5
    mult = 1.0 + params.rel_openness_simple * o
    available = state.month >= tables.month_introduced
    u = draws.u_adopt
    e = exp.exposure
    # all innovations at once (elementwise, as the per-innovation formulas)
    if tables.simple.all():
        social = np.zeros((n, m), dtype=bool)
    else:
        bar = state.threshold - (params.rel_openness_threshold * o)[:, None]
        # the plan bonus only for GPs whose federation's plan names something (else it is 0)
        fed = state.layout.gp_federation
        planned = np.flatnonzero(state.plan.any(axis=1)[fed])
        if planned.size:
            bar[planned] = bar[planned] - params.plan_threshold_bonus * state.plan[fed[planned]]
        social = e >= bar
        social &= ~tables.simple
    if u is not None:
        # a complex innovation's social term is 0 * e = 0, so its p_vol is p_external * mult
        p_vol = np.where(tables.simple, tables.q_social, 0.0) * e
        p_vol += tables.p_external
        p_vol *= mult[:, None]
        voluntary = u < p_vol
        voluntary |= social
    else:
        voluntary = social
    candidate = state.active[:, None] & ~state.genuine & available & state.potential
    new_genuine = candidate & voluntary
    new_shallow = np.zeros((n, m), dtype=bool)
    mandated = np.flatnonzero(tables.mandated & available)  # only with draws (adoption_is_random)
    if mandated.size:
        comply = params.p_compliance * params.management_mode * pressure * (1.0 - tables.resistance[state.style])
    for k in mandated:
        new_shallow[:, k] = candidate[:, k] & ~voluntary[:, k] & ~state.shallow[:, k] & (u[:, k] < p_vol[:, k] + comply)
    abandon = np.zeros((n, m), dtype=bool)
    if u is not None:
        for k in np.flatnonzero(available & state.shallow.any(axis=0)) if state.shallow.any() else ():
            abandon[:, k] = state.shallow[:, k] & ~new_genuine[:, k] & (draws.u_abandon[:, k] < params.p_abandon * state.strain)
    first = (new_genuine | new_shallow) & (state.month_adopted < 0)
    state.month_adopted[first] = state.month
    state.genuine |= new_genuine
    state.shallow = (state.shallow & ~new_genuine & ~abandon) | new_shallow
    return new_genuine, new_shallow


def update_cynicism(state, params, new_shallow, pressure) -> None:
    """c <- clip(c * (1 - decay) + per_compliance * (shallow adoptions this month)
    + cynicism_pressure * mode * P_i, 0, 1)."""
    count = np.zeros(state.n_gps)
    if new_shallow.any():
        for k in range(new_shallow.shape[1]):
            count = count + new_shallow[:, k]
    c = (state.cynicism * (1.0 - params.cynicism_decay) + params.cynicism_per_compliance * count
         + (params.cynicism_pressure * params.management_mode) * pressure)
    state.cynicism = np.minimum(np.maximum(c, 0.0), 1.0)


# ---------------------------------------------------------------------------------------------
# 6. leadership emergence
# ---------------------------------------------------------------------------------------------

def credit_influence(state, ties, params, exp: Exposure, new_genuine) -> None:
    """Each new genuine adoption by i credits each adopted neighbour j with j's share of i's
    exposure: G_ik = new_ik / den_i, H_ik = trust_i * G_ik;
    credit_in_j  = sum_k A_jk * (s_j (inside @ G)_jk + f_j (inside @ H)_jk),
    credit_out_j = sum_k A_jk * ((s r)_j (across @ G)_jk + (f r)_j (across @ H)_jk);
    influence <- influence * (1 - decay) + propensity * (credit_in + credit_out);
    cross_influence <- cross_influence * (1 - decay) + propensity * credit_out."""
    n, m = new_genuine.shape
    credit_in = np.zeros(n)
    credit_out = np.zeros(n)
    # G is zero outside this month's adopters (with someone to listen to): only they send credit
    adopters = np.flatnonzero(any_innovation(new_genuine) & (exp.den > 0)) if new_genuine.any() else ()
    if len(adopters):
        g = new_genuine[adopters] / exp.den[adopters][:, None]
        with_authority = bool(np.any(exp.authority > 0))
        cols = np.hstack([g, exp.trust[adopters][:, None] * g]) if with_authority else g
        inside_t, across_t = ties.transposed
        # only the GPs tied to an adopter are credited; everyone else's credit stays exactly 0
        for matrix, transposed, credit, across in ((ties.inside, inside_t, credit_in, False),
                                                   (ties.across, across_t, credit_out, True)):
            who, back = product_from_rows(matrix, transposed, cols, adopters)
            who = slice(None) if who is None else who
            voice, authority, visible = exp.voice[who], exp.authority[who], exp.visible[who]
            if across:
                voice, authority = voice * exp.reach[who], authority * exp.reach[who]
            part = voice[:, None] * back[:, :m]
            if with_authority:
                part = part + authority[:, None] * back[:, m:]
            terms = visible * part
            total = np.zeros(len(terms))
            for k in range(m):
                total = total + terms[:, k]
            credit[who] = total
    keep = 1.0 - params.influence_decay
    state.influence = state.influence * keep + state.propensity * (credit_in + credit_out)
    state.cross_influence = state.cross_influence * keep + state.propensity * credit_out


# ---------------------------------------------------------------------------------------------
# 7. practices, 8. federations
# ---------------------------------------------------------------------------------------------

def practice_sums(state, values) -> np.ndarray:
    """Sum of ``values`` over each practice's active GPs, in GP order."""
    return np.bincount(state.practice, weights=values * state.active, minlength=state.n_practices)


def practice_counts_of(state, flags: np.ndarray) -> np.ndarray:
    """Per practice and column: how many active GPs have the flag (P, m), as floats. Counts are
    exact integers, so one sparse product gives what a bincount per column would."""
    if not flags.any():
        return np.zeros((state.n_practices, flags.shape[1]))
    return state.layout.membership @ (flags & state.active[:, None]).astype(np.float64)


def update_culture(state, params) -> None:
    """culture <- culture + rate * (1 - inertia) * (clip(mean openness + rel_leader_culture *
    leader share, 0, 1) - culture), over active GPs; unchanged in a practice with none."""
    _, active, _ = practice_counts(state)
    has = active > 0
    n_safe = np.where(has, active, 1.0)
    mean_open = practice_sums(state, openness(state)) / n_safe
    leaders = practice_sums(state, state.formal | informal_leaders(state, params)) / n_safe
    target = np.minimum(np.maximum(mean_open + params.rel_leader_culture * leaders, 0.0), 1.0)
    step = params.culture_rate * (1.0 - state.inertia) * (target - state.culture)
    state.culture = np.where(has, state.culture + step, state.culture)


def update_practice_outcomes(state, params, tables) -> None:
    """Practice adoption: genuine adopters >= share * active GPs. Quality = base +
    sum_k benefit_k * (genuine share + rel_shallow_benefit * shallow share)
    - strain_penalty * mean strain - vacancy_penalty * vacancy share."""
    _, active, vacancy_share = practice_counts(state)
    has = active > 0
    n_safe = np.where(has, active, 1.0)[:, None]
    g = practice_counts_of(state, state.genuine)
    state.practice_adopted[:] = has[:, None] & (g >= params.practice_adoption_share * active[:, None])
    if state.shallow.any():
        s = practice_counts_of(state, state.shallow)
        gained = tables.quality_benefit * (g / n_safe + params.rel_shallow_benefit * (s / n_safe))
    else:  # the shallow term is rel_shallow_benefit * 0 = 0, which adds nothing
        gained = tables.quality_benefit * (g / n_safe)
    benefit = np.zeros(state.n_practices)
    for k in range(gained.shape[1]):
        benefit = benefit + gained[:, k]
    n_safe = n_safe[:, 0]
    mean_strain = practice_sums(state, state.strain) / n_safe
    state.quality = (params.quality_base + benefit - params.strain_quality_penalty * mean_strain
                     - params.vacancy_quality_penalty * vacancy_share)


def update_federations(state, params) -> None:
    """A plan forms when brokers >= plan_min_brokers and engagement (1 - mean cynicism of active
    GPs) >= plan_min_engagement; it lapses when the federation has no broker left. The plan names
    the innovations that at least one of its brokers has adopted genuinely."""
    fed = state.layout.gp_federation
    n_f = state.n_federations
    broker = brokers(state, params)
    n_brokers = np.bincount(fed, weights=broker, minlength=n_f)
    active = np.bincount(fed, weights=state.active, minlength=n_f)
    cyn = np.bincount(fed, weights=state.cynicism * state.active, minlength=n_f)
    engagement = 1.0 - cyn / np.where(active > 0, active, 1.0)
    forms = (n_brokers >= params.plan_min_brokers) & (engagement >= params.plan_min_engagement) & (active > 0)
    keeps = (n_brokers > 0) | (params.plan_min_brokers == 0)
    state.has_plan = np.where(state.has_plan, keeps, forms)
    # the innovations some broker of the federation has adopted genuinely (brokers are few)
    champions = np.zeros(state.plan.shape, dtype=bool)
    b = np.flatnonzero(broker)
    np.logical_or.at(champions, fed[b], state.genuine[b])
    state.plan[:] = state.has_plan[:, None] & champions
