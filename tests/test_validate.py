"""Verification and validation: the check functions against known answers, and the command.

Known answers come from ../shared/SOURCES.md (the Watts windows table, Granovetter's sigma*)
and from closed forms (Bass). ``pcsim validate --quick`` runs end to end and must pass.
"""

import math
import re
import tomllib
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from simulation import cli, limits, validate, verification
from simulation.params import Params

ROOT = Path(__file__).resolve().parents[1]


# --- Watts: the analytic window ----------------------------------------------------------------

@pytest.mark.parametrize("phi, low, high", [
    (0.18, 1.02, 5.77),  # SOURCES.md: (1/6, 1/5] -> 1.02-5.77
    (0.22, 1.11, 3.86),  # (1/5, 1/4]
    (0.15, 1.00, 7.48),  # (1/7, 1/6]
    (0.125, 1.00, 10.66),  # (1/9, 1/8]
    (0.10, 1.00, 13.66),  # (1/11, 1/10]
])
def test_watts_window_matches_the_sources_table(phi, low, high):
    z_low, z_high = verification.watts_window(phi)
    # the table is rounded to two decimals
    assert z_low == pytest.approx(low, abs=0.006), f"Expected the lower edge near {low} for phi={phi}"
    assert z_high == pytest.approx(high, abs=0.006), f"Expected the upper edge near {high} for phi={phi}"


def test_no_watts_window_above_one_quarter():
    assert verification.watts_window(0.26) is None, "Expected no window when K* <= 3 (phi > 1/4)"


def test_vulnerable_degree_uses_the_models_comparison_at_boundaries():
    # a node of degree 5 with one adopted neighbour has exposure 1/5 = 0.2 >= phi = 0.2
    assert verification.watts_vulnerable_degree(0.2) == 5
    assert verification.watts_vulnerable_degree(0.18) == 5
    assert verification.watts_vulnerable_degree(0.25) == 4
    with pytest.raises(ValueError):
        verification.watts_vulnerable_degree(0.0)


def test_watts_window_edges_solve_the_cascade_condition():
    # sum_{k=2}^{K*} k(k-1) p_k = z at both edges, with Poisson p_k
    from scipy import stats
    for phi in (0.18, 0.22):
        k_star = verification.watts_vulnerable_degree(phi)
        for z in verification.watts_window(phi):
            total = sum(k * (k - 1) * stats.poisson.pmf(k, z) for k in range(2, k_star + 1))
            assert total == pytest.approx(z, rel=1e-8), "Expected the edge to solve the condition"


def test_reset_watts_model_gives_the_same_cascade_as_a_fresh_one():
    """watts_cascade_sizes reuses one model per graph; a reset must equal a fresh build."""
    graph = nx.fast_gnp_random_graph(600, 3.0 / 599, seed=11)
    model = limits.watts_model(graph, 0.18, [0], rng=1)
    for start in (0, 5, 17, 300):
        model.state.genuine[:] = False
        model.state.month_adopted[:] = -1
        model.state.genuine[start, 0] = True
        reused = verification.run_to_rest(model, 700)[-1]
        fresh = limits.watts_cascade(graph, 0.18, [start], rng=1)
        assert reused == fresh, f"Expected a reset model to cascade as a fresh one from node {start}"


def test_watts_frequencies_high_inside_and_zero_far_outside():
    # "global" is 5% of 800 GPs here: 1% (8 GPs) is within reach of a finite cluster at z < 1
    table = verification.watts_frequencies([0.18], [0.4, 3.0, 8.5], n=800, graphs=4, seed=3,
                                           starts_per_graph=5, global_share=0.05)
    freq = dict(zip(table.z, table.global_frequency))
    # 20 cascades per point: inside the window most seeds sit in the vulnerable giant cluster
    assert freq[3.0] >= 0.5, "Expected frequent global cascades at z=3 inside the window"
    assert freq[0.4] == 0.0, "Expected no global cascade below the percolation point"
    assert freq[8.5] == 0.0, "Expected no global cascade far above the window"


# --- Bass -------------------------------------------------------------------------------------

@pytest.mark.parametrize("p, q", [(0.01, 0.1), (0.03, 0.02)])
def test_fit_bass_recovers_the_closed_form_exactly(p, q):
    t = np.arange(121)
    fit = verification.fit_bass(t, limits.bass_closed_form(p, q, t))
    assert fit.p == pytest.approx(p, rel=1e-4) and fit.q == pytest.approx(q, rel=1e-4)
    assert fit.r2 > 0.999999


def test_fit_bass_with_market_and_offset():
    t = np.arange(121)
    curve = 0.05 + (0.4 - 0.05) * limits.bass_closed_form(0.005, 0.08, t)
    fit = verification.fit_bass(t, curve, offset=True)
    assert fit.market == pytest.approx(0.4, rel=1e-3), "Expected the saturation level back"
    assert fit.offset == pytest.approx(0.05, abs=1e-3), "Expected the starting share back"
    assert fit.q / fit.p == pytest.approx(16, rel=1e-2)


def test_bass_mean_curve_follows_the_discrete_solution():
    c = verification.bass_curves(300, 0.01, 0.1, 60, 6, seed=4)
    # 4 standard errors of the mean of 6 runs, plus the O(1/N) Jensen term
    tol = 4 * c.se.max() + 1 / 300
    assert (c["mean"] - c.discrete).abs().max() <= tol


# --- Granovetter --------------------------------------------------------------------------------

def test_granovetter_critical_sigma_is_0_122():
    # SOURCES.md: sigma* = 0.122 for thresholds N(0.25, sigma), continuous model
    assert verification.granovetter_critical_sigma() == pytest.approx(0.122, abs=5e-4)
    assert verification.granovetter_analytic(0.10) < 0.02, "Expected near nothing below sigma*"
    assert verification.granovetter_analytic(0.13) > 0.999, "Expected everyone above sigma*"


def test_granovetter_model_equals_the_direct_threshold_iteration():
    """The model on a complete graph is Granovetter's rule with exposure A/(n-1)."""
    n = 200
    model = verification.PrimaryCareModel(
        network=verification.complete_ties(n), rng=9,
        params=limits.neutral_params(verification.threshold_innovation(0.25, 0.15)))
    thresholds = model.state.threshold[:, 0].copy()
    adopted = np.zeros(n, dtype=bool)
    while True:  # synchronous: everyone compares the share of the others adopted last month
        others = (adopted.sum() - adopted) / (n - 1)
        new = adopted | (others >= thresholds)
        if new.sum() == adopted.sum():
            break
        adopted = new
    simulated = verification.run_to_rest(model, n + 1)[-1]
    assert simulated == adopted.mean(), "Expected the model to follow Granovetter's rule exactly"


def test_granovetter_jump_in_the_model():
    low = verification.granovetter_final_share(0.08, 300, seed=1)
    high = verification.granovetter_final_share(0.2, 300, seed=1)
    assert low < 0.05 and high == 1.0, "Expected near nothing at sigma=0.08 and everyone at 0.2"


# --- complex contagion ------------------------------------------------------------------------

def test_randomised_lattice_keeps_degrees_and_loses_clustering():
    lattice = verification.clustered_lattice(8, 11)
    rand = verification.randomised(lattice, seed=2)
    assert sorted(d for _, d in rand.degree()) == sorted(d for _, d in lattice.degree())
    assert nx.average_clustering(rand) < 0.5 * nx.average_clustering(lattice)


def test_complex_contagion_goes_further_on_the_clustered_lattice():
    t = verification.centola_compare(rows=12, cols=21, replicates=4, months=20, seed=5)
    final = t[t.month == 20].groupby("network").share.mean()
    assert final["clustered"] > final["random"], "Expected clustered ties to carry complex contagion further"


# --- pattern helpers ---------------------------------------------------------------------------

def test_target_distance_is_zero_inside_and_in_half_widths_outside():
    t = validate.Target(0.2, 0.1, 0.3, "s", "w")
    assert t.distance(0.25) == 0.0
    assert t.distance(0.4) == pytest.approx(1.0), "0.1 beyond the band is one half-width"
    assert t.distance(-0.1) == pytest.approx(2.0)


def test_interrupted_time_series_of_a_known_series():
    t = np.arange(121, dtype=float)
    quality = 0.5 + 0.001 * t + np.where(t >= 24, np.minimum(t - 23, 12) * 0.002, 0.0)
    autonomy = np.where(t >= 24, 0.4, 0.5)
    its = validate.its_p4p(quality, autonomy)
    assert its["pre_slope"] == pytest.approx(0.012)
    assert its["year1_excess"] == pytest.approx(0.024)
    assert its["post_slope"] == pytest.approx(0.012), "Expected the earlier trend after year 1"
    assert its["autonomy_change"] == pytest.approx(-0.1)


def test_wilson_interval():
    lo, hi = validate.wilson(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2, "Expected a Wilson upper bound of ~0.16 for 0/20"


# --- the command ---------------------------------------------------------------------------------

def test_pcsim_validate_quick(tmp_path, capsys):
    out = tmp_path / "v"
    code = cli.main(["validate", "--quick", "--out", str(out)])
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "validation.csv")
    assert set(validate.LEADERSHIP_CHECKS) <= set(table.id), "Expected the leadership checks in the table"
    failed = sorted(set(table.id[~table.passed]))
    assert not failed, f"Expected every check to pass with the calibrated defaults; failed: {failed}\n{printed}"
    assert code == (1 if (~table.passed).any() else 0), "Expected exit status 1 exactly when a check fails"
    assert set(table.kind) == {"verification", "validation"}
    assert pd.read_parquet(out / "validation.parquet").shape == table.shape
    for name in ("watts", "bass", "granovetter", "centola", "patterns", "leadership"):
        assert (out / f"validation_{name}.png").stat().st_size > 0
    assert (out / "manifest.json").is_file() and (out / "validation.md").is_file()
    for column in ("check", "target", "source", "simulated", "result"):
        assert column in printed.splitlines()[0]


def test_pcsim_validate_refuses_a_non_empty_out(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    assert cli.main(["validate", "--quick", "--out", str(tmp_path)]) == 2
    assert "never overwritten" in capsys.readouterr().err


# --- calibration ---------------------------------------------------------------------------------

def test_refinement_bounds_stay_inside_the_priors():
    from simulation import calibrate
    values = {name: calibrate.prior(name)[1] for name in calibrate.SPACE}
    for name in calibrate.SPACE:
        low, high = calibrate.around(values, 0.15)[name]
        prior_low, prior_high = calibrate.prior(name)
        assert prior_low <= low <= high <= prior_high, f"refinement bounds of {name} leave the prior"


@pytest.mark.parametrize("start", ["HAND_SET", "PREVIOUS", "BEFORE_LEADERSHIP", "FIRST_LEADERSHIP"])
def test_start_proposals_are_inside_the_priors(start):
    from simulation import calibrate
    values = getattr(calibrate, start)
    assert set(values) == set(calibrate.SPACE)
    for name in calibrate.SPACE:
        low, high = calibrate.prior(name)
        assert low <= values[name] <= high, f"{name} starts outside its prior"


def test_objective_is_zero_at_the_targets():
    from simulation import calibrate
    metrics = {name: t.value for name, t in validate.TARGETS.items()}
    assert calibrate.objective(metrics) == 0.0


def test_calibrated_values_build_valid_params():
    from simulation import calibrate
    values = {name: sum(calibrate.prior(name)) / 2 for name in calibrate.SPACE}
    text = calibrate.to_toml(values)
    data = tomllib.loads(text)
    params = Params.from_dict({**data["params"], "innovations": data["innovations"]})
    assert params.innovation_index("pdsa") >= 0


def test_calibration_record_matches_the_defaults():
    """docs/calibration.md's TOML block holds the calibrated values; the defaults must agree."""
    text = (ROOT / "docs" / "calibration.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    data = tomllib.loads(block)
    p = Params()
    for name, value in data["params"].items():
        assert getattr(p, name) == pytest.approx(value, rel=1e-9), f"default of {name} differs"
    rows = {i.name: i for i in p.innovations}
    for row, cols in data["innovations"].items():
        for col, value in cols.items():
            assert getattr(rows[row], col) == pytest.approx(value, rel=1e-9), f"{row}.{col} differs"


def test_calibration_command_runs(tmp_path):
    from simulation import calibrate
    out = tmp_path / "cal"
    code = calibrate.main(["--trials", "2", "--refine", "1", "--replicates", "1", "--confirm", "1",
                           "--confirm-replicates", "1", "--out", str(out)])
    assert code == 0
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and np.isfinite(trials.objective).all()
    assert list(trials.stage) == ["global", "global", "refine"]
    assert tomllib.loads((out / "best.toml").read_text())["params"]


def test_pcsim_validate_exits_1_when_a_check_fails(tmp_path, capsys, monkeypatch):
    failing = validate.Check(id="P0", kind="validation", name="a check that fails", target="1",
                             source="test", value=0.0, low=0.0, high=0.0, interval="none",
                             passed=False)
    monkeypatch.setattr(validate, "validate", lambda plan, seed, progress=None:
                        validate.Outcome(checks=[failing]))
    monkeypatch.setattr(validate, "write_results", lambda *args: None)
    assert cli.main(["validate", "--quick", "--out", str(tmp_path / "v")]) == 1
    assert "0 of 1 checks passed; failed: P0" in capsys.readouterr().out
