"""Recompute the stored regression baseline that ``tests/test_regression.py`` checks.

The baseline is every shipped scenario at county scale, seeds 1 and 2, 36 months, plus the
Watts and Bass limits (``simulation/limits.py``; seeds 1-3, 20 steps), as defined in
``scripts/regression_runs.py``. It is stored as

- ``tests/data/regression_baseline.parquet``: every reporter of every month, long format
  (``case, seed, month, reporter, value``; the value is a float64, exact for the integer
  reporters too);
- ``tests/data/regression_baseline.json``: per run (``"case/seed"``), the reporters' dtypes and,
  per end table (``gp_table``, ``practice_table``, ``federation_table``), its columns, dtypes,
  row count and a SHA-256 digest of its ``pandas.util.hash_pandas_object`` row hashes.

Run it **only when a change of behaviour is intended and has been reviewed** (a new or changed
mechanism, parameter default, scenario or reporter). A refactoring must leave the baseline
unchanged; if the test fails after one, the refactoring changed behaviour. The script prints
what changed against the stored files before overwriting them; ``--check`` only compares and
exits 1 on any difference. Commit the two files with the change that explains them.

    .venv/bin/python scripts/update_regression_baseline.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this repository's simulation package, not an installed copy
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import regression_runs  # noqa: E402  (next to this script)

DATA = ROOT / "tests" / "data"
PARQUET = DATA / "regression_baseline.parquet"
META = DATA / "regression_baseline.json"


def load() -> tuple[pd.DataFrame, dict]:
    return pd.read_parquet(PARQUET), json.loads(META.read_text())


def save(frame: pd.DataFrame, meta: dict) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(PARQUET, index=False, compression="zstd")
    META.write_text(json.dumps(meta, indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the stored baseline only; exit 1 on any difference")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    frame, meta = regression_runs.compute_baseline()
    print(f"computed {len(meta)} runs, {len(frame)} reporter values "
          f"in {time.perf_counter() - start:.1f} s (simulation from {regression_runs.PACKAGE})")

    if PARQUET.exists() and META.exists():
        lines = regression_runs.differences(*load(), frame, meta)
        if not lines:
            print(f"identical to the stored baseline ({PARQUET.relative_to(ROOT)}); nothing to write")
            return 0
        print("differences from the stored baseline:")
        for line in lines:
            print(f"  {line}")
    else:
        print(f"no stored baseline at {PARQUET.relative_to(ROOT)}")

    if args.check:
        return 1
    save(frame, meta)
    print(f"wrote {PARQUET.relative_to(ROOT)} ({PARQUET.stat().st_size:,} bytes) and "
          f"{META.relative_to(ROOT)} ({META.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
