"""`pcsim compare` and `pcsim impact`: common random numbers, paired statistics, the report
folder, rendering in a real headless Chromium, and refusal of bad input.

Small on purpose: ~100 GPs (16 practices), 24 months, 5 replicates (the fewest for which a
report shows intervals); the small-sample reports use 1 or 2 replicates of 8 practices.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import PrimaryCareModel, kernels
from simulation.cli import main
from simulation.report import analysis, interventions, stats, study
from simulation.report.interventions import Intervention, fork

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(n_practices=16)
SMALL_ARGS = ["--months", "24", "--replicates", "5", "--set", "n_practices=16"]
TINY_ARGS = ["--months", "6", "--set", "n_practices=8"]
# State arrays drawn from the population stream alone (the rest start from parameter values).
POPULATION_FIELDS = ("practice", "partner", "propensity", "style", "seniority", "threshold",
                     "genuine", "potential", "list_size", "practice_federation", "culture", "absorb_order")
TABLES = ("outcomes", "summary", "differences", "timeseries", "ribbons", "paired_timeseries",
          "network_nodes", "network_edges", "network_practices", "network_practice_ties",
          "parameter_changes")


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare") / "report"
    assert main(["compare", "baseline", "bottom_up", *SMALL_ARGS, "--seed", "11",
                 "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def impact_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("impact") / "report"
    assert main(["impact", "--add-formal", "3", "--at-month", "12", *SMALL_ARGS, "--seed", "5",
                 "--out", str(folder)]) == 0
    return folder


# --- seeds and common random numbers --------------------------------------------------------------

def test_replicate_seeds_do_not_depend_on_the_number_of_replicates():
    three, five = stats.replicate_seeds(42, 3), stats.replicate_seeds(42, 5)
    assert three == five[:3], "Expected replicate r to get the same seed however many are run"
    assert len(set(five)) == 5, "Expected distinct seeds for distinct replicates"
    assert stats.replicate_seeds(43, 3) != three, "Expected another root seed to give other seeds"


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    res = study.run_compare(["baseline", "baseline"], replicates=5, months=24, seed=2, overrides=SMALL)
    assert res.labels == ["baseline", "baseline_2"]
    boot = analysis.bootstrap_for(res)
    diffs = analysis.differences_table(res, boot)
    for col in ("difference", "ci_low", "ci_high"):
        assert (diffs[col] == 0.0).all(), f"Expected {col} exactly 0: same seeds, same scenario"
    paired = analysis.paired_timeseries_table(res, boot)
    assert (paired[["difference", "ci_low", "ci_high"]].to_numpy() == 0.0).all(), \
        "Expected every monthly paired difference exactly 0"
    assert "identical to Baseline (today's general practice) in every replicate" in \
        analysis.summary_sentences(res, diffs)[0], "Expected the scenarios named by their titles"


@pytest.mark.parametrize("other", ["high_pressure", "bottom_up"])
def test_scenarios_share_the_population_of_each_replicate(other):
    """high_pressure changes no population or tie parameter: population and ties are shared.
    bottom_up changes regional ties: the population is still shared, the ties are not."""
    arms = study.resolve_arms(["baseline", other], "county", SMALL)
    seed = stats.replicate_seeds(7, 2)[1]
    a, b = (PrimaryCareModel(params=arm.params, rng=seed) for arm in arms)
    for name in POPULATION_FIELDS:
        assert np.array_equal(getattr(a.state, name), getattr(b.state, name)), \
            f"Expected {name} identical in baseline and {other} (common random numbers)"
    same_ties = (a.ties.across != b.ties.across).nnz == 0
    assert same_ties == (other == "high_pressure"), \
        f"Expected the ties shared exactly when tie parameters are unchanged ({other})"


def test_compare_runs_every_arm_on_the_same_seeds():
    res = study.run_compare(["baseline", "high_pressure"], replicates=2, months=3, seed=9,
                            overrides=SMALL)
    seeds = res.outcomes.pivot(index="replicate", columns="arm", values="seed")
    assert (seeds["baseline"] == seeds["high_pressure"]).all()
    assert list(seeds["baseline"]) == stats.replicate_seeds(9, 2)


# --- interventions -------------------------------------------------------------------------------

def test_fork_is_exact_and_equals_rebuilding_and_replaying():
    model = PrimaryCareModel(rng=3, **SMALL).run(10)
    copy = fork(model)
    assert copy.state is not model.state and copy.state.equals(model.state)
    assert copy.streams.dynamics.bit_generator.state == model.streams.dynamics.bit_generator.state, \
        "Expected the dynamics stream's state to be copied exactly"
    model.run(8)
    copy.run(8)
    replay = PrimaryCareModel(rng=3, **SMALL).run(18)
    assert copy.state.equals(model.state), copy.state.differences(model.state)
    assert replay.state.equals(model.state), "Expected rebuild-and-replay to give the same state"
    assert copy.timeseries().equals(model.timeseries())


def test_remove_informal_leaders_takes_the_most_influential():
    # a low bar (below the default), so that a small model has many informal leaders in two years
    model = PrimaryCareModel(rng=4, informal_bar=0.03, **SMALL).run(24)
    leaders = np.flatnonzero(kernels.informal_leaders(model.state, model.params))
    assert leaders.size >= 3, "Expected several informal leaders (test set-up)"
    top = leaders[np.argsort(-model.state.influence[leaders], kind="stable")[:2]]
    chosen = interventions.remove_informal_leaders(model, 2)
    assert sorted(chosen) == sorted(top)
    assert not model.state.active[chosen].any(), "Expected the removed leaders' posts vacant"
    assert (model.state.influence[chosen] == 0).all()
    many = interventions.remove_informal_leaders(model, 10_000)
    assert many.size == leaders.size - 2, "Expected every remaining leader chosen when k is too big"


@pytest.mark.parametrize("choose", ["random", "propensity", "influence"])
def test_add_formal_leaders_leaves_the_model_streams_alone(choose):
    model = PrimaryCareModel(rng=6, **SMALL).run(12)
    before = model.streams.dynamics.bit_generator.state
    was_formal = model.state.formal.copy()
    rng = stats.derived_stream(6, stats.INTERVENTION_KEY)
    chosen = Intervention("add_formal", 4, choose).apply(model, rng)
    assert chosen.size == 4 and not was_formal[chosen].any()
    assert model.state.formal[chosen].all() and (model.state.month_appointed[chosen] == 12).all()
    assert model.streams.dynamics.bit_generator.state == before, \
        "Expected the intervention to draw nothing from the model's dynamics stream"
    if choose != "random":
        key = getattr(model.state, choose)
        others = model.state.active & ~was_formal
        others[chosen] = False
        assert key[chosen].min() >= key[others].max(), f"Expected the highest {choose} chosen"


def test_impact_arms_are_identical_until_the_intervention_month():
    res = study.run_impact("baseline", Intervention("add_formal", 3), at_month=12, replicates=3,
                           months=24, seed=8, overrides=SMALL)
    ts = res.timeseries.set_index(["replicate", "month"])
    control = ts[ts["arm"] == "control"].drop(columns="arm")
    treated = ts[ts["arm"] == "intervention"].drop(columns="arm")
    before = control.index.get_level_values("month") <= 12
    pd.testing.assert_frame_equal(control[before], treated[before], check_exact=True)
    after = ~before
    assert not control[after]["formal_leaders"].equals(treated[after]["formal_leaders"]), \
        "Expected three extra formal leaders to show after month 12"
    assert (res.outcomes.loc[res.outcomes.arm == "intervention", "gps_chosen"] == 3).all()


# --- statistics ------------------------------------------------------------------------------------

def test_bootstrap_interval_of_zeros_is_exactly_zero():
    boot = stats.Bootstrap.draw(5, np.random.default_rng(0), resamples=200)
    low, high = boot.interval(np.zeros((5, 3)))
    assert (low == 0).all() and (high == 0).all()


def test_bootstrap_interval_covers_the_true_mean_at_about_the_nominal_rate():
    """600 synthetic samples of n = 20 from a normal distribution with known mean. The
    percentile bootstrap is known to run slightly below 95% at n = 20 (about 92-93%, as the
    plug-in sd is biased low); the bounds allow that plus 3 binomial standard errors
    (sqrt(0.93 * 0.07 / 600) = 0.010) either side."""
    rng = np.random.default_rng(20240611)
    n, trials, mu = 20, 600, 3.0
    hits = 0
    for _ in range(trials):
        boot = stats.Bootstrap.draw(n, rng, resamples=2000)
        low, high = boot.interval(rng.normal(mu, 2.0, size=n))
        hits += bool(low <= mu <= high)
    coverage = hits / trials
    assert 0.89 <= coverage <= 0.97, f"Expected about 95% coverage, got {coverage:.3f}"


def test_bootstrap_is_reproducible_from_the_root_seed():
    draw = lambda: stats.Bootstrap.draw(4, stats.derived_stream(1, stats.BOOTSTRAP_KEY), 50).counts
    assert np.array_equal(draw(), draw())
    assert (draw().sum(axis=1) == 4).all(), "Expected each resample to hold n replicates"


# --- the report folder -----------------------------------------------------------------------------

def test_compare_writes_a_complete_report(compare_report):
    folder = compare_report
    for name in TABLES:
        assert (folder / "data" / f"{name}.parquet").is_file() and (folder / "data" / f"{name}.csv").is_file()
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    assert figures == ["differences.png", "network_baseline.png", "network_bottom_up.png",
                       "paired_over_time.png", "ribbons.png"]
    html = (folder / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(figures), "Expected every figure embedded"
    assert not re.search(r"src=\"(?!data:)", html), "Expected no external resource"
    for href in re.findall(r'href="([^"]*)"', html):  # links: embedded data, or the project docs
        assert href.startswith("data:text/csv;base64,") or re.fullmatch(r"[./]*[^:]*docs/\w+\.md", href), href
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sections = ["Key findings and caveats", "Methods in brief", "Assumptions and limitations",
                "What each scenario changes", "Outcomes after 24 months",
                "Paired differences from baseline", "Over time", "Data", "Appendix: provenance"]
    at = [html.index(f">{s}</h2>") for s in sections]
    assert at == sorted(at), "Expected the sections in the director's order, provenance last"
    assert "Leadership from below" in html and "Scenario comparison: Leadership from below " \
        "against Baseline" in html, "Expected the scenarios' titles, not their slugs"
    assert "rel_informal_weight" in html and "Extra weight of an informal leader" in html, \
        "Expected the scenario's changes with their descriptions"
    md = (folder / "report.md").read_text()
    for link in re.findall(r"\]\((figures/[^)]+|data/[^)]+)\)", md):
        assert (folder / link).is_file(), f"Expected {link} next to report.md"
    for link in re.findall(r"\]\(([^)]*docs/[^)]+)\)", md):
        assert (folder / link).resolve().is_file(), f"Expected {link} to reach the project's docs"
    downloads = dict(re.findall(r'<a download="([^"]+)" href="data:text/csv;base64,([^"]+)"', html))
    assert {"outcomes.csv", "differences.csv", "parameter_changes.csv"} <= set(downloads)
    for name, data in downloads.items():
        assert base64.b64decode(data) == (folder / "data" / name).read_bytes(), \
            f"Expected the embedded {name} to be the data file byte for byte"


def test_report_data_agree_with_each_other(compare_report):
    data = compare_report / "data"
    outcomes = pd.read_parquet(data / "outcomes.parquet")
    diffs = pd.read_parquet(data / "differences.parquet").set_index("outcome")
    wide = outcomes.pivot(index="replicate", columns="arm", values="complex_adoption")
    expected = (wide["bottom_up"] - wide["baseline"]).mean()
    assert diffs.loc["complex_adoption", "difference"] == pytest.approx(expected, rel=1e-12)
    ts = pd.read_parquet(data / "timeseries.parquet")
    last = ts[ts["month"] == 24].set_index(["arm", "replicate"])["leavers_total"]
    assert (last == outcomes.set_index(["arm", "replicate"])["leavers_total"]).all()


def test_manifest_records_seeds_versions_and_hashes(compare_report):
    from simulation.output import file_hash
    manifest = json.loads((compare_report / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["replicate_seeds"] == stats.replicate_seeds(11, 5)
    assert manifest["command"].startswith("pcsim compare baseline bottom_up")
    assert {"mesa", "numpy", "pcsim"} <= set(manifest["versions"])
    assert manifest["bootstrap"]["method"] == "percentile"
    for path, digest in manifest["files"].items():
        assert file_hash(compare_report / path) == digest, f"Expected {path}'s hash to match"
    assert all(s["sha256"] for s in manifest["scenarios"])


def test_impact_writes_the_same_report_format(impact_report):
    folder = impact_report
    for name in TABLES:
        assert (folder / "data" / f"{name}.parquet").is_file()
    html = (folder / "report.html").read_text()
    assert "Leadership impact: appoint 3 extra formal leaders chosen at random at month 12" in html
    assert html.count('src="data:image/png;base64,') == 5
    outcomes = pd.read_parquet(folder / "data" / "outcomes.parquet")
    assert set(outcomes["arm"]) == {"control", "intervention"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["intervention"]["at_month"] == 12 and manifest["intervention"]["k"] == 3


# --- small samples: no interval shown, no difference judged -------------------------------------------

def _text(folder: Path) -> tuple[str, str]:
    """report.md, and report.html without its style sheet (whose class names are not text)."""
    html = re.sub(r"<style>.*?</style>", "", (folder / "report.html").read_text(), flags=re.S)
    return (folder / "report.md").read_text(), html


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_enough_replicates_show_intervals_and_no_small_sample_notice(compare_report):
    md, html = _text(compare_report)
    diffs = pd.read_parquet(compare_report / "data" / "differences.parquet")
    assert diffs[["ci_low", "ci_high"]].notna().all().all(), "Expected intervals at 5 replicates"
    assert "not meaningful" not in md and "n/a" not in md and 'class="notice"' not in html
    assert "95% percentile-bootstrap confidence interval" in md


@pytest.mark.parametrize("replicates", [1, 2])
def test_too_few_replicates_show_no_interval_and_call_nothing_clear(tmp_path, capsys, replicates):
    """bottom_up differs from baseline in several outcomes; with 1 or 2 replicates the report
    must still call none of them clear and show 'n/a' wherever an interval would be."""
    folder = tmp_path / "report"
    assert main(["compare", "baseline", "bottom_up", *TINY_ARGS, "--replicates", str(replicates),
                 "--out", str(folder)]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [f"pcsim compare: warning: only {replicates} replicate"
                        f"{'s' if replicates > 1 else ''}: intervals are not meaningful with fewer "
                        "than 5, so the report shows none (use --replicates 5 or more)"], err
    md, html = _text(folder)
    for name, text in (("report.md", md), ("report.html", html)):
        assert "clear" not in text.lower(), f"Expected no difference called clear in {name}"
        assert text.count("intervals are not meaningful") == 1, \
            f"Expected the small-sample notice exactly once in {name}"
    assert md.index("intervals are not meaningful") < md.index("## Key findings and caveats"), \
        "Expected the notice before the key findings"
    assert '<p class="notice">Only' in html, "Expected the notice set apart in the HTML"
    na = f"n/a ({replicates} replicate{'s' if replicates > 1 else ''})"
    assert na in _section(md, "Paired differences from baseline")
    assert na in _section(md, "Outcomes after 6 months")
    assert not re.search(r"\[[^\]]* to [^\]]*\]", md), "Expected no interval shown anywhere"
    assert "95% CI" not in md
    diffs = pd.read_parquet(folder / "data" / "differences.parquet")
    assert not diffs["clear"].any() and diffs[["ci_low", "ci_high"]].isna().all().all()
    assert (diffs["difference"] != 0).any(), "Expected real differences (the test would be empty)"
    summary = pd.read_parquet(folder / "data" / "summary.parquet")
    assert summary[["low", "high"]].isna().all().all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["bootstrap"]["intervals_shown"] is False
    assert len(manifest["notices"]) == 1


def test_an_oversized_removal_reports_what_was_applied(tmp_path, capsys):
    """Asking to remove 100000 informal leaders removes the few that exist: the title, the
    summary and a warning (report and console) say how many, never '100000' as if applied."""
    folder = tmp_path / "report"
    assert main(["impact", "--remove-informal", "100000", "--at-month", "3", *TINY_ARGS,
                 "--replicates", "2", "--out", str(folder)]) == 0
    err = capsys.readouterr().err
    chosen = pd.read_parquet(folder / "data" / "outcomes.parquet").query(
        "arm == 'intervention'")["gps_chosen"].to_numpy()
    assert 0 < chosen.max() < 100000
    applied = interventions.applied_text(chosen)
    warning = f"asked to remove 100000 informal leaders; {applied} existed and were removed"
    assert f"pcsim impact: warning: {warning}" in err.splitlines(), err
    md, html = _text(folder)
    title, summary = md.splitlines()[0], _section(md, "Key findings and caveats")
    number = applied.split(" (")[0]  # '7.0 on average' (or '7' when every replicate had 7)
    assert title.startswith("# Leadership impact: remove the ") and number in title \
        and "100000 asked" in title, title
    assert number in summary and "100000 asked" in summary, summary
    assert "remove the 100000" not in md and "remove the 100000" not in html, \
        "Expected the request never worded as if it had been applied"
    assert md.count(warning[0].upper() + warning[1:]) == 1 and warning[1:] in html
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["intervention"]["chosen"] == chosen.tolist()
    assert manifest["intervention"]["k"] == 100000


def test_a_request_that_fits_is_worded_as_asked():
    iv = Intervention("remove_formal", 3, "influence")
    assert iv.describe([3, 3]) == iv.describe() == "remove 3 formal leaders with the highest influence"
    assert iv.shortfall([3, 3]) is None
    assert iv.describe([2, 3]) == ("remove formal leaders with the highest influence, 2.5 on "
                                   "average (2 to 3; 3 asked)")
    assert iv.shortfall([2, 3]) == ("asked to remove 3 formal leaders; in 1 of 2 replicates "
                                    "fewer existed, so 2.5 on average (2 to 3) were removed")


@pytest.mark.browser
def test_report_renders_in_headless_chromium(compare_report):
    """Debian's Chromium through Playwright, offline: every image decodes, no console errors,
    no request but the file itself."""
    from simulation.report import browser
    if not Path(browser.chromium_path()).exists():
        pytest.fail(f"Chromium not found at {browser.chromium_path()} (run `make browser-deps`)")
    seen = browser.render(compare_report / "report.html")
    assert seen.images == 5, f"Expected 5 images, the browser saw {seen.images}"
    assert seen.problems == [], f"Expected a clean rendering, got {seen.problems}"
    assert seen.requests == [(compare_report / "report.html").resolve().as_uri()]


@pytest.mark.browser
@pytest.mark.parametrize("which", ["compare_report", "impact_report"])
def test_report_text_fits_its_boxes_at_1280x800(which, request):
    """At 1280 x 800 no text overflows its box, no image its figure, and the page does not
    scroll sideways (wide tables may scroll inside their own wrapper)."""
    from simulation.report import browser
    if not Path(browser.chromium_path()).exists():
        pytest.fail(f"Chromium not found at {browser.chromium_path()} (run `make browser-deps`)")
    folder = request.getfixturevalue(which)
    assert browser.overflows(folder / "report.html", 1280, 800) == []


# --- for a director: key findings, robustness, figures that read ----------------------------------

def test_key_findings_state_exits_adoption_and_quality_in_plain_words(compare_report):
    md = (compare_report / "report.md").read_text()
    box = _section(md, "Key findings and caveats")
    lines = [line for line in box.splitlines() if line.startswith("> - ")]
    assert [line[4:].split(":")[0] for line in lines] == ["GPs leaving", "Adoption", "Quality"], \
        "Expected three sentences in the declared order of importance"
    posts = pd.read_parquet(compare_report / "data" / "network_nodes.parquet").query(
        "arm == 'baseline'")["gp"].size
    assert f"of the {posts:,} GP posts" in lines[0], "Expected exits with their denominator"
    assert re.search(r"\b\d+ GPs a year left under Baseline", lines[0]), \
        "Expected whole GPs per year, the reference named by its title"
    assert re.search(r"\d+% of GPs genuinely used", lines[1])
    assert "0.50 is a practice with no quality-improvement method" in lines[2], \
        "Expected the quality index explained"
    # the command draws replicates across the calibrated ensemble by default
    assert "simulation noise and the uncertainty of the calibrated parameters" in box \
        and "drawn across 5 calibrated parameter sets" in box, "Expected what the intervals cover"
    assert md.index("## Key findings and caveats") < md.index("## Methods in brief")
    assert "County scale (" in md.splitlines()[2] and "practices and" in md.splitlines()[2]


def test_contrast_robustness_flags_a_sign_that_changes_across_parameter_sets():
    base = pd.DataFrame(dict(arm="a", replicate=range(4), x=[1.0, 1.0, 1.0, 1.0]))
    same = pd.DataFrame(dict(arm="b", replicate=range(4), x=[2.0, 3.0, 1.5, 2.0]))
    flip = pd.DataFrame(dict(arm="c", replicate=range(4), x=[2.0, 3.0, 0.5, 0.0]))
    runs = pd.concat([base, same, flip], ignore_index=True)
    assert analysis.contrast_robustness(runs, "x", "a", "b") is None, \
        "Expected unknown without parameter sets"
    runs["param_set"] = runs["replicate"] // 2  # replicates 0-1: set 0, 2-3: set 1
    assert analysis.contrast_robustness(runs, "x", "a", "b") is True
    assert analysis.contrast_robustness(runs, "x", "a", "c") is False, \
        "Expected a contrast positive in set 0 and negative in set 1 to be not robust"


def test_a_contrast_that_is_not_robust_is_flagged_wherever_it_is_stated(monkeypatch):
    from simulation import ensemble
    res = study.run_compare(["baseline", "bottom_up"], replicates=5, months=12, seed=3,
                            overrides=SMALL, ensemble=ensemble.load())
    monkeypatch.setattr(analysis, "contrast_robustness", lambda runs, outcome, a, b: False)
    boot = analysis.bootstrap_for(res)
    diffs = analysis.differences_table(res, boot)
    findings = analysis.key_findings(res, diffs, analysis.summary_table(res))
    assert all("not robust" in f for f in findings), findings
    stated = [s for s in analysis.summary_sentences(res, diffs) if "95% CI" in s]
    assert stated and all("not robust" in s for s in stated), stated
    line = analysis.intervals_line(res)
    assert "uncertainty of the calibrated parameters" in line and "5 calibrated parameter sets" in line


def _compare_stub(*scenarios, overrides=None, runs=None, scale="county"):
    from types import SimpleNamespace
    arms = [SimpleNamespace(label=s, scenario=s) for s in scenarios]
    runs = pd.DataFrame(dict(arm=list(scenarios), replicate=0)) if runs is None else runs
    return SimpleNamespace(kind="compare", arms=arms, overrides=overrides or {}, outcomes=runs,
                           parameter_sets=1, scale=scale)


def test_the_screening_flags_a_shipped_contrast_against_the_baseline():
    from simulation import robustness
    # the shipped screening: bottom_up minus baseline changes sign in the exit rate, not in adoption
    assert robustness.flag("bottom_up", "exit_rate") == "not robust"
    assert robustness.flag("bottom_up", "complex_adoption") == ""
    res = _compare_stub("baseline", "bottom_up")
    flag = analysis.contrast_flag(res, "leavers_total", "baseline", "bottom_up")
    assert flag == f" [not robust: {analysis.ACROSS_RANGES}]", \
        "Expected GPs who left read as the screening's exit rate, with the screening named"
    assert "docs/screening.md" in flag
    assert analysis.contrast_flag(res, "complex_adoption", "baseline", "bottom_up") == ""
    assert analysis.contrast_flag(_compare_stub("bottom_up", "baseline"), "leavers_total",
                                  "bottom_up", "baseline") == "", \
        "Expected no screening verdict when the reference is not the baseline"
    assert analysis.contrast_flag(_compare_stub("baseline", "bottom_up", overrides=SMALL),
                                  "leavers_total", "baseline", "bottom_up") == "", \
        "Expected no screening verdict once --set moves parameters away from what was screened"
    assert analysis.contrast_flag(_compare_stub("baseline", "examples/x.toml"), "leavers_total",
                                  "baseline", "examples/x.toml") == ""
    assert analysis.contrast_flag(_compare_stub("baseline", "bottom_up", scale="england"),
                                  "leavers_total", "baseline", "bottom_up") == "", \
        "Expected no screening verdict on England: the screening ran on the synthetic county"


def test_a_contrast_flagged_by_both_sources_names_both():
    runs = pd.DataFrame(dict(arm=["baseline"] * 2 + ["bottom_up"] * 2, replicate=[0, 1] * 2,
                             param_set=[0, 1] * 2, leavers_total=[10.0, 10.0, 12.0, 8.0]))
    res = _compare_stub("baseline", "bottom_up", runs=runs)
    assert analysis.contrast_flag(res, "leavers_total", "baseline", "bottom_up") == (
        " [not robust: its direction changes across the calibrated parameter sets and across "
        "the screened ranges of the assumed parameters (docs/screening.md)]")
    res.overrides = SMALL  # the ensemble alone
    assert analysis.contrast_flag(res, "leavers_total", "baseline", "bottom_up") == \
        f" [not robust: {analysis.ACROSS_SETS}]"


def test_the_limitations_say_what_the_screening_found_and_whether_it_applies(compare_report):
    from simulation import robustness
    fragile = sum(not r.robust for o in robustness.load().values() for r in o.values())
    box = _section((compare_report / "report.md").read_text(), "Assumptions and limitations")
    assert "docs/screening.md" in box and f"{fragile} changed direction" in box, box
    assert "changes parameters with --set" in box, \
        "Expected the report made with --set to say the screening's verdicts do not apply"
    text = analysis.screening_text(_compare_stub("baseline", "bottom_up"))
    assert "Its verdicts are among this report's \"not robust\" flags" in text


def _impact_stub(clear: bool, difference: float = -0.005, set_signs=(-1, -1)):
    """An impact study's differences, and its runs on two parameter sets in which the
    intervention moves every key outcome by ``set_signs`` (so (-1, +1) is not robust)."""
    from types import SimpleNamespace
    rows = [dict(arm="intervention", outcome=n, difference=difference if clear else 0.001,
                 ci_low=difference - 0.001 if clear else -0.01, ci_high=difference + 0.001 if clear
                 else 0.01, clear=clear, reference_mean=0.5) for n in analysis.LASTING_OUTCOMES]
    runs = pd.DataFrame([dict(arm=arm, replicate=r, param_set=r,
                              **{n: 0.5 + (0.01 * set_signs[r] if arm == "intervention" else 0)
                                 for n in analysis.LASTING_OUTCOMES})
                         for arm in ("control", "intervention") for r in (0, 1)])
    res = SimpleNamespace(kind="impact", intervention=Intervention("remove_informal", 5),
                          extra={"chosen": [5] * 20}, at_month=60, months=120, replicates=20,
                          outcomes=runs, reference="control", overrides={})
    return res, pd.DataFrame(rows)


def test_impact_headline_says_whether_the_difference_lasted():
    res, diffs = _impact_stub(clear=False)
    assert analysis.lasting_headline(res, diffs).startswith(
        "Removing the 5 most influential informal leaders at month 60 made no lasting difference")
    res, diffs = _impact_stub(clear=True)
    assert "made a small but lasting difference: by month 120" in analysis.lasting_headline(res, diffs)
    res, diffs = _impact_stub(clear=True, difference=-0.2)
    assert "made a lasting difference" in analysis.lasting_headline(res, diffs)
    assert "not robust" not in analysis.lasting_headline(res, diffs)
    res.replicates = 2
    assert "too few to tell" in analysis.lasting_headline(res, diffs)


def test_impact_headline_says_when_a_lasting_difference_is_not_robust():
    """A difference whose interval excludes zero but whose direction changes across the
    parameter sets is no dependable effect, and the headline says so."""
    res, diffs = _impact_stub(clear=True, set_signs=(-1, 1))
    headline = analysis.lasting_headline(res, diffs)
    assert "made a small but lasting difference" in headline
    assert "Its direction is not robust" in headline and "no dependable effect" in headline


def test_impact_report_opens_with_its_headline(impact_report):
    box = _section((impact_report / "report.md").read_text(), "Key findings and caveats").strip()
    assert box.startswith("> **Appointing 3 extra formal leaders chosen at random at month 12 made"), box
    assert "lasting difference" in box.splitlines()[0]


LONG = {"a": "Baseline (today's general practice)", "b": "High pressure from the centre",
        "high_pressure_with_a_long_slug": "A scenario with a long title that must wrap in the legend"}


def _figure_tables():
    from simulation.report.study import OUTCOMES
    labels = list(LONG)
    months = np.arange(0, 121, 12)
    rows = [dict(arm=arm, reference="a", outcome=o.name, month=m, median=500 * i + m,
                 low=400.0 * i, high=600.0 * i + m, difference=-12.5 * i + m, ci_low=-20.0 * i,
                 ci_high=15.0 * i + m)
            for i, arm in enumerate(labels) for o in OUTCOMES for m in months]
    table = pd.DataFrame(rows)
    return labels, table, table[table["month"] == 120].drop(columns="month")


def test_report_figures_cut_no_label_and_overlap_no_tick():
    """Every text of every report figure lies inside the figure, and no two tick labels of an
    axis overlap, with long scenario names and large values."""
    from simulation.report import figures
    labels, table, last = _figure_tables()
    model = PrimaryCareModel(rng=2, **SMALL).run(6)
    nodes, edges = figures.snapshot_tables("a", model)
    practices, ties = figures.practice_tables(nodes, edges)
    pos = figures.practice_layout(practices, ties, seed=1)
    for fig in (figures.ribbons_figure(table, labels, "Median and 95% range", 60, names=LONG),
                figures.differences_figure(last, labels[1:], "a", "Paired differences", names=LONG),
                figures.paired_over_time_figure(table, labels[1:], "a", "Over time", 60, names=LONG),
                figures.network_snapshot_figure(practices, ties, pos, LONG["b"] + ": month 120")):
        assert figures.clipped_texts(fig) == [], f"Expected no cut label in {fig.texts[:1]}"
        assert figures.overlapping_ticks(fig) == []
        figures.plt.close(fig)


def test_practice_network_sums_the_ties_between_practices():
    from simulation.report import figures
    model = PrimaryCareModel(rng=2, **SMALL).run(6)
    nodes, edges = figures.snapshot_tables("a", model)
    practices, ties = figures.practice_tables(nodes, edges)
    assert len(practices) == SMALL["n_practices"] and practices["posts"].sum() == len(nodes)
    across = edges[edges["layer"] == "across"]
    of = nodes.set_index("gp")["practice"]
    between = across[of.loc[across["source"]].to_numpy() != of.loc[across["target"]].to_numpy()]
    assert ties["weight"].sum() == pytest.approx(between["weight"].sum())
    assert (ties["source"] < ties["target"]).all(), "Expected each pair of practices once"
    again = figures.practice_layout(practices, ties, seed=1)
    assert again == figures.practice_layout(practices, ties, seed=1), "Expected a seeded layout"


# --- bad input: clear errors, exit 2, nothing written -----------------------------------------------

def _bad_toml(tmp: Path, text: str) -> str:
    path = tmp / "mine.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("argv,fragment", [
    (["compare", "baseline", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
    (["compare", "baseline", "missing/file.toml"], "does not exist"),
    (["compare", "baseline", "BAD_SYNTAX"], "is not valid TOML"),
    (["compare", "baseline", "BAD_NAME"], "unknown parameter 'presure_level'"),
    (["compare", "baseline", "BAD_VALUE"], "pressure_level = 3.0 is out of range"),
    (["compare", "baseline", "--set", "n_practices=0"], "n_practices"),
    (["impact", "--scenario", "nope", "--remove-informal", "5"], "unknown scenario 'nope'"),
    (["impact", "--remove-informal", "5", "--at-month", "24", "--months", "24"], "--at-month = 24"),
    (["impact", "--remove-informal", "5", "--choose", "random"], "--choose applies to"),
])
def test_bad_input_exits_2_and_writes_nothing(cwd, capsys, argv, fragment):
    files = {"BAD_SYNTAX": "description = 'x'\n[params\n",
             "BAD_NAME": "[params]\npresure_level = 0.5\n",
             "BAD_VALUE": "[params]\npressure_level = 3.0\n"}
    argv = [_bad_toml(cwd, files[a]) if a in files else a for a in argv]
    assert main(argv + ["--replicates", "2", "--out", str(cwd / "out")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.startswith(f"pcsim {argv[0]}: error:"), err
    assert not (cwd / "out").exists() and not (cwd / "results").exists(), "Expected nothing written"
    assert not list(cwd.glob(".*partial*")), "Expected no partial folder left behind"


def test_bad_k_is_refused_by_the_parser(cwd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["impact", "--remove-informal", "0"])
    assert exit_.value.code == 2 and "expected a whole number >= 1" in capsys.readouterr().err


def test_an_error_while_writing_leaves_nothing_behind(cwd, monkeypatch):
    from simulation.report import document, figures

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "ribbons", broken)
    res = study.run_compare(["baseline"], replicates=2, months=3, seed=1, overrides=SMALL)
    with pytest.raises(RuntimeError):
        document.write(res, cwd / "results" / "r", "pcsim compare baseline")
    assert not (cwd / "results" / "r").exists() and list((cwd / "results").iterdir()) == []


@pytest.mark.parametrize("path", sorted((ROOT / "experiments" / "scenarios").glob("*.toml")),
                         ids=lambda p: p.name)
def test_example_scenario_files_are_valid(path):
    arms = study.resolve_arms(["baseline", str(path)], "county", {})
    assert not arms[1].changes.empty, f"Expected {path.name} to change something"
    assert arms[1].description, f"Expected {path.name} to describe itself"


def test_network_snapshot_uses_the_shared_layout():
    from simulation.layout import network_layout
    from simulation.report import figures
    model = PrimaryCareModel(rng=1, n_practices=200)  # 20 federations: more than one tile
    s = model.state
    nodes, _ = figures.snapshot_tables("baseline", model)
    geo = network_layout(s.practice, s.practice_federation, aspect=1.0, tile=figures.TILE)
    assert np.array_equal(nodes[["x", "y"]].to_numpy(), geo.xy), (
        "Expected the snapshot's GPs at the positions of simulation.layout (tested in test_layout.py)")
    first = geo.federation_xy[:figures.MAX_FEDERATIONS_SHOWN]
    rest = geo.federation_xy[figures.MAX_FEDERATIONS_SHOWN:]
    outside = (rest[:, 0] > first[:, 0].max()) | (rest[:, 1] < first[:, 1].min())
    assert outside.all(), "Expected the federations shown to form a block of their own"
