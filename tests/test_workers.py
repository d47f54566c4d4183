"""Sweep workers: they die with their sweep, and a run that ends its worker process (a crash,
not an exception) is recorded as a failed run with its exit status or signal while the sweep
goes on, with one worker as with several; a resume reports such runs and retries them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiment import load, run_sweep
from simulation.experiment.executors import describe_exit
from simulation.experiment.runner import FAULT_ENV
from simulation.experiment.store import Store
from tiny_sweep import tiny_sweep

ROOT = Path(__file__).resolve().parents[1]

# 4 design rows x 2 replicates of a 6-practice county for 4 months: a second of work
TINY = "\n" + tiny_sweep()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny sweep run in this process, with no fault: what every healed store must equal."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "tiny.toml").write_text(TINY)
    exp = load(folder / "tiny.toml")
    run_sweep(exp, workers=0, out=str(folder / "store"), progress_stream=StringIO())
    store = Store(folder / "store", exp)
    return exp, store.runs(), store.timeseries()


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return {p.pid for p in psutil.Process(pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("PPid:"))
            parents.setdefault(ppid, set()).add(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its exit status is left


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_and_resource_tracker_exit_when_the_sweep_is_killed(tmp_path):
    # Two quick runs (2 practices), then long ones (200 practices, 12,000 months: far longer
    # than the test waits): once the quick ones are saved, both workers are deep in a long run,
    # where only the operating system can stop them (between runs, a worker also stops when
    # it finds its pipe to the sweep closed).
    (tmp_path / "tiny.toml").write_text(
        TINY.replace("months = 4", "months = 12000").replace("every = 2", "every = 6000")
        .replace("autonomy_base = [0.3, 0.7]", "n_practices = [2, 200]")
        .replace("leadership_propensity = [0.2, 0.6]", "leadership_propensity = [0.2]")
        .replace("[fixed]\nn_practices = 6\n", ""))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "simulation.cli", "sweep", "tiny.toml",
                             "--workers", "2", "--chunk-size", "1", "--out", "store", "--no-figures"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    left = set()
    try:
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "store" / "index").glob("*.json"))) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep committed no chunk in time"
            time.sleep(0.05)
        workers = children(proc.pid)
        assert len(workers) >= 3, "Expected two workers and the resource tracker running"
        proc.send_signal(signal.SIGKILL)  # the sweep alone, not its process group
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            left = {pid for pid in workers if alive(pid)}
            if not left:
                break
            time.sleep(0.1)
        assert not left, f"Expected every worker gone within 5 s of the sweep, {len(left)} remain"
    finally:
        for pid in left | children(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("mode,workers,how", [
    ("exit", 1, "exited with status 3"),
    ("segfault", 2, "was killed by SIGSEGV"),
    ("kill", 2, "was killed by SIGKILL"),
], ids=["os._exit-one-worker", "segfault-pool", "sigkill-pool"])
def test_a_run_that_crashes_its_worker_is_a_failed_run_and_the_sweep_goes_on(
        reference, tmp_path, monkeypatch, capsys, mode, workers, how):
    exp, runs, _ = reference
    monkeypatch.setenv(FAULT_ENV, f"{mode}:row=1")  # both replicates of design row 1
    out = tmp_path / "store"
    assert main(["sweep", exp.path, "--workers", str(workers), "--out", str(out), "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert "2 run(s) failed" in err and "Traceback" not in err, err
    store = Store(out, exp)
    failures = store.failures()
    assert list(failures["design_row"]) == [1, 1]
    assert failures["error"].str.startswith(f"WorkerCrashed: the worker process {how}").all()
    assert failures["command"].str.startswith("pcsim run").all(), "Expected a command to remake each"
    expected = runs[runs["design_row"] != 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(store.runs(), expected, obj="the runs that did not crash")


def test_a_resume_reports_crashed_runs_then_redoes_them_when_they_no_longer_crash(
        reference, tmp_path, monkeypatch, capsys):
    exp, runs, series = reference
    out = tmp_path / "store"
    monkeypatch.setenv(FAULT_ENV, "exit:row=2:replicate=1")
    assert main(["sweep", exp.path, "--workers", "1", "--out", str(out), "--no-figures"]) == 1
    capsys.readouterr()
    # the same crash again: reported once more, the store unchanged, no traceback
    assert main(["sweep", exp.path, "--workers", "1", "--out", str(out), "--no-figures"]) == 1
    captured = capsys.readouterr()
    assert "7 already finished" in captured.out and "1 run(s) failed" in captured.err
    assert "Traceback" not in captured.err
    assert len(Store(out, exp).failures()) == 1

    monkeypatch.delenv(FAULT_ENV)
    assert main(["sweep", exp.path, "--workers", "1", "--out", str(out), "--no-figures"]) == 0
    store = Store(out, exp)
    pd.testing.assert_frame_equal(store.runs(), runs)
    pd.testing.assert_frame_equal(store.timeseries(), series)
    assert store.failures().empty


@pytest.mark.parametrize("code,words", [
    (3, "exited with status 3"), (-9, "killed by SIGKILL"), (-11, "killed by SIGSEGV"),
    (-200, "killed by signal 200"),
])
def test_how_a_worker_ended_is_said_in_words(code, words):
    assert words in describe_exit(code)


def test_workers_that_cannot_start_end_the_sweep_in_one_line(reference, tmp_path, monkeypatch, capsys):
    """Not a run's fault, so not a failed run: every new worker would die the same way."""
    exp, _, _ = reference
    monkeypatch.setenv(FAULT_ENV, "start")
    out = tmp_path / "store"
    assert main(["sweep", exp.path, "--workers", "2", "--out", str(out), "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("pcsim sweep: error: a sweep worker process could not start: the "
                                    "worker process exited with status 3; its error, if any, is above "
                                    "(--workers 0 runs the sweep in this process)")
    assert "Traceback" not in err
    assert Store(out, exp).runs().empty and Store(out, exp).failures().empty
