"""Compile the fast engine's numba kernels into their on-disk cache (``__pycache__`` next to
the sources) by running small models through every kernel: ``make install`` does it once, so
that runs and tests load the kernels instead of compiling them (seconds) on first use.

    python -m simulation.warmup
"""

from __future__ import annotations

import networkx as nx

from . import kernels, limits
from .model import PrimaryCareModel


def compile_kernels() -> None:
    PrimaryCareModel(scale="county", rng=1).run(2)
    n = kernels.SPARSE_MIN_GPS
    graph = nx.gnp_random_graph(n, 4 / n, seed=1)
    limits.watts_model(graph, 0.2, [0, 1], rng=1).run(2)  # few users: exposure from them alone


if __name__ == "__main__":
    compile_kernels()
