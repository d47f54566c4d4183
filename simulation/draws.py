"""The month's random numbers: the uniforms each submodel declares (``DRAWS`` in its module),
drawn as whole arrays from the model's dynamics stream in the order of the schedule, so that
both engines consume the identical numbers; a switched-off mechanism draws nothing.

The arrays have fixed sizes (one number per GP post, or per post and innovation), whatever
happens in the month: two runs that part (an intervention, a scenario with more exits) keep
drawing identical numbers (common random numbers). Newcomers' attributes, whose number varies,
come from a small stream of the month's own (:meth:`simulation.model.Streams.newcomers_of_month`).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """One array of U(0, 1) draws a submodel needs each month: one per GP post, or one per
    post and innovation."""

    name: str
    per_innovation: bool = False


class Draws:
    """The random numbers of one month: the uniforms by name (None for a mechanism that drew
    nothing) and ``newcomers(k)``, the attributes of k GPs filling vacant posts."""

    def __init__(self, uniforms: dict[str, np.ndarray], newcomers: Callable[[int], dict] | None):
        self.uniforms = uniforms
        self.newcomers = newcomers

    def __getitem__(self, name: str) -> np.ndarray | None:
        return self.uniforms.get(name)


def draw_uniforms(rng: np.random.Generator, n: int, m: int, plan: tuple[Uniform, ...]) -> dict:
    """The arrays of ``plan``, in its order, from ``rng``."""
    return {u.name: rng.random((n, m)) if u.per_innovation else rng.random(n) for u in plan}


def plan_size(n: int, m: int, plan: tuple[Uniform, ...]) -> int:
    """How many uniforms a month of this plan draws."""
    return sum(n * m if u.per_innovation else n for u in plan)


#: from this many uniforms a month (n (2m + 3) with every mechanism on: ~12,000 GPs with the 7
#: default innovations), the next month's are drawn on a worker thread while the month runs;
#: for fewer, the thread's round trip costs more than the draws
DRAW_AHEAD_MIN = 200_000


class DrawsAhead:
    """The dynamics stream's monthly uniforms, the next month's drawn on a worker thread while
    this month runs: numpy fills the arrays without holding the GIL, so on a machine with a free
    core the draws cost the schedule nothing.

    The numbers are those of drawing in turn: the next month's draw starts where this month's
    ended, and nothing else draws from the stream. The draw made ahead is finished before the
    step returns, so between steps no thread touches the model (it may be copied or pickled).
    If a month needs other draws than were made ahead (a parameter switched a mechanism, or
    the sizes changed), the stream is rewound to where it was and the month drawn anew.
    A month's key is ``(n, m, plan)``."""

    def __init__(self, rng: np.random.Generator, minimum: int | None = None):
        self.rng = rng
        self.minimum = DRAW_AHEAD_MIN if minimum is None else minimum  # uniforms a month
        self.made = None  # (key, the stream's state before the draw, the arrays or a Future)

    def take(self, key: tuple) -> dict:
        """This month's uniforms."""
        if self.made is not None:
            made_key, before, uniforms = self.made
            self.made = None
            if made_key == key:
                return uniforms
            self.rng.bit_generator.state = before
        return draw_uniforms(self.rng, *key)

    def start(self, key: tuple) -> None:
        """Draw the next month's uniforms (if it will need this many) on the worker thread."""
        if plan_size(*key) >= self.minimum:
            self.made = (key, self.rng.bit_generator.state,
                         _worker().submit(draw_uniforms, self.rng, *key))

    def finish(self) -> None:
        """Wait for the draw made ahead (done long before, unless the machine is busy)."""
        if self.made is not None and isinstance(self.made[2], Future):
            key, before, future = self.made
            self.made = (key, before, future.result())


_WORKER: tuple[int, ThreadPoolExecutor] | None = None


def _worker() -> ThreadPoolExecutor:
    """One thread per process for the draws made ahead (a new one in a forked process, which
    inherits the executor but not its thread)."""
    global _WORKER
    if _WORKER is None or _WORKER[0] != os.getpid():
        _WORKER = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="pcsim-draws"))
    return _WORKER[1]
