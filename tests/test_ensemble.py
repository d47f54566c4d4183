"""The calibrated ensemble: the shipped sets and their loader, the acceptance rule, drawing
replicates across the sets in compare, impact and sweep (deterministic, paired within a set,
the param_set column), --fixed-parameters as before, and the robustness of contrasts.

Small on purpose: 8 practices, a few months, 3 replicates."""

from io import StringIO

import numpy as np
import pandas as pd
import pytest

from simulation import PrimaryCareModel, ensemble
from simulation.cli import main
from simulation.experiment import designs, run_sweep, spec
from simulation.experiment.runner import Job, run_task
from simulation.model import build_params
from simulation.report import robustness as rb
from simulation.report import stats, study
from simulation.report.interventions import Intervention
from simulation.validate import TARGETS

TINY = dict(n_practices=8)


@pytest.fixture(scope="module")
def shipped():
    return ensemble.load()


# --- the shipped sets and the loader ----------------------------------------------------------------

def test_the_shipped_ensemble_starts_with_the_defaults_and_says_how_it_was_built(shipped):
    assert len(shipped) >= 2, "Expected more than one accepted parameter set"
    assert [s.id for s in shipped] == list(range(len(shipped))), "Expected ids 0..K-1 in order"
    assert shipped[0].label == "defaults", "Expected set 0 to be the defaults"
    for key in ("rule", "seed", "seeds", "replicates", "calibration_command", "created"):
        assert key in shipped.manifest, f"Expected the manifest to record {key}"
    assert shipped.manifest["size"] == len(shipped)
    # were the defaults recalibrated without rebuilding the ensemble, set 0 would silently differ
    assert ensemble.arm_params("baseline", "county", shipped[0]) == build_params("baseline"), \
        "Expected set 0 to equal the current defaults exactly (rebuild the ensemble)"


def test_the_sets_differ_and_set_every_calibrated_parameter(shipped):
    from simulation.calibrate import SPACE, overrides

    names = set(overrides({k: 0.5 for k in SPACE}))
    assert all(set(s.overrides) == names for s in shipped), \
        "Expected every set to give every parameter the calibration sets"
    assert len({tuple(sorted(s.overrides.items())) for s in shipped}) == len(shipped), \
        "Expected distinct sets"
    assert all(s.max_implausibility <= ensemble.CUTOFF for s in shipped[1:]), \
        "Expected every set but the defaults to pass the acceptance rule"


def test_a_scenario_and_the_users_overrides_apply_on_top_of_a_set(shipped):
    s = shipped[1]
    p = ensemble.arm_params("bottom_up", "county", s, {"n_practices": 8})
    assert p.rel_informal_weight == 2.0, "Expected the scenario's value over the set's"
    assert p.n_practices == 8, "Expected the user's override over everything"
    assert p.w_practice == s.overrides["w_practice"], "Expected the set's calibrated value"
    assert ensemble.arm_params("high_pressure", "county", None, TINY) == \
        build_params("high_pressure", "county", None, **TINY), \
        "Expected no set to mean exactly the fixed parameters"


def test_replicate_r_uses_set_r_mod_k(shipped):
    k = len(shipped)
    assert [shipped.for_replicate(r).id for r in (0, 1, k, k + 1)] == [0, 1, 0, 1]


def test_a_bad_ensemble_file_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text("[manifest]\n\n[[sets]]\nid = 3\nlabel = 'x'\ntrial = 1\n"
                   "max_implausibility = 0.0\n[sets.values]\nw_practice = 0.5\n")
    with pytest.raises(ensemble.PcsimInputError, match=r"sets\[0\]\.id = 3"):
        ensemble.load(bad)


# --- the acceptance rule --------------------------------------------------------------------------

def _runs(**columns):
    base = {name: [t.value, t.value] for name, t in TARGETS.items()}
    return pd.DataFrame({**base, **columns})


def test_implausibility_is_zero_inside_the_band_and_grows_with_the_distance_outside():
    assert max(ensemble.implausibility(_runs()).values()) == 0.0
    t = TARGETS["exit_rate"]
    half = (t.high - t.low) / 2
    above = t.high + 0.03
    imp = ensemble.implausibility(_runs(exit_rate=[above - 0.01, above + 0.01]))
    se = np.std([above - 0.01, above + 0.01], ddof=1) / np.sqrt(2)
    expected = 0.03 / np.sqrt(se ** 2 + (ensemble.DISCREPANCY * half) ** 2)
    assert imp["exit_rate"] == pytest.approx(expected), "Expected d / sqrt(se^2 + delta^2)"
    assert ensemble.implausibility(_runs(exit_rate=[np.nan, np.nan]))["exit_rate"] == np.inf, \
        "Expected a pattern no seed could measure to rule the set out"


def test_the_build_refuses_a_folder_that_is_not_a_calibration(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        ensemble.main(["build", "--calibration", str(tmp_path)])
    assert exit_.value.code == 2
    assert "--calibration" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "Expected nothing written"


# --- compare and impact ---------------------------------------------------------------------------

def test_fixed_parameters_run_every_replicate_as_before():
    """The fixed-parameter study is the runs made from the scenario's parameters and each
    replicate's seed, exactly as before the ensemble existed."""
    res = study.run_compare(["baseline", "high_pressure"], 2, 4, seed=3, overrides=TINY)
    assert res.uncertainty == "simulation only" and res.ensemble is None
    assert res.param_sets == [0, 0] and set(res.outcomes["param_set"]) == {0}
    for label in ("baseline", "high_pressure"):
        for r, s in enumerate(stats.replicate_seeds(3, 2)):
            model = PrimaryCareModel(params=build_params(label, "county", None, **TINY), rng=s)
            model.run(4)
            mine = res.timeseries.query("arm == @label and replicate == @r")
            expected = model.timeseries()
            pd.testing.assert_frame_equal(
                mine[expected.columns].reset_index(drop=True), expected, check_dtype=False,
                obj=f"{label} replicate {r}")


def test_an_ensemble_of_the_defaults_alone_gives_the_fixed_study_exactly(shipped):
    only_defaults = ensemble.Ensemble((shipped[0],), shipped.manifest)
    a = study.run_compare(["baseline", "bottom_up"], 2, 4, seed=5, overrides=TINY)
    b = study.run_compare(["baseline", "bottom_up"], 2, 4, seed=5, overrides=TINY,
                          ensemble=only_defaults)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def test_ensemble_draws_are_deterministic_paired_and_recorded(shipped):
    run = lambda: study.run_compare(["baseline", "baseline"], 3, 4, seed=7, overrides=TINY,
                                    ensemble=shipped)
    a, b = run(), run()
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)  # same seed, same bytes
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.param_sets == [0, 1, 2 % len(shipped)]
    assert list(a.outcomes.query("arm == 'baseline'")["param_set"]) == a.param_sets
    assert set(a.timeseries["param_set"]) == set(a.param_sets)
    assert a.uncertainty == "parameter and simulation"
    assert a.ensemble["size"] == len(shipped) and a.ensemble["sets_used"] == 3
    names = list(study.OUTCOME_NAMES)
    arm_a = a.outcomes.query("arm == 'baseline'")[names].to_numpy()
    arm_b = a.outcomes.query("arm == 'baseline_2'")[names].to_numpy()
    assert np.array_equal(arm_a, arm_b), "Expected arms paired exactly within each set"
    fixed = study.run_compare(["baseline"], 3, 4, seed=7, overrides=TINY)
    assert np.array_equal(fixed.outcomes[names].to_numpy()[0], arm_a[0]), \
        "Expected replicate 0 (set 0, the defaults) to equal the fixed run"
    assert not np.array_equal(fixed.outcomes[names].to_numpy()[1:], arm_a[1:]), \
        "Expected the other sets to change the runs"


def test_impact_pairs_both_arms_on_one_set_per_replicate(shipped):
    res = study.run_impact("baseline", Intervention("add_formal", 2), at_month=2, replicates=2,
                           months=4, seed=4, overrides=TINY, ensemble=shipped)
    sets = res.outcomes.pivot(index="replicate", columns="arm", values="param_set")
    assert (sets["control"] == sets["intervention"]).all() and list(sets["control"]) == [0, 1]
    assert res.uncertainty == "parameter and simulation"


def test_fixed_parameters_on_the_command_line(tmp_path):
    args = ["compare", "baseline", "--months", "3", "--replicates", "2", "--set",
            "n_practices=8", "--seed", "9"]
    assert main([*args, "--fixed-parameters", "--out", str(tmp_path / "f")]) == 0
    outcomes = pd.read_parquet(tmp_path / "f" / "data" / "outcomes.parquet")
    fixed = study.run_compare(["baseline"], 2, 3, seed=9, overrides=TINY)
    pd.testing.assert_frame_equal(outcomes, fixed.outcomes, check_dtype=False)
    assert main([*args, "--out", str(tmp_path / "e")]) == 0
    drawn = pd.read_parquet(tmp_path / "e" / "data" / "outcomes.parquet")
    assert list(drawn["param_set"]) == [0, 1], "Expected the ensemble by default"


# --- robustness -------------------------------------------------------------------------------------

def _study(diffs: dict[str, list[float]], sets: list[int]) -> study.Study:
    """Two arms whose paired differences per replicate are ``diffs`` (others zero)."""
    n = len(sets)
    names = list(study.OUTCOME_NAMES)
    ref = pd.DataFrame({name: np.ones(n) for name in names})
    arm = ref.copy()
    for name, d in diffs.items():
        arm[name] = 1.0 + np.asarray(d)
    frames = [t.assign(arm=label, replicate=range(n), param_set=sets)
              for label, t in (("baseline", ref), ("policy", arm))]
    arms = [study.Arm(label, label, "", None, pd.DataFrame(), "") for label in ("baseline", "policy")]
    return study.Study("compare", arms, 12, 1, "county", list(range(n)), {},
                       pd.concat(frames, ignore_index=True), pd.DataFrame(), {}, 0.0)


def test_robustness_flags_a_sign_that_changes_across_sets():
    sets = [0, 1, 2, 0, 1, 2]
    s = _study({"quality": [1, 2, 3, 1, 2, 3],  # positive in every set
                "complex_adoption": [1, 1, -3, 1, 1, -3],  # set 2 turns it negative
                "strain": [-1, 1, -1, 0.5, -2, -1],  # each set's mean negative
                "informal_leaders": [-1, 0, -2, -1, 0, -2]},  # lower, or unchanged in set 1
               sets)
    table = rb.robustness(s).set_index("outcome")
    assert table.loc["quality", "robustness"] == rb.ROBUST
    assert table.loc["complex_adoption", "robustness"] == rb.NOT_ROBUST
    assert (table.loc["complex_adoption", ["positive", "negative"]] == [2, 1]).all()
    assert table.loc["strain", "robustness"] == rb.ROBUST, \
        "Expected the sign of each set's mean, not of each replicate, to count"
    assert table.loc["federations_with_plan", "robustness"] == rb.NO_DIFFERENCE
    assert table.loc["informal_leaders", "robustness"] == rb.ROBUST, \
        "Expected a set with no difference not to count as a change of sign"
    assert table.loc["complex_adoption", "lowest_set_mean"] == -3.0


def test_robustness_of_a_fixed_parameter_study_is_not_applicable():
    table = rb.robustness(_study({"quality": [1, -1]}, [0, 0]))
    assert set(table["robustness"]) == {rb.ONE_SET}


# --- sweep ---------------------------------------------------------------------------------------

SWEEP = dict(name="ens", months=3, replicates=3, seed=5, design={"type": "grid"},
             parameters={"pressure_level": [0.2, 0.6]}, fixed={"n_practices": 6},
             outcomes={"summary": ["complex_adoption", "quality"]})


def test_a_sweep_without_the_ensemble_keeps_its_keys_and_columns():
    exp = spec.from_dict(SWEEP)
    runs = designs.runs_table(exp)
    assert "param_set" not in runs.columns
    assert runs.run_key[0] == designs.run_key(exp, 0, 0, int(runs.seed[0]), {"pressure_level": 0.2})
    assert "ensemble" not in exp.definition()


def test_a_sweep_on_the_ensemble_draws_set_r_mod_k(shipped, tmp_path):
    exp = spec.from_dict({**SWEEP, "ensemble": True})
    runs = designs.runs_table(exp)
    assert list(runs.param_set) == [r % len(shipped) for r in (0, 1, 2)] * 2
    assert exp.definition_hash != spec.from_dict(SWEEP).definition_hash
    task = next(t for t in designs.tasks(exp, runs) if t.param_set == 1)
    row, _ = run_task(Job.from_experiment(exp), task)
    params = ensemble.arm_params("baseline", "county", shipped[1], {"n_practices": 6,
                                                                    **task.overrides})
    model = PrimaryCareModel(params=params, rng=task.seed)
    model.run(3)
    assert row["param_set"] == 1
    assert row["quality"] == float(model.timeseries()["quality"].iloc[-1]), \
        "Expected the run on set 1's parameters, the sweep's values on top"
    command = designs.rerun_command(exp, task.seed, task.overrides, task.param_set)
    assert f"w_practice={spec.format_value(shipped[1].overrides['w_practice'])}" in command, \
        "Expected a failed run's command to re-make it on its set"
    outcome = run_sweep(exp, workers=1, out=str(tmp_path / "s"), progress_stream=StringIO())
    assert outcome.finished == 6
    assert list(outcome.store.runs()["param_set"]) == list(runs.param_set)


def test_ensemble_in_an_experiment_must_be_true_or_false():
    with pytest.raises(spec.ExperimentError, match="ensemble = 'yes' is not allowed"):
        spec.from_dict({**SWEEP, "ensemble": "yes"})


def test_candidates_rank_by_distance_outside_the_bands_and_keep_places_for_the_global_stage():
    from simulation.calibrate import SPACE

    rng = np.random.default_rng(0)
    rows = []
    for trial in range(8):
        stage = "global" if trial < 4 else "refine"
        off = 0.01 * (8 - trial)  # later trials closer to the bands: the refine stage wins
        rows.append({"trial": trial, "stage": stage, **{k: rng.random() for k in SPACE},
                     **{f"metric.{n}": t.high + off for n, t in TARGETS.items()}})
    trials = pd.DataFrame(rows)
    assert list(ensemble.candidates(trials, 3).trial) == [7, 6, 5]
    assert list(ensemble.candidates(trials, 3, 2).trial) == [7, 6, 5, 3, 2], \
        "Expected the global stage's best after the best overall"


# --- history matching in waves --------------------------------------------------------------------

def test_the_unit_cube_maps_onto_the_priors_log_uniformly_where_marked_and_back():
    from simulation.calibrate import LOG, SPACE, is_integer, prior

    rng = np.random.default_rng(3)
    for u in (np.zeros(len(SPACE)), np.full(len(SPACE), 0.999999), rng.random(len(SPACE))):
        values = ensemble.to_values(u)
        for name, v in values.items():
            low, high = prior(name)
            assert low <= v <= high, f"Expected {name} = {v} inside its prior [{low}, {high}]"
        back = ensemble.to_values(ensemble.to_unit(values))
        assert back == pytest.approx(values), "Expected to_unit to invert to_values"
    middle = ensemble.to_values(np.full(len(SPACE), 0.5))
    name = next(n for n in LOG if not is_integer(n))
    low, high = prior(name)
    assert middle[name] == pytest.approx((low * high) ** 0.5), \
        "Expected the middle of a log-uniform axis at the geometric mean of its prior"
    assert all(isinstance(middle[n], int) for n in SPACE if is_integer(n))


def test_the_width_share_is_the_span_of_the_sets_over_the_prior():
    from simulation.calibrate import SPACE

    sets = pd.DataFrame([ensemble.to_values(np.full(len(SPACE), x)) for x in (0.25, 0.75)])
    share = ensemble.width_share(sets)
    continuous = [n for n in SPACE if not ensemble._is_int(n)]
    assert share[continuous].to_numpy() == pytest.approx(0.5), \
        "Expected sets at a quarter and three quarters of every prior to span half of it"


def test_the_kth_largest_implausibility_loosens_the_rule_of_early_waves():
    imp = {"a": 9.0, "b": 4.0, "c": 1.0}
    assert [ensemble.kth_largest(imp, k) for k in (1, 2, 3)] == [9.0, 4.0, 1.0]


@pytest.mark.slow
def test_waves_do_not_depend_on_how_many_workers_run_them():
    # two tiny waves and a final re-run: the same seed must give the same table whatever the
    # scheduling, and set 0 must be the defaults
    kw = dict(sizes=[3, 2], replicates=2, final_replicates=2, seed=5, cutoffs=[1e9, 1e9],
              final_candidates=1)
    one = ensemble.waves(workers=1, **kw)
    two = ensemble.waves(workers=2, **kw)
    pd.testing.assert_frame_equal(one["candidates"], two["candidates"])
    table = one["candidates"]
    assert list(table.wave) == [1] * 3 + [2] * 2 + [0] * 2, \
        "Expected the waves' points, then the defaults and one candidate re-run"
    assert one["sets"].iloc[0]["label"] == "defaults"
    assert [w["points"] for w in one["waves"]] == [3, 2, 2]
    assert one["waves"][0]["seeds"] != one["waves"][1]["seeds"] != one["seeds"], \
        "Expected fresh seeds in every wave"


def test_waves_refuse_bad_sizes_with_one_line():
    from simulation.ensemble import main as ensemble_main

    with pytest.raises(SystemExit) as exit_:
        ensemble_main(["waves", "--sizes", "400,x"])
    assert exit_.value.code == 2


def test_the_ensemble_is_refused_at_a_scale_it_was_not_calibrated_at():
    """The sets were accepted against the county's patterns: applied to England they would undo
    England's own calibrated defaults, so the Python API and experiment files refuse them (the
    commands fall back to fixed parameters and say so)."""
    from simulation.params import ParamError
    with pytest.raises(ParamError, match="scale = 'england' is not allowed with the calibrated ensemble"):
        ensemble.arm_params("baseline", "england", ensemble.load()[1])
    with pytest.raises(spec.ExperimentError, match="ensemble = true is not allowed with scale = 'national'"):
        spec.from_dict({"name": "x", "scale": "national", "months": 2, "replicates": 1,
                        "ensemble": True, "design": {"type": "grid"},
                        "parameters": {"leadership_propensity": [0.2, 0.4]}})
