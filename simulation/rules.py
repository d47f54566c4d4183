"""The submodels, compiled: one function per ODD submodel, in schedule order, each calling a
numba kernel (``_<name>_kernel``, right below it) that loops over GPs, practices or federations.

Each function is pure over (state, ties, tables, params, draws) except that it writes the new
values into ``state``. Within a submodel every GP decides from the old values (synchronous);
submodels run in the order of the ODD schedule, each seeing what the previous ones wrote.

Exactness: a per-agent reference engine (:mod:`simulation.reference`) must reproduce these
kernels bit for bit, so the rules use only exactly rounded arithmetic (+, -, *, /, comparisons,
min/max) with no fused multiply-add or reassociation (the kernels are compiled without
``fastmath``), sums are taken in a fixed order (a GP's ties in CSR order, as a sparse product
adds them; GPs in index order, as ``np.bincount`` does; innovations k = 0, 1, ...), and every
random number is drawn here, in :func:`draw_month`, as whole arrays that both engines consume.
The order of operations in each formula is part of its definition: change it in both engines.

Speed without changing a bit: a sum that starts at +0.0 is unchanged by leaving out terms that
are exactly zero (x + 0.0 == x, and such a sum can never be -0.0), so the kernels skip the GPs
whose contributions are all zero (formal leaders' authority, this month's new adopters, the few
users of an innovation), spreading the others' terms to their listeners in increasing order,
which with sorted CSR rows is each listener's row order (:func:`_spread`). Kernels are cached
on disk (``make kernels``; see docs/performance.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numba
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


def draw_month(rng, params, tables: Tables, n: int, m: int, newcomer_rng=None,
               uniforms: tuple | None = None) -> Draws:
    """All uniform draws of a month, in a fixed order; a switched-off mechanism draws nothing.
    Newcomers' attributes come from ``newcomer_rng`` (the month's own stream), so the number of
    posts filled never shifts the dynamics stream. ``uniforms``: the month's
    :func:`draw_uniforms`, if already drawn."""
    if uniforms is None:
        uniforms = draw_uniforms(rng, *uniforms_key(params, tables, n, m))
    return Draws(*uniforms,
                 newcomers=lambda k: draw_newcomers(newcomer_rng if newcomer_rng is not None else rng,
                                                    params, k))


def uniforms_key(params, tables: Tables, n: int, m: int) -> tuple:
    """What decides a month's uniform draws: the sizes and which mechanisms draw."""
    return n, m, bool(params.drive_on), bool(params.exits_on), tables.adoption_is_random()


def draw_uniforms(rng, n: int, m: int, drive_on: bool, exits_on: bool, adoption: bool) -> tuple:
    """(u_appoint, u_fill, u_exit, u_adopt, u_abandon), None where a mechanism is off."""
    u_appoint = rng.random(n) if drive_on else None
    u_fill = rng.random(n) if exits_on else None
    u_exit = rng.random(n) if exits_on else None
    if adoption:
        u_adopt, u_abandon = rng.random((n, m)), rng.random((n, m))
    else:
        u_adopt = u_abandon = None
    return u_appoint, u_fill, u_exit, u_adopt, u_abandon


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


#: from this many GPs up, exposure is summed from the users' rows alone when few GPs use any
#: innovation (:func:`expose`); below it the whole product costs less than the bookkeeping
SPARSE_MIN_GPS = 2000


def few(k: int, n: int) -> bool:
    """Whether k source rows of n are few enough for a sum to be spread from them alone."""
    return n >= SPARSE_MIN_GPS and k * 8 < n


def njit(function):
    """Compile a kernel with numba: cached on disk (``__pycache__``, written by ``make install``'s
    warm-up, so that runs and tests load it instead of compiling), and without ``fastmath``: no
    reassociation and no fused multiply-add, so each ``+`` and ``*`` rounds as in numpy and in
    the reference engine. Kernels release the GIL (``nogil``): the next month's draws, made on
    a worker thread (:class:`simulation.model.DrawsAhead`), go on while a kernel runs."""
    return numba.njit(cache=True, nogil=True)(function)


@njit
def is_informal(active, influence, informal_bar):
    """:func:`informal_leaders` for one GP, for the kernels (numba inlines it)."""
    return active & (influence > 0) & (influence >= informal_bar)


@njit
def _share(part, whole):
    """part / whole for whole > 0 and part >= 0 (a count or a sum from +0.0, never -0.0),
    without dividing when part is 0: 0 / whole is +0.0 exactly, and a division costs more
    than the test (most parts are 0 where GPs are few per practice, as in the limits)."""
    return part / whole if part != 0.0 else 0.0


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
    _autonomy_kernel(state.autonomy, state.partner, pressure, state.form,
                     state.layout.gp_federation, params.autonomy_base,
                     params.autonomy_partner_bonus, params.decentralisation,
                     params.rel_pressure_autonomy, params.trust_autonomy_penalty,
                     params.autonomy_rate)


@njit
def _autonomy_kernel(autonomy, partner, pressure, form, federation, base, partner_bonus,
                     decentralisation, rel_pressure, trust_penalty, rate):
    """:func:`update_autonomy`, GP by GP (each reads only its own old value: in place)."""
    for i in range(autonomy.size):
        target = (base + partner_bonus * partner[i] + decentralisation - rel_pressure * pressure[i]
                  - trust_penalty * (form[federation[i]] == TRUST))
        target = min(max(target, 0.0), 1.0)
        autonomy[i] = autonomy[i] + rate * (target - autonomy[i])


def practice_counts(state):
    """Posts, active GPs and vacancy share per practice."""
    posts = state.layout.posts
    active = np.bincount(state.practice, weights=state.active, minlength=state.n_practices)
    vacancy_share = (posts - active) / posts
    return posts, active, vacancy_share


def update_strain(state, params, tables, pressure) -> None:
    """s <- s + rate * (clip(base + rel*P_i + workload + vacancy_load * vacancies
    - servant_relief * support, 0, 1) - s), where workload = sum_k cost_k * (genuine +
    rel_shallow_cost * shallow) and support is the practice's sum of the style 'support' of its
    active leaders (formal or informal) per post."""
    _strain_kernel(state.practice, state.layout.posts, state.active, state.formal,
                   state.influence, params.informal_bar, state.style, tables.support,
                   state.genuine, state.shallow, tables.workload_cost, params.rel_shallow_cost,
                   pressure, state.strain, params.workload_base, params.rel_pressure_strain,
                   params.vacancy_load, params.servant_relief, params.strain_rate)


@njit
def _strain_kernel(practice, posts, active, formal, influence, informal_bar, style, support_of,
                   genuine, shallow, workload_cost, rel_shallow_cost, pressure, strain,
                   workload_base, rel_pressure, vacancy_load, servant_relief, rate):
    """:func:`update_strain`: practice totals first (added in GP order, as ``np.bincount``),
    then each GP's new strain, which reads only its own old strain (so it is written in place)."""
    n, m = genuine.shape
    n_p = posts.size
    count = np.zeros(n_p)
    support = np.zeros(n_p)
    for i in range(n):  # (& and | rather than and/or: no branches)
        informal = is_informal(active[i], influence[i], informal_bar)
        count[practice[i]] += active[i]
        support[practice[i]] += support_of[style[i]] * ((formal[i] | informal) & active[i])
    vacancy = np.empty(n_p)
    for p in range(n_p):
        vacancy[p] = _share(posts[p] - count[p], posts[p])
        support[p] = _share(support[p], posts[p])
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    for i in range(n):
        p = practice[i]
        work = 0.0
        for k in range(m):  # (flags read as bytes)
            work = work + workload_cost[k] * (g_bytes[i * m + k] + rel_shallow_cost * s_bytes[i * m + k])
        load = (workload_base + rel_pressure * pressure[i] + work + vacancy_load * vacancy[p]
                - servant_relief * support[p])
        load = min(max(load, 0.0), 1.0)
        strain[i] = strain[i] + rate * (load - strain[i])


def age_posts(state, params) -> None:
    """Active GPs gain a month of seniority and grow their ties (embeddedness, up to 1)."""
    _age_kernel(state.active, state.seniority, state.embeddedness, params.embed_rate)


@njit
def _age_kernel(active, seniority, embeddedness, embed_rate):
    """:func:`age_posts`, in place."""
    for i in range(active.size):
        if active[i]:
            seniority[i] = seniority[i] + 1.0 / 12.0
            embeddedness[i] = min(embeddedness[i] + embed_rate, 1.0)


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
    genuine: np.ndarray  # (n, m) the adoptions heard (old state, before this month's adoption):
    shallow: np.ndarray  # (n, m)   A = genuine + rel_visible * shallow
    rel_visible: float  # rel_shallow_visibility
    voice: np.ndarray  # (n) s_j
    authority: np.ndarray  # (n) f_j
    reach: np.ndarray  # (n) r_j
    trust: np.ndarray  # (n) 1 - cynicism
    with_authority: bool  # whether any GP has authority (else the formal terms are left out)


def speaker_weights(state, params, tables):
    """s_j = active * embeddedness * (1 + rel_informal_weight * informal) * persuasion[style];
    f_j = active * embeddedness * formal * rel_formal_authority; r_j = reach[style]."""
    return _speaker_weights_kernel(state.active, state.embeddedness, state.influence,
                                   state.formal, state.style, params.informal_bar,
                                   params.rel_informal_weight, params.rel_formal_authority,
                                   tables.persuasion, tables.reach)


@njit
def _speaker_weights_kernel(active, embeddedness, influence, formal, style, informal_bar,
                            rel_informal_weight, rel_formal_authority, persuasion, reach_of):
    """:func:`speaker_weights`, GP by GP."""
    n = active.size
    voice, authority, reach = np.empty(n), np.empty(n), np.empty(n)
    for j in range(n):
        base = active[j] * embeddedness[j]
        informal = is_informal(active[j], influence[j], informal_bar)
        voice[j] = base * (1.0 + rel_informal_weight * informal) * persuasion[style[j]]
        authority[j] = base * formal[j] * rel_formal_authority
        reach[j] = reach_of[style[j]]
    return voice, authority, reach


def csr(ties) -> tuple[np.ndarray, ...]:
    """(indptr, indices, data) of ``ties.inside`` and of ``ties.across`` as int64/float64 arrays
    for the kernels, taken once per tie network (so that every network compiles to the same
    kernel types, whatever index type scipy chose)."""
    cached = ties.__dict__.get("_csr")
    if cached is None:
        cached = tuple(np.ascontiguousarray(a, dtype=t) for matrix in (ties.inside, ties.across)
                       for a, t in ((matrix.indptr, np.int64), (matrix.indices, np.int64),
                                    (matrix.data, np.float64)))
        ties.__dict__["_csr"] = cached
    return cached


def csr_transposed(ties) -> tuple:
    """(indptr, indices, data) of ``inside.T`` and of ``across.T`` (row j: the GPs that hear j),
    and whether every row of ``inside`` and ``across`` lists its ties in increasing order, once
    per tie network. With sorted rows, a sum over i's ties in CSR order adds its terms in
    increasing j, so it may be built by visiting the speakers j in increasing order and adding
    each one's terms to the GPs that hear it (:func:`_spread`): the same terms in the same order."""
    cached = ties.__dict__.get("_csr_transposed")
    if cached is None:
        cached = tuple(np.ascontiguousarray(a, dtype=t) for matrix in ties.transposed
                       for a, t in ((matrix.indptr, np.int64), (matrix.indices, np.int64),
                                    (matrix.data, np.float64)))
        cached += (bool(ties.inside.has_sorted_indices and ties.across.has_sorted_indices),)
        ties.__dict__["_csr_transposed"] = cached
    return cached


@njit
def _spread(sources, values, t_ptr, t_idx, t_w, out, heard):
    """For rows sorted by tie: out[i] = sum over the ``sources`` j tied to i, in increasing j, of
    w_ij * values[r] (r: j's position in ``sources``, which is increasing), from +0.0, for each
    GP i that hears a source (``heard[i]`` is set; ``out[i]`` is zeroed on first touch, the rows
    of the other GPs are left as they are). ``t_*`` is the transposed tie matrix."""
    c = values.shape[1]
    for r in range(sources.size):
        j = sources[r]
        for t in range(t_ptr[j], t_ptr[j + 1]):
            i = t_idx[t]
            if not heard[i]:
                heard[i] = True
                for q in range(c):
                    out[i, q] = 0.0
    for r in range(sources.size):
        j = sources[r]
        for t in range(t_ptr[j], t_ptr[j + 1]):
            i, w = t_idx[t], t_w[t]
            for q in range(c):
                out[i, q] += w * values[r, q]


def scratch(owner, name: str, shape: tuple, dtype=np.float64) -> np.ndarray:
    """A work array kept on ``owner`` (e.g. the ties) between calls, for a kernel's
    intermediate results that live only during one call: a fresh large array costs a page
    fault per 4 kB on first touch, more than the arithmetic that fills it."""
    arrays = owner.__dict__.setdefault("_scratch", {})
    array = arrays.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = arrays[name] = np.empty(shape, dtype=dtype)
    return array


@dataclass
class HeardAcross:
    """What each GP heard across practices in the last whole product of :func:`expose`, kept
    on the state: what each speaker said across practices then (``said``, y_j below) and each
    listener's sums of it over its ties across practices (``heard``; the last column is D_s
    across). A listener's sum is taken again only if one of the speakers it is tied to across
    practices now says something else: the other sums would add the same terms in the same
    order. (Ties across practices are few per GP but far apart in memory: reading them is what
    the product costs; sums within a practice are cheap to take again.)"""

    ties: object
    said: np.ndarray  # (n, m + 1)
    heard: np.ndarray  # (n, m + 1)
    valid: bool = False

    @classmethod
    def of(cls, state, ties) -> "HeardAcross":
        kept = state.__dict__.get("_heard_across")
        n, m = state.genuine.shape
        if kept is None or kept.ties is not ties or kept.said.shape != (n, m + 1):
            kept = cls(ties, np.empty((n, m + 1)), np.empty((n, m + 1)))
            state.__dict__["_heard_across"] = kept  # (a State.copy() starts without it)
        return kept


def expose(state, ties, params, tables) -> Exposure:
    """exposure_ik = (X_s + trust_i X_f)_ik / (D_s + trust_i D_f)_i, where
    X_s = inside @ (s A) + across @ ((s r) A),  X_f = inside @ (f A) + across @ ((f r) A),
    D_s = inside @ s + across @ (s r),          D_f likewise with f;  0 where the denominator is 0.
    The formal terms are left out when no GP has authority (they are exactly 0)."""
    n, m = state.genuine.shape
    voice, authority, reach = speaker_weights(state, params, tables)
    trust = 1.0 - state.cynicism
    with_authority = bool(np.any(authority > 0))
    in_t_ptr, in_t_idx, in_t_w, out_t_ptr, out_t_idx, out_t_w, sorted_rows = csr_transposed(ties)
    # D_s within and across practices, kept from the last whole product: it changes only when
    # some speaker's weight does (never in the Watts and Bass limits)
    weights = ties.__dict__.get("_listening_weights")
    known = (weights is not None and np.array_equal(weights[0], voice)
             and np.array_equal(weights[1], reach))
    users_only = (known and sorted_rows and not with_authority
                  and few(np.count_nonzero(state.genuine) + np.count_nonzero(state.shallow), n))
    said = scratch(ties, "said", (n, m + 1))
    listening = scratch(ties, "listening_in", (n,)), scratch(ties, "listening_across", (n,))
    if users_only:
        exposure, den = _exposure_of_users(in_t_ptr, in_t_idx, in_t_w, out_t_ptr, out_t_idx,
                                           out_t_w, state.genuine, state.shallow,
                                           params.rel_shallow_visibility, voice, reach, said,
                                           scratch(ties, "x_across", (n, m + 1)), *listening)
    else:
        heard = HeardAcross.of(state, ties)
        exposure, den = _expose_kernel(
            *csr(ties), in_t_ptr, in_t_idx, in_t_w, out_t_ptr, out_t_idx, out_t_w, sorted_rows,
            state.genuine, state.shallow, params.rel_shallow_visibility, voice, authority, reach,
            trust, with_authority, said, heard.valid, heard.said, heard.heard,
            scratch(ties, "f_in", (n, m + 1)), scratch(ties, "f_out", (n, m + 1)), *listening)
        heard.valid = True
        ties.__dict__["_listening_weights"] = (voice, reach)
    return Exposure(exposure, den, state.genuine.copy(), state.shallow.copy(),
                    params.rel_shallow_visibility, voice, authority, reach, trust, with_authority)


@njit
def _expose_kernel(in_ptr, in_idx, in_w, out_ptr, out_idx, out_w, in_t_ptr, in_t_idx, in_t_w,
                   out_t_ptr, out_t_idx, out_t_w, sorted_rows, genuine, shallow, rel_visible,
                   voice, authority, reach, trust, with_authority, said, valid, said_across,
                   heard_across, f_in, f_out, listening_in, listening_across):
    """The products of :func:`expose`, one listening GP (row) i at a time. Each sum starts at
    +0.0 and adds w_ij * y_jc over i's ties in CSR order, where y_j = s_j [A_j, 1] (or, across
    practices, (s_j r_j) [A_j, 1]) with A_jk = genuine + rel_visible * shallow: the terms, and
    their order, of scipy's sparse product of the whole arrays (and of the reference engine).
    y is computed once per speaker into ``said`` (a work array) and ``said_across``; the sums of
    the last column (D_s within and across practices) are kept in ``listening_in`` and
    ``listening_across``. Sums across practices are kept between months (:class:`HeardAcross`):
    if ``valid``, ``said_across`` and ``heard_across`` hold the last whole product, and a GP's
    sum is taken again only if a speaker tied to it across practices now says something else
    (bit for bit); the others would add the same terms in the same order.

    Zero terms cannot change such a sum, and with sorted rows visiting the speakers in
    increasing order and adding each one's terms to the GPs tied to it (:func:`_spread`) adds
    each GP's terms in its row order. So the authority terms w_ij * (f_j [A_j, 1]) (f_j r_j
    across practices), 0 except from the few formal leaders, are spread from them into ``f_in``
    and ``f_out`` (with unsorted rows, each row is scanned for them). When few GPs use any
    innovation, :func:`_exposure_of_users` spreads the numerators from the users alone."""
    n, m = genuine.shape
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    stale = np.full(n, not valid)  # whose sums across practices must be taken (again)
    for j in range(n):
        s, sr = voice[j], voice[j] * reach[j]
        changed = said_across[j, m] != sr
        for k in range(m):
            a = g_bytes[j * m + k] + rel_visible * s_bytes[j * m + k]  # (flags read as bytes)
            said[j, k] = s * a
            y = sr * a
            changed |= said_across[j, k] != y
            said_across[j, k] = y
        said[j, m] = s
        said_across[j, m] = sr
        if valid and changed:
            for t in range(out_t_ptr[j], out_t_ptr[j + 1]):
                stale[out_t_idx[t]] = True
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    spread = with_authority and sorted_rows
    if spread:
        formal = np.flatnonzero(authority != 0.0)
        values_in, values_out = _speaker_terms(formal, authority, reach, genuine, shallow,
                                               rel_visible, True)
        _spread(formal, values_in, in_t_ptr, in_t_idx, in_t_w, f_in, heard_in)
        _spread(formal, values_out, out_t_ptr, out_t_idx, out_t_w, f_out, heard_out)
    exposure = np.empty((n, m))
    den = np.empty(n)
    x_in, x_out = np.empty(m + 1), np.empty(m + 1)  # voice terms, within and across practices
    a_in, a_out = np.empty(m + 1), np.empty(m + 1)  # authority terms, likewise
    for i in range(n):
        for c in range(m + 1):
            x_in[c] = x_out[c] = 0.0
        for t in range(in_ptr[i], in_ptr[i + 1]):
            j, w = in_idx[t], in_w[t]
            for c in range(m + 1):
                x_in[c] += w * said[j, c]
        if stale[i]:
            for t in range(out_ptr[i], out_ptr[i + 1]):
                j, w = out_idx[t], out_w[t]
                for c in range(m + 1):
                    x_out[c] += w * said_across[j, c]
            for c in range(m + 1):
                heard_across[i, c] = x_out[c]
        else:
            for c in range(m + 1):
                x_out[c] = heard_across[i, c]
        listening_in[i] = x_in[m]
        listening_across[i] = x_out[m]
        for c in range(m + 1):
            x_in[c] = x_in[c] + x_out[c]
        if spread:
            if heard_in[i] or heard_out[i]:  # (else trust * (0 + 0) adds nothing)
                for c in range(m + 1):
                    a_in[c] = f_in[i, c] if heard_in[i] else 0.0
                    a_out[c] = f_out[i, c] if heard_out[i] else 0.0
                    x_in[c] = x_in[c] + trust[i] * (a_in[c] + a_out[c])
        elif with_authority:
            for c in range(m + 1):
                a_in[c] = a_out[c] = 0.0
            for t in range(in_ptr[i], in_ptr[i + 1]):
                j = in_idx[t]
                if authority[j] != 0.0:
                    w, f = in_w[t], authority[j]
                    for k in range(m):
                        a_in[k] += w * (f * (genuine[j, k] + rel_visible * shallow[j, k]))
                    a_in[m] += w * f
            for t in range(out_ptr[i], out_ptr[i + 1]):
                j = out_idx[t]
                if authority[j] != 0.0:
                    w, f = out_w[t], authority[j] * reach[j]
                    for k in range(m):
                        a_out[k] += w * (f * (genuine[j, k] + rel_visible * shallow[j, k]))
                    a_out[m] += w * f
            for c in range(m + 1):
                x_in[c] = x_in[c] + trust[i] * (a_in[c] + a_out[c])
        total = x_in[m]
        den[i] = total
        for k in range(m):
            exposure[i, k] = x_in[k] / total if total > 0 else 0.0
    return exposure, den


@njit
def _speaker_terms(rows, weight, reach, genuine, shallow, rel_visible, with_total):
    """What each GP j in ``rows`` says, within and across practices: weight_j A_jk and
    (weight_j reach_j) A_jk with A_jk = genuine + rel_visible * shallow, then (``with_total``)
    weight_j and weight_j reach_j themselves, the terms of the listeners' totals."""
    m = genuine.shape[1]
    width = m + 1 if with_total else m
    values_in = np.empty((rows.size, width))
    values_out = np.empty((rows.size, width))
    for r in range(rows.size):
        j = rows[r]
        s, sr = weight[j], weight[j] * reach[j]
        for k in range(m):
            a = genuine[j, k] + rel_visible * shallow[j, k]
            values_in[r, k] = s * a
            values_out[r, k] = sr * a
        if with_total:
            values_in[r, m] = s
            values_out[r, m] = sr
    return values_in, values_out


@njit
def _exposure_of_users(in_t_ptr, in_t_idx, in_t_w, out_t_ptr, out_t_idx, out_t_w, genuine,
                       shallow, rel_visible, voice, reach, x_in, x_out, listening_in,
                       listening_across):
    """:func:`_expose_kernel` without authority, when few GPs use any innovation, rows are
    sorted and D_s is known from the last whole product with the same weights: each user's
    terms w_ij * (s_j A_jk) are spread to the GPs tied to it, in increasing order of users
    (into ``x_in`` and ``x_out``, work arrays); every other term is w * 0 = 0."""
    n, m = genuine.shape
    users = np.empty(n, dtype=np.int64)
    n_users = 0
    for j in range(n):
        uses = False
        for k in range(m):
            uses |= genuine[j, k] | shallow[j, k]
        if uses:
            users[n_users] = j
            n_users += 1
    users = users[:n_users]
    values_in, values_out = _speaker_terms(users, voice, reach, genuine, shallow, rel_visible,
                                           False)
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    _spread(users, values_in, in_t_ptr, in_t_idx, in_t_w, x_in, heard_in)
    _spread(users, values_out, out_t_ptr, out_t_idx, out_t_w, x_out, heard_out)
    exposure = np.empty((n, m))
    den = np.empty(n)
    for i in range(n):
        total = listening_in[i] + listening_across[i]
        den[i] = total
        for k in range(m):
            x = (x_in[i, k] if heard_in[i] else 0.0) + (x_out[i, k] if heard_out[i] else 0.0)
            exposure[i, k] = x / total if total > 0 else 0.0
    return exposure, den


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
    random = draws.u_adopt is not None
    u = draws.u_adopt if random else np.zeros((0, m))
    u_abandon = draws.u_abandon if random else u
    available = state.month >= tables.month_introduced
    return _adopt_kernel(
        state.genuine, state.shallow, state.potential, state.month_adopted, state.month,
        state.active, state.autonomy, state.strain, state.culture, state.practice, state.threshold,
        state.plan, state.layout.gp_federation, state.style, exp.exposure, pressure, u, u_abandon,
        random, available, tables.simple, tables.mandated, tables.p_external, tables.q_social,
        tables.resistance, params.rel_openness_simple, params.rel_openness_threshold,
        params.plan_threshold_bonus, params.p_compliance * params.management_mode,
        params.p_abandon)


@njit
def _adopt_kernel(genuine, shallow, potential, month_adopted, month, active, autonomy, strain,
                  culture, practice, threshold, plan, federation, style, exposure, pressure, u,
                  u_abandon, random, available, simple, mandated, p_external, q_social, resistance,
                  rel_openness_simple, rel_openness_threshold, plan_bonus, compliance, p_abandon):
    """:func:`adopt` for each GP i and available innovation k: each decision reads only GP i's
    own old values of k (and this month's exposure), so it is applied at once."""
    n, m = genuine.shape
    new_genuine = np.zeros((n, m), dtype=np.bool_)
    new_shallow = np.zeros((n, m), dtype=np.bool_)
    for i in range(n):
        o = (autonomy[i] + culture[practice[i]] + (1.0 - strain[i])) / 3.0 - 0.5
        mult = 1.0 + rel_openness_simple * o
        comply = compliance * pressure[i] * (1.0 - resistance[style[i]])
        f = federation[i]
        for k in range(m):
            if not available[k]:
                continue
            # only a GP within the innovation's market potential ever adopts it
            candidate = active[i] & (not genuine[i, k]) & potential[i, k]
            adopts = complies = False
            if candidate:  # (for the others, exposure and the draw decide nothing)
                e = exposure[i, k]
                if simple[k]:
                    p_vol = (p_external[k] + q_social[k] * e) * mult
                    social = False
                else:
                    p_vol = p_external[k] * mult
                    bar = threshold[i, k] - rel_openness_threshold * o - plan_bonus * plan[f, k]
                    social = e >= bar
                voluntary = social or (random and u[i, k] < p_vol)
                adopts = voluntary
                complies = (mandated[k] and not voluntary and not shallow[i, k]
                            and u[i, k] < p_vol + comply)
            abandons = (random and shallow[i, k] and not adopts
                        and u_abandon[i, k] < p_abandon * strain[i])
            if adopts or complies:
                if month_adopted[i, k] < 0:
                    month_adopted[i, k] = month
                new_genuine[i, k] = adopts
                new_shallow[i, k] = complies
            if adopts:
                genuine[i, k] = True
            if shallow[i, k] or complies:
                shallow[i, k] = (shallow[i, k] and not adopts and not abandons) or complies
    return new_genuine, new_shallow


def update_cynicism(state, params, new_shallow, pressure) -> None:
    """c <- clip(c * (1 - decay) + per_compliance * (shallow adoptions this month)
    + cynicism_pressure * mode * P_i, 0, 1)."""
    _cynicism_kernel(state.cynicism, new_shallow, pressure, 1.0 - params.cynicism_decay,
                     params.cynicism_per_compliance, params.cynicism_pressure * params.management_mode)


@njit
def _cynicism_kernel(cynicism, new_shallow, pressure, keep, per_compliance, per_pressure):
    """:func:`update_cynicism`, GP by GP (each reads only its own old value: in place)."""
    n, m = new_shallow.shape
    for i in range(n):
        count = 0.0
        for k in range(m):
            count = count + new_shallow[i, k]
        c = cynicism[i] * keep + per_compliance * count + per_pressure * pressure[i]
        cynicism[i] = min(max(c, 0.0), 1.0)


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
    _credit_kernel(*csr(ties), *csr_transposed(ties), new_genuine, exp.den, exp.trust,
                   exp.genuine, exp.shallow, exp.rel_visible, exp.voice, exp.authority, exp.reach,
                   exp.with_authority, state.influence, state.cross_influence, state.propensity,
                   1.0 - params.influence_decay, scratch(ties, "back_in", (n, 2 * m)),
                   scratch(ties, "back_out", (n, 2 * m)))


@njit
def _credit_kernel(in_ptr, in_idx, in_w, out_ptr, out_idx, out_w, in_t_ptr, in_t_idx, in_t_w,
                   out_t_ptr, out_t_idx, out_t_w, sorted_rows, new_genuine, den, trust, genuine,
                   shallow, rel_visible, voice, authority, reach, with_authority, influence,
                   cross_influence, propensity, keep, back_in, back_out):
    """:func:`credit_influence`, one credited GP j at a time: (inside @ G)_j sums w_ji G_i over
    j's ties in CSR order from +0.0, as the sparse product does. G and H are zero outside this
    month's adopters (with someone to listen to), whose terms are skipped (w * 0 = 0 cannot
    change such a sum): with sorted rows, [G, H] is spread from the adopters, in increasing
    order, to the GPs tied to them (:func:`_spread`, into ``back_in`` and ``back_out``);
    otherwise each row is scanned for them. Influence is written in place: no credit reads it."""
    n, m = new_genuine.shape
    sender = np.full(n, -1)  # row of each sender in gh, -1 for the others
    n_senders = 0
    for i in range(n):
        if den[i] > 0:
            for k in range(m):
                if new_genuine[i, k]:
                    sender[i] = n_senders
                    n_senders += 1
                    break
    senders = np.empty(n_senders, dtype=np.int64)
    gh = np.zeros((n_senders, 2 * m))  # [G, H] of each sender
    for i in range(n):
        r = sender[i]
        if r >= 0:
            senders[r] = i
            for k in range(m):
                if new_genuine[i, k]:
                    gh[r, k] = 1.0 / den[i]
                gh[r, m + k] = trust[i] * gh[r, k]
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    if sorted_rows:
        _spread(senders, gh, in_t_ptr, in_t_idx, in_t_w, back_in, heard_in)
        _spread(senders, gh, out_t_ptr, out_t_idx, out_t_w, back_out, heard_out)
    elif n_senders:
        for j in range(n):
            for c in range(2 * m):
                back_in[j, c] = back_out[j, c] = 0.0
            for t in range(in_ptr[j], in_ptr[j + 1]):
                r = sender[in_idx[t]]
                if r >= 0:
                    w = in_w[t]
                    for c in range(2 * m):
                        back_in[j, c] += w * gh[r, c]
            for t in range(out_ptr[j], out_ptr[j + 1]):
                r = sender[out_idx[t]]
                if r >= 0:
                    w = out_w[t]
                    for c in range(2 * m):
                        back_out[j, c] += w * gh[r, c]
        heard_in[:] = True
        heard_out[:] = True
    for j in range(n):
        credit_in = 0.0
        credit_out = 0.0
        if not (heard_in[j] or heard_out[j]):  # tied to no adopter: every term is 0
            influence[j] = influence[j] * keep + propensity[j] * (credit_in + credit_out)
            cross_influence[j] = cross_influence[j] * keep + propensity[j] * credit_out
            continue
        s, f = voice[j], authority[j]
        sr, fr = voice[j] * reach[j], authority[j] * reach[j]
        for k in range(m):
            b_in = back_in[j, k] if heard_in[j] else 0.0
            h_in = back_in[j, m + k] if heard_in[j] else 0.0
            b_out = back_out[j, k] if heard_out[j] else 0.0
            h_out = back_out[j, m + k] if heard_out[j] else 0.0
            part_in = s * b_in
            part_out = sr * b_out
            if with_authority:
                part_in = part_in + f * h_in
                part_out = part_out + fr * h_out
            visible = genuine[j, k] + rel_visible * shallow[j, k]  # A_jk, as heard
            credit_in = credit_in + visible * part_in
            credit_out = credit_out + visible * part_out
        influence[j] = influence[j] * keep + propensity[j] * (credit_in + credit_out)
        cross_influence[j] = cross_influence[j] * keep + propensity[j] * credit_out


# ---------------------------------------------------------------------------------------------
# 7. practices, 8. federations
# ---------------------------------------------------------------------------------------------

def practice_sums(state, values) -> np.ndarray:
    """Sum of ``values`` over each practice's active GPs, in GP order."""
    return np.bincount(state.practice, weights=values * state.active, minlength=state.n_practices)


def update_culture(state, params) -> None:
    """culture <- culture + rate * (1 - inertia) * (clip(mean openness + rel_leader_culture *
    leader share, 0, 1) - culture), over active GPs; unchanged in a practice with none."""
    _culture_kernel(state.practice, state.active, state.autonomy, state.strain, state.formal,
                    state.influence, params.informal_bar, state.culture, state.inertia,
                    params.rel_leader_culture, params.culture_rate)


@njit
def _culture_kernel(practice, active, autonomy, strain, formal, influence, informal_bar, culture,
                    inertia, rel_leader_culture, rate):
    """:func:`update_culture`: practice totals of openness and leaders over active GPs (added in
    GP order, as ``np.bincount``, from the old culture), then each practice's new culture."""
    n, n_p = practice.size, culture.size
    count = np.zeros(n_p)
    open_sum = np.zeros(n_p)
    leader_sum = np.zeros(n_p)
    for i in range(n):
        p = practice[i]
        informal = is_informal(active[i], influence[i], informal_bar)
        count[p] += active[i]
        open_sum[p] += (autonomy[i] + culture[p] + (1.0 - strain[i])) / 3.0 * active[i]
        leader_sum[p] += (formal[i] | informal) & active[i]
    for p in range(n_p):
        if count[p] > 0:
            target = min(max(open_sum[p] / count[p] + rel_leader_culture * (leader_sum[p] / count[p]),
                             0.0), 1.0)
            culture[p] = culture[p] + rate * (1.0 - inertia[p]) * (target - culture[p])


def update_practice_outcomes(state, params, tables) -> None:
    """Practice adoption: genuine adopters >= share * active GPs. Quality = base +
    sum_k benefit_k * (genuine share + rel_shallow_benefit * shallow share)
    - strain_penalty * mean strain - vacancy_penalty * vacancy share."""
    _outcomes_kernel(state.practice, state.layout.posts, state.active, state.genuine,
                     state.shallow, state.strain, tables.quality_benefit,
                     params.practice_adoption_share, params.rel_shallow_benefit,
                     params.quality_base, params.strain_quality_penalty,
                     params.vacancy_quality_penalty, state.practice_adopted, state.quality)


@njit
def _outcomes_kernel(practice, posts, active, genuine, shallow, strain, quality_benefit,
                     adoption_share, rel_shallow_benefit, quality_base, strain_penalty,
                     vacancy_penalty, practice_adopted, quality):
    """:func:`update_practice_outcomes`: per-practice counts and strain totals over active GPs
    (added in GP order), then each practice's adoption flags and quality."""
    n, m = genuine.shape
    n_p = posts.size
    count = np.zeros(n_p)
    strain_sum = np.zeros(n_p)
    g = np.zeros((n_p, m))
    s = np.zeros((n_p, m))
    # flags read as bytes (numba's 2-d bool reads cost more than the counting)
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    for i in range(n):
        p = practice[i]
        a = np.uint8(active[i])
        count[p] += active[i]
        strain_sum[p] += strain[i] * active[i]
        for k in range(m):
            g[p, k] += g_bytes[i * m + k] & a
            s[p, k] += s_bytes[i * m + k] & a
    for p in range(n_p):
        has = count[p] > 0
        n_safe = count[p] if has else 1.0
        benefit = 0.0
        for k in range(m):
            practice_adopted[p, k] = has & (g[p, k] >= adoption_share * count[p])
            benefit = benefit + quality_benefit[k] * (_share(g[p, k], n_safe)
                                                      + rel_shallow_benefit * _share(s[p, k], n_safe))
        quality[p] = (quality_base + benefit - strain_penalty * _share(strain_sum[p], n_safe)
                      - vacancy_penalty * _share(posts[p] - count[p], posts[p]))


def update_federations(state, params) -> None:
    """A plan forms when brokers >= plan_min_brokers and engagement (1 - mean cynicism of active
    GPs) >= plan_min_engagement; it lapses when the federation has no broker left. The plan names
    the innovations that at least one of its brokers has adopted genuinely."""
    _federations_kernel(state.layout.gp_federation, state.active, state.influence,
                        state.cross_influence, state.cynicism, state.genuine, params.informal_bar,
                        params.broker_bar, params.plan_min_brokers, params.plan_min_engagement,
                        state.has_plan, state.plan)


@njit
def _federations_kernel(federation, active, influence, cross_influence, cynicism, genuine,
                        informal_bar, broker_bar, min_brokers, min_engagement, has_plan, plan):
    """:func:`update_federations`: each GP reports to its federation (added in GP order, as
    ``np.bincount``), then each federation's plan."""
    n, m = genuine.shape
    n_f = has_plan.size
    n_brokers = np.zeros(n_f)
    n_active = np.zeros(n_f)
    cynical = np.zeros(n_f)
    champions = np.zeros((n_f, m), dtype=np.bool_)
    for i in range(n):
        f = federation[i]
        broker = (is_informal(active[i], influence[i], informal_bar)
                  & (cross_influence[i] >= broker_bar))
        n_brokers[f] += broker
        n_active[f] += active[i]
        cynical[f] += cynicism[i] * active[i]
        if broker:
            for k in range(m):
                champions[f, k] |= genuine[i, k]
    for f in range(n_f):
        engagement = 1.0 - cynical[f] / (n_active[f] if n_active[f] > 0 else 1.0)
        if has_plan[f]:
            has_plan[f] = (n_brokers[f] > 0) | (min_brokers == 0)
        else:
            has_plan[f] = ((n_brokers[f] >= min_brokers) & (engagement >= min_engagement)
                           & (n_active[f] > 0))
        for k in range(m):
            plan[f, k] = has_plan[f] & champions[f, k]

