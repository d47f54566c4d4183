"""Prove that two versions of the code give bit-identical results on a whole run set.

    python scripts/regression_check.py record DIR         # run the set with the code of the cwd
    python scripts/regression_check.py compare DIR_A DIR_B

``record`` imports the ``simulation`` package of the **current directory** (so that, run from a
checkout of another version, e.g. ``cd /path/to/old && python /path/to/regression_check.py
record DIR``, it records that version) and runs the cases of
``regression_runs.full_cases()``: every shipped scenario at county scale, seeds 1-3, 120
months; the baseline with each mechanism switch (``exits_on``, ``leadership_on``, ``drive_on``,
``wellbeing_on``, ``practice_on``, ``federation_on``) turned off in turn, seeds 1-3, 120
months; the baseline at national scale, seed 1, 24 months; the Watts and Bass limits, seeds
1-3, 30 steps; and the baseline on the reference engine, seed 1, 6 months. For each it writes,
in ``DIR/<case>-seed<seed>/``, ``timeseries.parquet`` (every reporter of every month),
``gp_table.parquet``, ``practice_table.parquet``, ``federation_table.parquet`` and
``dtypes.json`` (the in-memory dtypes of the four frames), and ``DIR/manifest.json`` (the cases,
the package path and its git commit).

``compare`` checks that both folders hold the same cases and files, and that every frame has
the same columns, index, dtypes and values (floats bit for bit), printing one line per case and
a total; it exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FRAMES = ("timeseries", "gp_table", "practice_table", "federation_table")


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _dtypes(df) -> dict:
    return {"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes],
            "index": type(df.index).__name__}


def record(folder: Path) -> int:
    # the simulation package of the current directory, ahead of any installed copy
    sys.path.insert(0, os.getcwd())
    import regression_runs  # noqa: PLC0415  (after the path is set)

    if folder.exists() and any(folder.iterdir()):
        print(f"regression_check record: {folder} is not empty; give a new or empty folder",
              file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    package = regression_runs.PACKAGE
    print(f"recording with {package}")
    cases = regression_runs.full_cases()
    start = time.perf_counter()
    for case in cases:
        t0 = time.perf_counter()
        result = regression_runs.run_case(case)
        frames = {"timeseries": result.timeseries, **result.tables}
        sub = folder / case.label
        sub.mkdir()
        for name, df in frames.items():
            df.to_parquet(sub / f"{name}.parquet")
        (sub / "dtypes.json").write_text(json.dumps({n: _dtypes(df) for n, df in frames.items()},
                                                    indent=1) + "\n")
        print(f"  {case.label}: {case.months} months, {time.perf_counter() - t0:.2f} s")
    manifest = {
        "package": str(package),
        "commit": _git(package, "rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git(package, "status", "--porcelain", "--", ".")),
        "cases": [{"folder": c.label, "case": c.name, "seed": c.seed, "months": c.months} for c in cases],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"recorded {len(cases)} cases in {folder} in {time.perf_counter() - start:.1f} s")
    return 0


def _plain(value):
    """A numpy scalar as the Python value it holds (for a shorter repr; floats keep every bit)."""
    return value.item() if hasattr(value, "item") else value


def _first_difference(a, b) -> str | None:
    """None if the frames are identical (columns, index, dtypes, values bit for bit), else where
    they first differ."""
    import numpy as np

    if list(a.columns) != list(b.columns):
        return f"columns differ: {list(a.columns)} vs {list(b.columns)}"
    if type(a.index) is not type(b.index) or not a.index.equals(b.index):
        return f"index differs: {a.index!r} vs {b.index!r}"
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype != y.dtype:
            return f"column {column!r}: dtype {x.dtype} vs {y.dtype}"
        if x.dtype.kind == "f":
            # bit for bit: tells -0.0 from 0.0, and a NaN equals the same NaN
            width = f"u{x.dtype.itemsize}"
            differ = x.to_numpy().view(width) != y.to_numpy().view(width)
        else:
            differ = ~((x == y) | (x.isna() & y.isna())).to_numpy(dtype=bool, na_value=False)
        if differ.any():
            row = int(np.flatnonzero(differ)[0])
            month = f" (month {_plain(a['month'].iloc[row])!r})" if "month" in a.columns else ""
            return (f"column {column!r} row {row}{month}: {_plain(x.iloc[row])!r} vs "
                    f"{_plain(y.iloc[row])!r} "
                    f"({int(differ.sum())} value(s) differ in this column)")
    if not a.equals(b):  # a last guard; every column already matched
        return "DataFrame.equals is False"
    return None


def compare(folder_a: Path, folder_b: Path) -> int:
    import pandas as pd

    for folder in (folder_a, folder_b):
        if not folder.is_dir():
            print(f"regression_check compare: {folder} is not a folder", file=sys.stderr)
            return 2
    start = time.perf_counter()
    for folder in (folder_a, folder_b):
        manifest = folder / "manifest.json"
        info = json.loads(manifest.read_text()) if manifest.exists() else {}
        dirty = " (with uncommitted changes)" if info.get("uncommitted_changes") else ""
        print(f"{folder}: recorded from {info.get('package', '?')} at commit "
              f"{info.get('commit') or '?'}{dirty}")
    cases_a = sorted(p.name for p in folder_a.iterdir() if p.is_dir())
    cases_b = sorted(p.name for p in folder_b.iterdir() if p.is_dir())
    same = differ = 0
    for case in sorted(set(cases_a) | set(cases_b)):
        if case not in cases_a or case not in cases_b:
            print(f"{case}: differs: only in {folder_a if case in cases_a else folder_b}")
            differ += 1
            continue
        problem = None
        files_a = sorted(p.name for p in (folder_a / case).iterdir())
        files_b = sorted(p.name for p in (folder_b / case).iterdir())
        if files_a != files_b:
            problem = f"files differ: {files_a} vs {files_b}"
        if problem is None:
            dtypes_a = json.loads((folder_a / case / "dtypes.json").read_text())
            dtypes_b = json.loads((folder_b / case / "dtypes.json").read_text())
            for name in FRAMES:
                if dtypes_a.get(name) != dtypes_b.get(name):
                    problem = (f"{name}: in-memory columns or dtypes differ: {dtypes_a.get(name)} vs "
                               f"{dtypes_b.get(name)}")
                    break
                where = _first_difference(pd.read_parquet(folder_a / case / f"{name}.parquet"),
                                          pd.read_parquet(folder_b / case / f"{name}.parquet"))
                if where is not None:
                    problem = f"{name}: {where}"
                    break
        if problem is None:
            print(f"{case}: identical")
            same += 1
        else:
            print(f"{case}: differs: {problem}")
            differ += 1
    total = same + differ
    verdict = "all identical" if not differ else f"{differ} differ"
    print(f"total: {same} of {total} cases identical ({verdict}); {time.perf_counter() - start:.1f} s")
    return 0 if differ == 0 and total > 0 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record", help="run the whole set with the simulation package of the cwd")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("compare", help="check that two recorded folders are identical")
    p.add_argument("folder_a", type=Path)
    p.add_argument("folder_b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        return record(args.folder)
    return compare(args.folder_a, args.folder_b)


if __name__ == "__main__":
    sys.exit(main())
