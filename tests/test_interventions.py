"""Interventions on a model (simulation.interventions): each does what it says, touches only the
posts it chose, and draws nothing from the model's own streams.

Small on purpose: ~100 GPs (16 practices), two years.
"""

import copy

import numpy as np
import pytest

from simulation import PrimaryCareModel, interventions, kernels

SMALL = dict(n_practices=16)


@pytest.fixture
def model():
    # a low bar (below the default), so that a small model has many informal leaders in two years
    return PrimaryCareModel(rng=4, informal_bar=0.03, **SMALL).run(24)


def _posts_changed(before, after) -> np.ndarray:
    """Posts whose row differs in any per-GP array of the state."""
    changed = np.zeros(before.n_gps, dtype=bool)
    for name in ("active", "formal", "influence", "cross_influence", "month_appointed",
                 "genuine", "shallow", "month_adopted"):
        a, b = getattr(before, name), getattr(after, name)
        diff = a != b
        changed |= diff.any(axis=1) if diff.ndim == 2 else diff
    return np.flatnonzero(changed)


def test_remove_informal_leaders_vacates_exactly_the_k_most_influential(model):
    state, params = model.state, model.params
    leaders = np.flatnonzero(kernels.informal_leaders(state, params))
    assert leaders.size >= 4, "Expected several informal leaders (test set-up)"
    before = copy.deepcopy(state)
    chosen = interventions.remove_informal_leaders(model, 3)
    assert chosen.size == 3
    assert set(chosen) <= set(leaders)
    assert state.influence[chosen].min() == 0.0 and not state.active[chosen].any()
    assert before.influence[chosen].min() >= before.influence[np.setdiff1d(leaders, chosen)].max()
    assert kernels.informal_leaders(state, params).sum() == leaders.size - 3, \
        "Expected exactly k fewer active informal leaders"
    assert list(_posts_changed(before, state)) == sorted(chosen), "Expected only the chosen posts vacated"


@pytest.mark.parametrize("choose", ["random", "propensity", "influence"])
def test_remove_formal_leaders_vacates_k_formal_leaders(model, choose):
    state = model.state
    before = copy.deepcopy(state)
    streams = model.streams.dynamics.bit_generator.state
    formal = np.flatnonzero(state.formal & state.active)
    assert formal.size >= 3, "Expected several formal leaders (test set-up)"
    chosen = interventions.remove_formal_leaders(model, 2, choose, np.random.default_rng(0))
    assert chosen.size == 2 and set(chosen) <= set(formal)
    assert (state.formal & state.active).sum() == formal.size - 2
    assert list(_posts_changed(before, state)) == sorted(chosen)
    assert model.streams.dynamics.bit_generator.state == streams
    if choose != "random":
        key = getattr(before, choose)
        assert key[chosen].min() >= key[np.setdiff1d(formal, chosen)].max()


def test_add_formal_leaders_appoints_k_gps_this_month(model):
    state = model.state
    before = copy.deepcopy(state)
    chosen = interventions.add_formal_leaders(model, 4, "influence")
    assert chosen.size == 4 and not before.formal[chosen].any() and before.active[chosen].all()
    assert state.formal[chosen].all() and (state.month_appointed[chosen] == model.month).all()
    assert state.formal.sum() == before.formal.sum() + 4
    assert list(_posts_changed(before, state)) == sorted(chosen)


def test_opinion_leaders_are_each_practices_most_influential_gp(model):
    leaders = interventions.opinion_leaders(model)
    gps = model.gp_table()
    # the same choice made from the GP table
    active = gps[gps.active & (gps.influence > 0)]
    top = active.sort_values(["influence", "gp"], ascending=[False, True]).groupby("practice").head(1)
    assert list(leaders) == list(top.gp), "Expected the GP-table choice, in the same order"
    assert np.unique(model.state.practice[leaders]).size == leaders.size, "one leader per practice"


def test_seed_opinion_leaders_makes_every_leader_a_genuine_user(model):
    state = model.state
    k = model.params.innovation_index("pdsa")
    before = copy.deepcopy(state)
    leaders = interventions.seed_opinion_leaders(model, "pdsa")
    assert list(leaders) == list(interventions.opinion_leaders(model))
    assert state.genuine[leaders, k].all() and not state.shallow[leaders, k].any()
    was_user = before.month_adopted[leaders, k] >= 0
    assert (state.month_adopted[leaders, k][~was_user] == model.month).all()
    assert (state.month_adopted[leaders, k][was_user] == before.month_adopted[leaders, k][was_user]).all(), \
        "Expected earlier (shallow or genuine) adopters to keep their first month"
    assert set(_posts_changed(before, state)) <= set(leaders)
    others = np.ones(state.genuine.shape[1], dtype=bool)
    others[k] = False
    assert (state.genuine[:, others] == before.genuine[:, others]).all(), "only the one innovation"


def test_seed_random_gps_seeds_one_random_active_gp_per_practice(model):
    state = model.state
    k = model.params.innovation_index("pdsa")
    before = copy.deepcopy(state)
    streams = model.streams.dynamics.bit_generator.state
    chosen = interventions.seed_random_gps(model, "pdsa", np.random.default_rng(5))
    practices = np.unique(before.practice[before.active])
    assert list(before.practice[chosen]) == list(practices), "Expected one GP per practice, in order"
    assert before.active[chosen].all()
    assert state.genuine[chosen, k].all() and not state.shallow[chosen, k].any()
    assert set(_posts_changed(before, state)) <= set(chosen)
    assert model.streams.dynamics.bit_generator.state == streams, "Expected no model draws"
    again = interventions.seed_random_gps(copy.deepcopy(model), "pdsa", np.random.default_rng(5))
    assert list(again) == list(chosen), "Expected the same generator state to choose the same GPs"


def test_seed_random_gps_keeps_to_the_practices_given_and_chooses_uniformly(model):
    state = model.state
    practices = np.unique(state.practice[state.active])[:3]
    rng = np.random.default_rng(7)
    counts: dict[int, int] = {}
    for _ in range(400):
        chosen = interventions.seed_random_gps(copy.deepcopy(model), "pdsa", rng, practices)
        assert list(state.practice[chosen]) == list(practices)
        for post in chosen:
            counts[int(post)] = counts.get(int(post), 0) + 1
    first = np.flatnonzero(state.active & (state.practice == practices[0]))
    assert set(first) <= set(counts), "Expected every active GP of a practice to be chosen sometimes"
    share = np.array([counts[int(p)] for p in first]) / 400
    assert np.abs(share - 1 / first.size).max() < 0.1, "Expected a uniform choice within a practice"
