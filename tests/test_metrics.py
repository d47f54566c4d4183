"""The registry of outcomes (`simulation.metrics.OUTCOMES`) and what derives from it: the
time-series columns, the report's outcomes and figures, the run summary and the sweeps' checks.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from simulation import PrimaryCareModel, metrics
from simulation.experiment import spec
from simulation.params import PcsimInputError
from simulation.report import analysis, figures, study

SMALL = dict(n_practices=16)


@pytest.fixture(scope="module")
def small_run():
    return PrimaryCareModel(rng=3, **SMALL).run(6)


def test_every_time_series_column_has_exactly_one_registry_entry(small_run):
    columns = list(small_run.timeseries().columns)
    monthly = [o.name for o in metrics.outcomes(small_run.params) if o.monthly]
    assert monthly == columns, "Expected the registry's monthly outcomes to be the columns, in order"
    names = [o.name for o in metrics.outcomes(small_run.params)]
    assert len(names) == len(set(names)), "Expected each outcome declared once"
    for column in columns:
        assert metrics.outcome(column, small_run.params).name == column


def test_run_totals_sum_a_declared_flow_and_summarise_reports_them(small_run):
    totals = [o for o in metrics.OUTCOMES if not o.monthly]
    assert {o.name for o in totals} == {"leavers_total", "joiners_total"}
    ts = small_run.timeseries()
    summary = metrics.summarise(ts)
    for o in totals:
        assert metrics.outcome(o.total_of).monthly
        assert summary[o.name] == float(ts[o.total_of].iloc[1:].sum())
    expected = {n for n in metrics.reporter_names(small_run.params) if n != "month"} \
        | {o.name for o in totals} | {"months"}
    assert set(summary) == expected


def test_derived_views_keep_their_meaning():
    assert metrics.HEADLINE == ("complex_adoption", "quality", "autonomy", "strain", "cynicism",
                                "leavers", "vacancies", "informal_leaders", "formal_leaders",
                                "brokers", "badge_being", "federations_with_plan")
    assert metrics.HEADLINE == tuple(o.name for o in metrics.headline())
    assert list(metrics.DESCRIPTIONS) == [o.name for o in metrics.OUTCOMES if o.monthly]
    assert metrics.innovation_reporters(["a_b"]) == ["adoption_a_b", "genuine_a_b", "shallow_a_b",
                                                     "practice_a_b", "new_social_a_b",
                                                     "new_external_a_b", "new_mandated_a_b"]
    assert [o.name for o in study.OUTCOMES] == [
        "complex_adoption", "quality", "autonomy", "strain", "cynicism", "leavers_total",
        "informal_leaders", "formal_leaders", "brokers", "badge_being", "federations_with_plan"]


def test_every_outcome_is_fully_described():
    for o in metrics.outcomes(PrimaryCareModel(rng=1, **SMALL).params):
        assert o.kind in metrics.KINDS
        for field in ("description", "label", "short", "phrase", "unit"):
            text = getattr(o, field)
            assert text and "{" not in text, f"Expected {o.name}.{field} filled in, got {text!r}"


def test_per_innovation_outcomes_come_from_the_templates():
    o = metrics.outcome("practice_root_cause_analysis")
    assert o.innovation == "root_cause_analysis" and o.kind == "share"
    assert o.label == "Practices that adopted root cause analysis"
    assert metrics.outcome("genuine_pdsa").label == "PDSA adopted (genuine)"


def test_unknown_outcome_is_one_line_naming_it_and_the_valid_ones():
    with pytest.raises(PcsimInputError) as err:
        metrics.outcome("borkers")
    text = str(err.value)
    assert "\n" not in text and "'borkers'" in text and "Did you mean brokers?" in text
    assert "leavers_total" in text and "adoption_<innovation>" in text
    params = PrimaryCareModel(rng=1, **SMALL).params
    with pytest.raises(PcsimInputError, match="adoption_pdsa"):
        metrics.outcome("adoption_nothing", params)


def test_formats_follow_the_kind():
    share, count, index = (metrics.outcome(n) for n in ("complex_adoption", "brokers", "quality"))
    assert share.format_mean(0.1234) == "12.3%" and share.format_mean(0.01, True) == "+1.0 pts"
    assert share.difference_size(-0.025) == "2.5 percentage points"
    assert count.format_mean(-3.04, True) == "-3.0" and count.format(7) == "7"
    assert index.format_mean(-0.0001, True) == "0.000" and index.format(0.4951) == "0.495"
    assert (share.axis_unit, share.difference_unit) == ("%", "percentage points")
    assert (count.axis_unit, count.difference_unit) == ("GPs", "GPs")
    assert analysis.fmt("federations_with_plan", 0.5) == "50.0%"
    with pytest.raises(ValueError, match="kind"):
        dataclasses.replace(count, kind="ratio")


def test_report_figures_size_their_grid_from_the_number_of_outcomes(tmp_path):
    """Every monthly outcome (more than the 3 x 4 grid of the eleven and their legend)."""
    many = tuple(o for o in metrics.OUTCOMES if o.monthly and o.name != "month")
    assert len(many) >= 12
    months, labels = np.arange(4), ["a", "b"]
    rows = [dict(arm=arm, reference="a", outcome=o.name, month=m, median=0.5, low=0.4, high=0.6,
                 difference=0.1, ci_low=0.0, ci_high=0.2)
            for arm in labels for o in many for m in months]
    table = pd.DataFrame(rows)
    last = table[table["month"] == months[-1]].drop(columns="month")
    for path in (figures.ribbons(table, labels, tmp_path / "r.png", "t", 2, outcomes=many),
                 figures.differences(last, labels[1:], "a", tmp_path / "d.png", "t", outcomes=many),
                 figures.paired_over_time(table, labels[1:], "a", tmp_path / "p.png", "t",
                                          outcomes=many)):
        assert path.read_bytes()[:4] == b"\x89PNG"
    fig, axes = figures._grid("t", len(many) + 1)
    rows = -(-(len(many) + 1) // figures.COLUMNS)
    assert len(axes) == figures.COLUMNS * rows
    assert fig.get_size_inches()[1] == pytest.approx(rows * figures.ROW_HEIGHT + 0.4)


def test_sweep_accepts_every_registered_outcome_and_refuses_others():
    params = PrimaryCareModel(rng=1, **SMALL).params
    assert spec.summary_names(params) == [o.name for o in metrics.outcomes(params)][1:]
    assert "leavers_total" not in spec.series_names(params)
    with pytest.raises(spec.ExperimentError) as err:
        spec._outcome_list(["quality", "qualty"], spec.summary_names(params), "outcomes.summary")
    text = str(err.value)
    assert text.startswith("outcomes.summary: unknown outcome 'qualty'. Did you mean quality")
    assert "\n" not in text and "Valid: pressure, complex_adoption" in text
