"""What the submodels share: the numba decorator, the compiled scalar rules used by several
submodels (who is an informal leader, a broker; a GP's openness), and the summing helpers.

Exactness: the per-agent reference engine must reproduce the fast kernels bit for bit, so the
rules use only exactly rounded arithmetic (+, -, *, /, comparisons, min/max) with no fused
multiply-add or reassociation (kernels are compiled without ``fastmath``), sums are taken in a
fixed order (a GP's ties in CSR order, as a sparse product adds them; GPs in index order, as
``np.bincount`` does; innovations k = 0, 1, ...), and every random number is drawn as whole
arrays that both engines consume (:mod:`simulation.draws`). The order of operations in each
formula is part of its definition. The scalar rules below are compiled once and called by the
kernels and, from Python, by the reference engine: each formula is written once.

Speed without changing a bit: a sum that starts at +0.0 is unchanged by leaving out terms that
are exactly zero (x + 0.0 == x, and such a sum can never be -0.0), so kernels may skip GPs whose
contributions are all zero, spreading the others' terms to their listeners in increasing order,
which with sorted CSR rows is each listener's row order (:func:`spread`).
"""

from __future__ import annotations

import numba
import numpy as np

from .records import Csr, TieArrays

#: from this many GPs up, sums are spread from the few GPs whose terms are not zero (users of an
#: innovation, this month's adopters) when they are few; below it, whole products cost less
SPARSE_MIN_GPS = 2000


def few(k: int, n: int) -> bool:
    """Whether k source rows of n are few enough for a sum to be spread from them alone."""
    return n >= SPARSE_MIN_GPS and k * 8 < n


def njit(function):
    """Compile a kernel with numba: cached on disk (``__pycache__``, written by ``make install``'s
    warm-up, so that runs and tests load it instead of compiling), and without ``fastmath``: no
    reassociation and no fused multiply-add, so each ``+`` and ``*`` rounds as in numpy and in
    the reference engine. Kernels release the GIL (``nogil``): the next month's draws, made on
    a worker thread (:class:`simulation.draws.DrawsAhead`), go on while a kernel runs."""
    return numba.njit(cache=True, nogil=True)(function)


# --- who is a leader, and how open a GP is: one definition each --------------------------------

@njit
def is_informal(active, informal_since):
    """Informal leader: an active GP in a spell as informal leader (the standing its reputation
    earned, :func:`informal_next`)."""
    return active & (informal_since >= 0)


@njit
def informal_next(was, active, influence, informal_bar, hysteresis):
    """Whether a GP is an informal leader after this month's credit: an active GP becomes one
    when its influence is positive and reaches the bar, and stays one until it falls below
    (1 - hysteresis) x the bar (a standing, once recognised, sticks) or the GP leaves."""
    bar = informal_bar * (1.0 - hysteresis) if was else informal_bar
    return active & (influence > 0) & (influence >= bar)


@njit
def is_broker(active, informal_since, cross_influence, broker_bar):
    """Broker: an informal leader with enough influence earned across practice boundaries."""
    return is_informal(active, informal_since) & (cross_influence >= broker_bar)


@njit
def openness(autonomy, culture, strain):
    """o_i = (autonomy + culture of the practice + (1 - strain)) / 3."""
    return (autonomy + culture + (1.0 - strain)) / 3.0


@njit
def _informal_all(active, informal_since):
    out = np.empty(active.size, dtype=np.bool_)
    for i in range(active.size):
        out[i] = is_informal(active[i], informal_since[i])
    return out


def informal_leaders(state, params=None) -> np.ndarray:
    """The informal leaders among the GP posts (bool, n): :func:`is_informal` for each."""
    return _informal_all(state.active, state.informal_since)


def brokers(state, params) -> np.ndarray:
    """The brokers among the GP posts (bool, n): :func:`is_broker` for each."""
    return informal_leaders(state, params) & (state.cross_influence >= params.broker_bar)


@njit
def tie_arrays(flat):
    """:class:`simulation.records.TieArrays` from the workspace's plain tuples, inside a kernel."""
    return TieArrays(Csr(*flat[0]), Csr(*flat[1]), Csr(*flat[2]), Csr(*flat[3]), flat[4])


# --- sums --------------------------------------------------------------------------------------

@njit
def share(part, whole):
    """part / whole for whole > 0 and part >= 0 (a count or a sum from +0.0, never -0.0),
    without dividing when part is 0: 0 / whole is +0.0 exactly, and a division costs more
    than the test (most parts are 0 where GPs are few per practice, as in the limits)."""
    return part / whole if part != 0.0 else 0.0


@njit
def spread(sources, values, t_ptr, t_idx, t_w, out, heard):
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


def practice_counts(state):
    """Posts, active GPs and vacancy share per practice."""
    posts = state.layout.posts
    active = np.bincount(state.practice, weights=state.active, minlength=state.n_practices)
    vacancy_share = (posts - active) / posts
    return posts, active, vacancy_share


def practice_sums(state, values) -> np.ndarray:
    """Sum of ``values`` over each practice's active GPs, in GP order."""
    return np.bincount(state.practice, weights=values * state.active, minlength=state.n_practices)
