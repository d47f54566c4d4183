"""Every parameter and every default table cell carries one provenance label, and each label
says what it rests on: a sourced number names the number and its source, an assumed one its
reasoning, a calibrated one appears in docs/calibration.md's calibrated values."""

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from simulation.cli import main
from simulation.params import (
    BASES, PROVENANCE_KEY, SPECS, TABLES, ParamError, cell_names, provenance, scalar_fields,
)

CALIBRATION = Path(__file__).resolve().parents[1] / "docs" / "calibration.md"


def test_every_parameter_and_cell_has_a_valid_label():
    frame = provenance()
    expected = [f.name for f in scalar_fields()] + cell_names()
    assert frame["name"].tolist() == expected, "provenance() must list every parameter once, in order"
    bad = frame[~frame["basis"].isin(BASES)]
    assert bad.empty, f"parameters without a valid basis: {bad['name'].tolist()}"


def test_sourced_ones_name_a_number_and_a_source():
    sourced = provenance("sourced")
    assert len(sourced) >= 1
    for row in sourced.itertuples():
        assert row.source, f"{row.name}: sourced but cites no source"
        assert row.source_value and re.search(r"\d", row.source_value), \
            f"{row.name}: sourced but names no number taken from the source"


def test_assumed_ones_give_a_reason_and_calibrated_ones_none_of_either():
    frame = provenance()
    for row in frame[frame["basis"] == "assumed"].itertuples():
        assert row.reasoning and len(row.reasoning.split()) >= 3, f"{row.name}: assumed without a reason"
    for row in frame[frame["basis"] != "sourced"].itertuples():
        assert not row.source_value, f"{row.name}: a source_value only belongs to a sourced number"


def test_calibrated_labels_match_the_calibration_record():
    """A parameter is labelled calibrated exactly when docs/calibration.md's calibrated values
    (best.toml of the run) set it: a recalibration that frees or fixes one must relabel it."""
    text = CALIBRATION.read_text()
    block = text.split("### Calibrated values", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    best = tomllib.loads(block)
    names = set(best["params"])
    names |= {f"innovations.{row}.{col}" for row, cols in best["innovations"].items() for col in cols}
    labelled = set(provenance("calibrated")["name"])
    assert labelled == names


def test_label_files_name_only_known_parameters_and_columns():
    """A typo in a provenance entry would otherwise leave a parameter unlabelled silently."""
    data = tomllib.loads(resources.files("simulation.data").joinpath("provenance.toml").read_text())
    assert set(data) <= set(SPECS), f"unknown names: {set(data) - set(SPECS)}"
    for name, entry in data.items():
        assert set(entry) <= {"basis", "source_value", "reasoning"}, name
    for table, cls in TABLES.items():
        text = resources.files("simulation.data").joinpath(f"{table}.toml").read_text()
        labels = tomllib.loads(text)[PROVENANCE_KEY]
        assert set(labels) == set(cls.FIELD_SPECS), f"{table}: one entry per column"
        rows = {r for r in tomllib.loads(text) if r != PROVENANCE_KEY}
        for column, entry in labels.items():
            exceptions = {k for k, v in entry.items() if isinstance(v, dict)}
            assert exceptions <= rows, f"{table}.{column}: exceptions for unknown rows {exceptions - rows}"


def test_the_styles_are_all_assumed_and_the_claim_in_the_calibration_record_is_gone():
    styles = provenance()
    styles = styles[styles["group"] == "styles"]
    assert set(styles["basis"]) == {"assumed"}
    assert "the styles table, ...) keep" not in CALIBRATION.read_text()


def test_provenance_refuses_an_unknown_basis():
    with pytest.raises(ParamError, match="basis = 'cited' is not allowed"):
        provenance("cited")


def test_pcsim_params_shows_and_filters_by_basis(capsys):
    assert main(["params", "--basis", "sourced"]) == 0
    out = capsys.readouterr().out
    assert "share_salaried = 0.47" in out and "[sourced]" in out and "47%" in out
    assert "[assumed]" not in out and "[calibrated]" not in out
    assert main(["params", "--basis", "assumed", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| basis |" in out.splitlines()[0]
    assert "| assumed |" in out and "| calibrated |" not in out
    assert main(["params", "--group", "styles", "--basis", "assumed"]) == 0
    assert "styles.servant.support = 0.9 0-1   [assumed]" in capsys.readouterr().out
