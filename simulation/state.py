"""The model's state as arrays (a struct of arrays) for GPs, practices and federations.

Both engines (the compiled kernels of :mod:`simulation.submodels` and the per-agent reference in
:mod:`simulation.reference`) read and write these arrays; the Mesa agents are views onto them.
A GP is a *post* in a practice: when a GP leaves, the post is vacant (``active`` is false) until
a new GP fills it, so the number of GP posts is conserved.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp

FEDERATION, NETWORK, TRUST = 0, 1, 2
FORMS = ("federation", "network", "trust")
#: why GPs adopted, the rows of ``State.new_by_cause``: the part of voluntary adoptions their
#: ties caused, the part external push caused, and shallow compliance with a mandate
CAUSES = ("social", "external", "mandated")


@dataclass(frozen=True)
class Layout:
    """Who works where, derived once from the fixed ``practice`` and ``practice_federation``
    arrays (a post never changes practice), so that the engines need not recompute it monthly."""

    practice: np.ndarray  # the arrays it was derived from (checked by identity)
    practice_federation: np.ndarray
    gp_federation: np.ndarray  # int (n), federation of each post
    posts: np.ndarray  # int (P), posts per practice
    membership: sp.csr_array  # (P, n) ones: per-practice counts of many columns in one product

    @classmethod
    def of(cls, practice: np.ndarray, practice_federation: np.ndarray) -> "Layout":
        n, n_p = practice.shape[0], practice_federation.shape[0]
        membership = sp.csr_array((np.ones(n), (practice, np.arange(n))), shape=(n_p, n))
        return cls(practice, practice_federation, practice_federation[practice],
                   np.bincount(practice, minlength=n_p), membership)


@dataclass
class State:
    month: int
    # --- GP posts (n) ---
    practice: np.ndarray  # int, practice of the post
    partner: np.ndarray  # bool, partner (True) or salaried
    propensity: np.ndarray  # float 0-1, latent leadership propensity
    style: np.ndarray  # int, row of the styles table
    seniority: np.ndarray  # float, years in post
    autonomy: np.ndarray  # float 0-1
    strain: np.ndarray  # float 0-1
    cynicism: np.ndarray  # float 0-1
    formal: np.ndarray  # bool, formal leader
    month_appointed: np.ndarray  # int, -1 if not a formal leader
    influence: np.ndarray  # float >= 0, decaying sum of credit
    cross_influence: np.ndarray  # float >= 0, the part earned across practice boundaries
    active: np.ndarray  # bool, False while the post is vacant
    embeddedness: np.ndarray  # float 0-1, weight of the GP's voice (new GPs have fewer ties)
    person: np.ndarray  # int, id of the person in the post (new id on replacement)
    genuine: np.ndarray  # bool (n, m), adopted genuinely
    shallow: np.ndarray  # bool (n, m), adopted shallowly (compliance)
    month_adopted: np.ndarray  # int (n, m), first month of adoption, -1 if never
    threshold: np.ndarray  # float (n, m), adoption threshold (complex innovations)
    potential: np.ndarray  # bool (n, m), could ever adopt (market potential); else never adopts
    informal_since: np.ndarray  # int, month the GP's current spell as an informal leader began, -1
    # --- practices (P) ---
    list_size: np.ndarray  # int, registered patients
    practice_federation: np.ndarray  # int, federation of the practice
    culture: np.ndarray  # float 0-1, innovation culture
    inertia: np.ndarray  # float 0-1, resistance to change
    practice_adopted: np.ndarray  # bool (P, m)
    quality: np.ndarray  # float, quality-of-care index
    # --- federations (F) ---
    form: np.ndarray  # int: FEDERATION, NETWORK or TRUST
    has_plan: np.ndarray  # bool
    plan: np.ndarray  # bool (F, m), innovations named in the plan
    absorb_order: np.ndarray  # int (F), order in which federations are absorbed into trusts
    # --- counters of the last month ---
    new_by_cause: np.ndarray  # float (3, m): new adoptions by cause (CAUSES), last month
    leavers: int = 0
    joiners: int = 0
    informal_new: int = 0  # GPs who became informal leaders last month
    informal_lost: int = 0  # informal leaders who ceased to be (or left) last month
    next_person: int = 0
    pressure: float = 0.0

    @property
    def n_gps(self) -> int:
        return self.practice.shape[0]

    @property
    def n_practices(self) -> int:
        return self.list_size.shape[0]

    @property
    def n_federations(self) -> int:
        return self.form.shape[0]

    @property
    def gp_federation(self) -> np.ndarray:
        return self.practice_federation[self.practice]

    @property
    def layout(self) -> Layout:
        """The :class:`Layout` of the posts, cached on first use (and rebuilt if the
        ``practice`` or ``practice_federation`` arrays are replaced)."""
        cached = self.__dict__.get("_layout")
        if (cached is None or cached.practice is not self.practice
                or cached.practice_federation is not self.practice_federation):
            cached = Layout.of(self.practice, self.practice_federation)
            self.__dict__["_layout"] = cached
        return cached

    def copy(self) -> "State":
        return State(**{f.name: (v.copy() if isinstance(v := getattr(self, f.name), np.ndarray) else v)
                        for f in fields(self)})

    def equals(self, other: "State") -> bool:
        """Exact (bitwise) equality of every array and counter."""
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray):
                if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                    return False
            elif a != b:
                return False
        return True

    def differences(self, other: "State") -> list[str]:
        """Names of the fields that differ (for test messages)."""
        out = []
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            same = (a.tobytes() == b.tobytes()) if isinstance(a, np.ndarray) else a == b
            if not same:
                out.append(f.name)
        return out
