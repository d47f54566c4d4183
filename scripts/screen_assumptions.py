"""Morris screening of every assumed parameter against the shipped scenario contrasts.

Each shipped scenario minus the baseline (on common random numbers: the same seeds for both
arms and for every design point) is a contrast; the outcomes are the share of GP posts left per
year, genuine complex QI adoption, federations with a plan, informal leaders and quality. The
factors are every numeric parameter and table cell labelled ``assumed``
(``simulation.params.provenance()``) that the model uses, each over x0.5 to x2 of its default
clipped to its declared bounds, or over its declared bounds where the default is 0. Left out,
and listed in the output: switches and choices (not numbers), the timing of scenario events
(``p4p_month``, ``absorb_month``, ``month_introduced``: part of a scenario's definition) and
cells the model never reads (a simple method's thresholds, a complex method's ``q_social``).
A scenario is a change from the baseline: where it sets a screened parameter, its value moves
by the same amount as the baseline's (clipped to the declared bounds), so that the contrast
keeps the scenario's change and asks whether its effect holds wherever the baseline sits
(otherwise a screened baseline value could cross the scenario's own and reverse the contrast by
construction: decentralisation 0.5 in the baseline against bottom_up's 0.2). The styles'
shares are screened as relative weights, renormalised to add up to 1, and an initial share is
capped at its row's market potential (the model's constraint).

Design: SALib's Morris trajectories (``SALib.sample.morris``, ``--trajectories`` r on a
``--levels`` grid, r(D+1) points), each point run on ``--seeds`` seeds in every scenario; the
elementary effects of each contrast's seed mean give mu* and sigma (``SALib.analyze.morris``).
A contrast is *not robust* when some design points give it clearly positive and others clearly
negative (beyond ``--z`` standard errors of the seed noise, pooled over the points).

Reproducible from ``--seed`` (design and model seeds); resumable: finished points are kept in
``runs.csv`` and skipped when the same command runs again. Writes into ``--out``: design.csv,
runs.csv, contrasts.csv (each point's contrasts), morris.csv, robustness.toml, summary.md.

    nice -n 5 .venv/bin/python scripts/screen_assumptions.py --trajectories 5 --seeds 2 \\
        --workers 2 --out results/screening
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path.cwd()))

from simulation import population  # noqa: E402
from simulation import scenarios as scenario_files  # noqa: E402
from simulation.params import (  # noqa: E402
    Params, ParamError, SPECS, TABLES, is_cell, parse_value, provenance, split_cell,
)

OUTCOMES = {
    "exit_rate": "GP posts left per year (share)",
    "complex_adoption": "complex QI methods adopted (genuine, share of GPs)",
    "federations_with_plan": "federations with a plan (share)",
    "informal_leaders": "informal leaders (GPs)",
    "quality": "quality of care (index)",
}
#: the outcomes other than the exit rate are means over the last LAST_MONTHS months (less noise
#: than the last month alone)
LAST_MONTHS = 12
TIMING = {"p4p_month", "absorb_month"}


def inert(name: str, default_tables: Params) -> bool:
    """Whether the model never reads this table cell (a simple method's thresholds, a complex
    method's social term)."""
    if not is_cell(name):
        return False
    table, row, column = split_cell(name)
    if table != "innovations":
        return False
    kind = next(i.kind for i in default_tables.innovations if i.name == row)
    return (kind == "simple" and column in ("threshold_mean", "threshold_sd")) or \
        (kind == "complex" and column == "q_social")


def factors(base: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The screened factors (name, default, low, high, range rule) and the assumed parameters
    left out (name, why)."""
    rows, left = [], []
    for r in provenance("assumed").itertuples():
        spec = SPECS.get(r.name) or {}
        kind = spec.get("kind") if spec else _cell_kind(r.name)
        if r.group == "switches" or kind in ("bool", "choice"):
            left.append((r.name, "a switch or a choice, not a number"))
            continue
        if r.name in TIMING or r.name.endswith(".month_introduced"):
            left.append((r.name, "timing of a scenario event"))
            continue
        if inert(r.name, base):
            left.append((r.name, "not read by the model for this row"))
            continue
        default = _value(base, r.name)
        if default == 0:
            low, high, rule = r.low, r.high, "declared bounds (default 0)"
        else:
            low, high = max(r.low, 0.5 * default), min(r.high, 2.0 * default)
            rule = "x0.5 to x2" + (" (clipped)" if (low, high) != (0.5 * default, 2.0 * default) else "")
        rows.append(dict(name=r.name, default=default, low=float(low), high=float(high), rule=rule,
                         integer=kind == "int"))
    return pd.DataFrame(rows), pd.DataFrame(left, columns=["name", "why"])


def _cell_kind(name: str) -> str:
    table, _, column = split_cell(name)
    return TABLES[table].FIELD_SPECS[column]["kind"]


def _value(params: Params, name: str):
    if not is_cell(name):
        return getattr(params, name)
    table, row, column = split_cell(name)
    return getattr(next(r for r in getattr(params, table) if r.name == row), column)


def point_overrides(values: dict[str, float], factor_table: pd.DataFrame, base: Params) -> dict:
    """The parameter changes of one design point: integers rounded, an innovation's initial
    share capped at its market potential, the styles' shares renormalised to add up to 1."""
    out = {}
    integer = dict(zip(factor_table["name"], factor_table["integer"]))
    for name, value in values.items():
        out[name] = int(round(value)) if integer[name] else float(value)
    for row in base.innovations:  # those who already use a method are among those who ever would
        share, potential = (f"innovations.{row.name}.{c}" for c in ("initial_share", "market_potential"))
        if share in out:
            out[share] = min(out[share], out.get(potential, row.market_potential))
    shares = {n: v for n, v in out.items() if n.startswith("styles.") and n.endswith(".share")}
    if shares:
        weights = {f"styles.{s.name}.share": shares.get(f"styles.{s.name}.share", s.share)
                   for s in base.styles}
        total = sum(weights.values())
        out.update({n: w / total for n, w in weights.items()})
    return out


def one_run(params: Params, seed: int, months: int) -> dict[str, float]:
    from simulation.model import PrimaryCareModel

    model = PrimaryCareModel(params=params, rng=seed)
    model.run(months)
    ts = model.timeseries()
    years = months / 12
    posts = float((model.state.n_gps - ts.vacancies.iloc[1:]).mean())
    out = {"exit_rate": float(ts.leavers.iloc[1:].sum()) / years / posts}
    tail = ts.iloc[-min(LAST_MONTHS, months):]
    for name in OUTCOMES:
        if name != "exit_rate":
            out[name] = float(tail[name].mean())
    return out


def shifted(scenario: dict, overrides: dict, base: Params) -> dict:
    """A scenario's scalar settings, each moved by the screened parameter's shift from its
    default (``overrides``' value minus ``base``'s), clipped to the declared bounds."""
    out = dict(scenario)
    for name, value in scenario.items():
        if name in overrides and SPECS[name]["kind"] in ("int", "float"):
            spec = SPECS[name]
            moved = min(max(value + overrides[name] - getattr(base, name), spec["low"]), spec["high"])
            out[name] = int(round(moved)) if spec["kind"] == "int" else float(moved)
    return out


def run_point(task) -> list[dict]:
    """Every scenario on every seed at one design point (a worker's unit of work)."""
    point, overrides, scenarios, seeds, months, fixed = task
    base = Params.from_dict({**population.preset("county"), **fixed})
    screened = Params.from_dict(overrides, base=base)
    rows = []
    for scenario in scenarios:
        changes = shifted(scenario_files.load(scenario).overrides, overrides, base)
        params = Params.from_dict(changes, base=screened)
        for seed in seeds:
            rows.append(dict(point=point, scenario=scenario, seed=seed,
                             **one_run(params, seed, months)))
    return rows


def contrasts(runs: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Each point's scenario-minus-baseline difference per seed (long: point, seed, contrast,
    outcome, value)."""
    wide = runs.set_index(["point", "seed", "scenario"])[list(OUTCOMES)].unstack("scenario")
    parts = []
    for scenario in (s for s in scenarios if s != "baseline"):
        for outcome in OUTCOMES:
            d = (wide[(outcome, scenario)] - wide[(outcome, "baseline")]).rename("value").reset_index()
            parts.append(d.assign(contrast=scenario, outcome=outcome))
    return pd.concat(parts, ignore_index=True)


def robustness(diffs: pd.DataFrame, morris: pd.DataFrame, z: float, default_point: int,
               top: int = 3) -> dict:
    """Per contrast and outcome: robust or not, the sign, the contrast at the defaults, its range
    over the design points (the defaults included), the noise and the parameters with the
    largest mu*."""
    out = {}
    for (contrast, outcome), d in diffs.groupby(["contrast", "outcome"]):
        by_point = d.groupby("point")["value"]
        means = by_point.mean()
        k = int(by_point.size().min())
        within = by_point.var(ddof=1).mean() if k > 1 else float("nan")
        se = math.sqrt(within / k) if k > 1 else 0.0
        positive = int((means > z * se).sum())
        negative = int((means < -z * se).sum())
        robust = not (positive and negative)
        sign = "+" if positive and not negative else "-" if negative and not positive else \
            "0" if not positive and not negative else "+/-"
        m = morris[(morris.contrast == contrast) & (morris.outcome == outcome)]
        leaders = m.sort_values("mu_star", ascending=False).head(top)["name"].tolist()
        out.setdefault(contrast, {})[outcome] = dict(
            robust=bool(robust), sign=sign, at_defaults=float(means.get(default_point, math.nan)),
            mean=float(means.mean()), low=float(means.min()),
            high=float(means.max()), points=int(len(means)), points_positive=positive,
            points_negative=negative, noise_se=float(se), top_parameters=leaders)
    return out


def write_toml(result: dict, about: dict, path: Path) -> None:
    lines = ["# Robustness of the shipped scenario contrasts (scenario minus baseline) to the",
             "# assumed parameters: Morris screening, scripts/screen_assumptions.py; docs/screening.md.",
             "# robust = false: the contrast is clearly positive at some design points and clearly",
             f"# negative at others (beyond z = {about['z']} standard errors of the seed noise).",
             "# sign: + or - (clear and one-signed), 0 (never clear), +/- (not robust).", "",
             "[about]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in about.items()]
    for contrast, outcomes in result.items():
        for outcome, r in outcomes.items():
            lines += ["", f"[contrasts.{contrast}.{outcome}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in r.items()]
    path.write_text("\n".join(lines) + "\n")


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(float(f"{v:.4g}"))
    return json.dumps(v)


def summary(result: dict, morris: pd.DataFrame, about: dict, left: pd.DataFrame) -> str:
    fmt = {"exit_rate": "{:+.2%}", "complex_adoption": "{:+.1%}", "federations_with_plan": "{:+.1%}",
           "informal_leaders": "{:+.1f}", "quality": "{:+.4f}"}
    lines = ["## Robustness of each contrast", "",
             "| contrast (minus baseline) | outcome | at the defaults | range over points | "
             "noise (se) | points clearly + / - | robust | top parameters (mu*) |",
             "|---|---|---|---|---|---|---|---|"]
    for contrast, outcomes in result.items():
        for outcome, r in outcomes.items():
            f = fmt[outcome]
            lines.append(f"| {contrast} | {outcome} | {f.format(r['at_defaults'])} | {f.format(r['low'])} to "
                         f"{f.format(r['high'])} | {f.format(r['noise_se']).lstrip('+')} | "
                         f"{r['points_positive']} / {r['points_negative']} | "
                         f"{'yes' if r['robust'] else '**no**'} | "
                         f"{', '.join(f'`{n}`' for n in r['top_parameters'])} |")
    lines += ["", "## Parameters ranked by mu* (normalised per contrast and outcome, then averaged)",
              "", "| rank | parameter | mean normalised mu* | largest in |", "|---|---|---|---|"]
    m = morris.copy()
    m["norm"] = m.groupby(["contrast", "outcome"])["mu_star"].transform(
        lambda s: s / s.max() if s.max() > 0 else 0.0)
    ranked = m.groupby("name")["norm"].mean().sort_values(ascending=False)
    for i, (name, value) in enumerate(ranked.head(15).items(), 1):
        best = m[m.name == name].sort_values("norm", ascending=False).iloc[0]
        lines.append(f"| {i} | `{name}` | {value:.2f} | {best.contrast}: {best.outcome} |")
    lines += ["", "## mu* (sigma) of the leading parameters, contrast by contrast", "",
              "Shares in percentage points, leaders in GPs, quality in thousandths of the index. "
              "mu*: the mean absolute elementary effect, SALib's unit: the change in the contrast "
              "per whole screened range of the parameter (each step moves it two thirds of its "
              "range on the 4-level grid); sigma: the spread of the effects (interactions, "
              "non-linearity, seed noise)."]
    scale = {"exit_rate": 100, "complex_adoption": 100, "federations_with_plan": 100,
             "informal_leaders": 1, "quality": 1000}
    for contrast, g in m.groupby("contrast"):
        leading = g.groupby("name")["norm"].mean().sort_values(ascending=False).head(8).index
        lines += ["", f"### {contrast} minus baseline", "",
                  "| parameter | " + " | ".join(OUTCOMES) + " |", "|---|" + "---|" * len(OUTCOMES)]
        for name in leading:
            cells = []
            for outcome in OUTCOMES:
                r = g[(g.name == name) & (g.outcome == outcome)].iloc[0]
                k = scale[outcome]
                cells.append(f"{k * r.mu_star:.2f} ({k * r.sigma:.2f})")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", f"Design: {about['factors']} factors, {about['trajectories']} trajectories on "
              f"{about['levels']} levels ({about['points']} points, and one at the defaults), "
              f"{about['seeds']} seeds per point, "
              f"{about['scenarios']} scenarios: {about['runs']} runs of {about['months']} months.",
              "", "Assumed parameters not screened: " +
              "; ".join(f"{why}: {', '.join(f'`{n}`' for n in g['name'])}"
                        for why, g in left.groupby("why")) + "."]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=int, default=5, help="Morris trajectories r (default 5)")
    ap.add_argument("--levels", type=int, default=4, help="Morris grid levels (even; default 4)")
    ap.add_argument("--seeds", type=int, default=2, help="model seeds per design point (default 2)")
    ap.add_argument("--seed", type=int, default=20261201, help="root seed of design and runs")
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--scenarios", nargs="+", help="scenarios (default: every shipped one)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="screen only these assumed parameters")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="fixed change for every run (e.g. n_practices=10 for a quick test)")
    ap.add_argument("--z", type=float, default=3.0,
                    help="standard errors beyond 0 for a point's contrast to count as clearly signed")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default="results/screening")
    args = ap.parse_args(argv)
    for name in ("trajectories", "seeds", "months", "workers"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} = {getattr(args, name)} is not allowed: expected a whole number >= 1")
    if args.levels < 2 or args.levels % 2:
        ap.error(f"--levels = {args.levels} is not allowed: expected an even number >= 2")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    try:
        fixed = {}
        for item in args.set:
            name, _, text = item.partition("=")
            fixed[name.strip()] = parse_value(name.strip(), text)
        base = Params.from_dict({**population.preset("county"), **fixed})
        scenarios = args.scenarios or scenario_files.names()
        for s in scenarios:
            scenario_files.load(s)
    except (ParamError, ValueError) as err:
        print(f"screen_assumptions: error: {err}", file=sys.stderr)
        return 2
    if "baseline" not in scenarios:
        scenarios = ["baseline", *scenarios]
    table, left = factors(base)
    if args.only:
        unknown = sorted(set(args.only) - set(table["name"]))
        if unknown:
            print(f"screen_assumptions: error: --only {unknown} are not screened assumed parameters",
                  file=sys.stderr)
            return 2
        table = table[table["name"].isin(args.only)].reset_index(drop=True)
    problem = dict(num_vars=len(table), names=table["name"].tolist(),
                   bounds=table[["low", "high"]].to_numpy().tolist())
    root = np.random.SeedSequence(args.seed)
    design_seed, run_seeds = root.spawn(2)
    X = morris_sample.sample(problem, args.trajectories, num_levels=args.levels,
                             seed=int(design_seed.generate_state(1)[0]))
    seeds = [int(s) for s in run_seeds.generate_state(args.seeds)]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    design = pd.DataFrame(X, columns=problem["names"])
    design.index.name = "point"
    config = dict(trajectories=args.trajectories, levels=args.levels, seeds=seeds, seed=args.seed,
                  months=args.months, scenarios=scenarios, factors=problem["names"], fixed=fixed)
    config_file = out / "config.json"
    runs_file = out / "runs.csv"
    if config_file.exists() and json.loads(config_file.read_text()) != config:
        print(f"screen_assumptions: error: {out} holds a different screening; use another --out",
              file=sys.stderr)
        return 2
    config_file.write_text(json.dumps(config, indent=1))
    design.to_csv(out / "design.csv")
    table.to_csv(out / "factors.csv", index=False)
    left.to_csv(out / "not_screened.csv", index=False)
    done = set(pd.read_csv(runs_file)["point"]) if runs_file.exists() else set()
    # the design's points, then one at the defaults (DEFAULT_POINT: not in the Morris analysis)
    default_point = len(X)
    tasks = [(i, point_overrides(dict(zip(problem["names"], X[i])), table, base), scenarios, seeds,
              args.months, fixed) for i in range(len(X)) if i not in done]
    if default_point not in done:
        tasks.append((default_point, {}, scenarios, seeds, args.months, fixed))
    print(f"{len(table)} factors, {len(X)} points x {len(seeds)} seeds x {len(scenarios)} scenarios "
          f"= {(len(X) + 1) * len(seeds) * len(scenarios)} runs, the defaults' point included "
          f"({len(done)} points already done)", flush=True)
    start = time.perf_counter()
    header = not runs_file.exists()
    with open(runs_file, "a") as sink:
        def keep(rows):
            nonlocal header
            pd.DataFrame(rows).to_csv(sink, header=header, index=False)
            header = False
            sink.flush()

        if args.workers == 1:
            for n, task in enumerate(tasks, 1):
                keep(run_point(task))
                _progress(n, len(tasks), start)
        else:
            with ProcessPoolExecutor(args.workers) as pool:
                for n, rows in enumerate(pool.map(run_point, tasks), 1):
                    keep(rows)
                    _progress(n, len(tasks), start)
    elapsed = time.perf_counter() - start

    runs = pd.read_csv(runs_file)
    diffs = contrasts(runs, scenarios)
    diffs.to_csv(out / "contrasts.csv", index=False)
    point_means = diffs[diffs.point < default_point].groupby(["contrast", "outcome", "point"])["value"].mean()
    rows = []
    for (contrast, outcome), y in point_means.groupby(level=[0, 1]):
        y = y.droplevel([0, 1]).reindex(range(len(X))).to_numpy()
        res = morris_analyze.analyze(problem, X, y, num_levels=args.levels,
                                     seed=int(root.generate_state(1)[0]))
        for j, name in enumerate(problem["names"]):
            rows.append(dict(contrast=contrast, outcome=outcome, name=name, mu=res["mu"][j],
                             mu_star=res["mu_star"][j], sigma=res["sigma"][j],
                             mu_star_conf=res["mu_star_conf"][j]))
    morris = pd.DataFrame(rows)
    morris.to_csv(out / "morris.csv", index=False, float_format="%.4g")
    result = robustness(diffs, morris, args.z, default_point)
    about = dict(method="Morris screening (SALib) of the assumed parameters",
                 script="scripts/screen_assumptions.py", seed=args.seed, factors=len(table),
                 trajectories=args.trajectories, levels=args.levels, points=len(X),
                 seeds=len(seeds), scenarios=len(scenarios), months=args.months,
                 runs=(len(X) + 1) * len(seeds) * len(scenarios), z=args.z,
                 ranges="x0.5 to x2 of the default clipped to the declared bounds; the declared "
                        "bounds where the default is 0",
                 scenario_settings="a scenario's setting of a screened parameter moves by the "
                                   "same amount as the baseline's")
    write_toml(result, about, out / "robustness.toml")
    (out / "summary.md").write_text(summary(result, morris, about, left))
    print(f"done in {elapsed:.0f} s; {out}/robustness.toml, morris.csv, summary.md")
    return 0


def _progress(n, total, start):
    if n == total or n % max(1, total // 20) == 0:
        rate = (time.perf_counter() - start) / n
        print(f"  {n}/{total} points, {rate:.2f} s a point, ~{rate * (total - n):.0f} s left", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
