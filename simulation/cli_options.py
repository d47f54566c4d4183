"""Option helpers shared by every ``pcsim`` subcommand: argument types, ``--set`` parsing and
the model options; the parser class every subcommand's parser is made with.

Subcommand modules import these from here, never from :mod:`simulation.cli`, which loads the
subcommands (:data:`simulation.cli.COMMAND_MODULES`); this module imports nothing from them.
"""

from __future__ import annotations

import argparse

from .params import PcsimInputError, SCALES, parse_value


class InputError(PcsimInputError):
    """Bad command-line input that no parameter declaration covers (e.g. options that clash)."""


class Parser(argparse.ArgumentParser):
    """The parser of ``pcsim`` and, through ``add_subparsers``, of every subcommand: a usage
    error is one line naming the problem and where the help is (exit status 2), not a usage
    block (which ``--help`` prints)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unrecognised argument is reported by the subcommand it was
        given to (``pcsim run: error: ...``), whose help says what it accepts."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self
            for action in self._actions:
                if isinstance(action, argparse._SubParsersAction):
                    parser = action.choices.get(getattr(namespace, action.dest, None), self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace


def whole_number(name: str, low: int, high: int | None = None, note: str = ""):
    """An argparse type: a whole number in ``[low, high]`` (no upper bound if ``high`` is None),
    refused with a message naming the option, the value and what is allowed."""
    allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{name} = {text!r} is not allowed: expected a whole "
                                             f"number {allowed}{note}")
        return value
    return parse


def positive_int(name):
    """An argparse type: a whole number >= 1."""
    return whole_number(name, 1)


seed_int = whole_number("seed", 0)
seed_int.__doc__ = "An argparse type: a seed, a whole number >= 0."


def parse_sets(items: list[str] | None) -> dict:
    """``--set NAME=VALUE`` pairs, each parsed and checked against its declaration. NAME is a
    scalar parameter or a table cell (``innovations.pdsa.threshold_mean``); a cell's row is
    checked when the scenario's tables are known."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--set {item!r} is not allowed: expected NAME=VALUE (see `pcsim params`)")
        name, text = item.split("=", 1)
        name = name.strip()
        value = parse_value(name, text)
        if name in out and out[name] != value:
            raise InputError(f"--set {name} is given twice with different values, {out[name]!r} "
                             f"and {value!r}: give it once")
        out[name] = value
    return out


def add_model_options(p: argparse.ArgumentParser, months: bool = True) -> None:
    """The options shared by commands that build models (scenario, scale, months, seed, --set)."""
    p.add_argument("--scenario", default="baseline",
                   help="scenario name (see `pcsim scenarios`) or a path to a scenario .toml file "
                        "(default: baseline)")
    p.add_argument("--scale", choices=SCALES, default="county",
                   help="population: county (~80 practices, ~500 GPs) or national "
                        "(~6,300 practices, ~38,000 GPs), both synthetic, or england (every "
                        "practice, GP and PCN from NHS open data, 6,341 practices) (default: county)")
    add_area_option(p)
    if months:
        p.add_argument("--months", type=positive_int("months"), default=120,
                       help="months to simulate (default: 120)")
    p.add_argument("--set", dest="sets", action="append", metavar="NAME=VALUE",
                   help="override a parameter, or a table cell by dotted name (e.g. "
                        "innovations.pdsa.threshold_mean=0.3), repeatable (see `pcsim params`)")


def add_area_option(p: argparse.ArgumentParser) -> None:
    """``--area TEXT``: one ICB, sub-ICB or PCN of an England run (see `pcsim areas`)."""
    p.add_argument("--area", metavar="TEXT",
                   help="with --scale england: run one ICB, sub-ICB or PCN only, by code or name "
                        "(case-insensitive; a unique match is required; see `pcsim areas`)")


def area_of(args):
    """The ``--area`` of a command, checked at once (before anything runs): an
    :class:`simulation.england.Area`, or None. ``--area`` needs ``--scale england``."""
    text = getattr(args, "area", None)
    if text is None:
        return None
    if args.scale != "england":
        raise InputError(f"--area {text!r} is only for --scale england (got --scale {args.scale}): "
                         "an area is a part of England; add --scale england")
    from .england import find_area
    return find_area(text)
