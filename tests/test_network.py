"""Tie layers, and a user's own network as a graph or an edge list."""

import networkx as nx
import numpy as np
import pytest

from simulation import PrimaryCareModel
from simulation.network import read_edge_list
from simulation.params import PcsimInputError


def test_synthetic_ties_are_symmetric_layered_and_seeded():
    model = PrimaryCareModel(rng=1, n_practices=16)
    s, ties = model.state, model.ties
    for m in (ties.inside, ties.across):
        assert (m != m.T).nnz == 0, "Expected undirected (symmetric) ties"
        assert m.diagonal().sum() == 0, "Expected no self-ties"
        assert m.has_sorted_indices
    rows, cols = ties.inside.nonzero()
    assert (s.practice[rows] == s.practice[cols]).all()
    rows, cols = ties.across.nonzero()
    assert (s.practice[rows] != s.practice[cols]).all()
    # every pair of colleagues is tied: practices are complete graphs
    sizes = np.bincount(s.practice)
    assert ties.inside.nnz == int((sizes * (sizes - 1)).sum())
    again = PrimaryCareModel(rng=1, n_practices=16)
    assert (again.ties.across != ties.across).nnz == 0


def practice_graph():
    g = nx.Graph()
    for gp in range(12):
        g.add_node(f"gp{gp}", practice=f"p{gp // 4}", federation="f0" if gp < 8 else "f1")
    for a in range(12):
        for b in range(a + 1, 12):
            if a // 4 == b // 4 or (a + b) % 5 == 0:
                g.add_edge(f"gp{a}", f"gp{b}", weight=1.0 + (a % 3))
    return g


def test_user_graph_sets_practices_federations_and_layers():
    g = practice_graph()
    model = PrimaryCareModel(network=g, rng=3)
    s = model.state
    assert s.n_gps == 12 and s.n_practices == 3 and s.n_federations == 2
    assert model.ties.inside.nnz + model.ties.across.nnz == 2 * g.number_of_edges()
    model.run(12)
    table = model.gp_table()
    assert table["node"].tolist()[:2] == ["gp0", "gp1"]


def test_graph_without_practices_makes_each_gp_its_own_practice():
    model = PrimaryCareModel(network=nx.cycle_graph(10), rng=1)
    assert model.state.n_practices == 10 and model.ties.inside.nnz == 0


@pytest.mark.parametrize("mutate,message", [
    (lambda g: g.add_edge("gp0", "gp0"), "self-loops"),
    (lambda g: g.add_edge("gp0", "gp5", weight=-1.0), "weight"),
    (lambda g: g.add_node("stray"), "no 'practice'"),
])
def test_bad_graphs_are_refused(mutate, message):
    g = practice_graph()
    mutate(g)
    with pytest.raises(PcsimInputError, match=message):
        PrimaryCareModel(network=g)


def test_edge_list_and_membership_files(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,weight\na,b,1\nb,c,2\nc,d,1\nd,a,0.5\n")
    members = tmp_path / "members.csv"
    members.write_text("gp,practice\na,P1\nb,P1\nc,P2\nd,P2\n")
    model = PrimaryCareModel(network=str(edges), membership=str(members), rng=1)
    assert model.state.n_gps == 4 and model.state.n_practices == 2
    assert model.ties.inside.nnz == 4 and model.ties.across.nnz == 4


@pytest.mark.parametrize("text,message", [
    ("from,to\na,b\n", "missing column"),
    ("source,target,weight\na,b,heavy\n", "weight"),
    ("source,target,colour\na,b,red\n", "unexpected column"),
    ("source,target\na,\n", "empty cells"),
])
def test_malformed_edge_lists_are_refused(tmp_path, text, message):
    path = tmp_path / "edges.csv"
    path.write_text(text)
    with pytest.raises(PcsimInputError, match=message):
        read_edge_list(path)


def test_membership_must_cover_every_gp(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target\na,b\nb,c\n")
    members = tmp_path / "members.csv"
    members.write_text("gp,practice\na,P1\nb,P1\n")
    with pytest.raises(PcsimInputError, match="has no practice"):
        read_edge_list(edges, members)


def test_a_directed_graph_with_two_weights_for_one_tie_is_refused():
    """Ties are undirected: a→b and b→a with different weights would silently keep one of them."""
    g = nx.DiGraph(practice_graph())
    g.edges["gp0", "gp1"]["weight"] = 2.0
    with pytest.raises(PcsimInputError, match="give both directions one weight"):
        PrimaryCareModel(network=g)


def test_whole_number_ids_stay_numbers_and_mixed_ids_are_compared_as_text(tmp_path):
    """Ids are read as text in both files; all-whole-number ids become integers (ordered 1, 2,
    ..., 10), otherwise '3' in the edges and '3' in the membership are the same GP."""
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target\n2,10\n10,a\n")
    members = tmp_path / "members.csv"
    members.write_text("gp,practice\na,P1\n2,P1\n10,P2\n")
    assert sorted(read_edge_list(edges, members).nodes) == ["10", "2", "a"]
    edges.write_text("source,target\n2,10\n")
    assert sorted(read_edge_list(edges).nodes) == [2, 10]
