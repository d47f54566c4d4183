"""The ``pcsim`` command.

Every subcommand has ``--help``. Bad input of any kind (an unknown or out-of-range parameter, an
unknown scenario, a malformed file) prints one line naming what is wrong and what is allowed,
exits with status 2, and leaves no results folder behind.

Subcommands added by other modules register through :data:`COMMAND_MODULES`: each module has a
``register(subparsers)`` function and keeps heavy imports inside its handlers, so that
``pcsim --help`` and ``pcsim run`` start quickly. They take the shared option helpers from
:mod:`simulation.cli_options`, never from this module (which imports them).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

from .cli_options import (  # noqa: F401  (re-exported for code that imports them from here)
    InputError, Parser, add_model_options, area_of, parse_sets, positive_int, seed_int,
)
from . import resources
from .interrupts import EXIT_INTERRUPTED, is_interrupt
from .params import (
    BASES, TABLES, PcsimInputError, SPECS, allowed, cell_names, scalar_fields, spec,
)

COMMAND_MODULES = (
    "simulation.experiment.cli",
    "simulation.report.cli",
    "simulation.app_cli",
    "simulation.validate",
)

EPILOG = """examples:
  pcsim run                                  county baseline, 120 months, results/run-...
  pcsim run --scenario high_pressure --seed 7 --set leadership_drive=0.2
  pcsim run --set innovations.pdsa.threshold_mean=0.3 --set styles.servant.reach=1.2
  pcsim run --scale national --months 120
  pcsim run --scale england --area "NHS Derby and Derbyshire ICB"
  pcsim areas --level icb                    England's ICBs with practices, GPs and patients
  pcsim params                               every parameter with default, bounds and unit
  pcsim scenarios                            the shipped scenarios
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="pcsim", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="pcsim: agent-based simulation of leadership, autonomy and innovation in "
                    "primary care (GPs, practices and federations on Mesa).")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"pcsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="run one simulation and write its results folder",
                       description="Run one simulation and write a new folder with timeseries, "
                                   "GP and practice tables, a dashboard figure and a manifest.")
    add_model_options(p)
    p.add_argument("--seed", type=seed_int, default=1, help="root random seed (default: 1)")
    p.add_argument("--network", metavar="FILE",
                   help="edge-list CSV (source,target[,weight]) to use instead of synthetic ties")
    p.add_argument("--membership", metavar="FILE",
                   help="with --network: CSV gp,practice[,federation] (default: each GP its own practice)")
    p.add_argument("--engine", choices=("fast", "reference"), default="fast",
                   help="fast (vectorised, default) or reference (per-agent, slow, same results)")
    p.add_argument("--out", metavar="DIR", help="results folder to create (default: results/run-...)")
    resources.add_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("params", help="list every parameter with default, bounds, unit and description",
                       description="List every parameter: the scalars, then every cell of the "
                                   "innovation and style tables by dotted name "
                                   "(innovations.ROW.COLUMN, styles.ROW.COLUMN), each accepted "
                                   "by --set, scenario and experiment files.")
    p.add_argument("--group", help="only this group (population, network, centre, ..., "
                                   "innovations, styles)")
    p.add_argument("--basis", choices=BASES,
                   help="only the parameters whose number is sourced (from a cited source), "
                        "calibrated (docs/calibration.md) or assumed (by the modeller)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (as in docs/ODD.md)")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("scenarios", help="list the shipped scenarios with their descriptions")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("areas", help="list England's ICBs, sub-ICBs and PCNs (for --area)",
                       description="List the areas an England run can be restricted to (--scale "
                                   "england --area TEXT) with their practices, GPs and patients, "
                                   "from the shipped NHS open data (OGL v3.0).")
    p.add_argument("--search", metavar="TEXT", help="only areas whose code or name contains TEXT "
                                                     "(case-insensitive)")
    p.add_argument("--level", choices=("icb", "sub-icb", "pcn"), help="only this level")
    p.set_defaults(func=cmd_areas)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):  # not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``pcsim`` command. Bad input: one line, status 2. Ctrl-C at any moment (even
    while a compiled kernel runs, when it reaches Python as a SystemError caused by the
    KeyboardInterrupt): one line, ``pcsim COMMAND: interrupted``, status 130, no traceback;
    results folders are renamed into place only when complete, so none is left half-written."""
    from .entry import command_name
    # Commands draw figures only to files: matplotlib's file back end, unless the user chose
    # one (the library itself leaves the choice alone, so that notebooks show figures inline).
    os.environ.setdefault("MPLBACKEND", "Agg")
    command = command_name(sys.argv[1:] if argv is None else argv)  # until the parser says
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = f"pcsim {args.command}"
        with resources.apply(args):
            return int(args.func(args) or 0)
    except PcsimInputError as err:
        print(f"{command}: error: {err}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as err:
        if not is_interrupt(err):
            raise
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def console(argv: list[str] | None = None) -> int:
    """The ``pcsim`` command: :func:`main` in a process of its own, which is about to end. Its
    objects are then left to the operating system: frozen (``gc.freeze``), the garbage
    collector does not walk them all again as the interpreter shuts down (0.3-0.4 s once Mesa,
    numba and a model are in memory). Exit handlers still run, and every file is already
    written and closed. A second Ctrl-C while :func:`main` reports the first one ends the
    command as quietly, with the same status."""
    try:
        return main(argv)
    except (KeyboardInterrupt, SystemError) as err:
        if not is_interrupt(err):
            raise
        return EXIT_INTERRUPTED
    finally:
        gc.freeze()


# --- commands --------------------------------------------------------------------------------

def cmd_run(args) -> int:
    from . import output
    from .model import PrimaryCareModel

    overrides = parse_sets(args.sets)
    if args.membership and not args.network:
        raise InputError("--membership needs --network")
    area = area_of(args)
    if args.network and args.scale == "england":
        raise InputError("--network replaces the synthetic population; --scale england is the "
                         "real one: give one or the other")
    resources.check_counts(months=args.months, label="--")
    if not args.network:  # refuse a population too large for memory before building anything
        from .model import build_params
        resources.check_memory(build_params(args.scenario, args.scale, area=area, **overrides))
    where = f"-{area.code}" if area else ""
    folder = output.new_folder_path(
        f"run-{Path(args.scenario).stem}-{args.scale}{where}-seed{args.seed}", args.out)
    output.preflight(folder)
    t0 = time.perf_counter()
    model = PrimaryCareModel(scenario=args.scenario, scale=args.scale, network=args.network,
                             membership=args.membership, rng=args.seed, engine=args.engine,
                             area=area, **overrides)
    model.run(args.months)
    elapsed = time.perf_counter() - t0
    write_run(model, folder, elapsed, args)
    print_summary(model, elapsed)
    print(f"results: {folder}")
    return 0


def write_run(model, folder: Path, elapsed: float, args=None) -> Path:
    """Write a run's tables, dashboard and manifest to a new folder (atomically)."""
    from . import output, plots

    ts = model.timeseries()
    with output.atomic_folder(folder) as tmp:
        ts.to_parquet(tmp / "timeseries.parquet", index=False)
        ts.to_csv(tmp / "timeseries.csv", index=False)
        model.gp_table().to_parquet(tmp / "gps.parquet", index=False)
        model.practice_table().to_parquet(tmp / "practices.parquet", index=False)
        model.federation_table().to_parquet(tmp / "federations.parquet", index=False)
        plots.dashboard(ts, [i.name for i in model.params.innovations],
                        f"pcsim: {model.scenario_name}, {model.scale}, seed {model.seed}",
                        tmp / "dashboard.png")
        output.write_json(tmp / "manifest.json", output.manifest(
            scenario=model.scenario_name, scale=model.scale, seed=model.seed,
            months=int(model.month), engine=model.engine_name,
            network=getattr(args, "network", None), membership=getattr(args, "membership", None),
            seconds=round(elapsed, 3), params=model.params.to_dict(),
            **(_england_manifest(model) if model.scale == "england" else {}),
            gps=model.state.n_gps, practices=model.state.n_practices,
            federations=model.state.n_federations))
    return folder


def _england_manifest(model) -> dict:
    from .england import ATTRIBUTION, START

    area = model.area
    return dict(area=None if area is None else dict(level=area.level, code=area.code, name=area.name),
                start=START, data_attribution=ATTRIBUTION)


def print_summary(model, elapsed: float) -> None:
    """The run's headline outcomes at its last month (a flow as its run total), then each
    innovation's use, labelled and formatted as the registry (:mod:`simulation.metrics`) says."""
    from . import metrics

    obs = model.observation
    s = model.state
    print(f"pcsim run: {model.scenario_name}, {model.scale} scale, seed {model.seed}: "
          f"{s.n_gps} GP posts, {s.n_practices} practices, {s.n_federations} federations, "
          f"{model.month} months in {elapsed:.2f} s")
    if model.scale == "england":
        from .england import START
        print(f"England from NHS open data (OGL v3.0), month 0 = {START}"
              + (f"; area: {model.area.label()}" if model.area else ""))
    totals = metrics.summarise(model.timeseries())
    rows = []
    for o in metrics.headline():
        total = metrics.total_of(o.name)
        rows.append((total.short, total.format(totals[total.name])) if total else
                    (o.short, o.format(obs[o.name])))
    used = [o for o in metrics.innovation_outcomes(i.name for i in model.params.innovations)
            if o.name.startswith("adoption_")]
    if used:
        rows.append(("QI methods used (genuine or shallow)", ""))
        rows += [(f"  {o.short}", o.format(obs[o.name])) for o in used]
    width = max(len(name) for name, value in rows if value)  # a heading may run over
    print(f"\n{'after ' + str(model.month) + ' months':<{width}}  value")
    for name, value in rows:
        print(f"{name:<{width}}  {value}".rstrip())
    print()


def cmd_params(args) -> int:
    specs = [SPECS[f.name] for f in scalar_fields()] + [spec(n) for n in cell_names()]
    if args.group:
        groups = list(dict.fromkeys(s["group"] for s in specs))
        if args.group not in groups:
            raise InputError(f"--group {args.group!r} is not allowed: expected one of {', '.join(groups)}")
        specs = [s for s in specs if s["group"] == args.group]
    if args.basis:
        specs = [s for s in specs if s["basis"] == args.basis]
    if args.markdown:
        print(params_markdown(specs))
        return 0
    group = None
    for s in specs:
        if s["group"] != group:
            group = s["group"]
            print(f"\n[{group}]")
            if group in TABLES:
                print(f"  table cells {group}.ROW.COLUMN (in a scenario TOML also as whole rows, "
                      f"[{group}.ROW]); the columns:")
                for column, c in TABLES[group].FIELD_SPECS.items():
                    unit = f" ({c['unit']})" if c["unit"] else ""
                    print(f"    {column}{unit}   allowed: {allowed(f'{group}.ROW.{column}')}")
                    print(f"        {c['doc']}")
                print(f"  Source: {s['source']}. The default cells:")
        unit = f" {s['unit']}" if s["unit"] else ""
        if s["group"] in TABLES:
            print(f"  {s['name']} = {s['default']!r}{unit}   [{s['basis']}] {_basis_note(s)}".rstrip())
            continue
        print(f"  {s['name']} = {s['default']!r}{unit}   allowed: {allowed(s['name'])}   [{s['basis']}]")
        print(f"      {s['doc']}" + (f" Source: {s['source']}." if s["source"] else ""))
        if _basis_note(s):
            print(f"      {_basis_note(s)}")
    return 0


def _basis_note(s) -> str:
    """What a parameter's label rests on: the number taken from its source, or the reasoning."""
    if s["basis"] == "sourced":
        return f"Number from the source: {s['source_value']}."
    if s["basis"] == "assumed":
        return f"Assumed: {s['reasoning']}."
    return "Calibrated: docs/calibration.md." if s["group"] in TABLES else ""


def params_markdown(specs=None) -> str:
    specs = specs or [SPECS[f.name] for f in scalar_fields()]
    lines = ["| name | group | default | allowed | unit | description | basis | source |",
             "|---|---|---|---|---|---|---|---|"]
    for s in specs:
        source = "; ".join(x for x in (s["source"] if s["group"] not in TABLES else "",
                                       _basis_note(s)) if x)
        lines.append(f"| `{s['name']}` | {s['group']} | {s['default']!r} | {allowed(s['name'])} | "
                     f"{s['unit']} | {s['doc']} | {s['basis']} | {source} |")
    return "\n".join(lines)


def cmd_areas(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from . import england

    rows = england.areas(args.level, args.search)
    if rows.empty:
        raise InputError(f"--search {args.search!r}: no area's code or name contains it"
                         + (f" at level {args.level}" if args.level else ""))
    table = Table(title=f"England: {len(rows):,} area(s)", caption=england.ATTRIBUTION)
    for name, justify in (("level", "left"), ("code", "left"), ("name", "left"), ("ICB", "left"),
                          ("practices", "right"), ("GPs", "right"), ("partners", "right"),
                          ("patients", "right")):
        table.add_column(name, justify=justify)
    for r in rows.itertuples():
        table.add_row(r.level, r.code, r.name, r.icb_code, f"{r.practices:,}", f"{r.gps:,}",
                      f"{r.partners:,}", f"{r.patients:,}")
    Console(width=max(Console().width, 120)).print(table)
    return 0


def cmd_scenarios(args) -> int:
    from . import scenarios

    for name in scenarios.names():
        sc = scenarios.load(name)
        changes = ", ".join(f"{k}={v}" for k, v in sc.overrides.items()
                            if k not in ("innovations", "styles")) or "(no changes)"
        print(f"{name}\n    {sc.description}\n    changes: {changes}")
        for table in ("innovations", "styles"):
            if table in sc.overrides:
                print(f"    {table}: {', '.join(sc.overrides[table])}")
    return 0


if __name__ == "__main__":
    sys.exit(console())
