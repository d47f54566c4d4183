"""The fast (vectorised) engine and the per-agent reference engine give identical trajectories.

Both engines consume the same random draws, so "identical" means bit for bit: every reporter of
every month and every state array after every month. Small models (~100 GPs, 24 months) keep
the reference engine quick; the scale-up is a benchmark (benchmarks/bench_engines.py).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from simulation import kernels, limits, scenarios
from simulation.draws import Draws
from simulation.schedule import SCHEDULE
from simulation.submodels import Month, update_autonomy
from simulation.model import PrimaryCareModel
from simulation.reference import ReferenceEngine

MONTHS = 24
SMALL = dict(n_practices=16)  # ~100 GPs in 2-3 federations

#: switched on hard, so that every mechanism acts within 24 months at ~100 GPs (trusts, plans,
#: brokers, compliance and abandonment, exits, a pay-for-performance jump, leaders by influence)
STRESS = dict(n_practices=16, absorb_month=6, absorb_share=0.5, informal_bar=0.2, broker_bar=0.05,
              plan_min_brokers=1, plan_min_engagement=0.5, p_exit_base=0.02, dictation=0.8, seduction=0.5,
              leader_selection="influence", p4p_month=3, p4p_pressure_jump=0.2, leadership_drive=0.1,
              innovations={"pdsa": {"market_potential": 0.7}, "run_charts": {"market_potential": 0.5}})


def first_difference(fast: PrimaryCareModel, reference: PrimaryCareModel, months: int) -> str | None:
    """Step both models side by side; describe the first month where anything differs."""
    assert fast.engine_name == "fast" and isinstance(reference.engine, ReferenceEngine)
    for _ in range(months):
        fast.step()
        reference.step()
        if fast.observation != reference.observation:
            names = [k for k in fast.observation if fast.observation[k] != reference.observation[k]]
            return f"month {fast.month}: reporters differ: {names}"
        if not fast.state.equals(reference.state):
            return f"month {fast.month}: state differs in {fast.state.differences(reference.state)}"
    return None


def pair(**kwargs) -> tuple[PrimaryCareModel, PrimaryCareModel]:
    return (PrimaryCareModel(engine="fast", **kwargs), PrimaryCareModel(engine="reference", **kwargs))


def with_reference_engine(model: PrimaryCareModel) -> PrimaryCareModel:
    """The same model stepped by the reference engine (what engine="reference" builds)."""
    model.engine = ReferenceEngine(model)
    return model


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("scenario", scenarios.names())
def test_engines_identical_for_every_scenario(scenario, seed):
    fast, reference = pair(scenario=scenario, rng=seed, **SMALL)
    assert fast.state.equals(reference.state), "Expected both engines to start from the same state"
    diff = first_difference(fast, reference, MONTHS)
    assert diff is None, f"Expected identical trajectories ({scenario}, seed {seed}); {diff}"


def test_engines_identical_with_every_mechanism_acting():
    fast, reference = pair(scenario="baseline", rng=11, **STRESS)
    diff = first_difference(fast, reference, MONTHS)
    assert diff is None, f"Expected identical trajectories under stress; {diff}"
    ts = fast.timeseries()
    shallow = ts[[c for c in ts if c.startswith("shallow_")]].to_numpy()
    acted = {"leavers": ts.leavers.sum(), "joiners": ts.joiners.sum(), "trusts": ts.trusts.max(),
             "plans": ts.federations_with_plan.max(), "brokers": ts.brokers.max(),
             "informal leaders": ts.informal_leaders.max(), "formal leaders": ts.formal_leaders.max(),
             "shallow adoption": shallow.max(), "abandonment": (np.diff(shallow, axis=0) < 0).sum()}
    idle = [name for name, value in acted.items() if not value > 0]
    assert not idle, f"Expected every mechanism to act, so that equality covers it; idle: {idle}"


@pytest.mark.parametrize("scenario, overrides", [
    ("baseline", SMALL), ("qof_2004", SMALL), ("top_down_drive", SMALL), ("baseline", STRESS)])
def test_engines_identical_when_the_fast_engine_skips_zero_rows(scenario, overrides, monkeypatch):
    """From SPARSE_MIN_GPS GPs up, the fast engine leaves out of its sparse products the GPs whose
    terms are exactly zero (non-leaders' authority, GPs who adopted nothing this month); at ~100
    GPs it multiplies whole matrices. Forcing the first path here checks it against the reference."""
    monkeypatch.setattr(kernels, "SPARSE_MIN_GPS", 0)
    fast, reference = pair(scenario=scenario, rng=2, **overrides)
    diff = first_difference(fast, reference, MONTHS)
    assert diff is None, f"Expected identical trajectories with zero rows skipped ({scenario}); {diff}"


def user_graph(seed: int = 4) -> nx.Graph:
    """A user's network: 12 practices (complete graphs of 4-9 GPs) in 3 federations, plus
    weighted random ties between practices; string node ids, attributes on the nodes."""
    rng = np.random.default_rng(seed)
    g = nx.Graph()
    nodes = []
    for p in range(12):
        members = [f"gp{p:02d}-{i}" for i in range(int(rng.integers(4, 10)))]
        g.add_nodes_from(members, practice=f"practice {p}", federation=f"federation {p % 3}")
        g.add_edges_from((a, b, {"weight": 1.0}) for i, a in enumerate(members) for b in members[i + 1:])
        nodes += members
    for _ in range(60):
        a, b = rng.choice(len(nodes), 2, replace=False)
        if g.nodes[nodes[a]]["practice"] != g.nodes[nodes[b]]["practice"]:
            g.add_edge(nodes[a], nodes[b], weight=float(rng.uniform(0.1, 1.0)))
    return g


def test_engines_identical_on_a_user_network():
    graph = user_graph()
    fast, reference = pair(scenario="high_pressure", network=graph, rng=5)
    assert fast.state.n_gps == graph.number_of_nodes()
    diff = first_difference(fast, reference, MONTHS)
    assert diff is None, f"Expected identical trajectories on a user's network; {diff}"


@pytest.mark.parametrize("skip_zero_rows", [False, True])
def test_engines_identical_in_the_watts_limit(skip_zero_rows, monkeypatch):
    if skip_zero_rows:  # few adopters: the fast engine's sparse path (see the test above)
        monkeypatch.setattr(kernels, "SPARSE_MIN_GPS", 0)
    graph = nx.gnp_random_graph(300, 6 / 300, seed=7)
    seeds = np.random.default_rng(7).choice(300, 6, replace=False)
    fast = limits.watts_model(graph, 0.18, seeds, rng=3)
    reference = with_reference_engine(limits.watts_model(graph, 0.18, seeds, rng=3))
    diff = first_difference(fast, reference, 12)
    assert diff is None, f"Expected identical cascades in the Watts limit; {diff}"
    assert fast.state.genuine.sum() > seeds.size, "Expected the cascade to spread beyond its seeds"


def test_engines_identical_in_the_bass_limit():
    fast = limits.bass_model(60, 0.02, 0.3, rng=9)
    reference = with_reference_engine(limits.bass_model(60, 0.02, 0.3, rng=9))
    diff = first_difference(fast, reference, 12)
    assert diff is None, f"Expected identical adoption paths in the Bass limit; {diff}"
    assert 0 < fast.state.genuine.mean() < 1, "Expected adoption under way, not finished or absent"


def test_a_one_ulp_change_in_one_rule_is_detected(monkeypatch):
    """Guards the comparison itself: a rule off by the smallest possible amount must fail it."""
    original = update_autonomy.reference

    def off_by_one_ulp(month, agents):
        original(month, agents)
        if month.state.month == 5:
            gp = agents.gps[0]
            gp.autonomy = float(np.nextafter(gp.autonomy, 2.0))

    monkeypatch.setattr(update_autonomy, "reference", off_by_one_ulp)
    fast, reference = pair(scenario="baseline", rng=1, **SMALL)
    diff = first_difference(fast, reference, 8)
    assert diff is not None and diff.startswith("month 5"), (
        f"Expected a one-ulp change at month 5 to be caught at month 5, got: {diff}")


@pytest.mark.parametrize("seed", [11, 12])
def test_every_submodel_of_the_schedule_is_identical_in_both_engines(seed):
    """Each submodel of the schedule, one at a time: from identical states and draws, its fast
    and reference versions leave identical states and hand the same results to the next
    submodel (so a new submodel is checked as soon as it is in SCHEDULE)."""
    import copy
    fast = PrimaryCareModel(scenario="baseline", rng=seed, **STRESS)
    fast.run(8)  # leaders, trusts, plans and compliance under way
    reference = with_reference_engine(copy.deepcopy(fast))
    p, n, m = fast.params, fast.state.n_gps, len(fast.params.innovations)
    rng = np.random.default_rng(seed)
    uniforms = {"u_appoint": rng.random(n), "u_fill": rng.random(n), "u_exit": rng.random(n),
                "u_adopt": rng.random((n, m)), "u_abandon": rng.random((n, m))}
    months = []
    for model in (fast, reference):
        model.state.month += 1
        newcomers = np.random.default_rng(seed + 100)
        draws = Draws(dict(uniforms), lambda k, g=newcomers: __import__(
            "simulation.population", fromlist=["draw_newcomers"]).draw_newcomers(p, g, k))
        months.append(Month(model.state, model.ties, p, model.tables, model.workspace, draws))
    for step in SCHEDULE:
        step.run(months[0])
        step.run(months[1], reference.engine)
        assert fast.state.equals(reference.state), (
            f"Expected {step.name} to leave identical states; differs in "
            f"{fast.state.differences(reference.state)}")
        for name in ("pressure", "new_genuine", "new_shallow"):
            a, b = getattr(months[0], name), getattr(months[1], name)
            assert (a is None) == (b is None) and (a is None or np.array_equal(a, b)), (
                f"Expected {step.name} to hand on the same {name}")
        if months[0].heard is not None:
            assert np.array_equal(months[0].heard.exposure, np.array(months[1].heard.exposure)), (
                f"Expected {step.name} to hand on the same exposure")
