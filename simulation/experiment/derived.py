"""Derived outcomes and stop conditions: small expressions over a run's reporters.

A derived outcome is computed per run from the whole monthly time series (not the thinned one
the store keeps), e.g.::

    t_half   = "time_to(complex_adoption, 0.5)"    # first month complex_adoption >= 0.5
    auc_plan = "auc(federations_with_plan)"        # area under the curve (share x months)
    gap      = "informal_leaders - formal_leaders" # at the last month

A bare name is the run's summary value of that outcome (the last month's reporter, or a run
total such as ``leavers_total``), or an earlier derived outcome of the same experiment. The
series functions take a reporter's name as their first argument:

* ``time_to(x, level[, never])``: the first month with ``x >= level`` (``never``, default NaN,
  when no month does: the run is censored at its last month);
* ``time_below(x, level[, never])``: the first month with ``x <= level``;
* ``auc(x)``: the area under ``x`` over months 0 to the end (trapezoid rule), in x-units x months;
* ``peak(x)``, ``trough(x)``: the largest and smallest value; ``peak_month(x)``: the first month
  of the largest; ``mean(x)``: the mean over months 0 to the end;
* ``at(x, month)``: the value at a month (NaN if the run ended earlier, e.g. by ``stop_when``).

Scalar functions: ``abs``, ``min``, ``max``, ``sqrt``, ``log``, ``exp``. Operators: ``+ - * /
** %``, unary minus, comparisons (``<``, ``>=``, ``==``... giving 1.0 or 0.0, chained too), ``and``,
``or``, ``not``. Division by zero gives NaN or infinity (IEEE), never an error. Expressions are
parsed with :mod:`ast` and only these node types are accepted: there is no attribute access,
subscript, call of anything else or name outside the run's outcomes, so an experiment file cannot
run code.

A stop condition (``[run] stop_when``) is the same language without series functions, over the
reporters of the month just simulated; it is checked after every month.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..params import PcsimInputError


class ExpressionError(PcsimInputError):
    """An expression that uses something the language does not allow."""


def _first(mask: np.ndarray, months: np.ndarray, never: float) -> float:
    hits = np.flatnonzero(mask)
    return float(months[hits[0]]) if len(hits) else float(never)


def _at(values, months, month):
    hit = np.flatnonzero(months == month)
    return float(values[hit[0]]) if len(hit) else math.nan


# name -> (function of (values, months, *scalars), min scalars, max scalars)
SERIES_FUNCTIONS: dict[str, tuple[Callable, int, int]] = {
    "time_to": (lambda v, m, level, never=math.nan: _first(v >= level, m, never), 1, 2),
    "time_below": (lambda v, m, level, never=math.nan: _first(v <= level, m, never), 1, 2),
    "auc": (lambda v, m: float(np.trapezoid(v, m)) if len(v) > 1 else 0.0, 0, 0),
    "peak": (lambda v, m: float(np.max(v)), 0, 0),
    "trough": (lambda v, m: float(np.min(v)), 0, 0),
    "peak_month": (lambda v, m: float(m[int(np.argmax(v))]), 0, 0),
    "mean": (lambda v, m: float(np.mean(v)), 0, 0),
    "at": (_at, 1, 1),
}
SCALAR_FUNCTIONS: dict[str, tuple[Callable, int, int]] = {
    "abs": (abs, 1, 1), "min": (min, 2, 8), "max": (max, 2, 8),
    "sqrt": (lambda x: math.sqrt(x) if x >= 0 else math.nan, 1, 1),
    "log": (lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan), 1, 1),
    "exp": (lambda x: math.exp(min(x, 700.0)), 1, 1),
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: "div", ast.Pow: "pow", ast.Mod: "mod"}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _divide(a: float, b: float, how: str) -> float:
    with np.errstate(all="ignore"):
        x, y = np.float64(a), np.float64(b)
        return float({"div": np.divide, "pow": np.power, "mod": np.mod}[how](x, y))


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree, and the names it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]
    series: frozenset[str]  # reporters read through series functions

    def evaluate(self, values: Mapping[str, float], series: Mapping[str, np.ndarray] | None = None,
                 months: np.ndarray | None = None) -> float:
        """The value for one run: ``values`` by name, ``series`` of reporters by month."""
        return float(_eval(self.tree.body, values, series or {}, months))


def parse(text: Any, names, series_names=(), where: str = "expression") -> Expression:
    """Check an expression; ``names`` may appear bare, ``series_names`` inside series functions
    (none: a stop condition). Raises :class:`ExpressionError` with one line on the first problem."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{where} = {text!r} is not allowed: expected an expression in a "
                              "string, e.g. \"time_to(complex_adoption, 0.5)\"")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"{where} = {text!r} is not an expression: {err.msg}") from None
    names, series_names = set(names), set(series_names)
    used, used_series = set(), set()

    def fail(message):
        raise ExpressionError(f"{where} = {text!r}: {message}")

    def unknown(name, valid, what):
        close = difflib.get_close_matches(name, sorted(valid), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        fail(f"unknown {what} {name!r}.{hint}")

    def check(node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                fail(f"{node.value!r} is not allowed: only numbers")
        elif isinstance(node, ast.Name):
            if node.id not in names:
                unknown(node.id, names, "outcome")
            used.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                fail(f"the operator {type(node.op).__name__} is not allowed (use + - * / ** %)")
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
                fail(f"the operator {type(node.op).__name__} is not allowed")
            check(node.operand)
        elif isinstance(node, ast.Compare):
            if any(type(op) not in _COMPARE for op in node.ops):
                fail("only the comparisons < <= > >= == != are allowed")
            for sub in (node.left, *node.comparators):
                check(sub)
        elif isinstance(node, ast.BoolOp):
            for sub in node.values:
                check(sub)
        elif isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else None
            allowed_calls = {*SCALAR_FUNCTIONS, *(SERIES_FUNCTIONS if series_names else ())}
            if func is None or func not in allowed_calls:
                unknown(func or ast.unparse(node.func), allowed_calls, "function")
            if node.keywords:
                fail(f"{func}() takes positional arguments only")
            args = node.args
            if func in SERIES_FUNCTIONS:
                _, low, high = SERIES_FUNCTIONS[func]
                if not args or not isinstance(args[0], ast.Name):
                    fail(f"{func}() needs a reporter's name first, e.g. {func}(complex_adoption"
                         + (", 0.5)" if low else ")"))
                if args[0].id not in series_names:
                    unknown(args[0].id, series_names, f"reporter (a monthly outcome) in {func}()")
                used_series.add(args[0].id)
                args = args[1:]
            else:
                _, low, high = SCALAR_FUNCTIONS[func]
            if not low <= len(args) <= high:
                count = f"{low}" if low == high else f"{low} to {high}"
                extra = " after the reporter" if func in SERIES_FUNCTIONS else ""
                fail(f"{func}() takes {count} number argument(s){extra}, got {len(args)}")
            for sub in args:
                check(sub)
        else:
            fail(f"{type(node).__name__} is not allowed (numbers, outcome names, arithmetic, "
                 f"comparisons and the functions {', '.join([*SERIES_FUNCTIONS, *SCALAR_FUNCTIONS])})")

    check(tree.body)
    return Expression(text.strip(), tree, frozenset(used), frozenset(used_series))


def _eval(node, values, series, months):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.BinOp):
        op = _BINARY[type(node.op)]
        a, b = _eval(node.left, values, series, months), _eval(node.right, values, series, months)
        return _divide(a, b, op) if isinstance(op, str) else op(a, b)
    if isinstance(node, ast.UnaryOp):
        x = _eval(node.operand, values, series, months)
        return -x if isinstance(node.op, ast.USub) else (float(not x) if isinstance(node.op, ast.Not) else x)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values, series, months)
        for op, sub in zip(node.ops, node.comparators):
            right = _eval(sub, values, series, months)
            if not _COMPARE[type(op)](left, right):
                return 0.0
            left = right
        return 1.0
    if isinstance(node, ast.BoolOp):
        results = (_eval(sub, values, series, months) for sub in node.values)
        truth = all(bool(r) for r in results) if isinstance(node.op, ast.And) else any(bool(r) for r in results)
        return float(truth)
    func = node.func.id
    if func in SERIES_FUNCTIONS:
        fn = SERIES_FUNCTIONS[func][0]
        scalars = [_eval(a, values, series, months) for a in node.args[1:]]
        return fn(series[node.args[0].id], months, *scalars)
    return float(SCALAR_FUNCTIONS[func][0](*(_eval(a, values, series, months) for a in node.args)))


# --- derived outcomes of a run -----------------------------------------------------------------

def check_outcomes(expressions: Mapping[str, Any], summary_names, series_names,
                   where: str = "outcomes") -> dict[str, Expression]:
    """Check every derived outcome in order: each may use the run's outcomes and the derived
    outcomes before it. A name must be new (not an outcome of the model) and an identifier."""
    known, out = set(summary_names), {}
    for name, text in expressions.items():
        if not name.isidentifier():
            raise ExpressionError(f"{where}.{name}: a derived outcome's name must be an identifier "
                                  "(letters, digits and '_', not starting with a digit)")
        if name in known:
            raise ExpressionError(f"{where}.{name}: {name!r} is already an outcome; choose another name")
        out[name] = parse(text, known, series_names, where=f"{where}.{name}")
        known.add(name)
    return out


def derive(timeseries: pd.DataFrame, expressions: Mapping[str, Any],
           summary: Mapping[str, float] | None = None) -> dict[str, float]:
    """The derived outcomes of one run from its monthly time series (the model's
    ``timeseries()``): ``{name: value}`` in order. ``expressions`` maps names to text (checked
    here) or to :class:`Expression` objects; ``summary`` defaults to
    :func:`simulation.metrics.summarise` of the series.

    >>> model = PrimaryCareModel(rng=1); model.run(60)                 # doctest: +SKIP
    >>> derive(model.timeseries(), {"t_half": "time_to(complex_adoption, 0.5)"})   # doctest: +SKIP
    """
    from .. import metrics

    values = dict(metrics.summarise(timeseries) if summary is None else summary)
    reporters = [c for c in timeseries.columns if c != "month"]
    if not all(isinstance(e, Expression) for e in expressions.values()):
        expressions = check_outcomes(expressions, values, reporters, where="derived")
    months = timeseries["month"].to_numpy(dtype=float)
    needed = set().union(*(e.series for e in expressions.values())) if expressions else set()
    series = {name: timeseries[name].to_numpy(dtype=float) for name in needed}
    out = {}
    for name, expression in expressions.items():
        out[name] = values[name] = expression.evaluate(values, series, months)
    return out


def stop_condition(text: Any, reporters, where: str = "stop_when") -> Expression:
    """Check a stop condition over the reporters of one month."""
    return parse(text, reporters, (), where=where)
