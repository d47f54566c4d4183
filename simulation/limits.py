"""The two analytic limits of MODEL.md, built by configuring the full model (not a separate
implementation): with every other mechanism switched to neutral,

- **Watts limit**: one complex innovation, a uniform threshold phi, unweighted ties: a GP adopts
  when at least a fraction phi of its neighbours have adopted (Watts 2002, PNAS 99:5766);
- **Bass limit**: one simple innovation on a complete graph: each non-adopter adopts with
  probability p + q F per month, so mean adoption follows dF/dt = (p + qF)(1 - F) (Bass 1969).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .model import PrimaryCareModel, resolve_seed
from .network import Ties
from .params import Innovation, ParamError, Params, Style

NEUTRAL_STYLE = Style(name="neutral", share=1.0, persuasion=1.0, reach=1.0, support=0.0, resistance=0.0)

#: every mechanism other than exposure and adoption switched to neutral
NEUTRAL = dict(
    exits_on=False, leadership_on=False, drive_on=False, wellbeing_on=False, practice_on=False,
    federation_on=False, rel_informal_weight=0.0, rel_formal_authority=0.0,
    rel_openness_simple=0.0, rel_openness_threshold=0.0, plan_threshold_bonus=0.0,
    rel_shallow_visibility=0.0, leadership_drive=0.0,
)


def neutral_params(innovation: Innovation) -> Params:
    """Parameters of the reduced model: one innovation, one neutral style, no other mechanism."""
    return Params().replace(innovations=(innovation,), styles=(NEUTRAL_STYLE,), **NEUTRAL)


def _unweighted_ties(graph: nx.Graph) -> tuple[Ties, list]:
    if not isinstance(graph, nx.Graph):
        raise ParamError(f"graph must be a networkx graph, got {type(graph).__name__}")
    try:
        nodes = sorted(graph.nodes)
    except TypeError:
        nodes = list(graph.nodes)
    if any(u == v for u, v in graph.edges()):
        raise ParamError("graph has self-loops; the threshold rule needs a simple graph")
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=None, dtype=np.float64,
                                         format="csr")
    adjacency.data[:] = 1.0
    adjacency.sort_indices()
    n = adjacency.shape[0]
    return Ties(inside=sp.csr_array((n, n)), across=adjacency), nodes


def watts_model(graph: nx.Graph, phi: float, seed_nodes, rng=None) -> PrimaryCareModel:
    """The full model reduced to Watts's threshold model on ``graph`` (each GP its own practice)."""
    if not 0.0 <= phi <= 1.0:
        raise ParamError(f"phi = {phi!r} is out of range: allowed [0, 1]")
    ties, nodes = _unweighted_ties(graph)
    innovation = Innovation(name="innovation", kind="complex", p_external=0.0, q_social=0.0,
                            threshold_mean=float(phi), threshold_sd=0.0, workload_cost=0.0,
                            quality_benefit=0.0, mandated=False, initial_share=0.0)
    model = PrimaryCareModel(network=ties, rng=rng, params=neutral_params(innovation))
    index = {v: i for i, v in enumerate(nodes)}
    try:
        seeds = np.array([index[v] for v in seed_nodes], dtype=np.int64)
    except KeyError as err:
        raise ParamError(f"seed node {err.args[0]!r} is not in the graph") from None
    model.state.genuine[seeds, 0] = True
    model.state.month_adopted[seeds, 0] = 0
    return model


def watts_cascade(graph: nx.Graph, phi: float, seed_nodes, rng=None, max_steps: int | None = None) -> float:
    """Final adopted share of Watts's synchronous threshold rule, run until nothing changes."""
    model = watts_model(graph, phi, seed_nodes, rng)
    limit = max_steps if max_steps is not None else model.state.n_gps + 1
    adopted = int(model.state.genuine.sum())
    for _ in range(limit):
        model.step()
        now = int(model.state.genuine.sum())
        if now == adopted:
            break
        adopted = now
    return adopted / model.state.n_gps


def bass_model(n_gps: int, p: float, q: float, rng=None) -> PrimaryCareModel:
    """The full model reduced to the Bass model on a complete graph of ``n_gps`` GPs."""
    if n_gps < 2:
        raise ParamError(f"n_gps = {n_gps!r} is out of range: need at least 2")
    complete = sp.csr_array(np.ones((n_gps, n_gps)) - np.eye(n_gps))
    complete.sort_indices()
    ties = Ties(inside=sp.csr_array((n_gps, n_gps)), across=complete)
    innovation = Innovation(name="innovation", kind="simple", p_external=float(p), q_social=float(q),
                            threshold_mean=0.0, threshold_sd=0.0, workload_cost=0.0,
                            quality_benefit=0.0, mandated=False, initial_share=0.0)
    return PrimaryCareModel(network=ties, rng=rng, params=neutral_params(innovation))


def bass_mean_curve(n_gps: int, p: float, q: float, months: int, replicates: int, rng=None) -> np.ndarray:
    """Mean adopted share per month (months + 1 values, from month 0) over ``replicates`` runs."""
    seeds = np.random.SeedSequence(resolve_seed(rng)).generate_state(replicates, np.uint32)
    curves = np.empty((replicates, months + 1))
    for r, seed in enumerate(seeds):
        model = bass_model(n_gps, p, q, rng=int(seed))
        curves[r, 0] = model.state.genuine.mean()
        for t in range(1, months + 1):
            model.step()
            curves[r, t] = model.state.genuine.mean()
    return curves.mean(axis=0)


def bass_discrete(p: float, q: float, months: int) -> np.ndarray:
    """F_{t+1} = F_t + (p + q F_t)(1 - F_t), F_0 = 0: the expected path of the monthly model."""
    f = np.zeros(months + 1)
    for t in range(months):
        f[t + 1] = f[t] + (p + q * f[t]) * (1.0 - f[t])
    return f


def bass_closed_form(p: float, q: float, t) -> np.ndarray:
    """Solution of dF/dt = (p + qF)(1 - F), F(0) = 0."""
    t = np.asarray(t, dtype=float)
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)
