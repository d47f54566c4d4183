"""Named scenarios: TOML files of a description plus overrides of the baseline.

A scenario file has a ``title`` (a few words naming it in reports; default: its name in
words), a ``description`` string and a ``[params]`` table (scalar parameters,
table cells by quoted dotted name such as ``"innovations.pdsa.threshold_mean" = 0.3``, and
``[params.innovations.NAME]`` / ``[params.styles.NAME]`` rows), or, for innovations and styles,
top-level ``[innovations.NAME]`` / ``[styles.NAME]`` tables. A user's own file (any path ending
in ``.toml``) works the same way and inherits from the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..params import PcsimInputError, parse_toml, read_toml, table_of


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    overrides: dict[str, Any]
    path: str
    title: str = ""


def names() -> list[str]:
    files = resources.files(__name__).iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def load(name_or_path: str) -> Scenario:
    """A shipped scenario by name, or a user's TOML file by path."""
    if str(name_or_path).endswith(".toml") or "/" in str(name_or_path):
        path = Path(name_or_path)
        data = read_toml(path, "scenario file")
        name = path.stem
    elif name_or_path in names():
        res = resources.files(__name__).joinpath(f"{name_or_path}.toml")
        name, path = name_or_path, f"simulation/scenarios/{name_or_path}.toml"
        data = parse_toml(res.read_text(encoding="utf-8-sig"), f"scenario file {path!r}")
    else:
        raise PcsimInputError(f"unknown scenario {name_or_path!r}; valid: {', '.join(names())} "
                              "(or a path to a .toml file)")
    allowed = {"title", "description", "params", "innovations", "styles"}
    extra = set(data) - allowed
    if extra:
        raise PcsimInputError(f"scenario {name!r}: unknown top-level key(s) {sorted(extra)}; "
                              f"allowed: {', '.join(sorted(allowed))}")
    where = f"scenario {name!r}"
    overrides = dict(table_of(data, "params", where))
    for table in ("innovations", "styles"):
        if table in data:
            overrides[table] = {**table_of(overrides, table, f"{where} [params]"),
                                **table_of(data, table, where)}
    title = str(data.get("title") or name.replace("_", " ").capitalize())
    return Scenario(name, str(data.get("description", "")), overrides, str(path), title)
