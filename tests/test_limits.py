"""The two analytic limits of MODEL.md, reached by configuring the full model."""

import networkx as nx
import numpy as np
import pytest

from simulation import limits
from simulation.params import ParamError


def cascade_frequency(z, phi=0.18, n=2000, trials=40, seed=0):
    """Share of trials (fresh ER graph, one random seed node) in which > 50% adopt."""
    rng = np.random.default_rng(seed)
    hits = 0
    for t in range(trials):
        graph = nx.fast_gnp_random_graph(n, z / (n - 1), seed=int(rng.integers(2**31)))
        share = limits.watts_cascade(graph, phi, [int(rng.integers(n))], rng=t)
        hits += share > 0.5
    return hits / trials


def test_watts_global_cascades_inside_the_window_and_not_outside():
    """phi = 0.18: the analytic window is 1.02 < z < 5.77 (SOURCES.md). At z = 3 a single seed
    triggers a global cascade when it lands in the vulnerable giant cluster (~half the time at
    n = 2000); at z = 8 nodes are too stable and cascades essentially never happen."""
    inside, outside = cascade_frequency(3), cascade_frequency(8)
    assert inside >= 0.25, f"Expected frequent global cascades at z = 3, got {inside:.2f}"
    assert outside <= 0.03, f"Expected essentially no global cascades at z = 8, got {outside:.2f}"


def test_watts_rule_is_exactly_the_threshold_rule_on_a_small_graph():
    # a path 0-1-2-3 with phi = 0.5: node 1 (1 of 2 neighbours) adopts, then 2, then 3
    assert limits.watts_cascade(nx.path_graph(4), 0.5, [0]) == 1.0
    # phi just above 1/2: node 1 needs both neighbours, so nothing spreads
    assert limits.watts_cascade(nx.path_graph(4), 0.51, [0]) == 0.25


def test_watts_refuses_bad_input():
    with pytest.raises(ParamError, match="phi"):
        limits.watts_cascade(nx.path_graph(3), 1.5, [0])
    with pytest.raises(ParamError, match="seed node"):
        limits.watts_cascade(nx.path_graph(3), 0.2, [7])


@pytest.mark.parametrize("p,q", [(0.01, 0.3), (0.03, 0.1)])
def test_bass_mean_curve_follows_the_discrete_solution(p, q):
    """Each non-adopter adopts with p + q F per month, so the mean path follows
    F_{t+1} = F_t + (p + qF_t)(1 - F_t). Tolerance 0.03: with 400 GPs x 20 replicates the
    standard error of the mean share is <= 0.01 and F counts others only (a 1/n effect)."""
    months = 48
    simulated = limits.bass_mean_curve(400, p, q, months, replicates=20, rng=7)
    expected = limits.bass_discrete(p, q, months)
    assert simulated[0] == 0.0
    gap = np.abs(simulated - expected).max()
    assert gap < 0.03, f"Expected the Bass mean curve within 0.03 of the discrete solution, got {gap:.3f}"
    assert np.all(np.diff(simulated) >= 0), "Expected cumulative adoption never to fall"


def test_bass_discrete_approaches_the_closed_form_for_small_rates():
    t = np.arange(0, 121)
    discrete = limits.bass_discrete(0.002, 0.03, 120)
    closed = limits.bass_closed_form(0.002, 0.03, t)
    assert np.abs(discrete - closed).max() < 0.01
