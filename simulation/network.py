"""Ties between GPs: a weighted, undirected network in three layers, as scipy.sparse CSR.

Layers: within a practice (dense: every pair of GPs), between member practices of a federation
(sparse), and professional ties across the region (sparse, long). The model keeps two
matrices: ``inside`` (ties within a practice) and ``across`` (ties that cross practice
boundaries, where a leadership style's *reach* applies). A user's own graph can replace the
synthetic one (:func:`from_networkx`, :func:`read_edge_list`); its ties are sorted into the same
two matrices by the practice attribute of their ends.

Every random number comes from the generator passed in (the model's ``network`` stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .params import PcsimInputError, check_file

INSIDE, FEDERATION_TIE, REGIONAL_TIE = 0, 1, 2


@dataclass(frozen=True)
class Ties:
    """The tie network: two CSR matrices with sorted indices and the combined adjacency."""

    inside: sp.csr_array  # ties within a practice
    across: sp.csr_array  # ties crossing practice boundaries (federation and regional layers)

    @property
    def n(self) -> int:
        return self.inside.shape[0]

    @property
    def adjacency(self) -> sp.csr_array:
        return _canonical(self.inside + self.across)

    def degree(self) -> np.ndarray:
        return np.diff(self.inside.indptr) + np.diff(self.across.indptr)

    @cached_property
    def transposed(self) -> tuple[sp.csr_array, sp.csr_array]:
        """``inside.T`` and ``across.T`` as CSR (computed once): row j lists the GPs that hear
        j, which lets a product skip the GPs whose values are all zero (see
        the exposure kernel, :mod:`simulation.submodels.expose`)."""
        return self.inside.T.tocsr(), self.across.T.tocsr()

    def to_networkx(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        for layer, m in (("practice", self.inside), ("across", self.across)):
            coo = sp.triu(m, k=1).tocoo()
            g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()),
                                      layer=layer)
        return g


@dataclass(frozen=True)
class Structure:
    """Who works where, for a user's network: the practice of each GP, the federation of each practice."""

    practice: np.ndarray  # int (n)
    practice_federation: np.ndarray | None  # int (P), or None to group practices by the model
    node_ids: list  # the user's node ids, in model order


def _canonical(m) -> sp.csr_array:
    m = sp.csr_array(m, dtype=np.float64)
    m.sum_duplicates()
    m.sort_indices()
    m.eliminate_zeros()
    return m


def _symmetric(rows, cols, weights, n) -> sp.csr_array:
    """An undirected weighted matrix from pairs; a pair drawn twice counts once."""
    a, b = np.minimum(rows, cols), np.maximum(rows, cols)
    key = a.astype(np.int64) * n + b
    key, first = np.unique(key, return_index=True)
    a, b, w = key // n, key % n, np.asarray(weights, dtype=np.float64)[first]
    m = sp.coo_array((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                     shape=(n, n))
    return _canonical(m)


def build_ties(practice: np.ndarray, practice_federation: np.ndarray, params, rng,
               practice_region: np.ndarray | None = None) -> Ties:
    """Synthetic three-layer network. ``practice`` must list GPs grouped by practice. With
    ``practice_region`` (the region of each practice, e.g. its ICB), a regional tie joins a GP
    to a random GP of its own region (outside its federation), not of the whole population."""
    n = practice.shape[0]
    sizes = np.bincount(practice, minlength=practice_federation.shape[0])
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    # within practice: every pair of colleagues
    k = sizes[practice]
    rows = np.repeat(np.arange(n), k)
    cols = np.repeat(start[practice], k) + (np.arange(rows.size) - np.repeat(np.cumsum(k) - k, k))
    keep = rows != cols
    inside = _symmetric(rows[keep], cols[keep], np.full(keep.sum(), params.w_practice), n)

    gp_fed = practice_federation[practice]
    pairs_r, pairs_c, pairs_w = [], [], []
    # between member practices of a federation: a random colleague's colleague in the federation
    n_fed_ties = rng.poisson(n * params.federation_ties_per_gp / 2)
    if n_fed_ties:
        order = np.argsort(gp_fed, kind="stable")
        fed_size = np.bincount(gp_fed, minlength=practice_federation.max() + 1)
        fed_start = np.concatenate([[0], np.cumsum(fed_size)[:-1]])
        i = rng.integers(0, n, n_fed_ties)
        j = order[fed_start[gp_fed[i]] + (rng.random(n_fed_ties) * fed_size[gp_fed[i]]).astype(np.int64)]
        keep = practice[i] != practice[j]
        pairs_r.append(i[keep]); pairs_c.append(j[keep])
        pairs_w.append(np.full(keep.sum(), params.w_federation))
    # regional professional ties: random pairs outside the GP's federation
    n_reg_ties = rng.poisson(n * params.regional_ties_per_gp / 2)
    if n_reg_ties and practice_region is None:
        i, j = rng.integers(0, n, n_reg_ties), rng.integers(0, n, n_reg_ties)
    elif n_reg_ties:
        gp_reg = practice_region[practice]
        order = np.argsort(gp_reg, kind="stable")
        reg_size = np.bincount(gp_reg, minlength=practice_region.max() + 1)
        reg_start = np.concatenate([[0], np.cumsum(reg_size)[:-1]])
        i = rng.integers(0, n, n_reg_ties)
        j = order[reg_start[gp_reg[i]] + (rng.random(n_reg_ties) * reg_size[gp_reg[i]]).astype(np.int64)]
    if n_reg_ties:
        keep = gp_fed[i] != gp_fed[j]
        pairs_r.append(i[keep]); pairs_c.append(j[keep])
        pairs_w.append(np.full(keep.sum(), params.w_regional))
    if pairs_r:
        across = _symmetric(np.concatenate(pairs_r), np.concatenate(pairs_c),
                            np.concatenate(pairs_w), n)
    else:
        across = _canonical(sp.csr_array((n, n)))
    return Ties(inside=inside, across=across)


def split_by_practice(adjacency, practice: np.ndarray) -> Ties:
    """Sort a user's ties into those within a practice and those across practices."""
    coo = sp.coo_array(adjacency)
    same = practice[coo.row] == practice[coo.col]
    n = adjacency.shape[0]
    part = lambda mask: _canonical(sp.coo_array((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=(n, n)))
    return Ties(inside=part(same), across=part(~same))


def from_networkx(graph: nx.Graph, *, unweighted: bool = False) -> tuple[Ties, Structure]:
    """A user's graph as the model's network.

    Nodes may carry ``practice`` (and ``federation``) attributes. If no node has a ``practice``,
    each GP is a practice of its own; if some do and some don't, that is an error. Edge attribute
    ``weight`` (default 1) must be finite and positive; self-loops are refused.
    """
    if not isinstance(graph, nx.Graph):
        raise PcsimInputError(f"network must be a networkx graph, got {type(graph).__name__}")
    if graph.is_directed():
        for u, v, w in graph.edges(data="weight", default=1.0):
            back = graph.edges[v, u].get("weight", 1.0) if (not graph.is_multigraph()
                                                             and graph.has_edge(v, u)) else w
            if back != w:  # to_undirected would keep one of the two silently
                raise PcsimInputError(f"edge ({u!r}, {v!r}) has weight {w!r} and edge ({v!r}, {u!r}) "
                                      f"has weight {back!r}; ties are undirected: give both "
                                      "directions one weight")
        graph = graph.to_undirected()
    if graph.number_of_nodes() == 0:
        raise PcsimInputError("network has no nodes")
    try:
        nodes = sorted(graph.nodes)
    except TypeError:
        nodes = list(graph.nodes)
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise PcsimInputError(f"network has self-loops (a GP tied to itself), e.g. {loops[0][0]!r}; "
                              "remove them")
    for u, v, w in graph.edges(data="weight", default=1.0):
        if not isinstance(w, (int, float)) or not np.isfinite(w) or w <= 0:
            raise PcsimInputError(f"edge ({u!r}, {v!r}) has weight {w!r}; weights must be "
                                  "positive finite numbers")
    practice, practice_federation = _membership(graph, nodes)
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=None if unweighted else "weight",
                                         dtype=np.float64, format="csr")
    return split_by_practice(adjacency, practice), Structure(practice, practice_federation, nodes)


def _membership(graph, nodes):
    attrs = [graph.nodes[v].get("practice") for v in nodes]
    have = [a is not None for a in attrs]
    if not any(have):
        return np.arange(len(nodes)), None
    if not all(have):
        missing = nodes[have.index(False)]
        raise PcsimInputError(f"node {missing!r} has no 'practice' attribute while others do; "
                              "give every GP a practice (or none at all)")
    labels, practice = np.unique(np.array([str(a) for a in attrs]), return_inverse=True)
    feds = [graph.nodes[v].get("federation") for v in nodes]
    feds = [None if isinstance(f, float) and np.isnan(f) else f for f in feds]
    if all(f is None for f in feds):
        return practice, None
    if any(f is None for f in feds):
        missing = nodes[feds.index(None)]
        raise PcsimInputError(f"node {missing!r} has no 'federation' while others do; the federation "
                              "must be given for every GP, or for none")
    fed_labels, fed_of_gp = np.unique(np.array([str(f) for f in feds]), return_inverse=True)
    practice_federation = np.full(labels.size, -1)
    for p, f in zip(practice, fed_of_gp):
        if practice_federation[p] not in (-1, f):
            raise PcsimInputError(f"practice {labels[p]!r} is in more than one federation")
        practice_federation[p] = f
    return practice, practice_federation


def read_edge_list(path: str | Path, membership: str | Path | None = None) -> nx.Graph:
    """Read ``source,target[,weight]`` CSV (and optionally ``gp,practice[,federation]`` CSV).

    GP ids are read as text in both files, so ``7`` in one and ``7`` in the other are the same GP
    whatever the other ids look like; if every id is a whole number they become integers (so GPs
    are ordered 1, 2, ..., 10). A tie listed twice must have one weight (in either direction); a GP
    listed twice must have one practice; a federation column must be filled on every row.
    """
    edges = _read_csv(path, required=("source", "target"), optional=("weight",),
                      what="edge-list file", text=("source", "target"))
    members = None
    if membership is not None:
        members = _read_csv(membership, required=("gp", "practice"), optional=("federation",),
                            what="membership file", text=("gp",))
    _ids_as_numbers_if_all_whole(edges, ("source", "target"), members, ("gp",))
    graph = nx.Graph()
    for i, row in enumerate(edges.itertuples(index=False)):
        w = getattr(row, "weight", 1.0)
        w = 1.0 if pd.isna(w) else float(w)
        if graph.has_edge(row.source, row.target):
            before = graph.edges[row.source, row.target]["weight"]
            if before != w:
                raise PcsimInputError(
                    f"{path}: the tie {row.source!r}-{row.target!r} is listed twice with different "
                    f"weights, {before:g} and {w:g} (row {i + 2}); list each tie once, or with one weight")
            continue
        graph.add_edge(row.source, row.target, weight=w)
    if members is not None:
        has_federation = "federation" in members.columns
        if has_federation and members["federation"].isna().any():
            i = int(np.flatnonzero(members["federation"].isna().to_numpy())[0])
            raise PcsimInputError(
                f"{membership}: row {i + 2} (GP {members['gp'].tolist()[i]!r}) has an empty federation; "
                "the federation column must be filled for every row, or left out")
        known = set(graph.nodes)
        practice_of: dict = {}
        for row in members.itertuples(index=False):
            if row.gp in practice_of and practice_of[row.gp] != row.practice:
                raise PcsimInputError(
                    f"{membership}: GP {row.gp!r} is listed in two practices, "
                    f"{practice_of[row.gp]!r} and {row.practice!r}; a GP works in one practice")
            practice_of[row.gp] = row.practice
            if row.gp not in known:
                graph.add_node(row.gp)
            graph.nodes[row.gp]["practice"] = row.practice
            if has_federation:
                graph.nodes[row.gp]["federation"] = row.federation
        unknown = sorted(set(graph.nodes) - set(members.gp), key=str)
        if unknown:
            strays = sorted(set(members.gp) - set(edges.source) - set(edges.target), key=str)
            hint = (f"; the membership file lists GP {strays[0]!r}, which is not in the edge list"
                    if strays else "")
            raise PcsimInputError(f"{membership}: GP {unknown[0]!r} of the edge list has no practice "
                                  f"({len(unknown)} GP(s) missing){hint}")
    return graph


def _ids_as_numbers_if_all_whole(edges, edge_columns, members, member_columns) -> None:
    """Turn the (text) GP ids of both tables into integers, in place, if every one of them is a
    whole number; otherwise leave them all as text, so an id means the same GP in both files."""
    columns = [(edges, c) for c in edge_columns]
    if members is not None:
        columns += [(members, c) for c in member_columns]
    if all(table[c].str.fullmatch(r"[+-]?\d+").all() for table, c in columns):
        for table, c in columns:
            table[c] = table[c].astype(np.int64)


def _read_csv(path, required, optional=(), what="file", text=()):
    """A CSV table with its columns checked; the columns named in ``text`` are read as text."""
    path = check_file(path, what)
    try:
        table = pd.read_csv(path, dtype={c: str for c in text})
        for c in text:
            if c in table.columns:
                table[c] = table[c].str.strip()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise PcsimInputError(f"{path}: not a readable CSV file ({err})") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise PcsimInputError(f"{path}: missing column(s) {missing}; expected columns "
                              f"{', '.join(required + tuple(optional))}, got {list(table.columns)}")
    extra = [c for c in table.columns if c not in required + tuple(optional)]
    if extra:
        raise PcsimInputError(f"{path}: unexpected column(s) {extra}; allowed "
                              f"{', '.join(required + tuple(optional))}")
    if table[list(required)].isna().any().any():
        raise PcsimInputError(f"{path}: empty cells in {list(required)}")
    if "weight" in table.columns:
        w = pd.to_numeric(table["weight"], errors="coerce")
        bad = table.index[w.isna() | (w <= 0)]
        if len(bad):
            raise PcsimInputError(f"{path}: row {bad[0] + 2} has weight {table['weight'][bad[0]]!r}; "
                                  "weights must be positive numbers")
    return table
