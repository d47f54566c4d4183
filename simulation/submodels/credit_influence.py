"""Leadership emergence: each new genuine adoption by i credits each adopted neighbour j with
j's share of i's exposure. Let G_ik = new_ik / D_i and H_ik = (1 − cynicism_i) G_ik. Then:

- credit_in_j = Σ_k A_jk (s_j (W_in G)_jk + f_j (W_in H)_jk);
- credit_out_j = Σ_k A_jk ((s r)_j (W_out G)_jk + (f r)_j (W_out H)_jk);
- influence ← influence × (1 − `influence_decay`) + propensity × (credit_in + credit_out);
- cross_influence ← cross_influence × (1 − `influence_decay`) + propensity × credit_out.

Influence thus decays with a memory of about 1/`influence_decay` months. A GP is an informal
leader while influence stays above the bar (`informal_bar`). It is a broker when enough of that
influence (`broker_bar`) comes from other practices.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import njit, spread, tie_arrays
from ..records import view
from .expose import Speakers

SWITCHES = ("leadership_on",)


class Reads(NamedTuple):
    """The GP arrays the kernel reads and writes."""

    propensity: np.ndarray
    influence: np.ndarray
    cross_influence: np.ndarray


class Adoptions(NamedTuple):
    """What the credit is for: this month's genuine adoptions, the adopters' D_i, and the
    adoptions they heard (old state)."""

    new_genuine: np.ndarray
    den: np.ndarray
    genuine: np.ndarray
    shallow: np.ndarray


def fast(month) -> None:
    heard, work = month.heard, month.workspace
    n, m = month.new_genuine.shape
    speakers = Speakers(heard.voice, heard.authority, heard.reach, heard.trust,
                        heard.with_authority, heard.rel_visible)
    _kernel(work.flat_arrays, view(month.gps, Reads), tuple(speakers),
            (month.new_genuine, heard.den, heard.genuine, heard.shallow),
            1.0 - month.params.influence_decay,
            (work.scratch("back_in", (n, 2 * m)), work.scratch("back_out", (n, 2 * m))))


@njit
def _kernel(ties, gps, speakers, adoptions, keep, back):
    """One credited GP j at a time: (inside @ G)_j sums w_ji G_i over j's ties in CSR order from
    +0.0, as the sparse product does. G and H are zero outside this month's adopters (with
    someone to listen to), whose terms are skipped (w * 0 = 0 cannot change such a sum): with
    sorted rows, [G, H] is spread from the adopters, in increasing order, to the GPs tied to
    them (:func:`spread`, into ``back``); otherwise each row is scanned for them. Influence is
    written in place: no credit reads it."""
    ties, gps = tie_arrays(ties), Reads(*gps)
    speakers, adoptions = Speakers(*speakers), Adoptions(*adoptions)
    new_genuine, den = adoptions.new_genuine, adoptions.den
    back_in, back_out = back
    inside, across = ties.inside, ties.across
    influence, cross_influence, propensity = gps.influence, gps.cross_influence, gps.propensity
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
                gh[r, m + k] = speakers.trust[i] * gh[r, k]
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    if ties.sorted_rows:
        spread(senders, gh, ties.inside_t.ptr, ties.inside_t.idx, ties.inside_t.w, back_in, heard_in)
        spread(senders, gh, ties.across_t.ptr, ties.across_t.idx, ties.across_t.w, back_out, heard_out)
    elif n_senders:
        for j in range(n):
            for c in range(2 * m):
                back_in[j, c] = back_out[j, c] = 0.0
            for t in range(inside.ptr[j], inside.ptr[j + 1]):
                r = sender[inside.idx[t]]
                if r >= 0:
                    w = inside.w[t]
                    for c in range(2 * m):
                        back_in[j, c] += w * gh[r, c]
            for t in range(across.ptr[j], across.ptr[j + 1]):
                r = sender[across.idx[t]]
                if r >= 0:
                    w = across.w[t]
                    for c in range(2 * m):
                        back_out[j, c] += w * gh[r, c]
        heard_in[:] = True
        heard_out[:] = True
    rel_visible, with_authority = speakers.rel_visible, speakers.with_authority
    genuine, shallow = adoptions.genuine, adoptions.shallow
    for j in range(n):
        credit_in = 0.0
        credit_out = 0.0
        if not (heard_in[j] or heard_out[j]):  # tied to no adopter: every term is 0
            influence[j] = influence[j] * keep + propensity[j] * (credit_in + credit_out)
            cross_influence[j] = cross_influence[j] * keep + propensity[j] * credit_out
            continue
        s, f = speakers.voice[j], speakers.authority[j]
        sr, fr = speakers.voice[j] * speakers.reach[j], speakers.authority[j] * speakers.reach[j]
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


def reference(month, agents) -> None:
    """Each GP j that uses an innovation k is credited by each tie i who adopted k genuinely
    this month, with the share of i's exposure j gave: w_ij (s_j + trust_i f_j) A_jk / den_i
    (times j's reach across practices)."""
    heard, new_genuine, ties = month.heard, month.new_genuine, month.ties
    n, m = new_genuine.shape
    # what each adopter i sends back per innovation: G_ik = 1/den_i, and H_ik = trust_i G_ik
    g = [[new_genuine[i, k] / heard.den[i] if heard.den[i] > 0 else 0.0 for k in range(m)]
         for i in range(n)]
    h = [[heard.trust[i] * g[i][k] for k in range(m)] for i in range(n)]
    keep = 1.0 - month.params.influence_decay
    new = []
    for gp in agents.gps:
        j = gp.index
        inside, across = agents.ties_of(ties, j)
        back_in, back_out = _gather(inside, g, m), _gather(across, g, m)
        if heard.with_authority:
            back_in_h, back_out_h = _gather(inside, h, m), _gather(across, h, m)
        voice, authority, reach = heard.voice[j], heard.authority[j], heard.reach[j]
        credit_in = credit_out = 0.0
        for k in range(m):
            part_in = voice * back_in[k]
            part_out = (voice * reach) * back_out[k]
            if heard.with_authority:
                part_in = part_in + authority * back_in_h[k]
                part_out = part_out + (authority * reach) * back_out_h[k]
            visible = heard.genuine[j, k] + heard.rel_visible * heard.shallow[j, k]
            credit_in = credit_in + visible * part_in
            credit_out = credit_out + visible * part_out
        new.append((gp.influence * keep + gp.leadership_propensity * (credit_in + credit_out),
                    gp.cross_influence * keep + gp.leadership_propensity * credit_out))
    for gp, (influence, cross) in zip(agents.gps, new):
        gp.influence = influence
        gp.cross_influence = cross


def _gather(ties, values, m) -> list[float]:
    """sum over ties (in order) of w * values[i][k], for each k."""
    sums = [0.0] * m
    for i, w in ties:
        for k in range(m):
            sums[k] += w * values[i][k]
    return sums
