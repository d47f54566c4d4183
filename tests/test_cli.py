"""The `pcsim` command: results folders, provenance, and clear refusals of bad input."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulation import output
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--months", "6", "--set", "n_practices=8"]


def test_run_writes_a_complete_results_folder(cwd, capsys):
    assert main(["run", *FAST, "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    folders = list((cwd / "results").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("run-baseline-county-seed3-")
    folder = folders[0]
    expected = {"timeseries.parquet", "timeseries.csv", "gps.parquet", "practices.parquet",
                "federations.parquet", "manifest.json", "dashboard.png"}
    assert expected <= {p.name for p in folder.iterdir()}
    ts = pd.read_parquet(folder / "timeseries.parquet")
    assert len(ts) == 7 and "complex_adoption" in ts
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["months"] == 6
    assert manifest["params"]["n_practices"] == 8 and "pdsa" in manifest["params"]["innovations"]
    assert {"pcsim", "mesa", "numpy"} <= set(manifest["versions"])
    assert "complex QI methods" in printed and f"results: {Path('results') / folder.name}" in printed
    assert (folder / "dashboard.png").read_bytes()[:4] == b"\x89PNG"


def test_a_second_run_never_overwrites(cwd):
    assert main(["run", *FAST]) == 0
    assert main(["run", *FAST]) == 0
    assert len(list((cwd / "results").iterdir())) == 2


def test_out_must_be_new_or_empty(cwd, capsys):
    target = cwd / "mine"
    assert main(["run", *FAST, "--out", str(target)]) == 0
    assert main(["run", *FAST, "--out", str(target)]) == 2
    assert "never overwritten" in capsys.readouterr().err


@pytest.mark.parametrize("argv,fragment", [
    (["--set", "autonomy_base=1.5"], "autonomy_base = 1.5 is out of range: allowed [0.0, 1.0]"),
    (["--set", "autonomy_base=high"], "not a number"),
    (["--set", "nonsense=1"], "unknown parameter 'nonsense'"),
    (["--set", "pressure_level"], "expected NAME=VALUE"),
    (["--set", "leader_selection=votes"], "one of random, propensity, seniority, influence"),
    (["--set", "innovations.pdas.threshold_mean=0.3"],
     "innovations.pdas.threshold_mean: unknown innovation 'pdas', did you mean 'pdsa'?"),
    (["--set", "styles.servent.reach=1"], "unknown style 'servent', did you mean 'servant'?"),
    (["--set", "innovations.pdsa.treshold_mean=0.3"],
     "unknown column 'treshold_mean' of innovations, did you mean 'threshold_mean'?"),
    (["--set", "innovations.pdsa.threshold_mean=5"],
     "innovations.pdsa.threshold_mean = 5.0 is out of range: allowed [-1.0, 2.0]"),
    (["--scenario", "utopia"], "unknown scenario 'utopia'"),
    (["--network", "missing.csv"], "does not exist"),
    (["--membership", "m.csv"], "--membership needs --network"),
])
def test_bad_input_exits_2_with_one_clear_line_and_writes_nothing(cwd, capsys, argv, fragment):
    assert main(["run", *FAST, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pcsim run: error:"), err
    assert fragment in err[0]
    assert not (cwd / "results").exists(), "Expected no results folder after bad input"


@pytest.mark.parametrize("argv", [["--months", "0"], ["--months", "x"], ["--seed", "-1"],
                                  ["--scale", "planet"]])
def test_bad_options_exit_2(cwd, argv):
    with pytest.raises(SystemExit) as err:
        main(["run", *argv])
    assert err.value.code == 2
    assert not (cwd / "results").exists()


def test_malformed_scenario_and_edge_files_exit_2(cwd, capsys):
    (cwd / "bad.toml").write_text("[params\npressure_level = ")
    assert main(["run", *FAST, "--scenario", "bad.toml"]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    (cwd / "edges.csv").write_text("a;b\n1;2\n")
    assert main(["run", *FAST, "--network", "edges.csv"]) == 2
    assert "missing column" in capsys.readouterr().err
    assert not (cwd / "results").exists()


def test_user_scenario_file_inherits_from_the_baseline(cwd):
    (cwd / "mine.toml").write_text('description = "mine"\n[params]\npressure_level = 0.7\n')
    assert main(["run", *FAST, "--scenario", "mine.toml", "--out", "x"]) == 0
    manifest = json.loads((cwd / "x" / "manifest.json").read_text())
    assert manifest["params"]["pressure_level"] == 0.7
    assert manifest["params"]["autonomy_base"] == pytest.approx(0.5, abs=0.5)


def test_run_with_an_edge_list(cwd):
    (cwd / "edges.csv").write_text("source,target\n" + "".join(f"{i},{(i + 1) % 20}\n" for i in range(20)))
    assert main(["run", "--months", "3", "--network", "edges.csv", "--out", "net"]) == 0
    gps = pd.read_parquet(cwd / "net" / "gps.parquet")
    assert len(gps) == 20 and "node" in gps


def test_interrupted_writing_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with output.atomic_folder(target) as tmp:
            (tmp / "half.csv").write_text("a\n")
            raise RuntimeError("interrupted")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_params_and_scenarios_listings(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "pressure_level = 0.3" in out and "allowed: [0.0, 1.0]" in out
    assert main(["params", "--markdown"]) == 0
    assert "| `pressure_level` |" in capsys.readouterr().out
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("baseline", "high_pressure", "top_down_drive", "bottom_up", "decentralised",
                 "absorbed_into_trust", "qof_2004"):
        assert re.search(rf"^{name}$", out, re.M), f"Expected scenario {name} listed"


def test_help_of_every_command(capsys):
    import argparse
    from simulation.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"run", "params", "scenarios"} <= set(sub.choices)
    for command in sub.choices:
        with pytest.raises(SystemExit) as err:
            main([command, "--help"])
        assert err.value.code == 0 and "usage: pcsim" in capsys.readouterr().out, command


def test_console_script_is_installed():
    exe = shutil.which("pcsim", path=str(Path(sys.executable).parent))
    assert exe, "Expected the `pcsim` console script in the environment"
    res = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("pcsim ")


def test_readme_python_example_runs(cwd):
    """The README's Python example is the documented API: it must run as written."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "Expected a Python example in the README"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_readme_commands_are_real_make_targets():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M)


def test_set_a_table_cell_by_dotted_name(cwd):
    from simulation.model import build_params

    argv = ["--set", "innovations.pdsa.threshold_mean=0.3", "--set", "styles.servant.reach=1.2"]
    assert main(["run", *FAST, *argv, "--out", "x"]) == 0
    manifest = json.loads((cwd / "x" / "manifest.json").read_text())
    expected = build_params("baseline", n_practices=8, innovations={"pdsa": {"threshold_mean": 0.3}},
                            styles={"servant": {"reach": 1.2}})
    assert manifest["params"] == json.loads(json.dumps(expected.to_dict()))
    assert manifest["params"]["innovations"]["pdsa"]["threshold_mean"] == 0.3


def test_a_dotted_cell_in_a_scenario_file_and_on_the_command_line_agree(cwd):
    (cwd / "mine.toml").write_text('[params]\n"innovations.pdsa.threshold_mean" = 0.3\n')
    (cwd / "rows.toml").write_text("[innovations.pdsa]\nthreshold_mean = 0.3\n")
    assert main(["run", *FAST, "--scenario", "mine.toml", "--out", "a"]) == 0
    assert main(["run", *FAST, "--scenario", "rows.toml", "--out", "b"]) == 0
    assert main(["run", *FAST, "--set", "innovations.pdsa.threshold_mean=0.3", "--out", "c"]) == 0
    tables = [pd.read_parquet(cwd / f / "timeseries.parquet") for f in "abc"]
    params = [json.loads((cwd / f / "manifest.json").read_text())["params"] for f in "abc"]
    assert params[0] == params[1] == params[2]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def default_params():
    from simulation.params import Params
    return Params()


def test_params_lists_the_table_cells(capsys):
    assert main(["params", "--group", "innovations"]) == 0
    out = capsys.readouterr().out
    pdsa = default_params().innovations[default_params().innovation_index("pdsa")]
    assert f"innovations.pdsa.threshold_mean = {pdsa.threshold_mean} share of ties" in out
    assert "threshold_mean (share of ties)   allowed: [-1.0, 2.0]" in out
    assert "pressure_level" not in out
    assert main(["params", "--group", "styles", "--markdown"]) == 0
    assert "| `styles.servant.reach` | styles | 0.8 | [0.0, 10.0] | x |" in capsys.readouterr().out
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "pressure_level = 0.3" in out and "styles.clinical.resistance = 0.5" in out


def test_shared_option_helpers_live_apart_from_the_command():
    """Subcommand modules take the option helpers from cli_options, which imports none of them
    (no cycle through simulation.cli); cli keeps re-exporting them."""
    import ast

    from simulation import cli, cli_options
    code = ("import sys, simulation.cli_options; "
            "print(sorted(m for m in sys.modules if m.startswith('simulation')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout
    assert "simulation.cli'" not in loaded and "experiment" not in loaded and "report" not in loaded
    for name in ("InputError", "positive_int", "seed_int", "parse_sets", "add_model_options"):
        assert getattr(cli, name) is getattr(cli_options, name)
    for module in ("experiment/cli.py", "report/cli.py", "app_cli.py"):
        tree = ast.parse((ROOT / "simulation" / module).read_text())
        sources = {(n.module, n.level) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m in ("cli", "simulation.cli") and (level or m.startswith("simulation"))
                       for m, level in sources), f"{module} imports from simulation.cli"
        assert any(m == "cli_options" for m, _ in sources), f"{module} should use cli_options"


# --- preflight: an unwritable results folder is refused before anything is simulated ------------

TINY_SWEEP = """name = "tiny"
months = 2
replicates = 1
[design]
type = "grid"
[parameters]
leadership_propensity = [0.2, 0.6]
[fixed]
n_practices = 6
"""

WRITERS = {
    "run": ["run", *FAST],
    "compare": ["compare", "baseline", *FAST, "--replicates", "1"],
    "impact": ["impact", "--remove-informal", "1", *FAST, "--replicates", "1"],
    "validate": ["validate", "--quick", "--replicates", "1"],
    "sweep": ["sweep", "tiny.toml", "--workers", "0"],
}


@pytest.fixture
def nothing_simulated(monkeypatch):
    """Any model built, sweep started or validation run fails the test: the preflight must
    refuse the folder first."""
    import simulation.experiment.sweep as sweep
    import simulation.model as model
    import simulation.report.study as study
    import simulation.validate as validate

    def simulated(*args, **kwargs):
        raise AssertionError("simulated before the output folder was checked")

    for module, name in ((model, "PrimaryCareModel"), (study, "PrimaryCareModel"),
                         (validate, "validate"), (sweep, "open_store"), (sweep, "execute")):
        monkeypatch.setattr(module, name, simulated)


def _refused(cwd, capsys, command, out, reason):
    (cwd / "tiny.toml").write_text(TINY_SWEEP)
    before = sorted(p.name for p in cwd.iterdir())
    assert main(WRITERS[command] + ["--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith(
        f"pcsim {command}: error: cannot write "), captured.err
    assert repr(str(out)) in captured.err and reason in captured.err, captured.err
    assert sorted(p.name for p in cwd.iterdir()) == before, "Expected nothing written"
    assert captured.out == ""


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_folder_under_a_file_is_refused_before_simulating(cwd, capsys, nothing_simulated,
                                                            command):
    """A path through a regular file cannot be created, even by root (unlike a read-only
    folder, which root writes anyway)."""
    (cwd / "file.txt").write_text("not a folder")
    _refused(cwd, capsys, command, cwd / "file.txt" / "out",
             f"{str(cwd / 'file.txt')!r} is a file, not a folder")


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_a_nearly_full_disk_is_refused_before_simulating(cwd, capsys, monkeypatch,
                                                         nothing_simulated, command):
    full = shutil._ntuple_diskusage(total=10 ** 9, used=10 ** 9 - 10 * 1024 ** 2,
                                    free=10 * 1024 ** 2)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: full)
    _refused(cwd, capsys, command, cwd / "out", "only 10 MB free on its disk (at least 50 MB needed)")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders; covered by the file-path test")
def test_a_read_only_folder_is_refused(cwd, capsys, nothing_simulated):
    locked = cwd / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _refused(cwd, capsys, "run", locked / "out", "permission denied")
    finally:
        locked.chmod(0o755)


def test_preflight_leaves_nothing_behind(tmp_path):
    assert output.preflight(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == [], "Expected the write test to leave no file"
