"""Where results go, and the provenance that goes with them.

Every command writes a *new* folder (never overwriting one): it is built under a temporary name
beside its final place and renamed when complete, so an interrupted command leaves no
half-written results folder behind (and the next command removes the temporary folder of one
that was killed outright). Before anything is simulated, :func:`preflight` checks
that the folder can be written and that its disk has room. ``manifest.json`` records the command, parameters, seeds,
versions and git commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from .params import PcsimInputError

DEFAULT_ROOT = Path("results")
#: Free space a command needs on the disk of its results folder before it starts (bytes).
MIN_FREE_BYTES = 50 * 1024 ** 2
DEPENDENCIES = ("pcsim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "networkx", "matplotlib",
                "SALib", "dask", "distributed", "solara")


def timestamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def out_folder(out: str | Path) -> Path:
    """The folder named by ``--out``; refused if the name is empty or names no folder of its
    own (``.``, ``..``, ``/``), which could only mean writing over the folder it is in."""
    text = str(out)
    if not text.strip() or Path(text).name in ("", ".."):
        raise PcsimInputError(f"--out {text!r} is not allowed: expected the path of a new (or "
                              "empty) folder, e.g. --out results/mine")
    return Path(text)


def new_folder_path(name: str, out: str | Path | None = None, root: str | Path = DEFAULT_ROOT) -> Path:
    """The folder a command will write: ``out`` if given (it must not exist, or be empty),
    else ``root/name-<timestamp>`` with a numeric suffix if that exists."""
    if out is not None:
        path = out_folder(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise PcsimInputError(f"--out {str(path)!r} already exists and is not empty; "
                                  "results are never overwritten: choose a new folder")
        return path
    base = Path(root) / f"{name}-{timestamp()}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def preflight(folder: str | Path, what: str = "results folder") -> Path:
    """Refuse, before anything is simulated, a folder that could not be written.

    Every command that writes calls this with the folder it will create (or, for a sweep it
    resumes, the folder it will add to). The nearest part of the path that exists must be a
    folder in which a file can be created (one is created there and removed at once, so
    nothing is left behind), and its disk must have at least :data:`MIN_FREE_BYTES` free.
    Otherwise :class:`PcsimInputError` names the folder and the reason in one line, e.g.
    ``cannot write results folder '/ro/x': read-only file system``.
    """
    folder = Path(folder)
    base = folder
    while not base.exists() and base != base.parent:
        if base.is_symlink():  # a dangling link: mkdir would fail on it
            break
        base = base.parent

    def refuse(reason: str) -> PcsimInputError:
        return PcsimInputError(f"cannot write {what} {str(folder)!r}: {reason}")

    if not base.is_dir():
        if base.exists() or base.is_symlink():
            raise refuse(f"{str(base)!r} is " + ("a file, not a folder" if base.is_file()
                                                 else "not a folder"))
        raise refuse(f"{str(base)!r} does not exist")
    try:
        with tempfile.TemporaryFile(dir=base, prefix=".pcsim-preflight-"):
            pass
    except OSError as err:
        reason = os.strerror(err.errno).lower() if err.errno else str(err)
        raise refuse(reason + ("" if base == folder else f" (in {str(base)!r})")) from None
    try:
        free = shutil.disk_usage(base).free
    except OSError as err:
        raise refuse(os.strerror(err.errno).lower() if err.errno else str(err)) from None
    if free < MIN_FREE_BYTES:
        raise refuse(f"only {free / 1024 ** 2:.0f} MB free on its disk (at least "
                     f"{MIN_FREE_BYTES / 1024 ** 2:.0f} MB needed)")
    return folder


#: what a folder being written is called until it is complete: ``.NAME.partial-HOST-PID``
PARTIAL = ".partial-"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", platform.node()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


def remove_stale_partials(parent: str | Path) -> list[Path]:
    """Remove the half-written folders that processes of this machine left in ``parent`` when
    they were killed (``.NAME.partial-HOST-PID`` whose process is gone); return them. A folder
    of another machine (a shared disk), or of a process still running, is left alone."""
    removed = []
    host = _host()
    try:
        entries = list(Path(parent).glob(f".*{PARTIAL}*"))
    except OSError:
        return removed
    for entry in entries:
        owner = entry.name.rsplit(PARTIAL, 1)[1]
        name_host, _, pid = owner.rpartition("-")
        if name_host != host or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` (``.NAME.partial-HOST-PID``); rename it to
    ``path`` only on success, remove it on any error or Ctrl-C. The half-written folders that
    killed processes left beside it (which could not clean up) are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path.parent)
    tmp = path.with_name(f".{path.name}{PARTIAL}{_host()}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():  # an empty folder given with --out
        path.rmdir()
    tmp.rename(path)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
        if res.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return res.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest(**fields: Any) -> dict[str, Any]:
    """Provenance: the command line, the given fields, versions, git commit and time."""
    return {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        **fields,
        "versions": versions(),
        "git_commit": git_commit(),
    }


def write_json(path: str | Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")
