"""Verification: the full model reduced to textbook cases whose answers are known.

Each function configures :class:`simulation.model.PrimaryCareModel` (through
:mod:`simulation.limits` where it already provides the reduction) and returns plain numbers or
pandas tables; :mod:`simulation.validate` turns them into pass/fail checks and figures.

- **Watts (2002, PNAS 99:5766)**: on an Erdős–Rényi graph of mean degree z with a uniform
  threshold phi, global cascades from one random seed are possible when
  sum_{k<=K*} k(k-1) p_k > z, K* = floor(1/phi), p_k Poisson. With Poisson p_k the sum is
  z^2 P(Poisson(z) <= K*-2), so the condition reads z P(Poisson(z) <= K*-2) > 1
  (:func:`watts_window`); :func:`watts_frequencies` measures the frequency of global cascades.
- **Bass (1969)**: one simple innovation on a complete graph; the mean adopted share follows
  F_{t+1} = F_t + (p + q F_t)(1 - F_t) and, in continuous time, the closed form
  (:func:`bass_curves`, :func:`fit_bass`).
- **Granovetter (1978, AJS 83:1420)**: thresholds N(0.25, sigma) in a fully mixed population;
  the final share jumps from near nothing to everyone as sigma passes about 0.12
  (:func:`granovetter_analytic`, :func:`granovetter_final_share`).
- **Complex contagion (Centola 2010, Science 329:1194; Centola & Macy 2007)**: a threshold
  innovation spreads further and faster on a clustered lattice than on a random graph of the
  same degrees (:func:`centola_compare`).

Every random number comes from a ``numpy.random.SeedSequence`` of the caller's seed: graph
generators get integer seeds drawn from a numpy Generator, each model its own child seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import optimize, stats

from . import limits
from .model import PrimaryCareModel
from .network import Ties
from .params import Innovation, ParamError

# ---------------------------------------------------------------------------------------------
# Watts (2002): the cascade window on Erdős–Rényi graphs
# ---------------------------------------------------------------------------------------------


def watts_vulnerable_degree(phi: float) -> int:
    """K*: the largest degree k at which one adopted neighbour convinces, i.e. 1/k >= phi.

    Computed with the model's own comparison (exposure 1/k against threshold phi) so that the
    analytic window and the simulated rule agree at boundary values such as phi = 0.2."""
    if not 0.0 < phi <= 1.0:
        raise ParamError(f"phi = {phi!r} is out of range: allowed (0, 1]")
    k = 1
    while 1.0 / (k + 1) >= phi:
        k += 1
    return k


def watts_window(phi: float) -> tuple[float, float] | None:
    """The analytic cascade window (z_low, z_high) for a uniform threshold ``phi`` on a Poisson
    (Erdős–Rényi) graph, or None when there is none (phi > 1/4 leaves K* <= 3).

    Condition (Watts 2002, eq. for the percolation of vulnerable clusters):
    sum_{k=2}^{K*} k(k-1) p_k > z with p_k = e^-z z^k / k!, which equals
    g(z) = z * P(Poisson(z) <= K* - 2) > 1. The two roots of g(z) = 1 are the window edges."""
    k_star = watts_vulnerable_degree(phi)
    if k_star < 2:
        return None
    g = lambda z: z * stats.poisson.cdf(k_star - 2, z) - 1.0
    grid = np.linspace(1e-3, 4.0 * k_star + 10.0, 4001)
    values = g(grid)
    inside = np.flatnonzero(values > 0)
    if inside.size == 0:
        return None
    lo_i, hi_i = inside[0], inside[-1]
    z_low = optimize.brentq(g, grid[lo_i - 1], grid[lo_i])
    z_high = optimize.brentq(g, grid[hi_i], grid[hi_i + 1])
    return float(z_low), float(z_high)


def seed_sequence(seed) -> np.random.SeedSequence:
    """A SeedSequence from an int (or None for fresh entropy), or the one given."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def _graph_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def watts_cascade_sizes(phi: float, z: float, n: int, graphs: int, seed,
                        starts_per_graph: int = 1) -> np.ndarray:
    """Final adopted shares of cascades on ``graphs`` fresh Erdős–Rényi graphs G(n, z/(n-1)),
    each from ``starts_per_graph`` single seed nodes chosen at random (Watts 2002, Fig. 1).

    The Watts limit of the model is built once per graph (building it costs more than the
    cascade) and reset between seed nodes: in that limit adoption is the only state that
    changes, so a reset model is the freshly built one."""
    rng = np.random.default_rng(seed)
    sizes = []
    for _ in range(graphs):
        graph = nx.fast_gnp_random_graph(n, z / (n - 1), seed=_graph_seed(rng))
        starts = rng.integers(0, n, starts_per_graph)
        model = limits.watts_model(graph, phi, [int(starts[0])], rng=_graph_seed(rng))
        for k, start in enumerate(starts):
            if k:
                model.state.genuine[:] = False
                model.state.month_adopted[:] = -1
                model.state.genuine[start, 0] = True
                model.state.month_adopted[start, 0] = 0
            sizes.append(float(run_to_rest(model, n + 1)[-1]))
    return np.array(sizes)


def watts_frequencies(phis, z_values, n: int, graphs: int, seed, starts_per_graph: int = 1,
                      global_share: float = 0.01) -> pd.DataFrame:
    """Frequency of global cascades (final share >= ``global_share``) per (phi, z), with the mean
    size of the global ones and the analytic window. One child seed per (phi, z) cell; nodes are
    numbered as the graph generator numbers them (sorted), so a seed index is a node."""
    cells = [(float(phi), float(z)) for phi in phis for z in z_values]
    children = seed_sequence(seed).spawn(len(cells))
    rows = []
    for (phi, z), child in zip(cells, children):
        sizes = watts_cascade_sizes(phi, z, n, graphs, child, starts_per_graph)
        big = sizes >= global_share
        window = watts_window(phi)
        rows.append(dict(
            phi=phi, z=z, n=n, runs=sizes.size, global_frequency=float(big.mean()),
            mean_global_size=float(sizes[big].mean()) if big.any() else 0.0,
            z_low=window[0] if window else math.nan, z_high=window[1] if window else math.nan,
            in_window=bool(window and window[0] < z < window[1])))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Bass (1969): mean curve, closed form, fitted p and q
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BassFit:
    """Least-squares fit of F(t) = offset + (market - offset) * Bass(t; p, q)."""

    p: float
    q: float
    market: float
    offset: float
    r2: float


def bass_replicate_curves(n_gps: int, p: float, q: float, months: int, replicates: int, seed) -> np.ndarray:
    """Adopted share per month (replicates x months+1) of the Bass limit of the full model."""
    seeds = seed_sequence(seed).generate_state(replicates, np.uint32)
    curves = np.empty((replicates, months + 1))
    for r, s in enumerate(seeds):
        model = limits.bass_model(n_gps, p, q, rng=int(s))
        curves[r, 0] = model.state.genuine.mean()
        for t in range(1, months + 1):
            model.step()
            curves[r, t] = model.state.genuine.mean()
    return curves


def bass_curves(n_gps: int, p: float, q: float, months: int, replicates: int, seed) -> pd.DataFrame:
    """Mean simulated curve with its standard error, the discrete solution and the closed form."""
    curves = bass_replicate_curves(n_gps, p, q, months, replicates, seed)
    t = np.arange(months + 1)
    return pd.DataFrame(dict(
        p=p, q=q, month=t, mean=curves.mean(axis=0),
        se=curves.std(axis=0, ddof=1) / math.sqrt(replicates) if replicates > 1 else 0.0,
        discrete=limits.bass_discrete(p, q, months), closed_form=limits.bass_closed_form(p, q, t)))


def _bass_shape(t, p, q):
    return limits.bass_closed_form(p, q, t)


def fit_bass(t, f, *, market: bool = False, offset: bool = False) -> BassFit:
    """Fit the Bass closed form to a curve ``f`` over ``t`` with ``scipy.optimize.curve_fit``.

    With ``market`` the saturation level m is fitted too (F = m * Bass), with ``offset`` also the
    share F0 that had adopted at t = 0 (F = F0 + (m - F0) * Bass), as for methods some GPs used
    before the run. R^2 = 1 - SS_res / SS_tot."""
    t = np.asarray(t, dtype=float)
    f = np.asarray(f, dtype=float)
    f0 = float(f[0]) if offset else 0.0

    def model(tt, p, q, m=1.0, a=0.0):
        return a + (m - a) * _bass_shape(tt, p, q)

    if offset:
        fun = lambda tt, p, q, m, a: model(tt, p, q, m, a)
        p0 = [0.01, 0.1, max(f.max(), f0 + 1e-3), f0]
        bounds = ([1e-6, 0.0, 0.0, 0.0], [1.0, 2.0, 1.0, 1.0])
    elif market:
        fun = lambda tt, p, q, m: model(tt, p, q, m)
        p0 = [0.01, 0.1, max(f.max(), 1e-3)]
        bounds = ([1e-6, 0.0, 1e-6], [1.0, 2.0, 1.0])
    else:
        fun = lambda tt, p, q: model(tt, p, q)
        p0 = [0.01, 0.1]
        bounds = ([1e-6, 0.0], [1.0, 2.0])
    try:
        best, _ = optimize.curve_fit(fun, t, f, p0=p0, bounds=bounds, maxfev=20_000)
    except (RuntimeError, ValueError):
        return BassFit(math.nan, math.nan, math.nan, f0, math.nan)
    resid = f - fun(t, *best)
    ss_tot = float(((f - f.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss_tot if ss_tot > 0 else math.nan
    m = float(best[2]) if (market or offset) else 1.0
    a = float(best[3]) if offset else 0.0
    return BassFit(float(best[0]), float(best[1]), m, a, r2)


def bass_recovery(n_gps: int, p: float, q: float, months: int, replicates: int, seed) -> pd.DataFrame:
    """Bass p and q fitted (closed form, market fixed at 1) to each simulated replicate curve."""
    curves = bass_replicate_curves(n_gps, p, q, months, replicates, seed)
    t = np.arange(months + 1)
    fits = [fit_bass(t, c) for c in curves]
    return pd.DataFrame(dict(p_true=p, q_true=q, replicate=np.arange(replicates),
                             p_fit=[f.p for f in fits], q_fit=[f.q for f in fits],
                             r2=[f.r2 for f in fits]))


# ---------------------------------------------------------------------------------------------
# Granovetter (1978): normally distributed thresholds in a fully mixed population
# ---------------------------------------------------------------------------------------------


def granovetter_analytic(sigma: float, mean: float = 0.25) -> float:
    """Final share of Granovetter's continuous model: r_{t+1} = Phi((r_t - mean)/sigma) from
    r_0 = 0 (those with threshold <= 0 act first) converges to the smallest root of
    h(r) = Phi((r - mean)/sigma) - r, found on a fine grid and refined with brentq."""
    if sigma <= 0:
        return 1.0 if mean <= 0 else 0.0
    h = lambda r: stats.norm.cdf((r - mean) / sigma) - r
    grid = np.linspace(0.0, 1.0, 20_001)
    below = np.flatnonzero(h(grid) <= 0)
    if below.size == 0:
        return 1.0
    i = below[0]
    if i == 0:
        return 0.0
    return float(optimize.brentq(h, grid[i - 1], grid[i]))


def granovetter_critical_sigma(mean: float = 0.25) -> float:
    """The sigma at which the analytic final share jumps (bisection on granovetter_analytic)."""
    lo, hi = 0.01, 0.5
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if granovetter_analytic(mid, mean) > 0.5:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def complete_ties(n: int) -> Ties:
    """Every GP tied to every other with weight 1; each GP its own practice (fully mixed)."""
    if n < 2:
        raise ParamError(f"n = {n!r} is out of range: need at least 2 GPs")
    complete = sp.csr_array(np.ones((n, n)) - np.eye(n))
    complete.sort_indices()
    return Ties(inside=sp.csr_array((n, n)), across=complete)


def threshold_innovation(mean: float, sd: float) -> Innovation:
    """One complex innovation with N(mean, sd) thresholds, no external push, no costs."""
    return Innovation(name="innovation", kind="complex", p_external=0.0, q_social=0.0,
                      threshold_mean=float(mean), threshold_sd=float(sd), workload_cost=0.0,
                      quality_benefit=0.0, mandated=False, initial_share=0.0)


def run_to_rest(model: PrimaryCareModel, max_months: int) -> np.ndarray:
    """Step until no GP adopts in a month (or ``max_months``); the adopted share per month."""
    shares = [float(model.state.genuine[:, 0].mean())]
    for _ in range(max_months):
        model.step()
        shares.append(float(model.state.genuine[:, 0].mean()))
        if shares[-1] == shares[-2]:
            break
    return np.array(shares)


def granovetter_final_share(sigma: float, n: int, seed, mean: float = 0.25) -> float:
    """Final adopted share of the full model on a complete graph of ``n`` GPs, thresholds
    N(mean, sigma), nobody adopted at the start.

    Mapping to Granovetter: a non-adopter's exposure is the share of the *other* n - 1 GPs who
    have adopted, A/(n-1); Granovetter's actor compares the share of the whole group acting,
    A/n (the actor is not among them), so the two rules differ only by the factor n/(n-1).
    Instigators are the GPs whose threshold is <= 0: with no one acting their exposure (0)
    already meets it, so no extra seed is placed, exactly as in the continuous model's r_1 =
    Phi(-mean/sigma). A GP's own adoption never counts toward its exposure (no self-ties)."""
    model = PrimaryCareModel(network=complete_ties(n), rng=seed,
                             params=limits.neutral_params(threshold_innovation(mean, sigma)))
    return float(run_to_rest(model, n + 1)[-1])


def granovetter_sweep(sigmas, n: int, replicates: int, seed, mean: float = 0.25) -> pd.DataFrame:
    """Final shares per sigma and replicate, beside the analytic continuous-model value."""
    children = seed_sequence(seed).spawn(len(sigmas))
    rows = []
    for sigma, child in zip(sigmas, children):
        analytic = granovetter_analytic(float(sigma), mean)
        for r, s in enumerate(child.generate_state(replicates, np.uint32)):
            rows.append(dict(sigma=float(sigma), replicate=r, n=n,
                             final_share=granovetter_final_share(float(sigma), n, int(s), mean),
                             analytic=analytic))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Complex contagion (Centola 2010): clustered lattice against a random graph of the same degrees
# ---------------------------------------------------------------------------------------------


def clustered_lattice(rows: int, cols: int) -> nx.Graph:
    """A triangular lattice on a torus: every GP has 6 neighbours, clustering 0.4 (a clustered
    lattice of degree 6, as in Centola's networks). ``cols`` must be odd and >= 5."""
    graph = nx.triangular_lattice_graph(rows, cols, periodic=True, with_positions=False)
    return nx.convert_node_labels_to_integers(graph, ordering="sorted")


def randomised(graph: nx.Graph, seed: int, swaps_per_edge: int = 10) -> nx.Graph:
    """The same degree sequence, randomly rewired by double-edge swaps (clustering near 0)."""
    out = graph.copy()
    m = out.number_of_edges()
    nx.double_edge_swap(out, nswap=swaps_per_edge * m, max_tries=100 * swaps_per_edge * m, seed=seed)
    return out


def threshold_run(graph: nx.Graph, mean: float, sd: float, seed_nodes, months: int, seed) -> np.ndarray:
    """Adopted share per month (months+1 values) of one threshold innovation on ``graph``,
    starting from ``seed_nodes`` adopted; unweighted ties, every other mechanism neutral."""
    model = PrimaryCareModel(network=graph, rng=seed,
                             params=limits.neutral_params(threshold_innovation(mean, sd)))
    index = {v: i for i, v in enumerate(model.node_ids)}
    idx = np.array([index[v] for v in seed_nodes], dtype=np.int64)
    model.state.genuine[idx, 0] = True
    model.state.month_adopted[idx, 0] = 0
    shares = np.empty(months + 1)
    shares[0] = model.state.genuine[:, 0].mean()
    for t in range(1, months + 1):
        model.step()
        shares[t] = model.state.genuine[:, 0].mean()
    return shares


def centola_compare(rows: int = 16, cols: int = 25, threshold_mean: float = 0.3,
                    threshold_sd: float = 0.1, months: int = 30, replicates: int = 20,
                    seed=None) -> pd.DataFrame:
    """Adoption curves on a clustered lattice and on its degree-preserving randomisation.

    Each replicate draws a new randomisation, new thresholds and a new seed neighbourhood (a
    random GP and its neighbours, the usual start for complex contagion: Centola & Macy 2007),
    and runs both networks with the same model seed (common random numbers). Returns one row
    per (network, replicate, month)."""
    lattice = clustered_lattice(rows, cols)
    rng = np.random.default_rng(seed)
    out = []
    for r in range(replicates):
        random_graph = randomised(lattice, _graph_seed(rng))
        model_seed = _graph_seed(rng)
        start = int(rng.integers(0, lattice.number_of_nodes()))
        for name, graph in (("clustered", lattice), ("random", random_graph)):
            seeds = [start, *sorted(graph.neighbors(start))]
            curve = threshold_run(graph, threshold_mean, threshold_sd, seeds, months, model_seed)
            out.append(pd.DataFrame(dict(network=name, replicate=r, month=np.arange(months + 1),
                                         share=curve,
                                         clustering=nx.average_clustering(graph))))
    return pd.concat(out, ignore_index=True)
