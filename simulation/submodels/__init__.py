"""The ODD submodels, one module each, named as in the ODD (docs/ODD.md, section 7).

Each module holds, together, everything about its submodel:

- its module docstring: the rule as the ODD states it (the ODD's section 7 is generated from
  these docstrings by ``python -m simulation.odd``);
- ``SWITCHES``: the parameters that must all be on for it to run (``wellbeing_on`` and
  ``autonomy_on`` for ``update_autonomy``, ...); when off, ``neutral(month)`` (if defined)
  leaves what later submodels read, and the state stays as it was;
- ``DRAWS``: the uniforms it needs each month (:class:`simulation.draws.Uniform`), and
  ``draws_needed(params, tables)`` where they are drawn only in some configurations;
- ``fast(month)``: the fast engine's version, which calls the numba kernel right below it;
- ``reference(month, agents)``: the same rule written the plain Mesa way, one agent at a time
  (``agents``: :class:`simulation.reference.ReferenceEngine`), which must match it bit for bit.

The order in which they run each month is :data:`simulation.schedule.SCHEDULE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ..records import Federations, GPs, Practices


@dataclass
class Month:
    """What one month's submodels share: the model's parts, this month's draws, and what each
    submodel leaves for the next (the GPs' pressure, what they heard, the month's adoptions)."""

    state: Any
    ties: Any
    params: Any
    tables: Any
    workspace: Any
    draws: Any
    cache: dict = field(default_factory=dict)  # per Params: what coefficients() made
    gps: GPs = field(init=False)
    practices: Practices = field(init=False)
    federations: Federations = field(init=False)
    pressure: np.ndarray | None = None  # P_i of each GP (apply_centre)
    heard: Any = None  # what each GP heard (expose)
    new_genuine: np.ndarray | None = None  # (n, m) this month's genuine adoptions (adopt)
    new_shallow: np.ndarray | None = None  # (n, m) this month's shallow adoptions (adopt)
    caused: np.ndarray | None = None  # (n, m) the part of each new adoption ties caused (adopt)

    def __post_init__(self):
        self.gps = GPs.of(self.state)
        self.practices = Practices.of(self.state)
        self.federations = Federations.of(self.state)

    def coefficients_of(self, cls) -> tuple:
        """``cls.of(self)`` as a plain tuple, for coefficients that depend on the month."""
        return tuple(cls.of(self))

    def coefficients(self, cls) -> tuple:
        """``cls.of(params)`` as a plain tuple for a kernel, made once per ``Params`` (the
        model keeps ``cache`` while its parameters stay the same object)."""
        values = self.cache.get(cls)
        if values is None:
            values = self.cache[cls] = tuple(cls.of(self.params))
        return values


@dataclass(frozen=True)
class Submodel:
    """One step of the schedule: the module of a submodel and the ODD process it belongs to.
    Its functions are looked up on the module when called, so that a test may replace one."""

    module: ModuleType
    process: str  # the ODD's process overview heading, e.g. "Strain and exits"

    @property
    def name(self) -> str:
        return self.module.__name__.rsplit(".", 1)[1]

    @property
    def switches(self) -> tuple[str, ...]:
        return self.module.SWITCHES

    @property
    def doc(self) -> str:
        return self.module.__doc__ or ""

    def is_on(self, params) -> bool:
        for name in self.module.SWITCHES:
            if not getattr(params, name):
                return False
        return True

    def draws(self, params, tables) -> tuple:
        """The uniforms it needs this month (none when switched off)."""
        declared = getattr(self.module, "DRAWS", ())
        if not declared or not self.is_on(params):
            return ()
        needed = getattr(self.module, "draws_needed", None)
        return declared if needed is None or needed(params, tables) else ()

    def run(self, month: Month, agents=None) -> None:
        """Run it (with the reference engine's ``agents`` if given), or leave it neutral."""
        if not self.is_on(month.params):
            neutral = getattr(self.module, "neutral", None)
            if neutral is not None:
                neutral(month)
        elif agents is None:
            self.module.fast(month)
        else:
            self.module.reference(month, agents)
