"""The England validation (``pcsim validate --scale england``) and the England calibration
record: the partner-share pattern reads the data's trend, the model's workforce dynamics follow
it, the command runs on an area, and the England preset's calibrated values are those the record
in docs/calibration.md gives, while the county's stay as they were."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from simulation import calibrate, cli, england
from simulation.model import build_params
from simulation.params import Params
from simulation.validate import england as national
from simulation.validate.targets import TARGETS

ROOT = Path(__file__).resolve().parents[1]
#: a small ICB (48 practices, ~290 GPs): 24 months in well under a second
AREA = "QOC"


def test_partner_share_targets_are_the_data_facts():
    facts = json.loads((ROOT / "simulation/data/england/facts.json").read_text())
    years = facts["partner_share_by_year"]
    targets = national.england_targets()
    for month, fy in national.YEARS.items():
        t = targets[f"partner_share_m{month}"]
        assert t.value == years[fy]["partner_share"], f"month {month} should be {fy}'s share"
        assert t.high - t.low == pytest.approx(2 * national.PARTNER_SHARE_TOLERANCE)
        assert targets[f"median_headcount_m{month}"].value == years[fy]["median_gp_hc"]
    # the county patterns checked nationally are the county's own targets, not copies
    for name in national.NATIONAL:
        assert targets[name] is TARGETS[name]


def test_area_targets_follow_the_area_practices():
    share0, median0, _ = national.data_trend(england.find_area(AREA))[0]
    p = england.practices(AREA)
    assert share0 == pytest.approx(p.partner_hc_mean.sum() / p.gp_hc_mean.sum())
    assert median0 == p.gp_hc_mean.median()


def test_partner_share_falls_with_exits_and_stays_without():
    """The pattern's mechanism: partners leave and fewer newcomers are partners, so the share
    falls; with exits off nobody leaves, the share stays, and the 24-month check fails."""
    run = national.run_england(3, AREA)["metrics"]
    assert run["partner_share_m24"] < run["partner_share_m12"] < run["partner_share_m0"]
    still = national.run_england(3, AREA, exits_on=False)["metrics"]
    assert still["partner_share_m24"] == still["partner_share_m0"]
    checks, _ = national.check_england(1, 3, AREA, overrides=dict(exits_on=False))
    by_id = {c.id: c for c in checks}
    assert not by_id["E1-partner-share-m24"].passed, "a share that never falls must miss FY 2024/25"
    assert by_id["E1-partner-share-m0"].passed


def test_partner_share_pattern_passes_on_england():
    """With the England preset's calibrated values, all of England (one replicate: ~36,000
    GPs vary by < 0.002 between seeds) follows the data's fall within the tolerance, and the
    median practice keeps 5 GPs."""
    checks, data = national.check_england(1, 11)
    e = [c for c in checks if c.id.startswith(("E1-", "E2-"))]
    assert [c.id for c in e][:3] == ["E1-partner-share-m0", "E1-partner-share-m12",
                                     "E1-partner-share-m24"]
    assert all(c.passed for c in e), [(c.id, c.simulated, c.target) for c in e]
    assert set(data["workforce"].month) == set(national.YEARS)


def test_pcsim_validate_england_on_an_area(tmp_path, capsys):
    out = tmp_path / "v"
    code = cli.main(["validate", "--scale", "england", "--area", AREA, "--quick",
                     "--replicates", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "validation.csv")
    assert code == (1 if (~table.passed).any() else 0), "exit 1 exactly when a check fails"
    assert {"E1-partner-share-m24", "E2-headcount-m24", "P1-adoption_pdsa",
            "P4-federations_with_plan", "P10-exit_rate"} <= set(table.id)
    assert not any(table.id.str.startswith("V")), "the verification limits are the county's"
    assert (out / "validation_england_partner_share.png").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plan"]["scale"] == "england" and AREA in manifest["plan"]["area"]
    assert "2 replicates" in printed and "NHS Shropshire" in printed


def test_pcsim_validate_area_needs_england(tmp_path, capsys):
    out = tmp_path / "v"
    assert cli.main(["validate", "--area", AREA, "--out", str(out)]) == 2
    assert "--scale england" in capsys.readouterr().err
    assert not out.exists(), "nothing written on bad input"


# --- the England calibration record --------------------------------------------------------------

def _record() -> dict[str, tuple[float, float]]:
    """docs/calibration.md, "England calibration": parameter -> (county, england)."""
    text = (ROOT / "docs/calibration.md").read_text()
    section = text.split("## England calibration", 1)[1].split("### Values", 1)[1]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`([\w.]+)`\s*\|\s*([-\d.e]+)\s*\|\s*([-\d.e]+)\s*\|", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
        elif rows and not line.startswith("|"):
            break
    return rows


def test_england_defaults_equal_the_record():
    record = _record()
    assert set(record) == set(calibrate.ENGLAND_SPACE), "one row per calibrated parameter"
    shipped = tomllib.loads((ROOT / "simulation/data/england/calibrated.toml").read_text())
    eng = build_params("baseline", "england")
    county = Params()
    for name, (county_value, england_value) in record.items():
        target = calibrate.ENGLAND_SPACE[name][0]
        assert calibrate._value(eng, target) == pytest.approx(england_value, rel=1e-9), name
        assert calibrate._value(county, target) == pytest.approx(county_value, rel=1e-9), name
    assert calibrate.overrides(
        {n: e for n, (_, e) in record.items()}, "england") == england.calibrated()
    assert shipped["params"]["newcomer_partner_share"] == record["newcomer_partner_share"][1]


def test_england_search_starts_inside_its_priors():
    start = calibrate.county_values(calibrate.ENGLAND_SPACE)
    for name in calibrate.ENGLAND_SPACE:
        low, high = calibrate.prior(name, "england")
        assert low <= start[name] <= high, f"{name} starts outside its prior"
        lo, hi = calibrate.around(start, 0.15, "england")[name]
        assert low <= lo <= hi <= high


def test_england_objective_is_zero_at_the_targets():
    targets = national.england_targets()
    metrics = {name: t.value for name, t in targets.items()}
    assert calibrate.objective(metrics, targets, national.england_weights()) == 0.0
    metrics["partner_share_m24"] = targets["partner_share_m24"].high + 0.01
    assert calibrate.objective(metrics, targets, national.england_weights()) > 0.0
