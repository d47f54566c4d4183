"""Typed records of the arrays the kernels read and write: numba passes a ``NamedTuple`` of
arrays as one argument, so a kernel takes a few records (the GP posts, the practices, the
federations, the parameter tables, its own coefficients) instead of dozens of positional
arrays. A record holds *views* of the state's arrays, not copies: what a kernel writes into
``gps.strain`` is written into ``state.strain``. Submodels write into the state's arrays in
place and never replace them, so the records made at the start of a month stay valid for all
of its submodels. Each kernel declares, next to it, the record of the GP arrays it reads and
writes (a :func:`view` of :class:`GPs`).
"""

from __future__ import annotations

from functools import cache
from operator import attrgetter
from typing import NamedTuple

import numpy as np


@cache
def _getter(cls) -> attrgetter:
    return attrgetter(*cls._fields)


def view(source, cls) -> tuple:
    """The fields of record class ``cls`` taken by name from ``source`` (a record or any object
    with those attributes), as a plain tuple for a kernel, which names it again on entry
    (``gps = Reads(*gps)``). A kernel takes a view with just the arrays it reads and writes:
    numba unboxes every array of an argument at each call. And a plain tuple, not the
    ``NamedTuple``: numba types a plain tuple in its compiled fast path, but a ``NamedTuple``
    argument through a Python-level ``typeof`` at every call (about 0.1 µs an array)."""
    values = _getter(cls)(source)
    return values if len(cls._fields) > 1 else (values,)


class GPs(NamedTuple):
    """The GP posts (n), from :class:`simulation.state.State`; ``federation`` is derived."""

    practice: np.ndarray
    federation: np.ndarray
    partner: np.ndarray
    propensity: np.ndarray
    style: np.ndarray
    seniority: np.ndarray
    autonomy: np.ndarray
    strain: np.ndarray
    cynicism: np.ndarray
    formal: np.ndarray
    influence: np.ndarray
    cross_influence: np.ndarray
    active: np.ndarray
    embeddedness: np.ndarray
    genuine: np.ndarray  # (n, m)
    shallow: np.ndarray  # (n, m)
    month_adopted: np.ndarray  # (n, m)
    threshold: np.ndarray  # (n, m)
    potential: np.ndarray  # (n, m)
    informal_since: np.ndarray

    @classmethod
    def of(cls, state) -> "GPs":
        return cls(state.practice, state.layout.gp_federation, state.partner, state.propensity,
                   state.style, state.seniority, state.autonomy, state.strain, state.cynicism,
                   state.formal, state.influence, state.cross_influence, state.active,
                   state.embeddedness, state.genuine, state.shallow, state.month_adopted,
                   state.threshold, state.potential, state.informal_since)


class Practices(NamedTuple):
    """The practices (P); ``posts`` is derived from the fixed layout."""

    posts: np.ndarray
    culture: np.ndarray
    inertia: np.ndarray
    adopted: np.ndarray  # (P, m)
    quality: np.ndarray

    @classmethod
    def of(cls, state) -> "Practices":
        return cls(state.layout.posts, state.culture, state.inertia, state.practice_adopted,
                   state.quality)


class Federations(NamedTuple):
    """The federations (F)."""

    form: np.ndarray
    has_plan: np.ndarray
    plan: np.ndarray  # (F, m)

    @classmethod
    def of(cls, state) -> "Federations":
        return cls(state.form, state.has_plan, state.plan)


class Tables(NamedTuple):
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


class Csr(NamedTuple):
    """One sparse tie matrix as int64/float64 arrays (so that every network compiles to the
    same kernel types, whatever index type scipy chose)."""

    ptr: np.ndarray
    idx: np.ndarray
    w: np.ndarray

    @classmethod
    def of(cls, matrix) -> "Csr":
        return cls(np.ascontiguousarray(matrix.indptr, dtype=np.int64),
                   np.ascontiguousarray(matrix.indices, dtype=np.int64),
                   np.ascontiguousarray(matrix.data, dtype=np.float64))


class TieArrays(NamedTuple):
    """The ties within (``inside``) and across (``across``) practices, each as rows of the
    listener (i hears j) and transposed (row j: the GPs that hear j); ``sorted_rows``: whether
    every row lists its ties in increasing order, so that a sum over i's ties in CSR order may
    be built by visiting the speakers j in increasing order (:func:`simulation.kernels.spread`)."""

    inside: Csr
    across: Csr
    inside_t: Csr
    across_t: Csr
    sorted_rows: bool
