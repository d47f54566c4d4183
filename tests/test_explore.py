"""Exploratory modelling: derived outcomes, stop conditions, distributions and levers,
replicate sufficiency and scenario discovery (PRIM)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiment import derived, designs, spec
from simulation.experiment.spec import ExperimentError
from simulation.experiment.store import Store

# 2 design rows x 2 replicates of a 6-practice county for 12 months: well under a second a run.
BASE = """
name = "explore"
months = 12
replicates = 2
seed = 5

[design]
type = "grid"

[parameters]
leadership_propensity = [0.2, 0.6]

[fixed]
n_practices = 6
"""

SERIES = pd.DataFrame({"month": [0, 1, 2, 3, 4],
                       "complex_adoption": [0.0, 0.1, 0.4, 0.6, 0.5],
                       "informal_leaders": [5.0, 6.0, 7.0, 8.0, 9.0],
                       "formal_leaders": [1.0, 1.0, 2.0, 2.0, 3.0]})
SUMMARY = {"complex_adoption": 0.5, "informal_leaders": 9.0, "formal_leaders": 3.0, "leavers_total": 4.0}


def write(tmp_path, text, name="e.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- derived outcomes ---------------------------------------------------------------------------

def test_series_functions_on_a_known_curve():
    out = derived.derive(SERIES, {
        "t_half": "time_to(complex_adoption, 0.5)",   # first month >= 0.5 is month 3
        "t_never": "time_to(complex_adoption, 0.9)",  # never: NaN (censored)
        "t_cens": "time_to(complex_adoption, 0.9, 99)",
        "t_below": "time_below(informal_leaders, 5)",
        "area": "auc(complex_adoption)",  # trapezoid: 0.05+0.25+0.5+0.55
        "top": "peak(complex_adoption)", "when": "peak_month(complex_adoption)",
        "m2": "at(complex_adoption, 2)", "m9": "at(complex_adoption, 9)",
        "gap": "informal_leaders - formal_leaders",  # last month: 9 - 3
        "ratio": "gap / (formal_leaders - 3)",  # a derived value reused; x/0 is inf, not an error
        "flag": "peak(complex_adoption) >= 0.6 and leavers_total < 5",
    }, SUMMARY)
    assert out["t_half"] == 3 and math.isnan(out["t_never"]) and out["t_cens"] == 99
    assert out["t_below"] == 0
    assert out["area"] == pytest.approx(1.35)
    assert (out["top"], out["when"], out["m2"]) == (0.6, 3.0, 0.4)
    assert math.isnan(out["m9"])
    assert out["gap"] == 6 and out["ratio"] == math.inf and out["flag"] == 1.0


@pytest.mark.parametrize("text, message", [
    ("time_to(complex_adoptoin, 0.5)", "Did you mean 'complex_adoption'"),
    ("tim_to(complex_adoption, 0.5)", "unknown function 'tim_to'. Did you mean 'time_to'"),
    ("__import__('os').system('true')", "unknown function"),
    ("complex_adoption.real", "Attribute is not allowed"),
    ("time_to(complex_adoption)", "time_to() takes 1 to 2 number argument(s)"),
    ("time_to(0.5, complex_adoption)", "needs a reporter's name first"),
    ("'text'", "only numbers"),
    ("1 +", "is not an expression"),
])
def test_bad_expressions_are_refused_in_one_line(text, message):
    with pytest.raises(derived.ExpressionError, match=None) as err:
        derived.derive(SERIES, {"x": text}, SUMMARY)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_derived_outcomes_in_a_sweep_match_the_python_api(tmp_path):
    from simulation.model import PrimaryCareModel

    text = BASE + """
[outcomes]
summary = ["complex_adoption", "informal_leaders", "formal_leaders"]
t_tenth = "time_to(complex_adoption, 0.02, 13)"
area = "auc(complex_adoption)"
gap = "informal_leaders - formal_leaders"
"""
    assert main(["sweep", str(write(tmp_path, text)), "--workers", "0", "--out",
                 str(tmp_path / "s"), "--no-figures"]) == 0
    runs = Store(tmp_path / "s").runs()
    assert list(runs.columns[-3:]) == ["t_tenth", "area", "gap"]
    first = runs.iloc[0]
    model = PrimaryCareModel(rng=int(first["seed"]), scale="county", n_practices=6,
                             leadership_propensity=0.2)
    model.run(12)
    expected = derived.derive(model.timeseries(), {"t_tenth": "time_to(complex_adoption, 0.02, 13)",
                                                   "area": "auc(complex_adoption)"})
    assert first["t_tenth"] == expected["t_tenth"] and first["area"] == expected["area"]
    assert (runs["gap"] == runs["informal_leaders"] - runs["formal_leaders"]).all()


def test_a_derived_outcome_with_an_unknown_reporter_is_refused_before_running(tmp_path, capsys):
    text = BASE + '[outcomes]\nauc_plan = "auc(federations_with_plans)"\n'
    assert main(["sweep", str(write(tmp_path, text)), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert "outcomes.auc_plan" in err and "Did you mean 'federations_with_plan'" in err
    assert not (tmp_path / "s").exists()


def test_files_without_the_new_keys_keep_their_definition_hash():
    # stores made before derived outcomes, stop conditions and distributions must still resume
    exp = spec.load("experiments/leadership_autonomy.toml")
    definition = exp.definition()
    assert not {"stop_when", "levers", "distributions"} & set(definition)
    assert "derived" not in definition["outcomes"]


# --- stop conditions ----------------------------------------------------------------------------

def test_stop_when_ends_runs_early_and_records_the_month(tmp_path):
    text = BASE + """
[run]
stop_when = "month >= 1 and complex_adoption >= 0"

[outcomes]
summary = ["complex_adoption"]
"""
    with pytest.raises(ExperimentError, match="unknown outcome 'month'"):
        spec.load(write(tmp_path, text))
    text = text.replace("month >= 1 and ", "")
    path = write(tmp_path, text)
    assert main(["sweep", str(path), "--workers", "0", "--out", str(tmp_path / "s"), "--no-figures"]) == 0
    runs = Store(tmp_path / "s").runs()
    assert (runs["stop_month"] == 1).all()  # true after the first month: every run stops there

    never = text.replace(">= 0", ">= 2")  # a share never reaches 2: every run goes the distance
    assert main(["sweep", str(write(tmp_path, never, "n.toml")), "--workers", "0",
                 "--out", str(tmp_path / "n"), "--no-figures"]) == 0
    assert Store(tmp_path / "n").runs()["stop_month"].isna().all()


def test_stop_when_from_python_is_reproducible():
    from simulation.model import PrimaryCareModel

    def stopped():
        model = PrimaryCareModel(rng=7, n_practices=6)
        model.run(24, stop_when="informal_leaders >= 1")
        return model

    a, b = stopped(), stopped()
    assert not a.running and a.month < 24 and a.month == b.month
    assert a.timeseries()["informal_leaders"].iloc[-1] >= 1
    assert a.timeseries().equals(b.timeseries())
    with pytest.raises(derived.ExpressionError, match="Did you mean 'complex_adoption'"):
        PrimaryCareModel(rng=7, n_practices=6).run(3, stop_when="complex_adopt > 0.1")
    stopped_by_function = PrimaryCareModel(rng=7, n_practices=6).run(24, stop_when=lambda m: m.month == 5)
    assert stopped_by_function.month == 5


# --- distributions and levers -------------------------------------------------------------------

LHS = """
name = "dists"
months = 6
seed = 9
[design]
type = "lhs"
samples = 200
[parameters]
leadership_propensity = {dist = "triangular", low = 0.1, mode = 0.2, high = 0.6}
autonomy_base = {dist = "normal", mean = 0.45, sd = 0.1, low = 0.3, high = 0.9}
leader_selection = {dist = "choice", values = ["random", "seniority"]}
pressure_level = [0.1, 0.5]
leadership_drive = {kind = "lever", values = [0.0, 0.05]}
"""


def test_lhs_samples_each_distribution_and_crosses_the_levers(tmp_path):
    exp = spec.load(write(tmp_path, LHS))
    assert exp.levers == ("leadership_drive",) and "leadership_drive" not in exp.uncertainties
    table = designs.sample(exp)
    assert len(table) == designs.expected_rows(exp) == 400  # 200 samples x 2 lever values
    first, second = table.iloc[:200], table.iloc[200:]
    assert (first["leadership_drive"] == 0.0).all() and (second["leadership_drive"] == 0.05).all()
    uncertain = ["leadership_propensity", "autonomy_base", "leader_selection", "pressure_level"]
    # the same uncertainty sample under every policy, as EMA's scenarios x policies
    assert first[uncertain].reset_index(drop=True).equals(second[uncertain].reset_index(drop=True))
    tri, norm = first["leadership_propensity"], first["autonomy_base"]
    assert tri.between(0.1, 0.6).all() and norm.between(0.3, 0.9).all()
    # a Latin hypercube stratifies each margin: the triangular's mean is (low+mode+high)/3
    assert tri.mean() == pytest.approx(0.3, abs=0.01)
    assert tri.median() < tri.mean()  # skewed right: the mode is near the low end
    assert set(first["leader_selection"]) == {"random", "seniority"}
    assert first["leader_selection"].value_counts().min() == 100  # one half each, by strata
    assert first["pressure_level"].between(0.1, 0.5).all()
    assert designs.sample(spec.load(write(tmp_path, LHS))).equals(table)  # same seed, same rows


def test_lhs_without_distributions_keeps_salib_latin(tmp_path):
    plain = LHS.split("[parameters]")[0] + '[parameters]\npressure_level = [0.1, 0.5]\nautonomy_base = [0.2, 0.8]\n'
    exp = spec.load(write(tmp_path, plain))
    from SALib.sample import latin
    expected = latin.sample(designs.problem(exp), 200, seed=designs.stream(exp, designs.SAMPLER_KEY))
    assert np.array_equal(designs.sample(exp).to_numpy(), expected)


@pytest.mark.parametrize("line, message", [
    ('leadership_propensity = {dist = "triangle", low = 0.1, mode = 0.2, high = 0.6}',
     "Did you mean 'triangular'"),
    ('leadership_propensity = {dist = "normal", mean = 0.3}', "needs sd"),
    ('leadership_propensity = {dist = "triangular", low = 0.1, mode = 0.9, high = 0.6}',
     "mode = 0.9 is not allowed"),
    ('leadership_propensity = {dist = "uniform", low = 0.1, high = 1.5}', "high = 1.5 is not allowed"),
    ('leadership_propensity = {kind = "policy", values = [0.1]}', "kind = 'policy' is not allowed"),
])
def test_bad_distributions_are_refused(tmp_path, line, message):
    text = LHS.replace('leadership_propensity = {dist = "triangular", low = 0.1, mode = 0.2, high = 0.6}', line)
    with pytest.raises(ExperimentError) as err:
        spec.load(write(tmp_path, text))
    assert message in str(err.value)


def test_distributions_need_an_lhs_design(tmp_path):
    text = LHS.replace('type = "lhs"\nsamples = 200', 'type = "morris"\ntrajectories = 4')
    with pytest.raises(ExperimentError, match='need design.type = "lhs"'):
        spec.load(write(tmp_path, text))


# --- replicate sufficiency ----------------------------------------------------------------------

def test_half_widths_follow_students_t():
    from types import SimpleNamespace

    from scipy import stats

    from simulation.experiment import replicates

    exp = SimpleNamespace(outcome_names=("y",), replicates=4, tolerance={"*": 0.5})
    runs = pd.DataFrame({"design_row": [0, 0, 0, 0, 1, 1, 1, 1], "replicate": [0, 1, 2, 3] * 2,
                         "y": [1.0, 3.0, 2.0, 2.0, 5.0, 5.0, 5.0, np.nan]})
    table = replicates.half_widths(exp, runs)
    r2 = table[table["replicates"] == 2].iloc[0]
    # row 0: sd of (1, 3) is sqrt(2); row 1: sd of (5, 5) is 0
    expected = stats.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2)
    assert r2["max_half_width"] == pytest.approx(expected) and r2["design_rows"] == 2
    r4 = table[table["replicates"] == 4].iloc[0]
    assert r4["design_rows"] == 1  # row 1 has a NaN: 3 values, not 4
    assert r4["max_half_width"] == pytest.approx(stats.t.ppf(0.975, 3) * np.std([1, 3, 2, 2], ddof=1) / 2)
    assert replicates.warnings(exp, table)  # 3.18 * 0.816 / 2 = 1.30 > 0.5
    assert not replicates.warnings(SimpleNamespace(**{**vars(exp), "tolerance": {"y": 1.5}}), table)


def test_sweep_writes_the_replicate_check_and_warns_over_tolerance(tmp_path, capsys):
    text = BASE.replace("seed = 5", "seed = 5\ntolerance = {quality = 1e-9}") + \
        '[outcomes]\nsummary = ["quality", "complex_adoption"]\n'
    path = write(tmp_path, text)
    assert main(["sweep", str(path), "--workers", "0", "--out", str(tmp_path / "s"), "--no-figures"]) == 0
    out = capsys.readouterr()
    assert "warning: quality: with 2 replicates" in out.err and "complex_adoption" not in out.err
    table = pd.read_csv(tmp_path / "s" / "replicates" / "replicate_check.csv")
    assert set(table["outcome"]) == {"quality", "complex_adoption"} and (table["replicates"] == 2).all()
    assert (tmp_path / "s" / "replicates" / "replicate_check.png").stat().st_size > 1000
    assert main(["sweep", str(path), "--out", str(tmp_path / "s"), "--replicate-check"]) == 0
    assert "quality" in capsys.readouterr().out
    assert main(["sweep", str(path), "--out", str(tmp_path / "none"), "--replicate-check"]) == 2


# --- scenario discovery -------------------------------------------------------------------------

def _planted_store(tmp_path):
    """A store whose outcome is low exactly when a < 0.3 and b > 0.5 (c plays no part)."""
    from simulation.experiment import spec as spec_module

    text = """
name = "planted"
months = 1
seed = 1
[design]
type = "lhs"
samples = 400
[parameters]
leadership_propensity = [0.1, 0.9]
autonomy_base = [0.0, 1.0]
pressure_level = [0.0, 1.0]
[outcomes]
summary = ["quality"]
"""
    exp = spec_module.load(write(tmp_path, text))
    design = designs.runs_table(exp)
    store = Store.create(tmp_path / "store", exp, design)
    runs = design.copy()
    runs["quality"] = np.where((runs["leadership_propensity"] < 0.3) & (runs["autonomy_base"] > 0.5), 0.05, 0.6)
    store.lock()
    from simulation.experiment.runner import ChunkResult
    store.write_chunk(ChunkResult(rows=runs.to_dict("records")))
    store.unlock()
    return store


def test_prim_finds_a_planted_box(tmp_path, capsys):
    store = _planted_store(tmp_path)
    code = main(["discover", str(store.path), "--outcome", "quality", "--where", "< 0.1",
                 "--threshold", "0.99"])  # the pure box: its limits are the planted ones
    assert code == 0
    out = capsys.readouterr().out
    assert "coverage" in out and "density" in out
    folder = store.path / "discover-quality"
    limits = pd.read_csv(folder / "box.csv").set_index("input")
    assert set(limits.index) == {"leadership_propensity", "autonomy_base"}  # not pressure_level
    assert limits.loc["leadership_propensity", "high"] == pytest.approx(0.3, abs=0.03)
    assert limits.loc["autonomy_base", "low"] == pytest.approx(0.5, abs=0.05)
    trajectory = pd.read_csv(folder / "peeling_trajectory.csv")
    assert trajectory["coverage"].iloc[0] == 1.0 and trajectory["density"].is_monotonic_increasing
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["density"] >= 0.99 and summary["coverage"] >= 0.8
    assert (folder / "peeling_trajectory.png").stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["--outcome", "qualty", "--where", "< 0.1"], "Did you mean 'quality'"),
    (["--outcome", "quality", "--where", "below 0.1"], "--where 'below 0.1' is not allowed"),
    (["--outcome", "quality", "--where", "< -1"], "no run has quality < -1"),
    (["--outcome", "quality", "--where", "< 0.1", "--inputs", "seed"], "not a varied parameter"),
])
def test_discover_refuses_bad_input_in_one_line(tmp_path, capsys, args, message):
    store = _planted_store(tmp_path)
    assert main(["discover", str(store.path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (store.path / "discover-quality").exists()
