"""The catalogue of issue #18 (docs/robustness.md lists every case and where it is tested).

1. Bad input is refused before anything runs: one line on stderr naming what is wrong and what
   is allowed, exit status 2, and nothing written (no results folder, no file of any kind).
   Every case goes through ``simulation.cli.main`` in a fresh empty working folder; the files a
   case needs are made there first, and afterwards the folder must hold exactly those files.
2. Faults injected into a sweep's store (a part cut short, emptied or with bytes flipped; the
   sweep killed in the middle of writing a chunk): the next sweep heals the store, and it then
   equals the store of an uninterrupted sweep.
"""

import json
import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.cli_options import parse_sets
from simulation.experiment import load, run_sweep, spec
from simulation.experiment.store import Store
from tiny_sweep import tiny_sweep

ROOT = Path(__file__).resolve().parents[1]

FAST = ["--months", "2", "--set", "n_practices=4"]
BOM = b"\xef\xbb\xbf"

# A small experiment file; {scenario} is filled in by each case.
EXPERIMENT = """name = "bad_input"
scenario = "{scenario}"
months = 2
[design]
type = "grid"
[parameters]
pressure_level = [0.2, 0.4]
[fixed]
n_practices = 4
"""

FILES = {
    # not UTF-8: a binary file, and a text file saved as Latin-1
    "binary.toml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
    "latin1.toml": 'description = "café"\n'.encode("latin-1"),
    "params3.toml": b"params = 3\n",
    "innovations3.toml": b'description = "x"\ninnovations = 3\n',
    "styles_in_params.toml": b"[params]\nstyles = 3\n[styles.servant]\nreach = 1.0\n",
    "edges.csv": b"source,target\n1,2\n2,3\n",
    # silent or misleading network and scenario input (each must be refused by name)
    "gp_in_two_practices.csv": b"gp,practice\n1,A\n2,A\n3,B\n2,B\n",
    "edges_two_weights.csv": b"source,target,weight\n1,2,1\n2,3,1\n3,2,2\n",
    "members_empty_federation.csv": b"gp,practice,federation\n1,A,F\n2,A,F\n3,B,\n",
    "members_one_text_id.csv": b"gp,practice\n1,A\n2,A\nx,B\n",
    "misspelt_innovation.toml": b"[innovations.pdas]\nthreshold_mean = 0.3\n",
    "misspelt_style.toml": b"[styles.servnt]\nreach = 0.3\n",
    "experiment.toml": EXPERIMENT.format(scenario="baseline").encode(),
    "experiment_binary_scenario.toml": EXPERIMENT.format(scenario="binary.toml").encode(),
    "experiment_dir_scenario.toml": EXPERIMENT.format(scenario="folder.toml").encode(),
}
FOLDERS = ("folder.toml", "folder.csv")

CASES = {
    # a binary or non-UTF-8 TOML, wherever a TOML file is read
    "run binary scenario": (["run", *FAST, "--scenario", "binary.toml"],
                            "pcsim run: error: scenario file 'binary.toml' is not UTF-8 text"),
    "run latin-1 scenario": (["run", *FAST, "--scenario", "latin1.toml"],
                             "scenario file 'latin1.toml' is not UTF-8 text"),
    "compare binary scenario": (["compare", "baseline", "binary.toml"],
                                "pcsim compare: error: scenario file 'binary.toml' is not UTF-8"),
    "sweep binary experiment": (["sweep", "binary.toml"],
                                "pcsim sweep: error: experiment file 'binary.toml' is not UTF-8"),
    "sweep binary scenario of an experiment": (["sweep", "experiment_binary_scenario.toml"],
                                               "scenario file 'binary.toml' is not UTF-8 text"),
    # a table given as one value in a scenario file
    "params = 3": (["run", *FAST, "--scenario", "params3.toml"],
                   "params = 3 is not allowed: expected a table"),
    "innovations = 3": (["run", *FAST, "--scenario", "innovations3.toml"],
                        "innovations = 3 is not allowed: expected a table"),
    "[params] styles = 3 beside [styles.servant]": (
        ["compare", "styles_in_params.toml"], "styles = 3 is not allowed: expected a table"),
    # a whole table on the command line
    "--set innovations=foo": (["run", *FAST, "--set", "innovations=foo"],
                              "'innovations' is a table, not one value: set it cell by cell "
                              "(innovations.ROW.COLUMN=VALUE"),
    "--set styles=1": (["run", *FAST, "--set", "styles=1"],
                       "'styles' is a table, not one value: set it cell by cell (styles.ROW.COLUMN"),
    "compare --set styles=1": (["compare", "baseline", "--set", "styles=1"], "scenario file ([styles.ROW])"),
    # an empty output path
    "run --out ''": (["run", *FAST, "--out", ""], "--out '' is not allowed: expected the path of a new"),
    "compare --out ''": (["compare", "baseline", "--out", ""], "--out '' is not allowed"),
    "sweep --out ''": (["sweep", "experiment.toml", "--out", ""], "--out '' is not allowed"),
    "run --out .": (["run", *FAST, "--out", "."], "--out '.' is not allowed"),
    # a directory where a file is expected
    "run --scenario DIR": (["run", *FAST, "--scenario", "folder.toml"],
                           "scenario file 'folder.toml' is a directory: expected a file"),
    "compare DIR": (["compare", "baseline", "folder.toml"], "'folder.toml' is a directory"),
    "run --network DIR": (["run", *FAST, "--network", "folder.csv"],
                          "edge-list file 'folder.csv' is a directory: expected a file"),
    "run --membership DIR": (["run", *FAST, "--network", "edges.csv", "--membership", "folder.csv"],
                             "membership file 'folder.csv' is a directory"),
    "sweep DIR": (["sweep", "folder.toml"], "experiment file 'folder.toml' is a directory"),
    "sweep scenario DIR of an experiment": (["sweep", "experiment_dir_scenario.toml"],
                                            "scenario = 'folder.toml': file 'folder.toml' is a directory"),
    # a GP in two practices, a tie with two weights, an empty federation cell, mixed id types
    "GP in two practices": (["run", *FAST, "--network", "edges.csv", "--membership",
                             "gp_in_two_practices.csv"],
                            "GP 2 is listed in two practices, 'A' and 'B'"),
    "tie with two weights": (["run", *FAST, "--network", "edges_two_weights.csv"],
                             "the tie 3-2 is listed twice with different weights, 1 and 2"),
    "empty federation cell": (["run", *FAST, "--network", "edges.csv", "--membership",
                               "members_empty_federation.csv"],
                              "row 4 (GP 3) has an empty federation; the federation column must "
                              "be filled for every row, or left out"),
    "numeric edge ids, one text id in the membership": (
        ["run", *FAST, "--network", "edges.csv", "--membership", "members_one_text_id.csv"],
        "GP '3' of the edge list has no practice (1 GP(s) missing); the membership file lists "
        "GP 'x', which is not in the edge list"),
    # a misspelt row of a table is unknown (it does not give every column, so it is no new row)
    "[innovations.pdas]": (["run", *FAST, "--scenario", "misspelt_innovation.toml"],
                           "unknown innovation 'pdas', did you mean 'pdsa'? Valid: clinical_audit"),
    "[styles.servnt]": (["compare", "misspelt_style.toml"],
                        "unknown style 'servnt', did you mean 'servant'? Valid: transformational"),
    # one parameter set twice to different values
    "conflicting --set": (["run", *FAST, "--set", "pressure_level=0.2", "--set", "pressure_level=0.5"],
                          "--set pressure_level is given twice with different values, 0.2 and 0.5"),
    "conflicting --set cell": (["compare", "baseline", "--set", "styles.servant.reach=1",
                                "--set", "styles.servant.reach=2"], "1.0 and 2.0"),
    # usage errors (argparse): one line, with where the help is
    "run --months x": (["run", "--months", "x"],
                       "pcsim run: error: argument --months: months = 'x' is not allowed: expected "
                       "a whole number >= 1 (see pcsim run --help)"),
    "run --scale planet": (["run", "--scale", "planet"],
                           "pcsim run: error: argument --scale: invalid choice: 'planet'"),
    "run --bogus": (["run", "--bogus"], "pcsim run: error: unrecognized arguments: --bogus"),
    "sweep without a file": (["sweep"], "pcsim sweep: error: the following arguments are required: "
                                        "EXPERIMENT.toml (see pcsim sweep --help)"),
    "unknown command": (["frobnicate"], "pcsim: error: argument COMMAND: invalid choice: 'frobnicate'"),
    "compare --replicates 0": (["compare", "baseline", "--replicates", "0"],
                               "(see pcsim compare --help)"),
    "sweep --workers -1": (["sweep", "experiment.toml", "--workers", "-1"],
                           "workers = '-1' is not allowed: expected a whole number >= 0"),
    # a Dask scheduler address that is not one
    "sweep --scheduler notaurl": (["sweep", "experiment.toml", "--scheduler", "notaurl"],
                                  "cannot reach the Dask scheduler 'notaurl': missing port number"),
}


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """A fresh working folder holding every input file (and folder) the cases name."""
    monkeypatch.chdir(tmp_path)
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    for name in FOLDERS:
        (tmp_path / name).mkdir()
    return tmp_path


def call(argv):
    """``main``'s exit status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def contents(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("argv,fragment", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_exit_2_and_writes_nothing(inputs, capsys, argv, fragment):
    before = contents(inputs)
    assert call(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, f"Expected one line on stderr, got {captured.err!r}"
    assert fragment in lines[0]
    assert lines[0].startswith("pcsim")
    assert "Traceback" not in captured.err and "usage:" not in captured.err
    assert contents(inputs) == before, "Expected nothing written (no results folder)"


def test_a_scenario_file_with_a_byte_order_mark_is_read(inputs, capsys):
    """Editors on Windows may save UTF-8 with a byte-order mark; the file means the same."""
    (inputs / "bom.toml").write_bytes(BOM + b'description = "bom"\n[params]\npressure_level = 0.7\n')
    assert main(["run", *FAST, "--scenario", "bom.toml", "--out", "x"]) == 0
    manifest = json.loads((inputs / "x" / "manifest.json").read_text())
    assert manifest["params"]["pressure_level"] == 0.7


def test_an_experiment_file_with_a_byte_order_mark_is_the_same_experiment(inputs):
    text = FILES["experiment.toml"]
    (inputs / "bom.toml").write_bytes(BOM + text)
    plain, marked = spec.load("experiment.toml"), spec.load("bom.toml")
    assert marked.definition_hash == plain.definition_hash and marked.text == plain.text


def test_the_same_value_set_twice_is_not_a_conflict():
    assert parse_sets(["pressure_level=0.2", "pressure_level=0.20", "n_practices=4"]) == {
        "pressure_level": 0.2, "n_practices": 4}


def test_identical_duplicate_ties_and_a_complete_new_innovation_are_accepted(inputs):
    """A tie listed again with the same weight (either direction) is the same tie, a GP listed
    twice in the same practice is the same GP, and a new innovation row that gives every column
    is a new innovation, not a misspelling: all of these run."""
    (inputs / "ties.csv").write_text("source,target,weight\n1,2,0.5\n2,1,0.5\n2,3,1\n2,3,1\n")
    (inputs / "gps.csv").write_text("gp,practice\n1,A\n2,A\n3,B\n1,A\n")
    (inputs / "new.toml").write_text(
        "[innovations.huddles]\nkind = \"simple\"\np_external = 0.01\nq_social = 0.05\n"
        "threshold_mean = 0.0\nthreshold_sd = 0.0\nworkload_cost = 0.01\nquality_benefit = 0.02\n"
        "mandated = false\ninitial_share = 0.0\n")
    assert main(["run", "--months", "2", "--network", "ties.csv", "--membership", "gps.csv",
                 "--scenario", "new.toml", "--out", "x"]) == 0
    manifest = json.loads((inputs / "x" / "manifest.json").read_text())
    assert manifest["params"]["innovations"]["huddles"]["p_external"] == 0.01


# --- 2. faults injected into a sweep's store ----------------------------------------------------

# 4 design rows x 2 replicates of a 6-practice county for 4 months, in chunks of 2 runs
STORE_EXPERIMENT = tiny_sweep("faults", timeseries=("complex_adoption", "strain"))
SWEEP = ["--workers", "0", "--chunk-size", "2", "--no-figures"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The experiment swept once, with no fault: what every healed store must equal."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    (folder / "faults.toml").write_text(STORE_EXPERIMENT)
    exp = load(folder / "faults.toml")
    run_sweep(exp, workers=0, out=str(folder / "store"), chunk=2, progress_stream=StringIO())
    store = Store(folder / "store", exp)
    return exp, store.runs(), store.timeseries()


def assert_healed(exp, out: Path, runs: pd.DataFrame, series: pd.DataFrame) -> None:
    """The store at ``out`` holds exactly the uninterrupted sweep's tables, each run once, and
    ``runs.csv`` matches them."""
    store = Store(out, exp)
    pd.testing.assert_frame_equal(store.runs(), runs, obj="runs after healing")
    pd.testing.assert_frame_equal(store.timeseries(), series, obj="time series after healing")
    pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), runs, check_dtype=False,
                                  check_exact=True, obj="runs.csv after healing")
    assert store.failures().empty
    assert not [p for p in out.rglob(".*") if p.name != ".lock"], "Expected no temporary file left"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def flip_8_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, empty, flip_8_bytes])
@pytest.mark.parametrize("dataset", ["runs", "timeseries"])
def test_a_damaged_part_is_found_quarantined_with_its_pair_and_its_runs_redone(
        uninterrupted, tmp_path, capsys, dataset, damage):
    exp, runs, series = uninterrupted
    out = tmp_path / "store"
    run_sweep(exp, workers=0, out=str(out), chunk=2, progress_stream=StringIO())
    victim = sorted((out / dataset).glob("part-*.parquet"))[1]
    damage(victim)
    capsys.readouterr()

    assert main(["sweep", exp.path, "--out", str(out), "--verify"]) == 1, "Expected damage reported"
    report = capsys.readouterr().out
    assert f"damaged: runs/{victim.stem}.parquet" in report and "2 run(s)" in report
    assert victim.exists(), "Expected --verify to change nothing"

    assert main(["sweep", exp.path, "--out", str(out), *SWEEP]) == 0
    captured = capsys.readouterr()
    quarantine_lines = [l for l in captured.err.splitlines() if "damaged part" in l]
    assert len(quarantine_lines) == 1 and victim.stem in quarantine_lines[0], captured.err
    assert "6 already finished" in captured.out, "Expected the damaged chunk's 2 runs not counted"
    assert "Traceback" not in captured.err
    for name in ("runs", "timeseries"):  # the pair goes together, with its index
        assert (out / "quarantine" / name / f"{victim.stem}.parquet").is_file()
        assert not (out / name / f"{victim.stem}.parquet").exists()
    assert (out / "quarantine" / "index" / f"{victim.stem}.json").is_file()
    assert_healed(exp, out, runs, series)
    assert main(["sweep", exp.path, "--out", str(out), "--verify"]) == 0
    assert "healthy" in capsys.readouterr().out


# A sweep in this process that SIGKILLs itself just before the Nth file is renamed into one
# of the store's folders (every file of the store is written to a hidden temporary file, then
# renamed): the moment a kill leaves the most behind.
KILL_DURING_WRITE = r"""
import os, signal, sys
folder, nth = sys.argv[1], int(sys.argv[2])
real, seen = os.replace, [0]
def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.path.dirname(os.fspath(dst))) == folder:
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = replace
from simulation.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("folder,nth,moment", [
    ("timeseries", 2, "chunk 2: its time-series part written, not yet renamed"),
    ("runs", 2, "chunk 2: its time-series part in place, its runs part not yet renamed"),
    ("index", 2, "chunk 2: both parts in place, its index (the commit) not yet renamed"),
    ("store", 2, "the manifest's session record, after the last chunk"),
], ids=["before-series-part", "before-runs-part", "before-index", "before-manifest"])
def test_a_sweep_killed_while_writing_a_chunk_is_healed_by_the_next(
        uninterrupted, tmp_path, capsys, folder, nth, moment):
    exp, runs, series = uninterrupted
    out = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", KILL_DURING_WRITE, folder, str(nth),
                           "sweep", exp.path, "--out", str(out), *SWEEP],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"Expected the kill ({moment}): {proc.stderr}"
    assert list(out.rglob(".*.tmp")), "Expected the kill to leave a temporary file"

    assert main(["sweep", exp.path, "--out", str(out), *SWEEP]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert_healed(exp, out, runs, series)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["status"] for s in sessions] == ["killed", "complete"]

