"""The command ``pcsim validate``: run every check (:func:`~.checks.validate`), print the table,
write the results folder, and exit 1 if any check fails."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from .checks import Check, Outcome
from .figures import figures
from .runs import Plan


def table(checks: list[Check]):
    """The checks as a pandas DataFrame (one row per check)."""
    import pandas as pd

    return pd.DataFrame([asdict(c) for c in checks])


def format_table(checks: list[Check], width: int = 60) -> str:
    """A plain-text table: check, target, source, simulated value with interval, pass/fail."""
    def cut(text, n):
        return text if len(text) <= n else text[: n - 1] + "…"

    head = ("check", "target", "source", "simulated [interval]", "result")
    widths = (48, 46, 40, width, 6)
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for c in checks:
        cells = (f"{c.id} {c.name}", c.target, c.source, c.simulated, "pass" if c.passed else "FAIL")
        lines.append("  ".join(cut(s, w).ljust(w) for s, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)



def markdown_table(checks: list[Check]) -> str:
    """The checks as a Markdown table (as pasted into docs/validation.md)."""
    esc = lambda text: str(text).replace("|", "\\|")
    lines = ["| check | target | source | simulated [interval] | result |", "|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.id} {esc(c.name)} | {esc(c.target)} | {esc(c.source)} | "
                     f"{esc(c.simulated)} | {'pass' if c.passed else '**FAIL**'} |")
    return "\n".join(lines) + "\n"


def write_results(outcome: Outcome, folder: Path, plan: Plan, seed: int, seconds: float,
                  draw=None) -> Path:
    """Table (CSV, Parquet), the data behind the checks (Parquet), figures and manifest, in a
    new folder built atomically. ``plan`` is a :class:`Plan` or a dict (the England
    validation's); ``draw(outcome, folder)`` writes the figures (default: the county's)."""
    from dataclasses import is_dataclass

    from .. import output

    with output.atomic_folder(folder) as tmp:
        t = table(outcome.checks)
        t.to_csv(tmp / "validation.csv", index=False)
        t.to_parquet(tmp / "validation.parquet", index=False)
        (tmp / "validation.md").write_text(markdown_table(outcome.checks))
        for name, frame in outcome.data.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        (draw or figures)(outcome, tmp)
        output.write_json(tmp / "manifest.json", output.manifest(
            seed=seed, plan=asdict(plan) if is_dataclass(plan) else plan, seconds=round(seconds, 2), parts=outcome.seconds,
            checks=len(outcome.checks), failed=[c.id for c in outcome.checks if not c.passed]))
    return folder


def register(subparsers) -> None:
    """Add ``pcsim validate`` to the command line."""
    from ..cli_options import positive_int, seed_int

    p = subparsers.add_parser(
        "validate", help="verify the model against known answers and validate the baseline "
                         "against published patterns",
        description="Run every verification and validation check, print the table (check, "
                    "target, source, simulated value with interval, pass/fail), write it with "
                    "figures to a new results folder, and exit 1 if any check fails.")
    p.add_argument("--quick", action="store_true",
                   help="a smaller subset that runs in well under a minute (used by the tests)")
    p.add_argument("--replicates", type=positive_int("replicates"),
                   help="replicate runs per pattern (default: 20)")
    p.add_argument("--seed", type=seed_int, default=1, help="root random seed (default: 1)")
    p.add_argument("--out", metavar="DIR", help="results folder to create (default: results/validate-...)")
    p.add_argument("--scale", choices=("county", "england"), default="county",
                   help="county (default): every check on the county baseline; england: the "
                        "patterns that apply nationally and the NHS workforce trend on England "
                        "(24 months from April 2023; docs/validation.md)")
    p.add_argument("--area", metavar="TEXT",
                   help="with --scale england: one ICB, sub-ICB or PCN (code or name) instead of "
                        "all of England")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    """Run ``pcsim validate``; 1 if any check fails, else 0."""
    import sys

    from .. import output
    # the package's names, so that replacing simulation.validate.validate (or write_results)
    # replaces what the command runs
    from .. import validate as package

    if args.scale == "england" or args.area is not None:
        return cmd_validate_england(args)
    plan = Plan.quick(args.replicates or 20) if args.quick else Plan.full(args.replicates or 20)
    folder = output.preflight(
        output.new_folder_path("validate-quick" if args.quick else "validate", args.out))
    t0 = time.perf_counter()
    outcome = package.validate(plan, args.seed, progress=lambda msg: print(
        f"pcsim validate: {msg}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    package.write_results(outcome, folder, plan, args.seed, seconds)
    return _report(outcome, folder, f"{'quick' if args.quick else 'full'}, {plan.replicates} "
                   f"replicates, seed {args.seed}, {seconds:.0f} s")


def _report(outcome, folder, detail: str) -> int:
    """The checks' table, the one-line verdict (with ``detail`` in brackets) and the folder;
    1 if any check failed."""
    print(format_table(outcome.checks))
    failed = [c for c in outcome.checks if not c.passed]
    print(f"\n{len(outcome.checks) - len(failed)} of {len(outcome.checks)} checks passed"
          + (f"; failed: {', '.join(c.id for c in failed)}" if failed else "") + f" ({detail})")
    print(f"results: {folder}")
    return 1 if failed else 0


def cmd_validate_england(args) -> int:
    """``pcsim validate --scale england [--area TEXT]``: the national patterns and the
    workforce trend (:mod:`.england`); 1 if any check fails, 2 on bad input."""
    import sys

    from .. import output
    from ..params import PcsimInputError
    from . import england as national

    if args.scale != "england":
        raise PcsimInputError(f"area = {args.area!r} is not allowed with scale = "
                              f"{args.scale!r}: an area is a part of England, so it needs "
                              "--scale england")
    area = None
    if args.area is not None:
        from .. import england

        area = england.find_area(args.area)
    replicates = args.replicates or (ENGLAND_QUICK_REPLICATES if args.quick else 20)
    name = "validate-england" + ("-quick" if args.quick else "")
    folder = output.preflight(output.new_folder_path(name, args.out))
    t0 = time.perf_counter()
    outcome = national.validate_england(replicates, args.seed, area, progress=lambda msg: print(
        f"pcsim validate: {msg}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    plan = dict(scale="england", area=None if area is None else area.label(),
                months=national.MONTHS, replicates=replicates)

    def draw(outcome, tmp):
        from .figures import _pyplot

        fig = national.partner_share_figure(outcome.data, area)
        fig.savefig(tmp / "validation_england_partner_share.png", dpi=110)
        _pyplot().close(fig)

    write_results(outcome, folder, plan, args.seed, seconds, draw)
    where = "all of England" if area is None else area.label()
    return _report(outcome, folder, f"{where}, {national.MONTHS} months, {replicates} replicates, "
                   f"seed {args.seed}, {seconds:.0f} s")


#: replicates of ``--scale england --quick``: all of England (~36,000 GPs) varies little
#: between seeds (partner share by < 0.002), so a few suffice to run the checks end to end
ENGLAND_QUICK_REPLICATES = 5
