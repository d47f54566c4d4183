"""Exposure: for each GP and innovation, the share of its ties that use the innovation, each tie
weighted by the speaker's voice, and by its formal authority only as far as the listener is not
cynical. Each speaker j has these weights:

- voice s_j = active × embeddedness × (1 + `rel_informal_weight` × informal_j) × persuasion(style_j);
- authority f_j = active × embeddedness × formal_j × `rel_formal_authority`;
- reach r_j = reach(style_j), which scales j's ties across practice boundaries.

Visibility is A_jk = genuine_jk + `rel_shallow_visibility` × shallow_jk. With W_in the ties
within practices and W_out the ties across them:

X_s = W_in (s A) + W_out ((s r) A), X_f = W_in (f A) + W_out ((f r) A), and D_s, D_f the same with A = 1.

exposure_ik = (X_s + (1 − cynicism_i) X_f)_ik / (D_s + (1 − cynicism_i) D_f)_i, and 0 where the
denominator is 0.

Switched off (`exposure_on`), nobody hears anything: every exposure and denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..kernels import few, is_informal, njit, spread, tie_arrays
from ..records import view

SWITCHES = ("exposure_on",)


@dataclass
class Heard:
    """What each GP heard this month, kept for adoption and for crediting influence (arrays in
    the fast engine, lists in the reference engine; indexed [i] and [i][k] alike)."""

    exposure: object  # (n, m)
    den: object  # (n) total weight a GP listens to
    genuine: np.ndarray  # (n, m) the adoptions heard (old state, before this month's adoption):
    shallow: np.ndarray  # (n, m)   A = genuine + rel_visible * shallow
    rel_visible: float  # rel_shallow_visibility
    voice: object  # (n) s_j
    authority: object  # (n) f_j
    reach: object  # (n) r_j
    trust: object  # (n) 1 - cynicism
    with_authority: bool  # whether any GP has authority (else the formal terms are left out)


class Speaking(NamedTuple):
    """The GP arrays that make a speaker's weights."""

    active: np.ndarray
    embeddedness: np.ndarray
    informal_since: np.ndarray
    formal: np.ndarray
    style: np.ndarray


class Adoptions(NamedTuple):
    """What the GPs use (old state)."""

    genuine: np.ndarray
    shallow: np.ndarray


class Columns(NamedTuple):
    """The style columns of the speakers' weights."""

    persuasion: np.ndarray
    reach: np.ndarray


class Speakers(NamedTuple):
    """The speakers' weights and the listeners' trust, for the kernels."""

    voice: np.ndarray
    authority: np.ndarray
    reach: np.ndarray
    trust: np.ndarray
    with_authority: bool
    rel_visible: float


class Kept(NamedTuple):
    """Work arrays and the sums kept between months (:class:`simulation.workspace.HeardAcross`;
    ``listening_*``: the D_s sums within and across practices)."""

    said: np.ndarray
    valid: bool
    said_across: np.ndarray
    heard_across: np.ndarray
    f_in: np.ndarray
    f_out: np.ndarray
    listening_in: np.ndarray
    listening_across: np.ndarray


def speaker_weights(gps, params, tables):
    """(voice, authority, reach) of every GP."""
    return _speaker_weights_kernel(view(gps, Speaking), view(tables, Columns), params.rel_informal_weight,
                                   params.rel_formal_authority)


@njit
def _speaker_weights_kernel(gps, tables, rel_informal_weight, rel_formal_authority):
    gps, tables = Speaking(*gps), Columns(*tables)
    n = gps.active.size
    voice, authority, reach = np.empty(n), np.empty(n), np.empty(n)
    for j in range(n):
        base = gps.active[j] * gps.embeddedness[j]
        informal = is_informal(gps.active[j], gps.informal_since[j])
        voice[j] = base * (1.0 + rel_informal_weight * informal) * tables.persuasion[gps.style[j]]
        authority[j] = base * gps.formal[j] * rel_formal_authority
        reach[j] = tables.reach[gps.style[j]]
    return voice, authority, reach


def fast(month) -> None:
    state, params, work, gps = month.state, month.params, month.workspace, month.gps
    n, m = state.genuine.shape
    voice, authority, reach = speaker_weights(gps, params, month.tables)
    speakers = Speakers(voice, authority, reach, 1.0 - state.cynicism,
                        bool(np.any(authority > 0)), params.rel_shallow_visibility)
    ties = work.arrays
    # D_s within and across practices, kept from the last whole product: it changes only when
    # some speaker's weight does (never in the Watts and Bass limits)
    weights = work.listening_weights
    known = (weights is not None and np.array_equal(weights[0], voice)
             and np.array_equal(weights[1], reach))
    users_only = (known and ties.sorted_rows and not speakers.with_authority
                  and few(np.count_nonzero(state.genuine) + np.count_nonzero(state.shallow), n))
    said = work.scratch("said", (n, m + 1))
    listening_in, listening_across = work.scratch("listening_in", (n,)), work.scratch("listening_across", (n,))
    if users_only:
        exposure, den = _exposure_of_users(work.flat_arrays, view(gps, Adoptions), tuple(speakers), said,
                                           work.scratch("x_across", (n, m + 1)),
                                           listening_in, listening_across)
    else:
        heard = work.heard_across(n, m)
        kept = Kept(said, heard.valid, heard.said, heard.heard, work.scratch("f_in", (n, m + 1)),
                    work.scratch("f_out", (n, m + 1)), listening_in, listening_across)
        exposure, den = _kernel(work.flat_arrays, view(gps, Adoptions), tuple(speakers), tuple(kept))
        heard.valid = True
        work.listening_weights = (voice, reach)
    month.heard = Heard(exposure, den, state.genuine.copy(), state.shallow.copy(),
                        params.rel_shallow_visibility, voice, authority, reach, speakers.trust,
                        speakers.with_authority)


def neutral(month) -> None:
    state = month.state
    n, m = state.genuine.shape
    zeros = np.zeros(n)
    month.heard = Heard(np.zeros((n, m)), zeros, state.genuine.copy(), state.shallow.copy(),
                        month.params.rel_shallow_visibility, zeros, zeros,
                        month.tables.reach[state.style], 1.0 - state.cynicism, False)


@njit
def _kernel(ties, gps, speakers, kept):
    """The products, one listening GP (row) i at a time. Each sum starts at +0.0 and adds
    w_ij * y_jc over i's ties in CSR order, where y_j = s_j [A_j, 1] (or, across practices,
    (s_j r_j) [A_j, 1]) with A_jk = genuine + rel_visible * shallow: the terms, and their
    order, of scipy's sparse product of the whole arrays (and of the reference engine). y is
    computed once per speaker into ``said`` (a work array) and ``said_across``; the sums of the
    last column (D_s within and across practices) are kept in ``listening_in`` and
    ``listening_across``. Sums across practices are kept between months: if ``valid``,
    ``said_across`` and ``heard_across`` hold the last whole product, and a GP's sum is taken
    again only if a speaker tied to it across practices now says something else (bit for bit);
    the others would add the same terms in the same order.

    Zero terms cannot change such a sum, and with sorted rows visiting the speakers in
    increasing order and adding each one's terms to the GPs tied to it (:func:`spread`) adds
    each GP's terms in its row order. So the authority terms w_ij * (f_j [A_j, 1]) (f_j r_j
    across practices), 0 except from the few formal leaders, are spread from them into ``f_in``
    and ``f_out`` (with unsorted rows, each row is scanned for them). When few GPs use any
    innovation, :func:`_exposure_of_users` spreads the numerators from the users alone."""
    ties, gps = tie_arrays(ties), Adoptions(*gps)
    speakers, kept = Speakers(*speakers), Kept(*kept)
    genuine, shallow = gps.genuine, gps.shallow
    voice, authority, reach, trust = speakers.voice, speakers.authority, speakers.reach, speakers.trust
    rel_visible, with_authority = speakers.rel_visible, speakers.with_authority
    said, said_across, heard_across = kept.said, kept.said_across, kept.heard_across
    inside, across = ties.inside, ties.across
    n, m = genuine.shape
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    stale = np.full(n, not kept.valid)  # whose sums across practices must be taken (again)
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
        if kept.valid and changed:
            for t in range(ties.across_t.ptr[j], ties.across_t.ptr[j + 1]):
                stale[ties.across_t.idx[t]] = True
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    spreads = with_authority and ties.sorted_rows
    f_in, f_out = kept.f_in, kept.f_out
    if spreads:
        formal = np.flatnonzero(authority != 0.0)
        values_in, values_out = _speaker_terms(formal, authority, reach, genuine, shallow,
                                               rel_visible, True)
        spread(formal, values_in, ties.inside_t.ptr, ties.inside_t.idx, ties.inside_t.w, f_in, heard_in)
        spread(formal, values_out, ties.across_t.ptr, ties.across_t.idx, ties.across_t.w, f_out,
               heard_out)
    exposure = np.empty((n, m))
    den = np.empty(n)
    x_in, x_out = np.empty(m + 1), np.empty(m + 1)  # voice terms, within and across practices
    a_in, a_out = np.empty(m + 1), np.empty(m + 1)  # authority terms, likewise
    for i in range(n):
        for c in range(m + 1):
            x_in[c] = x_out[c] = 0.0
        for t in range(inside.ptr[i], inside.ptr[i + 1]):
            j, w = inside.idx[t], inside.w[t]
            for c in range(m + 1):
                x_in[c] += w * said[j, c]
        if stale[i]:
            for t in range(across.ptr[i], across.ptr[i + 1]):
                j, w = across.idx[t], across.w[t]
                for c in range(m + 1):
                    x_out[c] += w * said_across[j, c]
            for c in range(m + 1):
                heard_across[i, c] = x_out[c]
        else:
            for c in range(m + 1):
                x_out[c] = heard_across[i, c]
        kept.listening_in[i] = x_in[m]
        kept.listening_across[i] = x_out[m]
        for c in range(m + 1):
            x_in[c] = x_in[c] + x_out[c]
        if spreads:
            if heard_in[i] or heard_out[i]:  # (else trust * (0 + 0) adds nothing)
                for c in range(m + 1):
                    a_in[c] = f_in[i, c] if heard_in[i] else 0.0
                    a_out[c] = f_out[i, c] if heard_out[i] else 0.0
                    x_in[c] = x_in[c] + trust[i] * (a_in[c] + a_out[c])
        elif with_authority:
            for c in range(m + 1):
                a_in[c] = a_out[c] = 0.0
            for t in range(inside.ptr[i], inside.ptr[i + 1]):
                j = inside.idx[t]
                if authority[j] != 0.0:
                    w, f = inside.w[t], authority[j]
                    for k in range(m):
                        a_in[k] += w * (f * (genuine[j, k] + rel_visible * shallow[j, k]))
                    a_in[m] += w * f
            for t in range(across.ptr[i], across.ptr[i + 1]):
                j = across.idx[t]
                if authority[j] != 0.0:
                    w, f = across.w[t], authority[j] * reach[j]
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
def _exposure_of_users(ties, gps, speakers, x_in, x_out, listening_in, listening_across):
    """:func:`_kernel` without authority, when few GPs use any innovation, rows are sorted and
    D_s is known from the last whole product with the same weights: each user's terms
    w_ij * (s_j A_jk) are spread to the GPs tied to it, in increasing order of users (into
    ``x_in`` and ``x_out``, work arrays); every other term is w * 0 = 0."""
    ties, gps, speakers = tie_arrays(ties), Adoptions(*gps), Speakers(*speakers)
    genuine, shallow = gps.genuine, gps.shallow
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
    values_in, values_out = _speaker_terms(users, speakers.voice, speakers.reach, genuine, shallow,
                                           speakers.rel_visible, False)
    heard_in = np.zeros(n, dtype=np.bool_)
    heard_out = np.zeros(n, dtype=np.bool_)
    spread(users, values_in, ties.inside_t.ptr, ties.inside_t.idx, ties.inside_t.w, x_in, heard_in)
    spread(users, values_out, ties.across_t.ptr, ties.across_t.idx, ties.across_t.w, x_out, heard_out)
    exposure = np.empty((n, m))
    den = np.empty(n)
    for i in range(n):
        total = listening_in[i] + listening_across[i]
        den[i] = total
        for k in range(m):
            x = (x_in[i, k] if heard_in[i] else 0.0) + (x_out[i, k] if heard_out[i] else 0.0)
            exposure[i, k] = x / total if total > 0 else 0.0
    return exposure, den


def reference(month, agents) -> None:
    """Each GP i listens to its ties j, in CSR order: exposure_ik = sum_j w_ij (s_j + trust_i
    f_j) A_jk / sum_j w_ij (s_j + trust_i f_j) (times j's reach on ties across practices)."""
    state, params, tables, ties = month.state, month.params, month.tables, month.ties
    m = state.genuine.shape[1]
    visible, voice, authority, reach = [], [], [], []
    for gp in agents.gps:  # what each GP says (old state)
        i = gp.index
        visible.append([state.genuine[i, k] + params.rel_shallow_visibility * state.shallow[i, k]
                        for k in range(m)])
        base = gp.active * gp.embeddedness
        voice.append(base * (1.0 + params.rel_informal_weight * agents.informal_leader(gp, params))
                     * tables.persuasion[gp.style_index])
        authority.append(base * gp.formal_leader * params.rel_formal_authority)
        reach.append(tables.reach[gp.style_index])
    with_authority = any(f > 0 for f in authority)

    exposure, den, trust = [], [], []
    for gp in agents.gps:  # what each GP hears
        inside, across = agents.ties_of(ties, gp.index)
        heard = _listen(inside, visible, voice, m, scale=None)
        heard_across = _listen(across, visible, voice, m, scale=reach)
        num = [heard[k] + heard_across[k] for k in range(m + 1)]
        t = 1.0 - gp.cynicism
        if with_authority:
            formal = _listen(inside, visible, authority, m, scale=None)
            formal_across = _listen(across, visible, authority, m, scale=reach)
            num = [num[k] + t * (formal[k] + formal_across[k]) for k in range(m + 1)]
        total = num[m]
        exposure.append([num[k] / total if total > 0 else 0.0 for k in range(m)])
        den.append(total)
        trust.append(t)
    month.heard = Heard(exposure, den, state.genuine.copy(), state.shallow.copy(),
                        params.rel_shallow_visibility, voice, authority, reach, trust, with_authority)


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
