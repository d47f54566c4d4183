"""Ctrl-C at any moment of a command: one line, exit status 130, no traceback, no results
folder; and the half-written folders of killed processes are cleaned up by the next command."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import sys
from pathlib import Path

import pytest

from simulation import output
from simulation.cli import main
from simulation.entry import command_name
from simulation.interrupts import is_interrupt
from simulation.model import PrimaryCareModel

ROOT = Path(__file__).resolve().parents[1]

# `pcsim run` that says on stderr when the simulation itself starts, so that the test sends
# Ctrl-C while the compiled kernels run, not while the modules are still being imported
SLOW_RUN = r'''
import sys
from simulation.model import PrimaryCareModel
from simulation.cli import console
original = PrimaryCareModel.run
def run(self, months):
    print("test: simulating", file=sys.stderr, flush=True)
    return original(self, months)
PrimaryCareModel.run = run
sys.exit(console(sys.argv[1:]))
'''


def caused_by_ctrl_c(via: str) -> SystemError:
    """The error a KeyboardInterrupt raised inside a compiled kernel reaches Python as."""
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            if via == "cause":
                raise SystemError("<numba kernel> returned a result with an exception set") from ki
            raise SystemError("<numba kernel> returned a result with an exception set")
    except SystemError as err:
        return err


@pytest.mark.parametrize("via", ["cause", "context"])
def test_a_system_error_caused_by_ctrl_c_is_an_interrupt(via):
    assert is_interrupt(caused_by_ctrl_c(via))
    assert is_interrupt(KeyboardInterrupt())


def test_other_errors_are_not_interrupts():
    assert not is_interrupt(SystemError("returned a result with an exception set"))
    err = ValueError("x")
    err.__context__ = err  # a cycle must not hang the test
    assert not is_interrupt(err)


def test_ctrl_c_inside_a_kernel_exits_130_in_one_line(cwd, monkeypatch, capsys):
    def interrupted_run(self, months):
        raise caused_by_ctrl_c("cause")
    monkeypatch.setattr(PrimaryCareModel, "run", interrupted_run)
    assert main(["run", "--months", "6", "--set", "n_practices=8"]) == 130
    assert capsys.readouterr().err == "pcsim run: interrupted\n"
    assert list(cwd.iterdir()) == [], "Expected no results folder"


def test_a_system_error_that_is_not_ctrl_c_is_not_hidden(cwd, monkeypatch):
    def failing_run(self, months):
        raise SystemError("a real fault")
    monkeypatch.setattr(PrimaryCareModel, "run", failing_run)
    with pytest.raises(SystemError, match="a real fault"):
        main(["run", "--months", "6", "--set", "n_practices=8"])


def test_ctrl_c_during_pcsim_run_exits_130_with_no_traceback_and_no_folder(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # 12,000 months (the most allowed) take far longer than the test waits
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, "run", "--months", "12000"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,  # a child may inherit an ignored SIGINT: restore it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr.readline() == "test: simulating\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err == "pcsim run: interrupted\n", "Expected one line and no traceback"
    assert "results:" not in out
    left = [p for p in tmp_path.rglob("*")]
    assert left == [], f"Expected no results folder, found {left}"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_command_removes_a_killed_process_s_half_written_folder(tmp_path):
    host = output._host()
    killed = tmp_path / f".run-a{output.PARTIAL}{host}-{dead_pid()}"
    running = tmp_path / f".run-b{output.PARTIAL}{host}-{os.getppid()}"
    elsewhere = tmp_path / f".run-c{output.PARTIAL}{host}x-{dead_pid()}"
    for folder in (killed, running, elsewhere):
        folder.mkdir()
        (folder / "half.csv").write_text("a\n")
    with output.atomic_folder(tmp_path / "run-new") as tmp:
        (tmp / "whole.csv").write_text("a\n")
    assert not killed.exists(), "Expected the folder of a process that is gone removed"
    assert running.exists(), "Expected the folder of a running process left alone"
    assert elsewhere.exists(), "Expected the folder of another machine (shared disk) left alone"
    assert (tmp_path / "run-new" / "whole.csv").exists()


# The `pcsim` executable as pip writes it, with a line on stderr when Python has started it.
# Before that (Python's own start-up), and in the few milliseconds of its first line (importing
# simulation.entry, which catches Ctrl-C from then on), no pcsim code can catch Ctrl-C: see
# simulation/entry.py and docs/robustness.md; the delays below start after that.
ENTRY_SCRIPT = r'''
import sys
sys.stderr.write("test: started\n")
sys.stderr.flush()
from simulation.entry import main
sys.exit(main())
'''


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5])
def test_ctrl_c_at_any_moment_from_the_start_exits_130_in_one_line(tmp_path, delay):
    """Including while numpy, pandas, numba and Mesa are being imported (the first second or
    so): one line and exit 130, never a traceback; or, if the command had already ended, 0."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-c", ENTRY_SCRIPT, "run", "--months", "12000"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stderr.readline() == "test: started\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (130, 0), err
    assert "Traceback" not in err and "Fatal" not in err
    if proc.returncode == 130:
        assert err == "pcsim run: interrupted\n"
    assert list(tmp_path.rglob("*")) == [], "Expected no results folder"


@pytest.mark.parametrize("argv,name", [
    (["run", "--months", "3"], "pcsim run"), (["sweep", "x.toml", "--workers", "2"], "pcsim sweep"),
    ([], "pcsim"), (["--version"], "pcsim"), (["x.toml"], "pcsim"),
])
def test_an_interrupted_command_is_named_before_its_arguments_are_parsed(argv, name):
    assert command_name(argv) == name
