"""The ``pcsim compare`` and ``pcsim impact`` commands.

Heavy imports (the model, pandas, matplotlib) happen inside the handlers, so that
``pcsim --help`` stays fast. Every input is checked (scenario names and files, parameters,
``--at-month`` against ``--months``) before anything runs or is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import resources
from ..cli_options import (InputError, add_area_option, add_model_options, area_of, parse_sets,
                           positive_int, seed_int)
from ..params import SCALES

COMPARE_EPILOG = """examples:
  pcsim compare baseline high_pressure bottom_up --replicates 20
  pcsim compare baseline experiments/scenarios/protected_time.toml --months 60
  pcsim compare baseline top_down_drive --set n_practices=40 --out results/drive-report
  pcsim compare baseline high_pressure --fixed-parameters   # the defaults only: simulation noise
"""

IMPACT_EPILOG = """examples:
  pcsim impact --remove-informal 5 --replicates 20
  pcsim impact --remove-formal 5 --replicates 20
  pcsim impact --scenario bottom_up --add-formal 10 --choose influence --at-month 24
"""


def nonnegative_int(name):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name} = {text!r} is not allowed: expected a whole "
                                             "number >= 0")
        return value
    return parse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="compare scenarios on common random numbers and write a report",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=COMPARE_EPILOG,
        description="Run every scenario for the same replicate seeds (common random numbers) and "
                    "write a new folder with report.html (self-contained), report.md, figures, the "
                    "data behind them (Parquet and CSV) and manifest.json. The first scenario is "
                    "the reference for paired differences.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario names (see `pcsim scenarios`) or paths to scenario .toml files "
                        "that override the baseline; the first is the reference")
    _common(p)
    p.add_argument("--scale", choices=SCALES, default="county",
                   help="population: county, national (synthetic) or england (NHS open data) "
                        "(default: county)")
    add_area_option(p)
    p.add_argument("--months", type=positive_int("months"), default=120,
                   help="months to simulate (default: 120)")
    p.add_argument("--set", dest="sets", action="append", metavar="NAME=VALUE",
                   help="override a parameter in every scenario, repeatable (see `pcsim params`)")
    p.set_defaults(func=cmd_compare)

    p = subparsers.add_parser(
        "impact", help="measure the impact of removing or adding leaders (paired runs)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=IMPACT_EPILOG,
        description="For each replicate, run the scenario to --at-month, copy the run exactly, "
                    "apply the intervention to the copy and continue both to the end; report the "
                    "paired differences (intervention - control) with bootstrap confidence "
                    "intervals, in the same format as `pcsim compare`.")
    add_model_options(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--remove-informal", type=positive_int("--remove-informal"), metavar="K",
                      help="the K most influential informal leaders leave (posts fall vacant)")
    what.add_argument("--remove-formal", type=positive_int("--remove-formal"), metavar="K",
                      help="K formal leaders leave (chosen by --choose, default random)")
    what.add_argument("--add-formal", type=positive_int("--add-formal"), metavar="K",
                      help="K more GPs are appointed formal leaders (chosen by --choose)")
    p.add_argument("--choose", choices=("random", "propensity", "influence"),
                   help="with --remove-formal or --add-formal: which GPs (default: random)")
    p.add_argument("--at-month", type=nonnegative_int("--at-month"), metavar="M",
                   help="month after which the intervention happens (default: half of --months)")
    _common(p)
    p.set_defaults(func=cmd_impact)


def _common(p) -> None:
    p.add_argument("--replicates", type=positive_int("replicates"), default=20,
                   help="replicates (seeds) per scenario (default: 20)")
    p.add_argument("--seed", type=seed_int, default=1,
                   help="root seed; replicate seeds are spawned from it (default: 1)")
    p.add_argument("--out", metavar="DIR",
                   help="report folder to create (default: results/compare-... or results/impact-...)")
    p.add_argument("--fixed-parameters", action="store_true",
                   help="run every replicate on the default parameters, so the intervals cover "
                        "simulation noise only (default: replicate r runs on parameter set r mod K "
                        "of the calibrated ensemble, so they cover parameter uncertainty too; "
                        "docs/calibration.md, 'The ensemble')")
    resources.add_options(p)


def _ensemble(args, command: str):
    """The calibrated ensemble, unless --fixed-parameters (said in one line on stderr)."""
    from .. import ensemble

    if args.fixed_parameters:
        return None
    if args.scale not in ensemble.SCALES_CALIBRATED:  # (ensemble.arm_params would refuse it)
        print(f"pcsim {command}: the calibrated ensemble is the county's; {args.scale} runs use "
              "fixed parameters (the intervals cover simulation noise only)", file=sys.stderr,
              flush=True)
        return None
    sets = ensemble.load()
    print(f"pcsim {command}: replicate r runs on parameter set r mod {len(sets)} of the calibrated "
          "ensemble (--fixed-parameters: the defaults only)", file=sys.stderr, flush=True)
    return sets


def _fixed_text(args) -> list[str]:
    return ["--fixed-parameters"] if args.fixed_parameters else []


def _progress(command: str):
    return lambda text: print(f"pcsim {command}: {text}", file=sys.stderr, flush=True)


def _sets_text(sets) -> list[str]:
    return [part for item in sets or [] for part in ("--set", item)]


def cmd_compare(args) -> int:
    from .. import output
    from . import document, study

    overrides = parse_sets(args.sets)
    area = area_of(args)
    arms = study.resolve_arms(args.scenarios, args.scale, overrides, area)  # refuse bad input first
    resources.check_counts(months=args.months, replicates=args.replicates, label="--")
    for arm in arms:
        resources.check_memory(arm.params, what=f"scenario {arm.label}")
    name = ("compare-" + "-".join(a.label for a in arms)[:80] + f"-{args.scale}"
            + (f"-{area.code}" if area else ""))
    folder = output.preflight(output.new_folder_path(name, args.out), "report folder")
    command = " ".join(["pcsim", "compare", *args.scenarios, "--replicates", str(args.replicates),
                        "--months", str(args.months), "--seed", str(args.seed), "--scale",
                        args.scale, *(["--area", area.code] if area else []),
                        *_sets_text(args.sets), *_fixed_text(args)])
    _warn_few_replicates("compare", args.replicates)
    t0 = time.perf_counter()
    result = study.run_compare(args.scenarios, args.replicates, args.months, args.seed, args.scale,
                               overrides, progress=_progress("compare"), area=area,
                               ensemble=_ensemble(args, "compare"))
    document.write(result, folder, command)
    _report_done("compare", folder, time.perf_counter() - t0)
    return 0


def cmd_impact(args) -> int:
    from .. import output
    from . import document, study
    from .interventions import Intervention

    overrides = parse_sets(args.sets)
    if args.remove_informal is not None:
        if args.choose is not None:
            raise InputError("--choose applies to --remove-formal and --add-formal; the informal "
                             "leaders removed are always the most influential")
        intervention = Intervention("remove_informal", args.remove_informal)
    elif args.remove_formal is not None:
        intervention = Intervention("remove_formal", args.remove_formal, args.choose or "random")
    else:
        intervention = Intervention("add_formal", args.add_formal, args.choose or "random")
    at_month = args.months // 2 if args.at_month is None else args.at_month
    if not at_month < args.months:
        raise InputError(f"--at-month = {at_month} is not allowed: expected a whole number in "
                         f"[0, {args.months - 1}] (before the last month, --months {args.months})")
    area = area_of(args)
    arm, = study.resolve_arms([args.scenario], args.scale, overrides, area)  # refuse bad input first
    resources.check_counts(months=args.months, replicates=args.replicates, label="--")
    # the control run and its intervened copy are in memory at once
    resources.check_memory(arm.params, copies=2, what=f"scenario {arm.label}")
    folder = output.preflight(output.new_folder_path(
        f"impact-{intervention.slug()}-{Path(args.scenario).stem}-m{at_month}", args.out),
        "report folder")
    flag = {"remove_informal": "--remove-informal", "remove_formal": "--remove-formal",
            "add_formal": "--add-formal"}[intervention.kind]
    command = " ".join(["pcsim", "impact", "--scenario", args.scenario, flag, str(intervention.k)]
                       + ([] if intervention.kind == "remove_informal"
                          else ["--choose", intervention.choose])
                       + ["--at-month", str(at_month), "--replicates", str(args.replicates),
                          "--months", str(args.months), "--seed", str(args.seed), "--scale",
                          args.scale, *(["--area", area.code] if area else []),
                          *_sets_text(args.sets), *_fixed_text(args)])
    _warn_few_replicates("impact", args.replicates)
    t0 = time.perf_counter()
    result = study.run_impact(args.scenario, intervention, at_month, args.replicates, args.months,
                              args.seed, args.scale, overrides, progress=_progress("impact"),
                              area=area, ensemble=_ensemble(args, "impact"))
    if result.extra["shortfall"]:
        print(f"pcsim impact: warning: {result.extra['shortfall']}", file=sys.stderr, flush=True)
    document.write(result, folder, command)
    _report_done("impact", folder, time.perf_counter() - t0)
    return 0


def _warn_few_replicates(command: str, replicates: int) -> None:
    """One line on stderr when the report will have too few replicates for intervals."""
    from . import stats

    if not stats.intervals_meaningful(replicates):
        print(f"pcsim {command}: warning: only {stats.replicates_text(replicates)}: intervals are "
              f"not meaningful with fewer than {stats.MIN_REPLICATES}, so the report shows none "
              f"(use --replicates {stats.MIN_REPLICATES} or more)", file=sys.stderr, flush=True)


def _report_done(command: str, folder: Path, seconds: float) -> None:
    print(f"pcsim {command}: report written in {seconds:.1f} s")
    print(f"report: {folder / 'report.html'}")
    print(f"        {folder / 'report.md'}")
