"""England as it is: every practice, its qualified GPs and its Primary Care Network, from NHS
open data (the tables in ``simulation/data/england/``, built by ``scripts/build_england_data.py``;
Open Government Licence v3.0, see that folder's ``PROVENANCE.md``).

The ``england`` scale is this population: each practice of the joined 2022/23 set with its
registered list, its qualified GP headcount split into partners and salaried GPs, its contract
type, rurality and dispensing status; the federation layer is the real PCN membership (form:
network), and the regional layer of ties stays within the practice's ICB. The run starts in
April 2023. ``area`` restricts it to one ICB, sub-ICB or PCN (:func:`find_area`).

Contains public sector information licensed under the Open Government Licence v3.0
(NHS England / NHS Digital).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources

import numpy as np
import pandas as pd

from .params import PcsimInputError

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence "
               "v3.0 (NHS England / NHS Digital).")
#: the calendar month of the run's month 0 (the data are the 2022/23 financial year's)
START = "2023-04"
LEVELS = ("icb", "sub-icb", "pcn")
#: practice attributes carried to the practices table of an England run (joinable by code)
PRACTICE_COLUMNS = ("practice_code", "practice_name", "pcn_code", "sub_icb_code", "icb_code",
                    "region_code", "contract_type", "rurality", "dispensing")
#: present-day use of each QI method at the run's start: the 2017 Health Foundation / LSHTM
#: survey of 2,377 GPs (the most recent national figures; the county run starts ten years before)
INITIAL_SHARES = {"clinical_audit": 0.90, "significant_event_analysis": 0.90, "pdsa": 0.21,
                  "root_cause_analysis": 0.19, "process_mapping": 0.16, "run_charts": 0.03}


@dataclass(frozen=True)
class Data:
    practices: pd.DataFrame  # one row per practice, sorted by ODS code
    pcns: pd.DataFrame  # pcn_code, pcn_name, pcn_sub_icb_code
    areas: pd.DataFrame  # level, code, name, icb_code (regions, ICBs, sub-ICBs)
    facts: dict


@dataclass(frozen=True)
class Area:
    """One ICB, sub-ICB or PCN."""

    level: str
    code: str
    name: str
    icb_code: str

    def label(self) -> str:
        """'NHS Derby and Derbyshire ICB (ICB QJ2)': the published name, with its level and code."""
        return f"{_title_case(self.name)} ({self.level.upper()} {self.code})"


_KEEP_UPPER = {"NHS", "ICB", "PCN", "CCG", "GP", "UK", "II", "III", "IV"}


def _title_case(name: str) -> str:
    """The published names are upper case ('NHS DERBY AND DERBYSHIRE ICB'); read as words, with
    acronyms kept and small words lower case."""
    if name != name.upper():
        return name
    small = {"and", "of", "the", "on", "in", "upon", "with"}
    words = []
    for i, word in enumerate(name.split(" ")):
        if word in _KEEP_UPPER or any(ch.isdigit() for ch in word):  # acronyms, codes (15N)
            words.append(word)
        elif i and word.lower() in small:
            words.append(word.lower())
        else:
            words.append("-".join(w.capitalize() for w in word.split("-")))
    return " ".join(words)


def _folder():
    return importlib_resources.files("simulation") / "data" / "england"


@cache
def load() -> Data:
    """The shipped tables (read once per process)."""
    folder = _folder()
    read = lambda name: pd.read_parquet(folder / f"{name}.parquet")  # noqa: E731
    practices = read("practices")
    for c in ("icb_code", "sub_icb_code", "region_code", "contract_type", "rurality"):
        practices[c] = practices[c].astype(str)
    return Data(practices, read("pcns"), read("areas"),
                json.loads((folder / "facts.json").read_text()))


@cache
def _area_rows() -> pd.DataFrame:
    """Every ICB, sub-ICB and PCN with its practice, GP and patient counts."""
    d = load()
    p = d.practices
    rows = []
    for level, key in (("icb", "icb_code"), ("sub-icb", "sub_icb_code"), ("pcn", "pcn_code")):
        counts = p.groupby(key, sort=False).agg(practices=("practice_code", "size"),
                                                gps=("gps", "sum"), partners=("partners", "sum"),
                                                patients=("list_size", "sum"),
                                                icb_code=("icb_code", "first"))
        if level == "pcn":
            names = d.pcns.set_index("pcn_code").pcn_name
        else:
            names = d.areas[d.areas.level == level].set_index("code").name
        counts["name"] = counts.index.map(names)
        counts["code"] = counts.index
        counts["level"] = level
        rows.append(counts.sort_values("name", kind="stable").reset_index(drop=True))
    table = pd.concat(rows, ignore_index=True)
    return table[["level", "code", "name", "icb_code", "practices", "gps", "partners", "patients"]]


def areas(level: str | None = None, search: str | None = None) -> pd.DataFrame:
    """ICBs, sub-ICBs and PCNs with their counts; ``level`` one of :data:`LEVELS`, ``search`` a
    case-insensitive part of the code or name."""
    if level is not None and level not in LEVELS:
        raise PcsimInputError(f"level = {level!r} is not allowed: expected one of {', '.join(LEVELS)}")
    table = _area_rows()
    if level is not None:
        table = table[table.level == level]
    if search:
        s = search.strip().casefold()
        table = table[table.code.str.casefold().str.contains(s, regex=False)
                      | table.name.str.casefold().str.contains(s, regex=False)]
    return table.reset_index(drop=True)


def steppable_areas(max_gps: int = 400) -> pd.DataFrame:
    """The sub-ICBs and PCNs small enough to step quickly (at most ``max_gps`` GP posts), for a
    page that offers an area to watch month by month."""
    table = _area_rows()
    return table[table.level.isin(("sub-icb", "pcn")) & (table.gps <= max_gps)].reset_index(drop=True)


def find_area(text: str) -> Area:
    """The one ICB, sub-ICB or PCN that ``text`` names, case-insensitively: by code or full name
    exactly; failing that, the areas whose name contains it, at the widest level where any does
    (ICB, then sub-ICB, then PCN). Refused, with the closest matches, if none or several match."""
    if isinstance(text, Area):
        return text
    if not isinstance(text, str) or not text.strip():
        raise PcsimInputError(f"area = {text!r} is not allowed: expected the code or name of an "
                              "ICB, sub-ICB or PCN (see `pcsim areas`)")
    table = _area_rows()
    key = text.strip().casefold()
    codes, names = table.code.str.casefold(), table.name.str.casefold()
    found = table[(codes == key) | (names == key)]
    if found.empty:
        part = table[names.str.contains(key, regex=False)]
        for level in LEVELS:
            if (part.level == level).any():
                found = part[part.level == level]
                break
    if len(found) == 1:
        row = found.iloc[0]
        return Area(row["level"], row["code"], row["name"], row["icb_code"])
    if len(found) > 1:
        shown = found.head(8)
        more = f" and {len(found) - 8} more" if len(found) > 8 else ""
        raise PcsimInputError(
            f"area = {text!r} is ambiguous: it matches {len(found)} areas, "
            + "; ".join(f"{r.level} {r.code} {r.name}" for r in shown.itertuples()) + more
            + " (give a code, or a full name)")
    labels = {f"{r.code} {r.name}".casefold(): r for r in table.itertuples()}
    close = difflib.get_close_matches(key, list(labels), n=5, cutoff=0.4)
    close += [c for c in difflib.get_close_matches(key, [n.casefold() for n in table.name], n=5,
                                                   cutoff=0.4) if c not in close]
    hint = ""
    if close:
        by_name = {r.name.casefold(): r for r in table.itertuples()}
        rows = [labels.get(c) or by_name[c] for c in close][:5]
        hint = "; closest: " + "; ".join(f"{r.level} {r.code} {r.name}" for r in rows)
    raise PcsimInputError(f"area = {text!r} is not allowed: no ICB, sub-ICB or PCN has that code "
                          f"or name{hint} (see `pcsim areas --search TEXT`)")


def practices(area: str | Area | None = None) -> pd.DataFrame:
    """The practices of England, or of one area, in ODS-code order (index 0..P-1)."""
    p = load().practices
    if area is None:
        return p
    if not isinstance(area, Area):
        area = find_area(area)
    column = {"icb": "icb_code", "sub-icb": "sub_icb_code", "pcn": "pcn_code"}[area.level]
    return p[p[column] == area.code].reset_index(drop=True)


def preset(area: str | Area | None = None) -> dict:
    """The ``england`` scale's parameters: the population's size as the data give it (so that
    the memory check sees the real size), the QI methods' present-day use, and the values of
    the England calibration (:func:`calibrated`)."""
    p = practices(area)
    n_pcn = p.pcn_code.nunique()
    gps = int(p.gps.sum())
    out = dict(n_practices=int(len(p)), practices_per_federation=max(len(p) / n_pcn, 1.0),
               mean_list_size=float(np.clip(p.list_size.mean(), 500.0, 100_000.0)),
               patients_per_gp=float(np.clip(p.list_size.sum() / gps, 200.0, 10_000.0)),
               share_salaried=float(p.salaried.sum() / gps))
    out.update({f"innovations.{name}.initial_share": share for name, share in INITIAL_SHARES.items()})
    out.update(calibrated())
    return out


#: the England calibration's values (``python -m simulation.calibrate --scale england``; its
#: ``best.toml``, laid out as the defaults), applied over the county's by :func:`preset`
CALIBRATED = "calibrated.toml"


@cache
def calibrated() -> dict:
    """The England preset's own calibrated values, by parameter name (table cells dotted):
    docs/calibration.md, "England calibration"."""
    import tomllib

    data = tomllib.loads((_folder() / CALIBRATED).read_text())
    out = dict(data.get("params", {}))
    for row, columns in data.get("innovations", {}).items():
        out.update({f"innovations.{row}.{column}": v for column, v in columns.items()})
    return out


@dataclass(frozen=True)
class Population:
    """The arrays :func:`simulation.population.build_state` and
    :func:`simulation.network.build_ties` take, for England or one area."""

    table: pd.DataFrame  # the practices (row p is practice p)
    pcns: pd.DataFrame  # the PCNs (row f is federation f): pcn_code, pcn_name
    practice: np.ndarray  # int (n), practice of each GP post, grouped by practice
    partner: np.ndarray  # bool (n), the practice's partners first
    list_size: np.ndarray  # int (P)
    practice_federation: np.ndarray  # int (P), PCN of each practice
    practice_region: np.ndarray  # int (P), ICB of each practice (the regional layer's bounds)


def population(area: str | Area | None = None) -> Population:
    """England's (or an area's) practices, GP posts by role and PCN membership, as arrays."""
    table = practices(area)
    gps = table.gps.to_numpy(np.int64)
    practice = np.repeat(np.arange(len(table)), gps)
    start = np.repeat(np.cumsum(gps) - gps, gps)
    partner = (np.arange(practice.size) - start) < np.repeat(table.partners.to_numpy(np.int64), gps)
    pcn_codes, federation = np.unique(table.pcn_code.to_numpy(str), return_inverse=True)
    names = load().pcns.set_index("pcn_code").pcn_name
    pcns = pd.DataFrame({"pcn_code": pcn_codes, "pcn_name": names.reindex(pcn_codes).to_numpy()})
    _, region = np.unique(table.icb_code.to_numpy(str), return_inverse=True)
    return Population(table, pcns, practice, partner, table.list_size.to_numpy(np.int64),
                      federation.astype(np.int64), region.astype(np.int64))
