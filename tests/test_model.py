"""The model core: reproducibility, invariants, directions of effect, and the Mesa API."""

import hashlib
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import PrimaryCareModel, run
from simulation import scenarios
from simulation.agents import GP, Federation, Practice
from simulation.params import SPECS, ParamError

SMALL = dict(n_practices=16)  # ~100 GPs, 2 federations: the fewest that still have structure


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


def test_same_seed_same_bytes_in_separate_processes():
    code = ("import hashlib, pandas as pd; from simulation import run; "
            "r = run(months=24, seed=11, n_practices=16); "
            "print(hashlib.sha256(pd.util.hash_pandas_object(r.timeseries, index=False).values.tobytes()).hexdigest(), "
            "hashlib.sha256(pd.util.hash_pandas_object(r.gps, index=False).values.tobytes()).hexdigest())")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    here = run(months=24, seed=11, **SMALL)
    assert outs[0] == outs[1], "Expected identical results from the same seed in two processes"
    assert outs[0].split() == [digest(here.timeseries), digest(here.gps)], \
        "Expected the same bytes in this process as in fresh ones"


def test_different_seeds_differ():
    a, b = run(months=24, seed=1, **SMALL), run(months=24, seed=2, **SMALL)
    assert digest(a.timeseries) != digest(b.timeseries)


def test_no_seed_draws_fresh_entropy_and_records_it():
    m1, m2 = PrimaryCareModel(**SMALL), PrimaryCareModel(**SMALL)
    assert m1.seed != m2.seed
    again = PrimaryCareModel(rng=m1.seed, **SMALL)
    assert again.state.equals(m1.state), "Expected the recorded seed to rebuild the same model"


def test_scenarios_share_the_population_exactly():
    """Common random numbers: a scenario that changes no population parameter shares it."""
    base = PrimaryCareModel(rng=5, **SMALL)
    for name in scenarios.names():
        other = PrimaryCareModel(scenario=name, rng=5, **SMALL)
        for field in ("practice", "partner", "propensity", "style", "seniority", "list_size"):
            assert np.array_equal(getattr(base.state, field), getattr(other.state, field)), \
                f"{name}: expected the same {field} as the baseline"
        assert (base.ties.inside != other.ties.inside).nnz == 0


@pytest.mark.parametrize("name", scenarios.names())
def test_every_scenario_runs_and_reports_every_month(name):
    r = run(scenario=name, months=12, seed=3, **SMALL)
    assert len(r.timeseries) == 13 and r.timeseries["month"].tolist() == list(range(13))
    assert not r.timeseries.isna().any().any()


def check_invariants(model):
    s, ts = model.state, model.timeseries()
    shares = [c for c in ts.columns if c.split("_")[0] in ("adoption", "genuine", "shallow", "practice")]
    shares += ["autonomy", "strain", "cynicism", "complex_adoption", "badge_being", "federations_with_plan"]
    assert ((ts[shares] >= 0) & (ts[shares] <= 1)).all().all(), "Expected shares in [0, 1]"
    assert not ts.isna().any().any(), "Expected no NaN in the reporters"
    assert ts["vacancies"].iloc[-1] == np.count_nonzero(~s.active), "Expected vacancies = vacant posts"
    flows = ts["vacancies"].shift() + ts["leavers"] - ts["joiners"]
    assert (flows.iloc[1:] == ts["vacancies"].iloc[1:]).all(), (
        "Expected each month's vacancies = last month's + leavers - joiners (posts are conserved)")
    assert not (s.genuine & s.shallow).any(), "A GP cannot be a genuine and a shallow adopter at once"
    assert not (s.genuine[~s.active].any() or s.formal[~s.active].any()), "Vacant posts hold nothing"
    # practice adoption is what its active GPs' genuine adoption says
    for p in range(s.n_practices):
        members = (s.practice == p) & s.active
        if members.any():
            share = s.genuine[members].sum(axis=0) >= model.params.practice_adoption_share * members.sum()
            assert np.array_equal(s.practice_adopted[p], share)
        else:
            assert not s.practice_adopted[p].any()
    for a in ("autonomy", "strain", "cynicism"):
        v = getattr(s, a)[s.active]
        assert ((v >= 0) & (v <= 1)).all(), f"Expected {a} in [0, 1]"
    assert (s.influence >= 0).all() and (s.cross_influence <= s.influence + 1e-12).all()


def unit(name):
    return st.floats(SPECS[name]["low"], SPECS[name]["high"], allow_nan=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pressure_level=unit("pressure_level"), dictation=unit("dictation"), seduction=unit("seduction"),
       autonomy_base=unit("autonomy_base"), leadership_drive=unit("leadership_drive"),
       p_exit_strain=unit("p_exit_strain"), informal_bar=st.floats(0, 3),
       rel_formal_authority=st.floats(0, 5), p4p_pressure_jump=unit("p4p_pressure_jump"),
       absorb_share=unit("absorb_share"), pressure_trend=unit("pressure_trend"),
       leader_selection=st.sampled_from(SPECS["leader_selection"]["choices"]),
       seed=st.integers(0, 2**32))
def test_invariants_hold_for_random_valid_parameters(seed, **params):
    model = PrimaryCareModel(rng=seed, n_practices=8, p4p_month=6, absorb_month=6, **params)
    model.run(18)
    check_invariants(model)


def mean_final(outcome, months=60, seeds=range(6), **params):
    return float(np.mean([run(months=months, seed=s, n_practices=24, **params).timeseries[outcome].iloc[-1]
                          for s in seeds]))


def test_higher_autonomy_never_lowers_voluntary_adoption_on_average():
    low, high = (mean_final("complex_adoption", autonomy_base=a) for a in (0.2, 0.8))
    assert high >= low, f"Expected adoption of complex methods to rise with autonomy ({low:.3f} -> {high:.3f})"


def test_higher_pressure_lowers_mean_autonomy():
    low, high = (mean_final("autonomy", months=36, pressure_level=p) for p in (0.1, 0.8))
    assert high < low, f"Expected pressure to lower autonomy ({low:.3f} -> {high:.3f})"


def test_more_leadership_drive_raises_formal_leaders():
    low, high = (mean_final("formal_leaders", months=36, leadership_drive=d) for d in (0.02, 0.2))
    assert high > low, f"Expected more formal leaders with a stronger drive ({low} -> {high})"


def test_switching_a_mechanism_off_freezes_its_state():
    model = PrimaryCareModel(rng=2, exits_on=False, wellbeing_on=False, drive_on=False,
                             leadership_on=False, **SMALL)
    autonomy = model.state.autonomy.copy()
    model.run(12)
    assert np.array_equal(model.state.autonomy, autonomy)
    assert model.state.active.all() and not model.state.formal.any() and not model.state.influence.any()


# --- the Mesa API ------------------------------------------------------------------------------

def test_agents_are_registered_mesa_agents_and_views_onto_the_arrays():
    model = PrimaryCareModel(rng=4, **SMALL)
    model.run(24)
    gps = model.agents_by_type[GP]
    assert len(gps) == model.state.n_gps
    assert len(model.agents_by_type[Practice]) == model.state.n_practices
    assert len(model.agents_by_type[Federation]) == model.state.n_federations
    assert gps.agg("autonomy", np.mean) == pytest.approx(model.state.autonomy.mean())
    partners = gps.select(lambda a: a.partner)
    assert len(partners) == int(model.state.partner.sum())
    gp = model.gp_agents[3]
    assert gp.strain == model.state.strain[3] and gp.practice.index == model.state.practice[3]
    assert gp in gp.practice.gps and gp.practice in gp.practice.federation.practices
    gp.autonomy = 0.25  # writes go to the arrays
    assert model.state.autonomy[3] == 0.25
    with pytest.raises(AttributeError):
        gp.informal_leader = True
    informal = [a.index for a in gps if a.informal_leader]
    assert len(informal) == model.observation["informal_leaders"]


def test_datacollector_has_every_reporter_each_month():
    model = PrimaryCareModel(rng=4, **SMALL)
    model.run(6)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 7 and set(model.reporters) <= set(frame.columns)


def test_mesa_batch_run_drives_the_model():
    rows = mesa.batch_run(PrimaryCareModel, parameters={"n_practices": 8, "pressure_level": [0.2, 0.6]},
                          rng=[1, 2], max_steps=12, number_processes=1, data_collection_period=1,
                          display_progress=False)
    frame = pd.DataFrame(rows)
    assert len(frame) == 4 * 13, "Expected 2 pressures x 2 seeds x 13 collected months"
    assert {"complex_adoption", "pressure_level", "Step"} <= set(frame.columns)


def test_bad_model_arguments_are_refused():
    with pytest.raises(ParamError, match="engine"):
        PrimaryCareModel(engine="turbo")
    with pytest.raises(ParamError, match="scale"):
        PrimaryCareModel(scale="planet")
    with pytest.raises(ParamError, match="months"):
        PrimaryCareModel(**SMALL).run(0)
    with pytest.raises(ParamError, match="rng"):
        PrimaryCareModel(rng=-1)


def test_national_preset_has_englands_scale():
    from simulation.population import build_state, preset
    from simulation.params import Params
    state = build_state(Params.from_dict(preset("national")), np.random.default_rng(0))
    assert 6000 <= state.n_practices <= 6500
    assert 34_000 <= state.n_gps <= 42_000, "Expected ~38,000 GPs (headcount, 2024)"
    assert 1200 <= state.n_federations <= 1300, "Expected ~1,250 networks (PCNs)"
    assert 9_000 <= state.list_size.mean() <= 11_000
    assert 0.42 <= 1 - state.partner.mean() <= 0.5, "Expected ~47% salaried"


def test_copies_keep_common_random_numbers_through_an_intervention():
    """A deep copy continues bit for bit; after posts are vacated in one copy (so it fills a
    different number of posts), both still draw identical monthly random numbers."""
    import copy
    from simulation.submodels.exit_and_replace import vacate_posts
    model = PrimaryCareModel(rng=9, **SMALL)
    model.run(12)
    twin = copy.deepcopy(model)
    model.run(6), twin.run(6)
    assert model.state.equals(twin.state), "Expected a copy to continue exactly like the original"
    vacate_posts(twin.state, np.flatnonzero(twin.state.active)[:5])
    model.run(12), twin.run(12)
    assert not model.state.equals(twin.state)
    assert model.streams.dynamics.bit_generator.state == twin.streams.dynamics.bit_generator.state, \
        "Expected the dynamics streams to stay aligned after an intervention"


def test_mesa_scenario_objects_are_accepted():
    """SolaraViz's Reset passes Mesa's own Scenario object as `scenario`."""
    from mesa.experimental.scenarios import Scenario
    model = PrimaryCareModel(scenario=Scenario(rng=3), **SMALL)
    assert model.seed == 3 and model.scenario_name == "baseline"


def test_no_gp_outside_the_market_potential_ever_adopts():
    """Bass's m: with market_potential 0.6, about 60% of GPs (and of newcomers) could ever use
    audit; the others never do, however strong the push, and the first users are among the 60%."""
    audit = {"clinical_audit": {"market_potential": 0.6, "initial_share": 0.3, "p_external": 0.5}}
    model = PrimaryCareModel(rng=4, p_exit_base=0.02, innovations=audit)
    k = model.params.innovation_index("clinical_audit")
    s = model.state
    assert not (s.genuine[:, k] & ~s.potential[:, k]).any()
    assert abs(s.potential[:, k].mean() - 0.6) < 0.1
    model.run(60)
    s = model.state
    used = s.genuine[:, k] | s.shallow[:, k]
    assert s.joiners or model.timeseries().joiners.sum() > 0, "Expected newcomers to be drawn too"
    assert not (used & ~s.potential[:, k]).any(), "Expected no adoption outside the potential"
    assert used[s.active & s.potential[:, k]].mean() > 0.95, "Expected the potential to saturate"
    assert abs(s.potential[s.active, k].mean() - 0.6) < 0.1  # ~400 GPs: 4 standard errors


def _twins_with_and_without_draws_ahead():
    """Two models of the same seed, one drawing next month's uniforms on the worker thread."""
    in_turn, ahead = PrimaryCareModel(rng=4, **SMALL), PrimaryCareModel(rng=4, **SMALL)
    in_turn.draws_ahead.minimum, ahead.draws_ahead.minimum = 10**12, 0
    return in_turn, ahead


def test_draws_made_ahead_are_the_draws_made_in_turn():
    in_turn, ahead = _twins_with_and_without_draws_ahead()
    for _ in range(6):
        in_turn.step(), ahead.step()
        assert ahead.draws_ahead.made is not None, "Expected the next month drawn ahead"
        assert in_turn.draws_ahead.made is None
        assert in_turn.state.equals(ahead.state), in_turn.state.differences(ahead.state)
    assert digest(in_turn.timeseries()) == digest(ahead.timeseries())


def test_draws_made_ahead_are_redrawn_when_a_mechanism_is_switched():
    """Switching the drive and exits off between months changes what a month draws: the draw
    made ahead is undone and the stream continues as if it had never been made."""
    in_turn, ahead = _twins_with_and_without_draws_ahead()
    in_turn.run(3), ahead.run(3)
    for model in (in_turn, ahead):
        model.params = model.params.replace(drive_on=False, exits_on=False)
    in_turn.run(3), ahead.run(3)
    assert in_turn.state.equals(ahead.state), in_turn.state.differences(ahead.state)


def test_a_copy_made_between_months_keeps_the_draws_made_ahead():
    import copy
    in_turn, ahead = _twins_with_and_without_draws_ahead()
    in_turn.run(5), ahead.run(5)
    twin = copy.deepcopy(ahead)
    in_turn.run(5), ahead.run(5), twin.run(5)
    assert in_turn.state.equals(ahead.state) and ahead.state.equals(twin.state)


def test_a_forked_process_gets_its_own_draws_thread(monkeypatch):
    from simulation import draws
    worker = draws._worker()
    assert draws._worker() is worker
    monkeypatch.setattr(draws.os, "getpid", lambda: -1)
    assert draws._worker() is not worker, "Expected a new executor after a fork"


def test_sums_kept_across_practices_are_the_sums_taken_anew():
    """Exposure keeps each GP's sums across practices between months (the workspace's
    HeardAcross) and takes them again only where a speaker changed: the result is the product
    taken whole."""
    import copy
    from simulation.submodels import Month, expose
    model = PrimaryCareModel(rng=5, **SMALL)
    model.run(12)
    assert model.workspace.heard_across(*model.state.genuine.shape).valid
    anew_workspace = copy.deepcopy(model.workspace)
    anew_workspace.forget()
    months = [Month(model.state, model.ties, model.params, model.tables, workspace, None)
              for workspace in (model.workspace, anew_workspace)]
    for month in months:
        expose.fast(month)
    kept, anew = (month.heard for month in months)
    assert kept.exposure.tobytes() == anew.exposure.tobytes()
    assert kept.den.tobytes() == anew.den.tobytes()
