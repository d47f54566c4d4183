"""Leadership emergence: GPs earn influence, a reputation among their peers, only for what their
ties caused. Each new voluntary adoption by i carries σ_ik, the part of it that i's ties caused
(see adoption: the social share of the hazard for a simple innovation, 1 for a threshold
crossing its exposure triggered, 0 for external push and for anything mandated). That part is
shared among the neighbours who used k genuinely, in proportion to what each added to i's
exposure through its own voice: with X_ik = exposure_ik × D_i (what i heard of k) and
G_ik = σ_ik / X_ik,

- credit_in_j = Σ_k genuine_jk s_j (W_in G)_jk;
- credit_out_j = Σ_k genuine_jk (s r)_j (W_out G)_jk.

Shallow compliers, and the formal authority of a title, add to exposure but earn nobody anything:
their part of σ is not credited. Credit turns into reputation as far as the GP is established:
anchor_j = propensity_j × min(seniority_j / `reputation_tenure`, 1). Reputation builds and fades
over years:

- influence ← influence × (1 − `influence_decay`) + anchor × (credit_in + credit_out);
- cross_influence ← cross_influence × (1 − `influence_decay`) + anchor × credit_out.

An active GP becomes an informal leader when its influence reaches `informal_bar`, and stays one
until its influence falls below (1 − `informal_hysteresis`) × `informal_bar` or it leaves: a
standing, once recognised among colleagues, outlasts a quiet spell. It is a broker while enough
of its influence (`broker_bar`) was earned across practices. Each GP's current spell as an
informal leader is kept (`informal_since`, the month it began), and the month's new and lost
informal leaders are counted (the `informal_new` and `informal_lost` reporters).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import informal_next, njit, spread, tie_arrays
from ..records import view

SWITCHES = ("leadership_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    active: np.ndarray
    propensity: np.ndarray
    seniority: np.ndarray
    influence: np.ndarray
    cross_influence: np.ndarray
    informal_since: np.ndarray


class Adoptions(NamedTuple):
    """What the credit is for: the part of each new adoption ties caused, what each adopter
    heard (exposure and D_i), and the neighbours' genuine use (old state)."""

    caused: np.ndarray
    exposure: np.ndarray
    den: np.ndarray
    genuine: np.ndarray


class Coefficients(NamedTuple):
    keep: float  # 1 - influence_decay
    reputation_tenure: float
    informal_bar: float
    hysteresis: float
    month: int

    @classmethod
    def of(cls, month) -> "Coefficients":
        p = month.params
        return cls(1.0 - p.influence_decay, p.reputation_tenure, p.informal_bar,
                   p.informal_hysteresis, month.state.month)


@njit
def anchor(propensity, seniority, reputation_tenure):
    """How much of its credit a GP turns into reputation: propensity x established-ness."""
    if reputation_tenure <= 0.0:
        return propensity
    return propensity * min(seniority / reputation_tenure, 1.0)


@njit
def sent(caused, exposure, den):
    """G_ik = σ_ik / (exposure_ik D_i): what an adopter sends back per unit of exposure."""
    return caused / (exposure * den) if caused > 0.0 else 0.0


def fast(month) -> None:
    heard, work = month.heard, month.workspace
    n, m = month.caused.shape
    counts = _kernel(work.flat_arrays, view(month.gps, Reads), (heard.voice, heard.reach),
                     (month.caused, heard.exposure, heard.den, heard.genuine),
                     month.coefficients_of(Coefficients),
                     (work.scratch("back_in", (n, m)), work.scratch("back_out", (n, m))))
    month.state.informal_new, month.state.informal_lost = int(counts[0]), int(counts[1])


@njit
def _kernel(ties, gps, speakers, adoptions, c, back):
    """One credited GP j at a time: (W_in G)_j sums w_ji G_i over j's ties in CSR order from
    +0.0, as a sparse product does. G is zero outside this month's adopters whose ties caused
    something; their terms are skipped (w * 0 = 0 cannot change such a sum): with sorted rows,
    G is spread from them, in increasing order, to the GPs tied to them (:func:`spread`, into
    ``back``); otherwise each row is scanned for them. Influence is written in place: no credit
    reads it. Returns the month's (new, lost) informal leaders."""
    ties, gps = tie_arrays(ties), Reads(*gps)
    adoptions, c = Adoptions(*adoptions), Coefficients(*c)
    voice, reach = speakers
    caused = adoptions.caused
    back_in, back_out = back
    inside, across = ties.inside, ties.across
    n, m = caused.shape
    sender = np.full(n, -1)  # row of each sender in g, -1 for the others
    n_senders = 0
    for i in range(n):
        for k in range(m):
            if caused[i, k] > 0.0:
                sender[i] = n_senders
                n_senders += 1
                break
    senders = np.empty(n_senders, dtype=np.int64)
    g = np.zeros((n_senders, m))
    for i in range(n):
        r = sender[i]
        if r >= 0:
            senders[r] = i
            for k in range(m):
                g[r, k] = sent(caused[i, k], adoptions.exposure[i, k], adoptions.den[i])
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    if ties.sorted_rows:
        spread(senders, g, ties.inside_t.ptr, ties.inside_t.idx, ties.inside_t.w, back_in, heard_in)
        spread(senders, g, ties.across_t.ptr, ties.across_t.idx, ties.across_t.w, back_out, heard_out)
    elif n_senders:
        for j in range(n):
            for k in range(m):
                back_in[j, k] = back_out[j, k] = 0.0
            for t in range(inside.ptr[j], inside.ptr[j + 1]):
                r = sender[inside.idx[t]]
                if r >= 0:
                    for k in range(m):
                        back_in[j, k] += inside.w[t] * g[r, k]
            for t in range(across.ptr[j], across.ptr[j + 1]):
                r = sender[across.idx[t]]
                if r >= 0:
                    for k in range(m):
                        back_out[j, k] += across.w[t] * g[r, k]
        heard_in[:] = True
        heard_out[:] = True
    genuine = adoptions.genuine
    influence, cross_influence = gps.influence, gps.cross_influence
    gained = lost = 0
    for j in range(n):
        credit_in = 0.0
        credit_out = 0.0
        if heard_in[j] or heard_out[j]:  # (else: tied to no such adopter, every term is 0)
            s, sr = voice[j], voice[j] * reach[j]
            for k in range(m):
                b_in = back_in[j, k] if heard_in[j] else 0.0
                b_out = back_out[j, k] if heard_out[j] else 0.0
                credit_in = credit_in + genuine[j, k] * (s * b_in)
                credit_out = credit_out + genuine[j, k] * (sr * b_out)
        a = anchor(gps.propensity[j], gps.seniority[j], c.reputation_tenure)
        influence[j] = influence[j] * c.keep + a * (credit_in + credit_out)
        cross_influence[j] = cross_influence[j] * c.keep + a * credit_out
        was = gps.informal_since[j] >= 0
        now = informal_next(was, gps.active[j], influence[j], c.informal_bar, c.hysteresis)
        if now and not was:
            gps.informal_since[j] = c.month
            gained += 1
        elif was and not now:
            gps.informal_since[j] = -1
            lost += 1
    return np.array([gained, lost])


def reference(month, agents) -> None:
    """Each GP j that uses innovation k genuinely is credited by each tie i whose adoption of k
    this month its ties caused, with j's voice's part of what i heard: w_ij s_j / X_ik times
    σ_ik (times j's reach across practices)."""
    heard, caused, ties, state = month.heard, month.caused, month.ties, month.state
    params = month.params
    n, m = caused.shape
    g = [[sent(caused[i, k], heard.exposure[i][k], heard.den[i]) for k in range(m)]
         for i in range(n)]
    keep = 1.0 - params.influence_decay
    new = []
    for gp in agents.gps:
        j = gp.index
        inside, across = agents.ties_of(ties, j)
        back_in, back_out = _gather(inside, g, m), _gather(across, g, m)
        voice, reach = heard.voice[j], heard.reach[j]
        credit_in = credit_out = 0.0
        for k in range(m):
            credit_in = credit_in + heard.genuine[j, k] * (voice * back_in[k])
            credit_out = credit_out + heard.genuine[j, k] * ((voice * reach) * back_out[k])
        a = anchor(gp.leadership_propensity, gp.seniority, params.reputation_tenure)
        new.append((gp.influence * keep + a * (credit_in + credit_out),
                    gp.cross_influence * keep + a * credit_out))
    gained = lost = 0
    for gp, (influence, cross) in zip(agents.gps, new):
        gp.influence = influence
        gp.cross_influence = cross
        was = state.informal_since[gp.index] >= 0
        now = informal_next(was, gp.active, gp.influence, params.informal_bar,
                            params.informal_hysteresis)
        if now and not was:
            state.informal_since[gp.index] = state.month
            gained += 1
        elif was and not now:
            state.informal_since[gp.index] = -1
            lost += 1
    state.informal_new, state.informal_lost = gained, lost


def _gather(ties, values, m) -> list[float]:
    """sum over ties (in order) of w * values[i][k], for each k."""
    sums = [0.0] * m
    for i, w in ties:
        for k in range(m):
            sums[k] += w * values[i][k]
    return sums
