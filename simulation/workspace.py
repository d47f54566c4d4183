"""The fast engine's workspace: what it derives from the ties once, the work arrays its kernels
reuse between months, and the sums it keeps from one month to the next. Owned by the model
(``model.workspace``) and rebuilt when the model's ties are replaced; nothing is cached on the
frozen ``Ties`` or on the ``State``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import Csr, TieArrays


@dataclass
class HeardAcross:
    """What each GP heard across practices in the last whole product of exposure
    (:mod:`simulation.submodels.expose`): what each speaker said across practices then
    (``said``, y_j) and each listener's sums of it over its ties across practices (``heard``;
    the last column is D_s across). A listener's sum is taken again only if one of the speakers
    it is tied to across practices now says something else: the other sums would add the same
    terms in the same order. (Ties across practices are few per GP but far apart in memory:
    reading them is what the product costs; sums within a practice are cheap to take again.)"""

    said: np.ndarray  # (n, m + 1)
    heard: np.ndarray  # (n, m + 1)
    valid: bool = False


class Workspace:
    """Tie arrays, work arrays and kept sums for one tie network."""

    def __init__(self, ties):
        self.ties = ties
        self.arrays = TieArrays(
            Csr.of(ties.inside), Csr.of(ties.across),
            *(Csr.of(matrix) for matrix in ties.transposed),
            bool(ties.inside.has_sorted_indices and ties.across.has_sorted_indices))
        #: the same as nested plain tuples, as kernels take them (:func:`simulation.records.view`)
        self.flat_arrays = tuple(tuple(a) if isinstance(a, tuple) else a for a in self.arrays)
        self._scratch: dict[str, np.ndarray] = {}
        self._heard_across: HeardAcross | None = None
        #: (voice, reach) of the last whole exposure product, whose D_s sums are kept
        self.listening_weights: tuple[np.ndarray, np.ndarray] | None = None

    def scratch(self, name: str, shape: tuple, dtype=np.float64) -> np.ndarray:
        """A work array kept between calls, for a kernel's intermediate results that live only
        during one call: a fresh large array costs a page fault per 4 kB on first touch, more
        than the arithmetic that fills it."""
        array = self._scratch.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._scratch[name] = np.empty(shape, dtype=dtype)
        return array

    def heard_across(self, n: int, m: int) -> HeardAcross:
        """The kept sums across practices (invalid, to be taken whole, when new or resized)."""
        kept = self._heard_across
        if kept is None or kept.said.shape != (n, m + 1):
            kept = self._heard_across = HeardAcross(np.empty((n, m + 1)), np.empty((n, m + 1)))
        return kept

    def forget(self) -> None:
        """Drop the kept sums: the next exposure takes every product whole."""
        self._heard_across = None
        self.listening_weights = None
