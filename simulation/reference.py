"""The reference engine: the per-agent view of the model that each submodel's ``reference``
version (in :mod:`simulation.submodels`) is written against, the plain Mesa way, one agent at a
time. ``PrimaryCareModel(engine="reference")`` (or ``pcsim run --engine reference``) steps the
model with it.

Each reference version loops over the GP, Practice and Federation agents in index order; every
agent first *decides* from the old state (reading its own attributes and those of the colleagues
it is tied to), and only then do all agents *apply* their decisions (synchronous updating).
Both engines consume the identical random draws (:mod:`simulation.draws`) and must give
bit-identical trajectories (``tests/test_equivalence.py``), so the arithmetic follows the fast
kernels operation for operation:

- only exactly rounded operations (+ - * / min max, comparisons), in the same order and grouping
  (``a * b * c`` is ``(a * b) * c`` in both); the scalar rules shared by several submodels
  (:mod:`simulation.kernels`) are the compiled functions themselves, called from Python;
- sums start from 0.0 and add their terms in the order the fast code does: over a GP's ties in
  CSR order (a sparse product adds ``a_ij * x_j`` along row i), over GPs in index order
  (``np.bincount``), over innovations k = 0, 1, ...

It is slow (Python loops over tens of thousands of GPs and their ties): use it to read, check
and change the rules, and the fast engine to run experiments.
"""

from __future__ import annotations

from . import kernels
from .state import TRUST


class ReferenceEngine:
    """The model's agents and structure, per agent. Constructed with the model it steps."""

    def __init__(self, model):
        self.model = model
        self._tie_lists = None  # (ties, rows within practices, rows across), read once

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

    def informal_leader(self, gp, params=None) -> bool:
        """:func:`simulation.kernels.is_informal` of one GP agent."""
        return bool(kernels.is_informal(gp.active, self.model.state.informal_since[gp.index]))

    def broker(self, gp, params) -> bool:
        """:func:`simulation.kernels.is_broker` of one GP agent."""
        return bool(kernels.is_broker(gp.active, self.model.state.informal_since[gp.index],
                                      gp.cross_influence, params.broker_bar))

    def openness(self, gp) -> float:
        """:func:`simulation.kernels.openness` of one GP agent, in its practice's culture."""
        return kernels.openness(gp.autonomy, self.model.state.culture[gp.practice_index], gp.strain)

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
