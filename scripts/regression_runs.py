"""The runs behind the regression checks, shared by ``update_regression_baseline.py``,
``regression_check.py`` and ``tests/test_regression.py``.

A *case* is one named configuration run for one seed and a fixed number of months; running it
gives the model's monthly reporters (``model.timeseries()``) and its three end tables
(``gp_table``, ``practice_table``, ``federation_table``). The engine uses only exactly rounded
arithmetic in a fixed order, so the same code and seed give the same bits: any difference in
these outputs is a change of behaviour.

This module imports whichever ``simulation`` package comes first on ``sys.path``; the scripts
put the intended one there before importing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import networkx as nx
import numpy as np
import pandas as pd

import simulation
from simulation import limits, scenarios
from simulation.model import PrimaryCareModel

#: the folder of the simulation package these runs use
PACKAGE = Path(simulation.__file__).resolve().parent

TABLES = ("gp_table", "practice_table", "federation_table")

#: the mechanism switches; the full check runs the baseline with each turned off in turn
SWITCHES = ("exits_on", "leadership_on", "drive_on", "wellbeing_on", "practice_on", "federation_on")

#: Watts limit: sparse random graph, uniform threshold inside the cascade window, one seed node
WATTS_NODES, WATTS_DEGREE, WATTS_PHI = 150, 4.0, 0.18
#: Bass limit: complete graph, rates that take adoption most of the way within ~20 months
BASS_GPS, BASS_P, BASS_Q = 200, 0.01, 0.3


@dataclass(frozen=True)
class Case:
    name: str                                   # e.g. "baseline", "off-exits_on", "watts_limit"
    seed: int
    months: int
    build: Callable[[int], PrimaryCareModel] = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}-seed{self.seed}"


@dataclass
class Result:
    case: Case
    timeseries: pd.DataFrame
    tables: dict[str, pd.DataFrame]


def _scenario(name: str, scale: str = "county", **kwargs) -> Callable[[int], PrimaryCareModel]:
    return lambda seed: PrimaryCareModel(scenario=name, scale=scale, rng=seed, **kwargs)


def _watts(seed: int) -> PrimaryCareModel:
    graph = nx.erdos_renyi_graph(WATTS_NODES, WATTS_DEGREE / (WATTS_NODES - 1), seed=seed)
    start = int(np.random.default_rng(seed).integers(WATTS_NODES))
    return limits.watts_model(graph, WATTS_PHI, [start], rng=seed)


def _bass(seed: int) -> PrimaryCareModel:
    return limits.bass_model(BASS_GPS, BASS_P, BASS_Q, rng=seed)


def _limits(seeds, steps: int) -> list[Case]:
    return ([Case("watts_limit", s, steps, _watts) for s in seeds]
            + [Case("bass_limit", s, steps, _bass) for s in seeds])


def baseline_cases() -> list[Case]:
    """The stored baseline (``tests/data/regression_baseline.*``): small enough for a unit test."""
    cases = [Case(name, seed, 36, _scenario(name)) for name in scenarios.names() for seed in (1, 2)]
    return cases + _limits((1, 2, 3), 20)


def full_cases() -> list[Case]:
    """The full proof of ``regression_check.py record``."""
    seeds = (1, 2, 3)
    cases = [Case(name, seed, 120, _scenario(name)) for name in scenarios.names() for seed in seeds]
    cases += [Case(f"off-{switch}", seed, 120, _scenario("baseline", **{switch: False}))
              for switch in SWITCHES for seed in seeds]
    cases.append(Case("national-baseline", 1, 24, _scenario("baseline", scale="national")))
    cases += _limits(seeds, 30)
    cases.append(Case("reference-baseline", 1, 6, _scenario("baseline", engine="reference")))
    return cases


def run_case(case: Case) -> Result:
    model = case.build(case.seed)
    for _ in range(case.months):
        model.step()
    return Result(case, model.timeseries(), {name: getattr(model, name)() for name in TABLES})


def long_timeseries(result: Result) -> pd.DataFrame:
    """The reporters as rows ``case, seed, month, reporter, value`` (row i of the timeseries is
    month i; every reporter is a float64 or an int64 well below 2**53, so float64 holds it exactly)."""
    ts = result.timeseries
    n_months, n_rep = ts.shape
    return pd.DataFrame({
        "case": result.case.name,
        "seed": np.int64(result.case.seed),
        "month": np.repeat(np.arange(n_months, dtype=np.int64), n_rep),
        "reporter": np.tile(np.asarray(ts.columns, dtype=object), n_months),
        "value": ts.to_numpy(dtype=np.float64).reshape(-1),
    })


def table_digest(df: pd.DataFrame) -> str:
    """SHA-256 of the row hashes of ``pandas.util.hash_pandas_object`` (index included), in row
    order, so that a changed value, a changed row order or a changed index all change it."""
    rows = pd.util.hash_pandas_object(df, index=True).to_numpy(dtype=np.uint64)
    return hashlib.sha256(rows.tobytes()).hexdigest()


def describe(result: Result) -> dict:
    """The reporter dtypes and, per end table, its columns, dtypes and digest."""
    return {
        "months": result.case.months,
        "reporters": {c: str(t) for c, t in result.timeseries.dtypes.items()},
        "tables": {name: {"rows": len(df), "columns": [str(c) for c in df.columns],
                          "dtypes": [str(t) for t in df.dtypes], "digest": table_digest(df)}
                   for name, df in result.tables.items()},
    }


def compute_baseline(cases: list[Case] | None = None) -> tuple[pd.DataFrame, dict]:
    """Run the baseline cases: the long reporter frame and the per-run description, keyed
    ``"case/seed"``."""
    frames, meta = [], {}
    for case in cases if cases is not None else baseline_cases():
        result = run_case(case)
        frames.append(long_timeseries(result))
        meta[f"{case.name}/{case.seed}"] = describe(result)
    frame = pd.concat(frames, ignore_index=True)
    frame["case"] = frame["case"].astype("category")
    frame["reporter"] = frame["reporter"].astype("category")
    return frame, meta


def _bits(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64).view(np.uint64)


def _only(df: pd.DataFrame, runs: list[str]) -> pd.DataFrame:
    df = df.astype({"case": object, "reporter": object})
    return df[(df["case"] + "/" + df["seed"].astype(str)).isin(runs)]


def differences(stored: pd.DataFrame, stored_meta: dict, fresh: pd.DataFrame, fresh_meta: dict,
                limit: int = 20) -> list[str]:
    """What differs between a stored baseline and a fresh one, first difference first (in the
    fresh runs' order: case, seed, month, reporter); at most ``limit`` lines plus a count.
    Values are compared bit for bit."""
    keys = ["case", "seed", "month", "reporter"]
    lines: list[str] = []
    old_runs, new_runs = list(stored_meta), list(fresh_meta)
    for run in old_runs:
        if run not in fresh_meta:
            lines.append(f"run {run}: in the stored baseline, no longer computed")
    for run in new_runs:
        if run not in stored_meta:
            lines.append(f"run {run}: new, not in the stored baseline")

    shared_runs = [run for run in new_runs if run in stored_meta]
    a, b = (_only(df, shared_runs) for df in (stored, fresh))
    merged = b.merge(a, on=keys, how="left", suffixes=("", "_stored"), indicator="where")
    both = merged["where"] == "both"
    changed = both & (_bits(merged["value"]) != _bits(merged["value_stored"]))
    added = ~both
    removed = a.merge(b[keys], on=keys, how="left", indicator="where")
    removed = removed[removed["where"] == "left_only"]

    def line(row, stored_value, value) -> str:
        return (f"case {row.case!r} seed {row.seed} month {row.month} reporter {row.reporter!r}: "
                f"stored {stored_value}, now {value}")

    diff, gone = merged[changed | added], removed
    value_lines = [line(r, repr(r.value_stored) if r.where == "both" else "(absent)", repr(r.value))
                   for r in diff.head(limit).itertuples()]
    value_lines += [line(r, repr(r.value), "(absent)") for r in gone.head(limit).itertuples()]
    count = len(diff) + len(gone)
    if count:
        runs = pd.concat([diff[["case", "seed"]], gone[["case", "seed"]]]).drop_duplicates()
        lines.append(f"{count} reporter value(s) differ, in {len(runs)} run(s); first: {value_lines[0]}")
        lines.extend(value_lines[1:limit])
        if count > limit:
            lines.append(f"... and {count - min(limit, len(value_lines))} more")

    for run in new_runs:
        if run not in stored_meta:
            continue
        old, new = stored_meta[run], fresh_meta[run]
        if old.get("reporters") != new["reporters"]:
            changed_dtypes = {k: (old["reporters"].get(k), v) for k, v in new["reporters"].items()
                              if old["reporters"].get(k) != v}
            lines.append(f"run {run}: reporter dtypes or names differ (stored, now): {changed_dtypes}")
        for name in TABLES:
            o, n = old["tables"][name], new["tables"][name]
            if o["columns"] != n["columns"]:
                lines.append(f"run {run} {name}: columns differ: stored {o['columns']}, now {n['columns']}")
            elif o["dtypes"] != n["dtypes"]:
                changed_dtypes = [f"{c} {a} -> {b}" for c, a, b in zip(n["columns"], o["dtypes"], n["dtypes"])
                                  if a != b]
                lines.append(f"run {run} {name}: dtypes differ (stored -> now): {', '.join(changed_dtypes)}")
            elif o["rows"] != n["rows"]:
                lines.append(f"run {run} {name}: {o['rows']} rows stored, {n['rows']} now")
            elif o["digest"] != n["digest"]:
                lines.append(f"run {run} {name}: contents differ (digest {o['digest'][:12]}... "
                             f"stored, {n['digest'][:12]}... now)")
    return lines
