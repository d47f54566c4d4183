"""The Morris screening of the assumed parameters (scripts/screen_assumptions.py) on a tiny
design, and the loader of its shipped result (simulation.robustness)."""

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

from simulation import robustness, scenarios
from simulation.params import Params, provenance

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def screen():
    spec = importlib.util.spec_from_file_location("screen_assumptions",
                                                  ROOT / "scripts" / "screen_assumptions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["--trajectories", "2", "--seeds", "2", "--months", "12", "--scenarios", "high_pressure",
        "--only", "pressure_level", "culture_mean", "styles.servant.share", "--set", "n_practices=6"]


def test_the_factors_are_the_assumed_numbers_over_half_to_twice_their_defaults(screen):
    table, left = screen.factors(Params())
    rows = table.set_index("name")
    assumed = set(provenance("assumed")["name"])
    assert set(rows.index) | set(left["name"]) == assumed, "every assumed parameter screened or listed"
    assert rows.loc["culture_sd", ["low", "high"]].tolist() == pytest.approx([0.075, 0.3])
    # default 0: the declared bounds
    assert rows.loc["pressure_trend", ["low", "high"]].tolist() == [-0.2, 0.2]
    # clipped to the declared bounds (support is at most 1)
    assert rows.loc["styles.servant.support", ["low", "high"]].tolist() == pytest.approx([0.45, 1.0])
    assert "clipped" in rows.loc["styles.servant.support", "rule"]
    # never screened: cells the model does not read, choices, scenario timing
    assert {"innovations.pdsa.q_social", "innovations.clinical_audit.threshold_mean",
            "leader_selection", "p4p_month"} <= set(left["name"])
    assert not set(provenance("calibrated")["name"]) & set(rows.index)


def test_screened_style_shares_are_renormalised_to_add_up_to_one(screen):
    base = Params()
    table, _ = screen.factors(base)
    changes = screen.point_overrides({"styles.servant.share": 0.3}, table, base)
    shares = {n: v for n, v in changes.items() if n.endswith(".share")}
    assert len(shares) == len(base.styles)
    assert sum(shares.values()) == pytest.approx(1.0)
    Params.from_dict(changes)  # accepted: the shares add up to 1
    # servant's weight doubled (0.15 -> 0.3) against the others' 0.85
    assert shares["styles.servant.share"] == pytest.approx(0.3 / 1.15)


def test_an_initial_share_is_capped_at_its_market_potential(screen):
    """The two cells are screened independently; the model refuses a share above the potential."""
    base = Params()
    table, _ = screen.factors(base)
    changes = screen.point_overrides({"innovations.extended_access.initial_share": 1.0,
                                      "innovations.extended_access.market_potential": 0.5}, table, base)
    assert changes["innovations.extended_access.initial_share"] == 0.5
    Params.from_dict(changes)


def test_a_scenario_setting_moves_with_the_screened_baseline(screen):
    """bottom_up sets decentralisation 0.2 and seduction 0.8: with the baseline's moved to 0.5
    and 0.6, the scenario's become 0.7 and 1.0 (1.1 clipped), so the scenario still
    decentralises more than the baseline; its choice of leaders is untouched."""
    scenario = scenarios.load("bottom_up").overrides
    changes = screen.shifted(scenario, {"decentralisation": 0.5, "seduction": 0.6}, Params())
    assert changes["decentralisation"] == pytest.approx(0.7)
    assert changes["seduction"] == 1.0
    assert changes["leader_selection"] == scenario["leader_selection"]
    assert changes["dictation"] == scenario["dictation"]  # not screened at this point


def test_tiny_screening_writes_its_result_reproducibly_and_resumes(screen, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert screen.main([*TINY, "--out", str(a)]) == 0
    assert screen.main([*TINY, "--out", str(b)]) == 0
    runs = pd.read_csv(a / "runs.csv")
    # 2 trajectories x (3 factors + 1) points, and the defaults' point; 2 scenarios x 2 seeds
    assert len(runs) == (2 * 4 + 1) * 2 * 2
    pd.testing.assert_frame_equal(runs, pd.read_csv(b / "runs.csv"))  # same seed, same numbers
    morris = pd.read_csv(a / "morris.csv")
    assert set(morris["name"]) == {"pressure_level", "culture_mean", "styles.servant.share"}
    assert (morris["mu_star"] >= morris["mu"].abs() - 1e-12).all()
    result = robustness.load(a / "robustness.toml")
    assert set(result) == {"high_pressure"}
    assert set(result["high_pressure"]) == set(robustness.OUTCOMES)
    exits = result["high_pressure"]["exit_rate"]
    assert exits.low <= exits.at_defaults <= exits.high
    capsys.readouterr()
    assert screen.main([*TINY, "--out", str(a)]) == 0  # again: every point is done already
    assert "(9 points already done)" in capsys.readouterr().out
    assert len(pd.read_csv(a / "runs.csv")) == len(runs)


def test_a_folder_of_another_screening_is_refused(screen, tmp_path, capsys):
    assert screen.main([*TINY, "--out", str(tmp_path)]) == 0
    assert screen.main([*TINY[:-1], "n_practices=7", "--out", str(tmp_path)]) == 2
    assert "holds a different screening" in capsys.readouterr().err


def test_not_robust_means_both_signs_beyond_the_noise(screen):
    diffs = pd.DataFrame(dict(
        contrast="x", outcome="quality", point=[0, 0, 1, 1, 2, 2, 3, 3],
        value=[1.0, 1.2, -1.0, -1.2, 0.05, -0.05, 1.1, 0.9]))
    morris = pd.DataFrame(dict(contrast="x", outcome="quality", name=["p"], mu_star=[1.0]))
    r = screen.robustness(diffs, morris, z=3.0, default_point=3)["x"]["quality"]
    assert not r["robust"] and r["sign"] == "+/-"
    assert r["at_defaults"] == pytest.approx(1.0)
    one_sided = diffs.assign(value=diffs["value"].abs())
    r = screen.robustness(one_sided, morris, z=3.0, default_point=3)["x"]["quality"]
    assert r["robust"] and r["sign"] == "+"


def test_the_shipped_result_covers_every_scenario_and_outcome():
    result = robustness.load()
    shipped = set(scenarios.names()) - {"baseline"}
    # (a scenario added since the screening is not screened until it is run again: flag() is "")
    assert set(result) <= shipped and len(result) >= 6
    for scenario, outcomes in result.items():
        assert set(outcomes) == set(robustness.OUTCOMES)
        for r in outcomes.values():
            assert r.sign in ("+", "-", "0", "+/-")
            assert r.robust == (r.sign != "+/-")
            assert r.low <= r.at_defaults <= r.high or math.isclose(r.low, r.high)
            assert r.label == ("robust" if r.robust else "not robust")
            assert robustness.flag(scenario, r.outcome) == ("" if r.robust else "not robust")
    about = robustness.about()
    assert about["script"] == "scripts/screen_assumptions.py" and about["runs"] > 0


def test_flag_is_empty_for_a_contrast_not_screened():
    assert robustness.get("my_scenario", "quality") is None
    assert robustness.flag("my_scenario", "quality") == ""
    assert robustness.flag("high_pressure", "autonomy") == ""
