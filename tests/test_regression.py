"""Regression against a stored baseline: every shipped scenario (county scale, seeds 1 and 2,
36 months) and the Watts and Bass limits must reproduce ``tests/data/regression_baseline.*``
**exactly**, bit for bit.

The engine uses only exactly rounded arithmetic and sums in a fixed order (docs/ODD.md, section
7), so the same code and seed give the same bits on any machine: there is no tolerance, and any
difference is a change of behaviour. If the change is intended and reviewed, recompute the
baseline with ``python scripts/update_regression_baseline.py`` (it prints what changed) and
commit the two files with the change. The runs are defined once, in
``scripts/regression_runs.py``, for this test and the scripts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import regression_runs  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
UPDATE = ("if this change of behaviour is intended and reviewed, run "
          "`python scripts/update_regression_baseline.py` and commit tests/data/regression_baseline.*")


@pytest.fixture(scope="module")
def fresh():
    return regression_runs.compute_baseline()


@pytest.fixture(scope="module")
def stored():
    return (pd.read_parquet(DATA / "regression_baseline.parquet"),
            json.loads((DATA / "regression_baseline.json").read_text()))


def test_the_runs_reproduce_the_stored_baseline_exactly(fresh, stored):
    lines = regression_runs.differences(*stored, *fresh)
    assert not lines, "the runs differ from the stored baseline:\n  " + "\n  ".join(lines) + f"\n{UPDATE}"


def test_the_baseline_covers_every_shipped_scenario_and_both_limits(stored):
    from simulation import scenarios
    runs = set(stored[1])
    expected = {f"{name}/{seed}" for name in scenarios.names() for seed in (1, 2)}
    expected |= {f"{name}/{seed}" for name in ("watts_limit", "bass_limit") for seed in (1, 2, 3)}
    assert runs == expected, f"stored runs {sorted(runs)}; expected {sorted(expected)}; {UPDATE}"


def test_a_changed_value_is_reported_with_case_seed_month_reporter_and_both_values(stored):
    frame, meta = stored
    changed = frame.copy()
    row = changed.index[(changed["case"] == "baseline") & (changed["seed"] == 2)
                        & (changed["month"] == 7) & (changed["reporter"] == "strain")][0]
    changed.loc[row, "value"] += 2.0 ** -40
    lines = regression_runs.differences(frame, meta, changed, meta)
    assert lines and lines[0].startswith("1 reporter value(s) differ, in 1 run(s); first: "
                                         "case 'baseline' seed 2 month 7 reporter 'strain': stored ")
    assert f"stored {float(frame.loc[row, 'value'])!r}, now {float(changed.loc[row, 'value'])!r}" in lines[0]
