"""Experiments: designs and seeds, identical results on every executor, resume after a kill,
isolated failures, refused experiment files, and the SALib wiring on known answers."""

import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiment import analysis, designs, load, run_sweep, spec
from simulation.experiment.store import Store
from tiny_sweep import tiny_sweep

ROOT = Path(__file__).resolve().parents[1]

# A sweep small enough to run in a fraction of a second: 4 design rows x 2 replicates of a
# 6-practice county for 4 months.
TINY = "\n" + tiny_sweep(summary=("complex_adoption", "quality", "brokers", "leavers_total"),
                         timeseries=("complex_adoption", "strain")) + """
[[figures]]
type = "heatmap"
x = "leadership_propensity"
y = "autonomy_base"
outcomes = ["complex_adoption"]
"""

# Slower runs (a 30-practice county for 24 months, 36 runs), so a kill lands mid-sweep.
KILLABLE = TINY.replace('name = "tiny"', 'name = "killable"').replace(
    "months = 4", "months = 24").replace("replicates = 2", "replicates = 4").replace(
    "n_practices = 6", "n_practices = 30").replace(
    "leadership_propensity = [0.2, 0.6]", "leadership_propensity = [0.2, 0.4, 0.6]").replace(
    "autonomy_base = [0.3, 0.7]", "autonomy_base = [0.3, 0.5, 0.7]")


def write(folder: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep run in this process: the tables every other way must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    exp = load(write(folder))
    run_sweep(exp, workers=0, out=str(folder / "store"), progress_stream=StringIO())
    store = Store(folder / "store", exp)
    return exp, store.runs(), store.timeseries()


def _default_sigint():
    # a child inherits an ignored SIGINT (as a shell's background job, or after a test that
    # ran pool workers, which ignore it): the sweep must get Ctrl-C as a terminal would send it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def sweep_proc(*args, cwd):
    # this checkout's code, whichever one the environment has installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "simulation.cli", "sweep", *map(str, args)],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)


def wait_for_parts(folder: Path, n: int, proc, timeout: float = 60.0) -> int:
    """Wait until the store under ``folder`` has at least ``n`` committed parts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # a chunk is committed when its index is written, after its parts
        parts = list((folder / "index").glob("*.json")) if (folder / "index").is_dir() else []
        if len(parts) >= n:
            return len(parts)
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be stopped: {proc.stderr.read()}")
        time.sleep(0.005)
    pytest.fail("the sweep wrote no parts in time")


# --- designs and seeds ---------------------------------------------------------------------

def experiment_with(design: dict, parameters: dict, **top) -> spec.Experiment:
    data = {"name": "d", "design": design, "parameters": parameters, **top}
    return spec.from_dict(data)


def test_grid_is_every_combination_first_parameter_slowest():
    exp = experiment_with({"type": "grid"}, {"leadership_propensity": [0.1, 0.2, 0.3],
                                             "leader_selection": ["random", "influence"]})
    design = designs.sample(exp)
    assert len(design) == 6 == designs.expected_rows(exp)
    assert list(design["leadership_propensity"]) == [0.1, 0.1, 0.2, 0.2, 0.3, 0.3]
    assert list(design["leader_selection"][:2]) == ["random", "influence"]


def test_latin_hypercube_fills_each_stratum_once_within_bounds():
    exp = experiment_with({"type": "lhs", "samples": 16},
                          {"autonomy_base": [0.2, 0.8], "pressure_level": [0.0, 0.5]})
    design = designs.sample(exp)
    assert len(design) == 16
    for name, (low, high) in exp.parameters.items():
        x = design[name].to_numpy()
        assert ((x >= low) & (x <= high)).all(), f"Expected {name} within [{low}, {high}]"
        strata = np.floor((x - low) / (high - low) * 16).astype(int)
        assert sorted(strata) == list(range(16)), "Expected one sample in each of the 16 strata"


@pytest.mark.parametrize("second_order,rows", [(True, 8 * (2 * 3 + 2)), (False, 8 * (3 + 2))])
def test_sobol_design_size_follows_saltelli_rule(second_order, rows):
    exp = experiment_with({"type": "sobol", "samples": 8, "second_order": second_order},
                          {"autonomy_base": [0.2, 0.8], "pressure_level": [0.0, 0.5],
                           "plan_min_brokers": [0, 5]})
    design = designs.sample(exp)
    assert len(design) == rows, "Expected N*(2D+2) rows with second order, N*(D+2) without"
    assert design["plan_min_brokers"].dtype == np.int64, "Expected whole-number parameters rounded"
    assert design["plan_min_brokers"].between(0, 5).all()
    assert design["autonomy_base"].between(0.2, 0.8).all()


def test_sobol_sample_size_that_is_not_a_power_of_two_is_refused_with_the_rule():
    with pytest.raises(spec.ExperimentError) as err:
        experiment_with({"type": "sobol", "samples": 100}, {"autonomy_base": [0.2, 0.8]})
    message = str(err.value)
    assert "power of 2" in message and "64 or 128" in message and "N*(2D+2)" in message


def test_morris_design_has_trajectories_of_d_plus_one_points():
    exp = experiment_with({"type": "morris", "trajectories": 5, "levels": 4},
                          {"autonomy_base": [0.2, 0.8], "pressure_level": [0.0, 0.5]})
    assert len(designs.sample(exp)) == 5 * 3


def test_sampled_designs_are_reproducible_from_the_root_seed():
    make = lambda seed: designs.sample(experiment_with(
        {"type": "lhs", "samples": 8}, {"autonomy_base": [0.2, 0.8]}, seed=seed))
    assert make(3).equals(make(3))
    assert not make(3).equals(make(4))


def test_run_seeds_are_spawned_by_design_row_and_replicate():
    exp = experiment_with({"type": "grid"}, {"autonomy_base": [0.2, 0.5, 0.8]}, replicates=4, seed=9)
    runs = designs.runs_table(exp)
    assert len(runs) == 12 and runs["seed"].is_unique and runs["run_key"].is_unique
    child = np.random.SeedSequence(9).spawn(3)[2].spawn(4)[1]  # row 2, replicate 1
    expected = int(child.generate_state(1, np.uint64)[0]) >> 1
    assert runs.query("design_row == 2 and replicate == 1")["seed"].item() == expected
    crn = designs.runs_table(experiment_with({"type": "grid"}, {"autonomy_base": [0.2, 0.5]},
                                             replicates=2, seed=9, common_random_numbers=True))
    assert list(crn["seed"][:2]) == list(crn["seed"][2:]), \
        "Expected every row to reuse row 0's seeds with common random numbers"


# --- executors: identical tables ---------------------------------------------------------------

@pytest.mark.parametrize("how", [dict(workers=2), dict(dask_local=2)], ids=["pool", "dask"])
def test_pool_and_dask_give_the_same_tables_as_in_process(reference, tmp_path, how):
    exp, runs, series = reference
    outcome = run_sweep(exp, out=str(tmp_path / "store"), progress_stream=StringIO(), **how)
    assert outcome.finished == len(runs) == 8 and outcome.failed == 0
    store = Store(tmp_path / "store", exp)
    pd.testing.assert_frame_equal(store.runs(), runs)
    pd.testing.assert_frame_equal(store.timeseries(), series)


def test_any_run_is_remade_alone_by_pcsim_run(reference, tmp_path):
    exp, runs, _ = reference
    row = runs.iloc[5]
    overrides = {"leadership_propensity": row["leadership_propensity"],
                 "autonomy_base": row["autonomy_base"]}
    command = designs.rerun_command(exp, int(row["seed"]), overrides)
    assert main(shlex.split(command)[1:] + ["--out", str(tmp_path / "alone")]) == 0
    last = pd.read_parquet(tmp_path / "alone" / "timeseries.parquet").iloc[-1]
    for outcome in ("complex_adoption", "quality", "brokers"):
        assert last[outcome] == row[outcome], f"Expected {outcome} of the lone run to equal the sweep's"


def test_grid_over_switches_and_choices_keeps_their_types(tmp_path):
    exp = experiment_with({"type": "grid"}, {"drive_on": [True, False],
                                             "leader_selection": ["random", "influence"]},
                          months=2, fixed={"n_practices": 4})
    run_sweep(exp, workers=0, out=str(tmp_path / "store"), progress_stream=StringIO())
    runs = Store(tmp_path / "store", exp).runs()
    assert runs["drive_on"].dtype == bool and list(runs["leader_selection"][:2]) == ["random", "influence"]
    command = designs.rerun_command(exp, 5, {"drive_on": False, "leader_selection": "influence"})
    assert command.endswith("--set drive_on=false --set leader_selection=influence")


def test_a_table_cell_is_swept_by_its_dotted_name(tmp_path):
    cell = "innovations.pdsa.threshold_mean"
    path = write(tmp_path, f"""
name = "cell"
months = 3

[design]
type = "grid"

[parameters]
"{cell}" = [0.3, 0.6]

[fixed]
n_practices = 4
styles.servant.reach = 1.2

[outcomes]
summary = ["complex_adoption", "adoption_pdsa"]
""")
    exp = load(path)
    assert exp.parameters == {cell: (0.3, 0.6)}
    assert exp.fixed == {"n_practices": 4, "styles.servant.reach": 1.2}
    run_sweep(exp, workers=0, out=str(tmp_path / "store"), progress_stream=StringIO())
    runs = Store(tmp_path / "store", exp).runs()
    assert len(runs) == 2 and list(runs[cell]) == [0.3, 0.6]
    command = designs.rerun_command(exp, int(runs["seed"][1]), {cell: 0.6})
    assert f"--set {cell}=0.6" in command and "--set styles.servant.reach=1.2" in command
    assert main(shlex.split(command)[1:] + ["--out", str(tmp_path / "alone")]) == 0
    last = pd.read_parquet(tmp_path / "alone" / "timeseries.parquet").iloc[-1]
    assert last["adoption_pdsa"] == runs["adoption_pdsa"][1], "Expected the lone run to equal the sweep's"


@pytest.mark.parametrize("design", [{"type": "lhs", "samples": 4}, {"type": "sobol", "samples": 2},
                                    {"type": "morris", "trajectories": 2}])
def test_sampled_designs_take_a_cells_range_from_its_declaration(design):
    parameters = {"innovations": {"pdsa": {"threshold_mean": "bounds"}},  # unquoted dotted key
                  "styles.servant.reach": [0.5, 1.5], "pressure_level": [0.1, 0.5]}
    exp = experiment_with(design, parameters)
    assert exp.parameters == {"innovations.pdsa.threshold_mean": (-1.0, 2.0),
                              "styles.servant.reach": (0.5, 1.5), "pressure_level": (0.1, 0.5)}
    table = designs.sample(exp)
    assert len(table) == designs.expected_rows(exp)
    assert table["innovations.pdsa.threshold_mean"].between(-1.0, 2.0).all()
    assert table["styles.servant.reach"].between(0.5, 1.5).all()


@pytest.mark.parametrize("parameters,fragment", [
    ({"innovations.pdas.threshold_mean": [0.3, 0.6]},
     "parameters: innovations.pdas.threshold_mean: unknown innovation 'pdas', did you mean 'pdsa'?"),
    ({"styles.servant.raech": [0.5, 1.0]}, "unknown column 'raech' of styles, did you mean 'reach'?"),
    ({"innovations.pdsa.threshold_mean": [0.3, 2.5]},
     "parameters.innovations.pdsa.threshold_mean = 2.5 is not allowed: expected [-1.0, 2.0]"),
])
def test_a_bad_table_cell_in_an_experiment_is_refused_in_one_line(parameters, fragment):
    with pytest.raises(spec.ExperimentError) as err:
        experiment_with({"type": "grid"}, parameters)
    assert fragment in str(err.value) and "\n" not in str(err.value), str(err.value)


# --- the store, resume, interruption ---------------------------------------------------------------

def test_sweep_command_writes_store_manifest_and_figures(cwd, capsys):
    assert main(["sweep", str(write(cwd)), "--workers", "0"]) == 0
    folder = cwd / "results" / "tiny"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["experiment_text"] == TINY and manifest["design"]["runs"] == 8
    assert manifest["sessions"][-1]["status"] == "complete"
    assert {"pcsim", "SALib", "pyarrow"} <= set(manifest["versions"])
    assert (folder / "figures" / "heatmap_1.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "figures" / "main_effects.png").is_file()
    runs = pd.read_parquet(folder / "runs")  # the folder reads as one Parquet dataset
    assert len(runs) == 8 and {"run_key", "design_row", "replicate", "seed",
                               "leadership_propensity", "complex_adoption"} <= set(runs)
    err = capsys.readouterr().err
    assert "tiny: 8/8 runs (100%), 0 failed" in err, "Expected a plain progress line per chunk off a terminal"

    # Run again: everything is finished, nothing is added.
    assert main(["sweep", str(write(cwd)), "--workers", "0", "--no-figures"]) == 0
    assert len(pd.read_parquet(folder / "runs")) == 8


@pytest.mark.parametrize("workers", [0, 2])
def test_sigkill_mid_sweep_then_rerun_completes_without_loss_or_duplicates(tmp_path, workers):
    # 120 months a run, so that the kill lands mid-sweep even on a busy machine (see the Ctrl-C
    # test below); the series keeps every second month: 61 rows a run
    exp_path = write(tmp_path, KILLABLE.replace("months = 24", "months = 120"), "killable.toml")
    out = tmp_path / "store"
    proc = sweep_proc(exp_path, "--workers", workers, "--chunk-size", 1, "--out", out,
                      "--no-figures", cwd=tmp_path)
    before = wait_for_parts(out, 3, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at whatever they were doing
    proc.wait()
    survived = Store(out).runs()
    assert before <= len(survived) < 36, "Expected the kill to land mid-sweep"
    assert survived["run_key"].is_unique

    assert main(["sweep", str(exp_path), "--workers", "0", "--out", str(out), "--no-figures"]) == 0
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["killed", "complete"]
    exp = load(exp_path)
    runs = Store(out, exp).runs()
    assert len(runs) == 36 and runs["run_key"].is_unique, "Expected every run exactly once"
    assert len(pd.read_csv(out / "runs.csv")) == 36, "Expected runs.csv rewritten by the resume"
    assert set(runs["run_key"]) == set(designs.runs_table(exp)["run_key"])
    series = Store(out, exp).timeseries()
    assert len(series) == 36 * 61 and not series.duplicated(["run_key", "month"]).any()
    kept = runs.set_index("run_key").loc[survived["run_key"]]
    pd.testing.assert_frame_equal(kept.reset_index()[survived.columns], survived,
                                  obj="runs saved before the kill, after the rerun")


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    # 120 months a run: the 36 runs take a few seconds, so that Ctrl-C lands mid-sweep even
    # when this process is slow to send it on a busy machine (24 months took 0.5 s in all)
    exp_path = write(tmp_path, KILLABLE.replace("months = 24", "months = 120"), "killable.toml")
    out = tmp_path / "store"
    proc = sweep_proc(exp_path, "--workers", 0, "--chunk-size", 1, "--out", out, "--no-figures",
                      cwd=tmp_path)
    wait_for_parts(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"Resume with: pcsim sweep {exp_path} --out {out}" in err
    assert "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["status"] == "interrupted"
    assert main(["sweep", str(exp_path), "--workers", "0", "--out", str(out), "--no-figures"]) == 0
    assert len(Store(out).runs()) == 36


def test_parts_left_by_a_kill_are_ignored_then_cleaned(reference, tmp_path):
    exp, runs, series = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), chunk=2, progress_stream=StringIO())
    # A chunk killed between its time-series part and its runs part (the commit), and a
    # half-written temporary file.
    lost = sorted((out / "runs").glob("part-*.parquet"))[1]
    lost.unlink()
    (out / "runs" / ".part-x.parquet.tmp").write_bytes(b"PAR1 half written")
    store = Store(out, exp)
    assert len(store.runs()) == 6 and len(store.timeseries()) == 6 * 3, \
        "Expected readers to see only committed chunks"
    outcome = run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    assert outcome.new == 2
    pd.testing.assert_frame_equal(store.runs(), runs)
    pd.testing.assert_frame_equal(store.timeseries(), series)
    assert not list((out / "runs").glob(".*")), "Expected the temporary file removed"
    assert_csv_is(out / "runs.csv", runs)


def assert_csv_is(path: Path, table: pd.DataFrame) -> None:
    """The CSV holds exactly the table: same columns in order, same rows, same values."""
    read = pd.read_csv(path)  # pandas reads floats back exactly (round trip)
    assert list(read.columns) == list(table.columns)
    pd.testing.assert_frame_equal(read, table, check_dtype=False, check_exact=True)


def test_runs_csv_and_timeseries_csv_are_the_store_tables(reference, tmp_path, monkeypatch):
    from simulation.experiment import store as store_module

    exp, runs, series = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), chunk=3, progress_stream=StringIO())
    assert_csv_is(out / "runs.csv", runs)
    assert_csv_is(out / "timeseries.csv", series)
    assert not list(out.glob(".*.tmp")), "Expected no temporary file left beside the CSVs"
    # A time series too long for a spreadsheet gets no CSV, and a stale one is removed.
    monkeypatch.setattr(store_module, "TIMESERIES_CSV_MAX_ROWS", len(series) - 1)
    run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    assert not (out / "timeseries.csv").exists()
    assert_csv_is(out / "runs.csv", runs)


def test_time_series_carries_each_runs_seed_and_varied_values(reference):
    exp, runs, series = reference
    assert list(series.columns) == ["run_key", "design_row", "replicate", "seed",
                                    "leadership_propensity", "autonomy_base", "month",
                                    "complex_adoption", "strain"]
    assert len(series) == 8 * 3
    # grid, first parameter slowest: design row 1 is (0.2, 0.7), row 2 is (0.6, 0.3)
    row1 = series[series["design_row"] == 1]
    assert set(row1["leadership_propensity"]) == {0.2} and set(row1["autonomy_base"]) == {0.7}
    row2 = series[series["design_row"] == 2]
    assert set(row2["leadership_propensity"]) == {0.6} and set(row2["autonomy_base"]) == {0.3}
    per_run = series.drop_duplicates("run_key")[["run_key", "seed", "leadership_propensity",
                                                  "autonomy_base"]].reset_index(drop=True)
    expected = runs[per_run.columns]
    pd.testing.assert_frame_equal(per_run, expected, obj="each run's values in the time series")


def test_main_effects_figure_fits_1400_px_and_starts_shares_and_counts_at_zero(tmp_path):
    from PIL import Image

    from simulation import metrics
    from simulation.experiment import figures

    # The shipped 10-outcome x 3-parameter grid (2,260 px tall when outcomes were stacked),
    # with outcomes far from zero that barely vary, so an axis fitted to the data would
    # make the differences look large.
    exp = load(ROOT / "experiments" / "leadership_autonomy.toml")
    runs = designs.runs_table(exp)
    rng = np.random.default_rng(3)
    for outcome in exp.summary_outcomes:
        runs[outcome] = rng.uniform(4.0, 4.2, len(runs))
    png = figures.main_effects(exp, runs, tmp_path)[0]
    width, height = Image.open(png).size
    assert height <= figures.MAX_HEIGHT_PX, f"Expected at most 1,400 px tall, got {height}"

    fig, _ = figures.main_effects_figure(exp, runs)
    panels = {ax.get_label(): ax for ax in fig.axes if ax.get_visible()}
    assert len(panels) == len(exp.summary_outcomes) * len(exp.parameters)
    kinds = {o: metrics.outcome(o).kind for o in exp.summary_outcomes}
    assert {"share", "count", "index"} <= set(kinds.values())
    for name, ax in panels.items():
        outcome = name.split(" by ")[0]
        broken = any(line.get_gid() == "axis-break" for line in ax.lines)
        if kinds[outcome] in ("share", "count"):
            assert ax.get_ylim()[0] == 0, f"Expected the {name} axis to start at 0"
            assert not broken
        else:
            assert ax.get_ylim()[0] > 0 and broken, f"Expected the {name} axis marked as broken"
    figures.plt.close(fig)


def test_a_store_being_written_is_not_written_by_a_second_sweep(reference, tmp_path, capsys):
    exp, _, _ = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    holder = Store(out, exp)
    holder.lock()
    try:
        assert main(["sweep", exp.path, "--workers", "0", "--out", str(out), "--no-figures"]) == 2
    finally:
        holder.unlock()
    assert "another pcsim sweep is writing" in capsys.readouterr().err


def test_resuming_with_other_code_says_so(reference, tmp_path):
    from simulation.experiment.store import write_json_atomic
    from simulation.experiment.sweep import version_note

    exp, _, _ = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    store = Store(out)
    assert version_note(store) is None
    manifest = store.manifest()
    manifest["git_commit"] = "0" * 40
    write_json_atomic(store.manifest_path, manifest)
    assert "0000000000" in version_note(store) and "--new" in version_note(store)


def test_changed_experiment_is_refused_unless_new(cwd, capsys):
    path = write(cwd)
    fast = ["--workers", "0", "--no-figures"]
    assert main(["sweep", str(path), *fast]) == 0
    before = sorted(p.name for p in (cwd / "results" / "tiny" / "runs").iterdir())
    path.write_text(TINY.replace("months = 4", "months = 5"))
    assert main(["sweep", str(path), *fast]) == 2
    err = capsys.readouterr().err
    assert "different version of this experiment (changed: months" in err and "--new" in err
    assert sorted(p.name for p in (cwd / "results" / "tiny" / "runs").iterdir()) == before
    assert main(["sweep", str(path), *fast, "--new"]) == 0
    assert len(list((cwd / "results").iterdir())) == 2, "Expected --new to start a second folder"
    # Editing what never changes a result (description, figures) still resumes.
    path.write_text(TINY.replace('name = "tiny"', 'name = "tiny"\ndescription = "now described"'))
    assert main(["sweep", str(path), *fast]) == 0


def test_scenario_file_is_found_beside_the_experiment_and_resumes_from_anywhere(cwd, monkeypatch):
    sub = cwd / "sub"
    sub.mkdir()
    (sub / "calm.toml").write_text('description = "calm"\n[params]\npressure_level = 0.1\n')
    path = write(sub, 'scenario = "calm.toml"\n' + TINY)
    fast = ["--workers", "0", "--no-figures"]
    assert main(["sweep", "sub/tiny.toml", "--out", "store", *fast]) == 0
    assert load(path).base_params.pressure_level == 0.1
    monkeypatch.chdir(sub)
    assert main(["sweep", "tiny.toml", "--out", "../store", *fast]) == 0, \
        "Expected the same experiment reached by another path to resume, not be refused"
    assert len(Store(cwd / "store").runs()) == 8


# --- failures ------------------------------------------------------------------------------------

FAILING_MODEL = '''
from simulation import PrimaryCareModel


class FailingModel(PrimaryCareModel):
    """Raises in month 2 when leadership propensity is high: a stand-in for a model bug."""

    def step(self):
        if self.params.leadership_propensity > 0.5 and self.month == 2:
            raise FloatingPointError("injected failure for the test")
        super().step()
'''


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(cwd, monkeypatch, capsys):
    (cwd / "failing_model.py").write_text(FAILING_MODEL)
    monkeypatch.syspath_prepend(str(cwd))
    path = write(cwd, 'model = "failing_model:FailingModel"\n' + TINY)
    fast = ["--workers", "0", "--no-figures"]
    assert main(["sweep", str(path), *fast]) == 1
    assert "4 run(s) failed" in capsys.readouterr().err
    store = Store(cwd / "results" / "tiny")
    runs, failures = store.runs(), store.failures()
    assert len(runs) == 4 and (runs["leadership_propensity"] == 0.2).all(), \
        "Expected the runs with low propensity to finish"
    assert len(failures) == 4 and failures["run_key"].isin(designs.runs_table(load(path))["run_key"]).all()
    assert failures["traceback"].str.contains("injected failure for the test").all()
    assert failures["error"].str.startswith("FloatingPointError").all()
    assert failures["command"].str.startswith("pcsim run --scenario baseline").all()
    assert json.loads(failures["params"][0])["leadership_propensity"] == "0.6"

    # A rerun retries only the failed runs; the table of failures keeps one row per run.
    assert main(["sweep", str(path), *fast]) == 1
    assert len(store.runs()) == 4 and len(store.failures()) == 4
    assert json.loads((store.path / "manifest.json").read_text())["sessions"][-1]["status"] == "failures"


# --- refused experiment files ----------------------------------------------------------------------

@pytest.mark.parametrize("case", [
    (("replicates = 2", "replicate = 2"), "unknown key 'replicate'. Did you mean 'replicates'?"),
    (("autonomy_base = [0.3, 0.7]", "autonomy_bsae = [0.3, 0.7]"), "unknown parameter 'autonomy_bsae'"),
    (("autonomy_base = [0.3, 0.7]", "autonomy_base = [0.3, 1.7]"),
     "parameters.autonomy_base = 1.7 is not allowed: expected [0.0, 1.0]"),
    (('type = "grid"', 'type = "factorial"'), "design.type = 'factorial' is not allowed"),
    (('type = "grid"', 'type = "sobol"\nsamples = 100'), "must be a power of 2"),
    (("autonomy_base = [0.3, 0.7]", "autonomy_base = [0.3, 0.5, 0.7]"),
     ('type = "grid"', 'type = "lhs"\nsamples = 8'), "needs a range [low, high]"),
    (('type = "grid"', 'type = "morris"\ntrajectories = 4\nlevels = 3'), "must be even"),
    (('"brokers"', '"borkers"'), "unknown outcome 'borkers'"),
    (('x = "leadership_propensity"', 'x = "pressure_level"'), "expected a varied parameter"),
    (("n_practices = 6", "n_practices = 0"), "fixed.n_practices = 0 is not allowed"),
    (("months = 4", "months = 4.5"), "months = 4.5 is not allowed"),
    (('name = "tiny"', 'name = "../escape"'), "it names the results folder"),
    (("[design]", "[design"), "is not valid TOML"),
])
def test_bad_experiment_file_exits_2_and_writes_nothing(cwd, capsys, case):
    *changes, fragment = case
    text = TINY
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = write(cwd, text)
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1, f"Expected one line naming the problem, got {err!r}"
    assert not (cwd / "results").exists(), "Expected nothing written"


def test_sensitivity_of_a_grid_and_a_missing_file_are_refused(cwd, capsys):
    assert main(["sensitivity", str(write(cwd))]) == 2
    assert main(["sweep", "nowhere.toml"]) == 2
    err = capsys.readouterr().err
    assert "sensitivity needs design.type" in err and "'nowhere.toml' does not exist" in err
    assert not (cwd / "results").exists()


# --- sensitivity analysis: known answers, then the command -------------------------------------------

def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_ishigami_match_published_values():
    # Analytic indices for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2008, p. 179).
    s1 = [0.3139, 0.4424, 0.0]
    st = [0.5576, 0.4424, 0.2437]
    prob = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    x = designs.sample_values("sobol", prob, {"samples": 2048, "second_order": False},
                              np.random.default_rng(1))
    first, _ = analysis.sobol_indices(prob, ishigami(x), second_order=False, seed=1)
    # 0.04: the Monte Carlo error of these estimators at N = 2048 is about 0.01-0.02.
    np.testing.assert_allclose(first["S1"], s1, atol=0.04)
    np.testing.assert_allclose(first["ST"], st, atol=0.04)
    assert (first["S1_conf"] > 0).all() and (first["S1_conf"] < 0.1).all()


def test_morris_effects_of_a_linear_function_are_its_coefficients():
    prob = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    x = designs.sample_values("morris", prob, {"trajectories": 10, "levels": 4}, np.random.default_rng(2))
    y = 4.0 * x[:, 0] - 1.0 * x[:, 1] + 0.0 * x[:, 2]
    table = analysis.morris_indices(prob, x, y, levels=4, seed=2)
    # Exact up to rounding: every elementary effect of a linear function is its coefficient.
    np.testing.assert_allclose(table["mu_star"], [4.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["mu"], [4.0, -1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(table["sigma"], [0.0, 0.0, 0.0], atol=1e-9)


SOBOL_TINY = TINY.replace('type = "grid"', 'type = "sobol"\nsamples = 4').replace(
    "replicates = 2", "replicates = 1").replace(
    "leadership_propensity = [0.2, 0.6]", "leadership_propensity = [0.1, 0.6]").split("[[figures]]")[0]


def test_sensitivity_command_writes_indices_and_a_chart_per_outcome(cwd, capsys):
    assert main(["sensitivity", str(write(cwd, SOBOL_TINY)), "--workers", "0"]) == 0
    folder = cwd / "results" / "tiny" / "sensitivity"
    table = pd.read_csv(folder / "sobol_indices.csv")
    assert len(table) == 4 * 2 and {"S1", "S1_conf", "ST", "ST_conf"} <= set(table)
    assert set(table["parameter"]) == {"leadership_propensity", "autonomy_base"}
    assert len(pd.read_csv(folder / "sobol_second_order.csv")) == 4
    for outcome in ("complex_adoption", "quality", "brokers", "leavers_total"):
        assert (folder / f"sobol_{outcome}.png").is_file()
    assert "complex_adoption" in capsys.readouterr().out


def test_mesa_batch_run_example_runs():
    example = ROOT / "experiments" / "batch_run_example.py"
    res = subprocess.run([sys.executable, str(example), "--smoke"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "rows" in res.stdout


# --- a store that checks itself (its fault injections: tests/test_catalogue.py) -------------------

def test_verify_reports_a_healthy_store_and_refuses_a_missing_one(reference, tmp_path, capsys):
    exp, _, _ = reference
    out = tmp_path / "store"
    assert main(["sweep", exp.path, "--out", str(out), "--verify"]) == 2
    assert "holds no pcsim sweep store" in capsys.readouterr().err
    run_sweep(exp, workers=0, out=str(out), chunk=3, progress_stream=StringIO())
    before = sorted(p.name for p in out.rglob("*"))
    assert main(["sweep", exp.path, "--out", str(out), "--verify"]) == 0
    report = capsys.readouterr().out
    assert "3 intact chunk(s), 8/8 runs finished, 24 time-series rows" in report and "healthy" in report
    assert sorted(p.name for p in out.rglob("*")) == before, "Expected --verify to write nothing"


def test_a_store_written_before_part_indexes_is_read_and_indexed(reference, tmp_path, capsys):
    exp, runs, series = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), chunk=2, progress_stream=StringIO())
    # As the code before indexes wrote it: no part-*.json, no store_format in the manifest.
    for index in (out / "index").glob("part-*.json"):
        index.unlink()
    (out / "index").rmdir()
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["store_format"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    first = sorted((out / "timeseries").glob("part-*.parquet"))[0]
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # unreadable
    pd.testing.assert_frame_equal(Store(out, exp).runs(),
                                  runs.iloc[2:].reset_index(drop=True),
                                  obj="an old store with an unreadable part, read before any sweep")
    assert main(["sweep", exp.path, "--out", str(out), "--verify"]) == 1
    assert "3 chunk(s) from before part indexes" in capsys.readouterr().out

    assert main(["sweep", exp.path, "--workers", "0", "--out", str(out), "--no-figures"]) == 0
    assert "damaged part" in capsys.readouterr().err, "Expected the unreadable old part quarantined"
    indexes = {p.stem: json.loads(p.read_text()) for p in (out / "index").glob("part-*.json")}
    assert set(indexes) == {p.stem for p in (out / "runs").glob("part-*.parquet")}, \
        "Expected every part indexed"
    assert sum(i.get("indexed_later", False) for i in indexes.values()) == 3
    assert json.loads((out / "manifest.json").read_text())["store_format"] == 2
    store = Store(out, exp)
    pd.testing.assert_frame_equal(store.runs(), runs)
    pd.testing.assert_frame_equal(store.timeseries(), series)


def test_temporary_files_of_dead_processes_are_removed_by_the_next_sweep(reference, tmp_path):
    exp, _, _ = reference
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    left = [out / ".manifest.json.tmp", out / ".runs.csv.tmp", out / "index" / ".part-x.json.tmp",
            out / "timeseries" / ".part-x.parquet.tmp", out / "figures" / ".heatmap_1.png.tmp"]
    (out / "figures").mkdir(exist_ok=True)
    for path in left:
        path.write_bytes(b"half written")
    run_sweep(exp, workers=0, out=str(out), progress_stream=StringIO())
    assert not [p for p in left if p.exists()]
