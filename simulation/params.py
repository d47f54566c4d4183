"""Every parameter of the model, declared once.

Each scalar parameter carries its default, bounds, unit, description and source; the CLI help,
sweep and sensitivity bounds, the teaching page's sliders and the parameter table in
``docs/ODD.md`` are all generated from this declaration. Two editable tables complete the
parameters: the innovations (quality-improvement methods) and the leadership styles, whose
columns are declared likewise (``FIELD_SPECS``: bounds, unit, description).

One parameter space: every table cell has a dotted name, ``innovations.ROW.COLUMN`` or
``styles.ROW.COLUMN`` (``innovations.pdsa.threshold_mean``), accepted wherever a parameter name
is (:meth:`Params.from_dict`, :meth:`Params.replace`, ``--set``, scenario and experiment files),
and giving the same Params as the same change made to the whole table.

A value outside its bounds, of the wrong type, or under an unknown name is refused with a
:class:`ParamError` that names the field, the value and what is allowed: nothing is clamped.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping


class PcsimInputError(ValueError):
    """Bad input from a user: a parameter, scenario, network or experiment file."""


class ParamError(PcsimInputError):
    """A parameter value or name that the model does not accept."""


LEADER_SELECTION = ("random", "propensity", "seniority", "influence")
SCALES = ("county", "national", "england")


def _p(default, low=None, high=None, *, unit="", doc="", source="", group="", choices=None):
    """Declare one scalar parameter (a dataclass field carrying its metadata)."""
    kind = (
        "choice" if choices is not None
        else "bool" if isinstance(default, bool)
        else "int" if isinstance(default, int)
        else "float"
    )
    meta = dict(default=default, low=low, high=high, unit=unit, doc=doc, source=source,
                group=group, kind=kind, choices=tuple(choices) if choices else None)
    return field(default=default, metadata=meta)


def _column(low=None, high=None, *, unit="", doc="", choices=None, kind=None):
    """Declare one column of a table (bounds, unit, description), as :func:`_p` a scalar."""
    kind = kind or ("choice" if choices else "int" if isinstance(low, int) else "float")
    return dict(low=low, high=high, unit=unit, doc=doc, kind=kind,
                choices=tuple(choices) if choices else None)


@dataclass(frozen=True)
class Innovation:
    """One quality-improvement method: how it spreads, what it costs, what it gives."""

    name: str
    kind: str  # "simple" (one exposure can convince, Bass-like) or "complex" (threshold, Watts-like)
    p_external: float  # per month: external push (appraisal, training, marketing)
    q_social: float  # per month: social influence strength (simple innovations)
    threshold_mean: float  # complex: share of weighted ties that must have adopted
    threshold_sd: float  # complex: spread of thresholds across GPs
    workload_cost: float  # strain added by a genuine adopter (shallow: times rel_shallow_cost)
    quality_benefit: float  # quality index gained by a practice where all GPs adopt genuinely
    mandated: bool  # may be adopted shallowly by compliance under dictatorial pressure
    initial_share: float  # share of GPs (and trainees joining) who already use it
    month_introduced: int = 0  # month from which it can be adopted
    market_potential: float = 1.0  # share of GPs who would ever use it (Bass's m); the rest never do

    FIELDS = ("name", "kind", "p_external", "q_social", "threshold_mean", "threshold_sd",
              "workload_cost", "quality_benefit", "mandated", "initial_share", "month_introduced",
              "market_potential")
    #: every column but the name, declared once: bounds, unit and description (the cells
    #: ``innovations.ROW.COLUMN`` of the parameter space)
    FIELD_SPECS = {
        "kind": _column(choices=("simple", "complex"),
                        doc="simple (one exposure can convince, Bass-like) or complex (needs "
                            "reinforcement from several peers, threshold-like)."),
        "p_external": _column(0.0, 1.0, unit="per month",
                              doc="External push (appraisal, training, marketing): monthly "
                                  "probability of adoption without peers."),
        "q_social": _column(0.0, 1.0, unit="per month",
                            doc="Social influence strength of adopting peers (simple innovations)."),
        "threshold_mean": _column(-1.0, 2.0, unit="share of ties",
                                  doc="Mean share of weighted ties that must have adopted before a "
                                      "GP adopts (complex innovations)."),
        "threshold_sd": _column(0.0, 1.0, unit="share of ties",
                                doc="Spread of adoption thresholds across GPs (complex innovations)."),
        "workload_cost": _column(0.0, 1.0, unit="strain",
                                 doc="Strain added by a genuine adopter (a shallow one: times "
                                     "rel_shallow_cost)."),
        "quality_benefit": _column(-1.0, 1.0, unit="index",
                                   doc="Quality gained by a practice where all GPs adopt genuinely."),
        "mandated": _column(kind="bool",
                            doc="May be adopted shallowly by compliance under dictatorial pressure."),
        "initial_share": _column(0.0, 1.0, unit="share",
                                 doc="Share of GPs (and of trainees joining) who already use it; at "
                                     "most market_potential."),
        "month_introduced": _column(0, 100_000, unit="month",
                                    doc="Month from which it can be adopted."),
        "market_potential": _column(0.0, 1.0, unit="share",
                                    doc="Share of GPs who would ever use it (Bass's m); the rest "
                                        "never do."),
    }
    BOUNDS = {k: (c["low"], c["high"]) for k, c in FIELD_SPECS.items() if c["kind"] in ("int", "float")}

    def __post_init__(self):
        _check_row(self, f"innovation '{self.name}'")
        if self.initial_share > self.market_potential:
            raise ParamError(f"innovation '{self.name}': initial_share = {self.initial_share!r} is "
                             f"above market_potential = {self.market_potential!r}; the GPs who "
                             "already use it are among those who ever would, so allowed "
                             f"initial_share <= {self.market_potential!r}")
        if self.kind not in ("simple", "complex"):
            raise ParamError(f"innovation '{self.name}': kind = {self.kind!r} is not allowed; "
                             "use 'simple' or 'complex'")


@dataclass(frozen=True)
class Style:
    """One leadership style: multipliers on what a GP's leadership does."""

    name: str
    share: float  # share of GPs with this style at initialisation
    persuasion: float  # weight of this GP's adoption in a peer's exposure
    reach: float  # multiplier on ties that cross practice boundaries
    support: float  # relief of colleagues' strain when this GP leads (servant leadership)
    resistance: float  # resistance to shallow compliance (0: none, 1: never complies)

    FIELDS = ("name", "share", "persuasion", "reach", "support", "resistance")
    #: every column but the name (the cells ``styles.ROW.COLUMN`` of the parameter space)
    FIELD_SPECS = {
        "share": _column(0.0, 1.0, unit="share",
                         doc="Share of GPs with this style at initialisation (the shares of all "
                             "styles add up to 1)."),
        "persuasion": _column(0.0, 10.0, unit="x",
                              doc="Weight of this GP's adoption in a peer's exposure."),
        "reach": _column(0.0, 10.0, unit="x",
                         doc="Multiplier on this GP's ties that cross practice boundaries."),
        "support": _column(0.0, 1.0, unit="0-1",
                           doc="Relief of colleagues' strain when this GP leads (servant leadership)."),
        "resistance": _column(0.0, 1.0, unit="0-1",
                              doc="Resistance to shallow compliance (0: none, 1: never complies)."),
    }
    BOUNDS = {k: (c["low"], c["high"]) for k, c in FIELD_SPECS.items()}

    def __post_init__(self):
        _check_row(self, f"style '{self.name}'")


#: the two tables of the parameter space, by the name that starts their cells' dotted names
TABLES: dict[str, type] = {"innovations": Innovation, "styles": Style}
_ROW_LABEL = {"innovations": "innovation", "styles": "style"}
_TABLE_SOURCE = {
    "innovations": "simulation/data/innovations.toml (Health Foundation 2017 survey; calibrated, "
                   "docs/calibration.md)",
    "styles": "simulation/data/styles.toml (assumption)",
}


def _check_row(row, label):
    for name, (low, high) in row.BOUNDS.items():
        value = getattr(row, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ParamError(f"{label}: {name} = {value!r} is not a number")
        if isinstance(low, int) and not float(value).is_integer():
            raise ParamError(f"{label}: {name} = {value!r} must be a whole number")
        if not low <= value <= high:
            raise ParamError(f"{label}: {name} = {value!r} is out of range; allowed [{low}, {high}]")
    if hasattr(row, "mandated") and not isinstance(row.mandated, bool):
        raise ParamError(f"{label}: mandated = {row.mandated!r} must be true or false")


def _load_table(filename: str, cls):
    data = tomllib.loads(resources.files("simulation.data").joinpath(filename).read_text())
    return tuple(_row(cls, name, values) for name, values in data.items() if name != PROVENANCE_KEY)


def _row(cls, name, values: Mapping[str, Any]):
    unknown = set(values) - set(cls.FIELDS)
    if unknown:
        raise ParamError(f"{cls.__name__.lower()} '{name}': unknown column(s) {sorted(unknown)}; "
                         f"valid: {', '.join(cls.FIELDS[1:])}")
    missing = [c for c in _required_columns(cls) if c not in values]
    if missing:
        raise ParamError(f"{cls.__name__.lower()} '{name}': missing column(s) {missing}")
    return cls(name=name, **values)


#: the three provenance labels: the number comes from a cited source, from the calibration
#: (docs/calibration.md), or from the modeller (with one line of reasoning)
BASES = ("sourced", "calibrated", "assumed")
#: the top-level table of a table file (innovations.toml, styles.toml) that holds its cells'
#: provenance rather than a row
PROVENANCE_KEY = "provenance"
_PROVENANCE_FIELDS = ("basis", "source_value", "reasoning")
_TABLE_FILES = {"innovations": "innovations.toml", "styles": "styles.toml"}


@functools.cache
def _scalar_provenance() -> dict[str, dict[str, str]]:
    """``{name: {basis, source_value, reasoning}}`` of the scalars (simulation/data/provenance.toml)."""
    text = resources.files("simulation.data").joinpath("provenance.toml").read_text()
    return tomllib.loads(text)


@functools.cache
def _cell_provenance(table: str) -> dict[str, dict[str, str]]:
    """``{ROW.COLUMN: {basis, source_value, reasoning}}`` of a default table's cells: its file's
    ``[provenance.COLUMN]`` for every row, ``[provenance.COLUMN.ROW]`` for that row's exception."""
    text = resources.files("simulation.data").joinpath(_TABLE_FILES[table]).read_text()
    data = tomllib.loads(text)
    by_column = data.get(PROVENANCE_KEY, {})
    out = {}
    for row in (r for r in data if r != PROVENANCE_KEY):
        for column in TABLES[table].FIELD_SPECS:
            entry = by_column.get(column, {})
            own = entry.get(row, {})
            base = {k: v for k, v in entry.items() if k in _PROVENANCE_FIELDS}
            out[f"{row}.{column}"] = own if own else base
    return out


_SWITCH_LABEL = dict(basis="assumed", reasoning="a switch of the model's structure: on in the model "
                     "as described (docs/ODD.md), off only to isolate a submodel")
_SWITCHES: set[str] = set()  # (filled below from the declaration: the group "switches")


def _label(entry: Mapping[str, str] | None) -> dict[str, str | None]:
    entry = entry or {}
    return {k: entry.get(k) for k in _PROVENANCE_FIELDS}


def provenance_of(name: str) -> dict[str, str | None]:
    """``{basis, source_value, reasoning}`` of a scalar or a default table cell (all None for a
    name with no label, such as a row a scenario adds)."""
    if is_cell(name):
        table, row, column = split_cell(name)
        return _label(_cell_provenance(table).get(f"{row}.{column}"))
    if name in _SWITCHES:
        return _label(_SWITCH_LABEL)
    return _label(_scalar_provenance().get(name))


def provenance(basis: str | None = None):
    """Every parameter and default table cell with its provenance, as a DataFrame: name, group,
    default, low, high, unit, basis (sourced, calibrated or assumed), source (the citation),
    source_value (the number taken from it, for sourced ones; else "") and reasoning (for
    assumed ones; else ""). ``basis`` keeps only that label."""
    import pandas as pd

    if basis is not None and basis not in BASES:
        raise ParamError(f"basis = {basis!r} is not allowed: expected one of {', '.join(BASES)}")
    rows = []
    for s in [SPECS[f.name] for f in scalar_fields()] + [spec(n) for n in cell_names()]:
        label = provenance_of(s["name"])
        source = s["source"]
        if label["basis"] == "calibrated":
            source = "docs/calibration.md"
        rows.append(dict(name=s["name"], group=s["group"], default=s["default"], low=s.get("low"),
                         high=s.get("high"), unit=s["unit"], basis=label["basis"], source=source,
                         source_value=label["source_value"] or "",
                         reasoning=label["reasoning"] or ""))
    frame = pd.DataFrame(rows)
    return frame if basis is None else frame[frame["basis"] == basis].reset_index(drop=True)


def default_innovations() -> tuple[Innovation, ...]:
    """The default innovation table (2017 UK survey of GPs, see SOURCES)."""
    return _load_table("innovations.toml", Innovation)


def default_styles() -> tuple[Style, ...]:
    """The seven leadership styles named in the editorial."""
    return _load_table("styles.toml", Style)


@dataclass(frozen=True)
class Params:
    """All parameters of one simulation. Frozen: build a new one with :meth:`replace`."""

    # --- population -------------------------------------------------------------------------
    n_practices: int = _p(80, 1, 20_000, unit="practices", group="population",
        doc="Number of practices (county preset 80; national preset 6,300).",
        source="NHS Digital: 6,419 practices in England, 2023")
    practices_per_federation: float = _p(10.0, 1.0, 200.0, unit="practices", group="population",
        doc="Mean number of member practices per federation or network (sizes vary, Poisson).",
        source="Morciano et al. BJGP 2020: ~5.4 practices per PCN")
    mean_list_size: float = _p(10101.0, 500.0, 100_000.0, unit="patients", group="population",
        doc="Mean registered list size of a practice (log-normal across practices).",
        source="NHS Digital via GPonline: mean list 10,101, June 2024")
    sd_log_list_size: float = _p(0.5, 0.0, 2.0, unit="log patients", group="population",
        doc="Spread (sd of the log) of practice list sizes.",
        source="NHS Digital via GPonline: <5k: 22%, >20k: ~5% of practices (2022)")
    patients_per_gp: float = _p(1663.0, 200.0, 10_000.0, unit="patients/GP", group="population",
        doc="Registered patients per GP (headcount); sets GPs per practice.",
        source="63.4m patients / 38,124 GPs headcount, 2024")
    share_salaried: float = _p(0.47, 0.0, 1.0, unit="share", group="population",
        doc="Share of GPs who are salaried (the rest are partners; every practice has a partner).",
        source="BJGP 2025: 47% of GP headcount salaried, Sept 2024")
    leadership_propensity: float = _p(0.3, 0.01, 0.99, unit="0-1", group="population",
        doc="Mean latent leadership propensity of GPs (Beta distributed).",
        source="assumption; leadership 'not commonly reported' (Apekey 2011)")
    propensity_concentration: float = _p(4.0, 0.5, 1000.0, unit="alpha+beta", group="population",
        doc="Concentration (alpha+beta) of the Beta distribution of propensity; low = unequal.",
        source="assumption")
    culture_mean: float = _p(0.5, 0.0, 1.0, unit="0-1", group="population",
        doc="Mean initial innovation culture of practices.", source="assumption")
    culture_sd: float = _p(0.15, 0.0, 0.5, unit="0-1", group="population",
        doc="Spread of initial innovation culture across practices.", source="assumption")
    initial_cynicism: float = _p(0.1, 0.0, 1.0, unit="0-1", group="population",
        doc="Initial cynicism of GPs about the top-down leadership drive.", source="assumption")

    # --- ties ---------------------------------------------------------------------------------
    w_practice: float = _p(0.7626, 0.0, 10.0, unit="weight", group="network",
        doc="Weight of a tie between two GPs of the same practice (practices are complete graphs).",
        source="calibrated (docs/calibration.md); prior: assumption: dense ties inside practices")
    federation_ties_per_gp: float = _p(2.0, 0.0, 50.0, unit="ties/GP", group="network",
        doc="Mean number of ties from a GP to GPs of other practices in its federation.",
        source="assumption: sparse ties between member practices")
    w_federation: float = _p(0.5, 0.0, 10.0, unit="weight", group="network",
        doc="Weight of a tie between GPs of different practices in one federation.",
        source="assumption")
    regional_ties_per_gp: float = _p(1.0, 0.0, 50.0, unit="ties/GP", group="network",
        doc="Mean number of professional ties across the region (long, random).",
        source="assumption")
    w_regional: float = _p(0.3, 0.0, 10.0, unit="weight", group="network",
        doc="Weight of a regional professional tie.", source="assumption")

    # --- centre: pressure and the leadership drive -----------------------------------------------
    pressure_level: float = _p(0.3, 0.0, 1.0, unit="0-1", group="centre",
        doc="Performance pressure from the centre at month 0.",
        source="GP Worklife: external bodies a top stressor (2015)")
    pressure_trend: float = _p(0.0, -0.2, 0.2, unit="per year", group="centre",
        doc="Change of performance pressure per year.", source="assumption")
    p4p_month: int = _p(24, 0, 100_000, unit="month", group="centre",
        doc="Month a pay-for-performance scheme starts (see p4p_pressure_jump).",
        source="QOF, April 2004")
    p4p_pressure_jump: float = _p(0.0, 0.0, 1.0, unit="0-1", group="centre",
        doc="Lasting rise in pressure when the pay-for-performance scheme starts (0: no scheme).",
        source="Lester et al. BJGP 2013: decreased autonomy under QOF")
    dictation: float = _p(0.3, 0.0, 1.0, unit="0-1", group="centre",
        doc="Dictatorial management: targets and mandated compliance (scales the probability "
            "of shallow compliance and the cynicism pressure breeds).",
        source="editorial: management 'seductive as well as dictatorial'; level: assumption")
    seduction: float = _p(0.3, 0.0, 1.0, unit="0-1", group="centre",
        doc="Seductive management: engagement and discourse (cynicism fades faster) and "
            "co-option (this share of the drive's appointments goes to the most influential "
            "GPs).", source="editorial: management 'seductive as well as dictatorial'; level: assumption")
    seduction_engagement: float = _p(0.02, 0.0, 1.0, unit="per month", group="centre",
        doc="Extra monthly fading of cynicism at full seduction (engagement, discourse).",
        source="assumption: at full seduction cynicism fades about twice as fast")
    decentralisation: float = _p(0.0, 0.0, 1.0, unit="0-1", group="centre",
        doc="Autonomy granted by the centre (raises every GP's autonomy target).",
        source="assumption")
    leadership_drive: float = _p(0.05, 0.0, 0.5, unit="share of GPs", group="centre",
        doc="Top-down drive: share of GPs the centre wants in formal leadership roles with no "
            "pressure (see drive_pressure).", source="assumption")
    drive_pressure: float = _p(1.0, 0.0, 10.0, unit="per unit pressure", group="centre",
        doc="Rise of the drive's target with pressure: leadership_drive * (1 + drive_pressure * "
            "P(t)).", source="editorial: the leadership discourse and shrinking autonomy go "
            "'hand in hand'; size: assumption")
    drive_fill_rate: float = _p(0.1, 0.0, 1.0, unit="per month", group="centre",
        doc="Share of the gap to the drive's target filled by appointments each month.",
        source="assumption")
    leader_selection: str = _p("seniority", group="centre", choices=LEADER_SELECTION,
        doc="How the drive chooses formal leaders: random, propensity, seniority or influence.",
        source="editorial: leadership as 'a badge that doctors wear'")

    # --- autonomy -----------------------------------------------------------------------------
    autonomy_base: float = _p(0.4503, 0.0, 1.0, unit="0-1", group="autonomy",
        doc="Autonomy target of a salaried GP with no pressure.",
        source="calibrated (docs/calibration.md)")
    autonomy_partner_bonus: float = _p(0.4023, 0.0, 1.0, unit="0-1", group="autonomy",
        doc="Extra autonomy target of partners (ownership).",
        source="calibrated (docs/calibration.md)"
               "; prior: Health Foundation 2017: PDSA partners 25%, salaried 13%")
    rel_pressure_autonomy: float = _p(0.4, 0.0, 2.0, unit="per unit pressure", group="autonomy",
        doc="Fall in the autonomy target per unit of performance pressure.",
        source="Lester 2013; BMC Fam Pract 2020 meta-synthesis: loss of autonomy")
    autonomy_rate: float = _p(0.05, 0.0, 1.0, unit="per month", group="autonomy",
        doc="Rate at which autonomy relaxes toward its target.", source="assumption")
    trust_autonomy_penalty: float = _p(0.15, 0.0, 1.0, unit="0-1", group="autonomy",
        doc="Lower autonomy target for GPs whose federation is absorbed into a trust.",
        source="assumption")

    # --- strain and exit ---------------------------------------------------------------------------
    workload_base: float = _p(0.35, 0.0, 1.0, unit="0-1", group="strain",
        doc="Strain from base workload alone.", source="GP Worklife 2015-21: 38-42 h/week")
    rel_pressure_strain: float = _p(0.3, 0.0, 2.0, unit="per unit pressure", group="strain",
        doc="Strain added per unit of performance pressure.",
        source="GP Worklife 2015: external bodies a top stressor")
    rel_shallow_cost: float = _p(2.0, 0.0, 10.0, unit="x", group="strain",
        doc="Workload of a shallow (compliance) adoption relative to a genuine one.",
        source="assumption: shallow adoption costs more for less")
    vacancy_load: float = _p(0.5, 0.0, 2.0, unit="per vacancy share", group="strain",
        doc="Strain added per unit share of vacant posts in the practice.", source="assumption")
    servant_relief: float = _p(0.3, 0.0, 2.0, unit="0-1", group="strain",
        doc="Strain relieved per unit of leadership support in the practice (style 'support').",
        source="assumption")
    strain_rate: float = _p(0.1, 0.0, 1.0, unit="per month", group="strain",
        doc="Rate at which strain relaxes toward its load.", source="assumption")
    p_exit_base: float = _p(0.001932, 0.0, 0.5, unit="per month", group="strain",
        doc="Monthly probability that a GP leaves, without strain.",
        source="calibrated (docs/calibration.md); prior: assumption: ~3.5% per year")
    p_exit_strain: float = _p(0.01882, 0.0, 1.0, unit="per month", group="strain",
        doc="Extra monthly probability of leaving at full strain (times strain squared).",
        source="calibrated (docs/calibration.md)"
               "; prior: GP Worklife: 61-63% of over-50s intend to quit within 5 years")
    p_fill_vacancy: float = _p(0.25, 0.0, 1.0, unit="per month", group="strain",
        doc="Monthly probability that a vacant post is filled by a new GP.", source="assumption")
    newcomer_partner_share: float = _p(0.3, 0.0, 1.0, unit="share", group="strain",
        doc="Share of new GPs who join as partners (salaried more often).",
        source="partners' FTE share 74% (2015) to 61% (2022)")
    newcomer_embeddedness: float = _p(0.3, 0.0, 1.0, unit="0-1", group="strain",
        doc="Weight of a new GP's voice in its ties on arrival (fewer, weaker ties).",
        source="assumption")
    embed_rate: float = _p(0.04, 0.0, 1.0, unit="per month", group="strain",
        doc="Monthly growth of a new GP's embeddedness, up to 1.", source="assumption: ~2 years")

    # --- exposure and adoption ---------------------------------------------------------------------
    rel_informal_weight: float = _p(1.883, 0.0, 10.0, unit="x", group="adoption",
        doc="Extra weight of an informal leader's adoption in peers' exposure.",
        source="calibrated (docs/calibration.md); pattern: Flodgren 2011 (Cochrane), opinion "
               "leaders against random colleagues")
    rel_formal_authority: float = _p(1.0, 0.0, 10.0, unit="x", group="adoption",
        doc="Extra weight of a formal leader's adoption, times the listener's (1 - cynicism).",
        source="assumption")
    rel_shallow_visibility: float = _p(0.5, 0.0, 1.0, unit="x", group="adoption",
        doc="Weight of a shallow adopter in peers' exposure, relative to a genuine one.",
        source="assumption")
    rel_openness_simple: float = _p(0.7397, 0.0, 2.0, unit="x", group="adoption",
        doc="Effect of openness (autonomy, culture, low strain) on the adoption probability of "
            "simple innovations: multiplier 1 + rel * (openness - 0.5).",
        source="calibrated (docs/calibration.md)"
               "; prior: Health Foundation 2017: protected time, ownership")
    rel_openness_threshold: float = _p(0.9542, 0.0, 1.0, unit="threshold", group="adoption",
        doc="Lowering of complex-innovation thresholds per unit of openness above 0.5.",
        source="calibrated (docs/calibration.md)")
    plan_threshold_bonus: float = _p(0.05, 0.0, 1.0, unit="threshold", group="adoption",
        doc="Lowering of the threshold for innovations named in the federation's plan.",
        source="assumption")
    p_compliance: float = _p(0.1, 0.0, 1.0, unit="per month", group="adoption",
        doc="Monthly probability of shallow compliance with a mandated innovation at full "
            "pressure and full dictation.", source="assumption")
    p_abandon: float = _p(0.05, 0.0, 1.0, unit="per month", group="adoption",
        doc="Monthly probability that a shallow adopter abandons, at full strain.",
        source="assumption")
    cynicism_per_compliance: float = _p(0.1, 0.0, 1.0, unit="0-1", group="adoption",
        doc="Rise in cynicism per shallow (compliance) adoption.", source="assumption")
    cynicism_pressure: float = _p(0.02, 0.0, 1.0, unit="per month", group="adoption",
        doc="Monthly rise in cynicism per unit of dictatorial pressure (dictation x pressure).",
        source="editorial: leadership discourse with shrinking autonomy")
    rel_cynicism_resistance: float = _p(0.5, 0.0, 2.0, unit="openness", group="adoption",
        doc="Fall in a GP's openness to voluntary adoption per unit of cynicism (cynicism "
            "raises thresholds and lowers adoption probabilities, not only formal authority).",
        source="assumption; direction: editorial (a drive that breeds cynicism undermines "
               "change); Lester et al. BJGP 2013")
    partner_ownership: float = _p(0.1962, 0.0, 1.0, unit="openness", group="adoption",
        doc="Extra openness to voluntary adoption of partners (ownership of the practice), on "
            "top of their higher autonomy.",
        source="calibrated (docs/calibration.md); pattern: Health Foundation/LSHTM 2017, PDSA "
               "used by 25% of partners, 13% of salaried GPs")
    cynicism_decay: float = _p(0.02, 0.0, 1.0, unit="per month", group="adoption",
        doc="Monthly decay of cynicism.", source="assumption")

    # --- leadership emergence ------------------------------------------------------------------------
    influence_decay: float = _p(0.0278, 0.0, 1.0, unit="per month", group="leadership",
        doc="Monthly fading of influence, a reputation among peers (memory of about 1/decay "
            "months: 36 by default).",
        source="assumption: reputations among colleagues build and fade over years (informal "
               "leaders are established figures, Marshall et al. BJGP 2018)")
    informal_hysteresis: float = _p(0.0, 0.0, 0.95, unit="share of the bar", group="leadership",
        doc="An informal leader keeps the standing until its influence falls below (1 - this) x "
            "informal_bar (a GP becomes one at the bar); 0: the standing follows influence.",
        source="assumption (0 by default: at 0.5, recalibrated, leaders' standing outlasted "
               "their influence and removing them no longer slowed adoption; docs/calibration.md)")
    reputation_tenure: float = _p(5.0, 0.0, 40.0, unit="years", group="leadership",
        doc="Years in post before a GP's credit counts in full toward influence (it counts in "
            "proportion to seniority before): reputation is anchored in tenure.",
        source="assumption: it takes years to become known in a practice and locality")
    informal_bar: float = _p(0.02847, 0.0, 100.0, unit="influence", group="leadership",
        doc="Influence at or above which a GP is an informal leader.",
        source="calibrated (docs/calibration.md)")
    broker_bar: float = _p(0.0979, 0.0, 100.0, unit="influence", group="leadership",
        doc="Influence earned across practice boundaries at or above which an informal leader "
            "is a broker (federation-level leadership).", source="calibrated (docs/calibration.md)")

    # --- practice ---------------------------------------------------------------------------------
    culture_rate: float = _p(0.05, 0.0, 1.0, unit="per month", group="practice",
        doc="Rate at which practice culture drifts toward its members' openness (times 1 - inertia).",
        source="assumption")
    rel_leader_culture: float = _p(0.4373, 0.0, 5.0, unit="0-1", group="practice",
        doc="Pull of a practice's culture target per unit share of leaders among its GPs.",
        source="calibrated (docs/calibration.md)"
               "; prior: Apekey 2011: leadership and culture r = 0.57")
    inertia_base: float = _p(0.2, 0.0, 1.0, unit="0-1", group="practice",
        doc="Resistance to change of a practice with no partners.",
        source="editorial: professionalised organisations find it hard to change")
    inertia_per_partner: float = _p(0.05, 0.0, 1.0, unit="per partner", group="practice",
        doc="Extra inertia per partner (larger partnerships change more slowly).",
        source="assumption")
    practice_adoption_share: float = _p(0.5, 0.0, 1.0, unit="share", group="practice",
        doc="Share of a practice's GPs who must adopt genuinely for the practice to count as adopting.",
        source="assumption")
    quality_base: float = _p(0.5, 0.0, 1.0, unit="index", group="practice",
        doc="Quality of care of a practice with no adoption, strain or vacancies.",
        source="assumption")
    rel_shallow_benefit: float = _p(0.3, 0.0, 1.0, unit="x", group="practice",
        doc="Quality benefit of a shallow adoption relative to a genuine one.", source="assumption")
    strain_quality_penalty: float = _p(0.2, 0.0, 1.0, unit="index", group="practice",
        doc="Quality lost per unit of mean strain.", source="assumption")
    vacancy_quality_penalty: float = _p(0.3, 0.0, 1.0, unit="index", group="practice",
        doc="Quality lost per unit share of vacant posts.", source="assumption")

    # --- federation ------------------------------------------------------------------------------
    plan_min_brokers: int = _p(3, 0, 1000, unit="brokers", group="federation",
        doc="Brokers a federation needs before a plan forms.",
        source="calibrated (docs/calibration.md); prior: editorial: 'no plan' the commonest theme")
    plan_min_engagement: float = _p(0.5004, 0.0, 1.0, unit="0-1", group="federation",
        doc="Engagement (1 - mean cynicism) a federation needs before a plan forms.",
        source="calibrated (docs/calibration.md)")
    absorb_month: int = _p(60, 0, 100_000, unit="month", group="federation",
        doc="Month at which a share of federations is absorbed into trusts.", source="scenario")
    absorb_share: float = _p(0.0, 0.0, 1.0, unit="share", group="federation",
        doc="Share of federations absorbed into trusts at absorb_month (0: none).",
        source="scenario")
    trust_pressure: float = _p(0.1, 0.0, 1.0, unit="0-1", group="federation",
        doc="Extra performance pressure on GPs whose federation is absorbed into a trust.",
        source="assumption")

    # --- switches (a switched-off submodel is skipped: its state stays as it was) ----------------
    # (which submodel reads which switch: simulation/schedule.py and each submodel's SWITCHES)
    centre_on: bool = _p(True, group="switches",
        doc="Pressure follows its path and scenario events absorb federations (off: P(t) stays put).")
    drive_on: bool = _p(True, group="switches", doc="The centre appoints formal leaders.")
    wellbeing_on: bool = _p(True, group="switches",
        doc="Autonomy, strain and cynicism change over time (all three; each has its own switch too).")
    autonomy_on: bool = _p(True, group="switches", doc="Autonomy relaxes toward its target.")
    strain_on: bool = _p(True, group="switches", doc="Strain relaxes toward its load.")
    ageing_on: bool = _p(True, group="switches",
        doc="Active GPs gain seniority and embeddedness each month.")
    exits_on: bool = _p(True, group="switches", doc="GPs leave under strain and posts are refilled.")
    exposure_on: bool = _p(True, group="switches",
        doc="GPs hear their ties' adoptions (off: every exposure is 0, no social influence).")
    adoption_on: bool = _p(True, group="switches",
        doc="GPs adopt, comply and abandon (off: no adoption changes after month 0).")
    cynicism_on: bool = _p(True, group="switches", doc="Cynicism grows with compliance and pressure.")
    leadership_on: bool = _p(True, group="switches",
        doc="Influence is credited and informal leaders emerge.")
    practice_on: bool = _p(True, group="switches", doc="Practice culture drifts.")
    outcomes_on: bool = _p(True, group="switches",
        doc="Practices' adoption and quality are updated (off: they stay as initialised).")
    federation_on: bool = _p(True, group="switches", doc="Federation plans form and lapse.")

    # --- tables -------------------------------------------------------------------------------
    innovations: tuple[Innovation, ...] = field(default_factory=default_innovations)
    styles: tuple[Style, ...] = field(default_factory=default_styles)

    def __post_init__(self):
        for f in scalar_fields():
            object.__setattr__(self, f.name, check_value(f.name, getattr(self, f.name)))
        _check_tables(self.innovations, self.styles)

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: "Params | None" = None) -> "Params":
        """Build from a (possibly nested) mapping; unknown keys are refused by name.

        Table cells are named either nested (``{"innovations": {"pdsa": {"threshold_mean":
        0.3}}}``, as a scenario's ``[innovations.pdsa]`` table) or dotted
        (``{"innovations.pdsa.threshold_mean": 0.3}``); both go through the same row update, so
        they give the same Params.
        """
        values = dict(values)
        base = base if base is not None else cls()
        whole = {table: values.pop(table, None) for table in TABLES}
        cells: dict[str, dict[str, Any]] = {table: {} for table in TABLES}
        for name in [n for n in values if is_cell(n)]:
            cells[split_cell(name)[0]][name] = values.pop(name)
        check_names(values)
        tables = {table: _apply_overrides(getattr(base, table), whole[table], cells[table], cls_)
                  for table, cls_ in TABLES.items()}
        return dataclasses.replace(base, **tables, **values)

    @classmethod
    def from_toml(cls, path: str | Path) -> "Params":
        """Read parameters from a TOML file (top-level keys, or a ``[params]`` table)."""
        data = read_toml(path)
        return cls.from_dict(table_of(data, "params", f"file {str(path)!r}") if "params" in data
                             else data)

    def replace(self, **changes) -> "Params":
        return self.from_dict(changes, base=self)

    # views ----------------------------------------------------------------------------------
    def scalars(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in scalar_fields()}

    def to_dict(self) -> dict[str, Any]:
        out = self.scalars()
        out["innovations"] = {i.name: {k: getattr(i, k) for k in Innovation.FIELDS[1:]}
                              for i in self.innovations}
        out["styles"] = {s.name: {k: getattr(s, k) for k in Style.FIELDS[1:]} for s in self.styles}
        return out

    def innovation_index(self, name: str) -> int:
        names = [i.name for i in self.innovations]
        if name not in names:
            raise ParamError(f"innovation {name!r} is unknown; valid: {', '.join(names)}")
        return names.index(name)


@functools.cache
def scalar_fields() -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(Params) if "kind" in f.metadata)


SPECS: dict[str, Mapping[str, Any]] = {}


def is_cell(name: str) -> bool:
    """Whether ``name`` is a dotted table cell (``innovations.ROW.COLUMN``, ``styles.ROW.COLUMN``)."""
    return "." in name


def split_cell(name: str) -> tuple[str, str, str]:
    """``(table, row, column)`` of a dotted name, the table and column checked (not the row:
    a scenario may add rows). A ParamError names the bad part, with a did-you-mean."""
    parts = name.split(".")
    table = parts[0]
    if table not in TABLES:
        valid = [f.name for f in scalar_fields()] + list(TABLES)
        close = difflib.get_close_matches(table, list(TABLES), n=1) or difflib.get_close_matches(
            name, valid, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        raise ParamError(f"unknown parameter {name!r}: {table!r} is not a table{hint} Dotted names "
                         "are innovations.ROW.COLUMN or styles.ROW.COLUMN (see `pcsim params`)")
    if len(parts) < 3 or not all(parts):
        raise ParamError(f"parameter {name!r} is not allowed: a table cell is named "
                         f"{table}.ROW.COLUMN, e.g. {_example(table)}")
    row, column = ".".join(parts[1:-1]), parts[-1]
    columns = TABLES[table].FIELD_SPECS
    if column not in columns:
        close = difflib.get_close_matches(column, list(columns), n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        raise ParamError(f"{name}: unknown column {column!r} of {table}{hint} Valid: "
                         f"{', '.join(columns)}")
    return table, row, column


def _example(table: str) -> str:
    return "innovations.pdsa.threshold_mean" if table == "innovations" else "styles.servant.reach"


def _check_row_name(name: str, table: str, row: str, rows: Iterable[str]) -> None:
    rows = list(rows)
    if row not in rows:
        close = difflib.get_close_matches(row, rows, n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        raise ParamError(f"{name}: unknown {_ROW_LABEL[table]} {row!r}{hint} Valid: {', '.join(rows)}")


def cell_names(params: "Params | None" = None, table: str | None = None) -> list[str]:
    """Every table cell's dotted name (of ``params``' tables, or the defaults'), row by row."""
    params = params if params is not None else _default_tables()
    return [f"{t}.{r.name}.{c}" for t, cls in TABLES.items() if table in (None, t)
            for r in getattr(params, t) for c in cls.FIELD_SPECS]


def declaration(name: str) -> Mapping[str, Any]:
    """The declared kind, bounds, unit and description of a scalar parameter, or of a table
    cell's column (its row unchecked); a ParamError for an unknown name."""
    if name in SPECS:  # (the common case, checked for every field of every Params made)
        return SPECS[name]
    if is_cell(name):
        table, _, column = split_cell(name)
        return dict(TABLES[table].FIELD_SPECS[column], name=name, group=table,
                    source=_TABLE_SOURCE[table], default=None, **provenance_of(name))
    if name in TABLES:
        raise ParamError(f"parameter {name!r} is a table, not one value: set it cell by cell "
                         f"({name}.ROW.COLUMN=VALUE, e.g. {_example(name)}="
                         f"{0.3 if name == 'innovations' else 1.2}) or by rows in a "
                         f"scenario file ([{name}.ROW])")
    check_names([name])
    return SPECS[name]


def spec(name: str, params: "Params | None" = None) -> Mapping[str, Any]:
    """The declaration (default, bounds, unit, doc, source, group, kind) of one parameter. A
    table cell's row must be in ``params``' table (default: the default tables), whose value is
    its default."""
    if not is_cell(name):
        return declaration(name)
    table, row, column = split_cell(name)
    rows = getattr(params if params is not None else _default_tables(), table)
    _check_row_name(name, table, row, [r.name for r in rows])
    value = getattr(next(r for r in rows if r.name == row), column)
    return dict(declaration(name), default=value)


def check_names(names: Iterable[str], params: "Params | None" = None) -> None:
    """Refuse an unknown name by name, with a did-you-mean. Dotted table cells are checked
    against ``params``' tables (default: the default tables)."""
    valid = [f.name for f in scalar_fields()] + list(TABLES)
    for name in names:
        if is_cell(name):
            spec(name, params)
        elif name not in valid:
            close = difflib.get_close_matches(name, valid, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ParamError(f"unknown parameter {name!r}.{hint} Valid parameters: "
                             f"{', '.join(valid)}, and table cells innovations.ROW.COLUMN and "
                             "styles.ROW.COLUMN (see `pcsim params`)")


def allowed(name: str) -> str:
    s = declaration(name)
    if s["kind"] == "choice":
        return "one of " + ", ".join(s["choices"])
    if s["kind"] == "bool":
        return "true or false"
    whole = "a whole number in " if s["kind"] == "int" else ""
    return f"{whole}[{s['low']}, {s['high']}]"


def check_value(name: str, value: Any) -> Any:
    """``value`` of parameter ``name``, normalised to its type; a ParamError if not allowed.
    A table cell is checked against its column's declaration (a row's own constraints, such
    as initial_share <= market_potential, when its Params is built)."""
    s = declaration(name)
    kind = s["kind"]
    bad = f"parameter {name} = {value!r} is not allowed: expected {allowed(name)}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise ParamError(bad)
        return value
    if kind == "choice":
        if value not in s["choices"]:
            raise ParamError(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(bad)
    if isinstance(value, float) and math.isnan(value):
        raise ParamError(bad)
    if kind == "int":
        if not float(value).is_integer():
            raise ParamError(bad)
        value = int(value)
    else:
        value = float(value)
    if not s["low"] <= value <= s["high"]:
        raise ParamError(f"parameter {name} = {value!r} is out of range: allowed {allowed(name)}")
    return value


def parse_value(name: str, text: str) -> Any:
    """Parse a command-line string (``--set NAME=VALUE``) to the parameter's type, then check it.
    A table cell's row is checked later, against the tables of the scenario it changes."""
    s = declaration(name)
    kind = s["kind"]
    if kind == "bool":
        low = text.strip().lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ParamError(f"parameter {name} = {text!r} is not allowed: expected true or false")
    if kind == "choice":
        return check_value(name, text.strip())
    try:
        number = float(text)
    except ValueError:
        raise ParamError(f"parameter {name} = {text!r} is not a number: expected {allowed(name)}") from None
    return check_value(name, number)


_DEFAULT_TABLES: "Params | None" = None


def _default_tables() -> "Params":
    """Default Params (for their tables), built once."""
    global _DEFAULT_TABLES
    if _DEFAULT_TABLES is None:
        _DEFAULT_TABLES = Params()
    return _DEFAULT_TABLES


def _check_tables(innovations, styles):
    for label, table, cls in (("innovations", innovations, Innovation), ("styles", styles, Style)):
        if not isinstance(table, tuple) or not table or not all(isinstance(r, cls) for r in table):
            raise ParamError(f"{label} must be a non-empty tuple of {cls.__name__}")
        names = [r.name for r in table]
        if len(set(names)) != len(names):
            raise ParamError(f"{label}: names must be unique, got {names}")
    total = sum(s.share for s in styles)
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ParamError(f"styles: shares must add up to 1, got {total:.6g}")


def _apply_overrides(table, whole, cells: Mapping[str, Any], cls):
    """A table with its whole-table overrides and its dotted cells applied in one pass: each
    cell joins its row's ``{column: value}``, exactly as if written in the whole-table form."""
    if not cells or (whole is not None and not isinstance(whole, Mapping)):
        table = _table_overrides(table, whole, cls)  # rows given whole (or refused)
        whole = None
    if not cells:
        return table
    merged = {row: (dict(cols) if isinstance(cols, Mapping) else cols)
              for row, cols in (whole or {}).items()}
    rows = [r.name for r in table] + [row for row in merged if row not in {r.name for r in table}]
    for name, value in cells.items():
        label, row, column = split_cell(name)
        _check_row_name(name, label, row, rows)
        cols = merged.setdefault(row, {})
        if isinstance(cols, Mapping):
            if column in cols and cols[column] != value:
                raise ParamError(f"{name} = {value!r} is given twice: the {label} table sets "
                                 f"{row}.{column} = {cols[column]!r}; set it in one place")
            cols[column] = value
    return _table_overrides(table, merged, cls)


def _table_overrides(table, overrides, cls):
    """Apply ``{row name: {column: value}}`` overrides to a table; new names add rows."""
    if overrides is None:
        return table
    if isinstance(overrides, (list, tuple)) and all(isinstance(r, cls) for r in overrides):
        return tuple(overrides)
    if not isinstance(overrides, Mapping):
        raise ParamError(f"{cls.__name__.lower()} overrides must be a table of rows by name")
    rows = {r.name: r for r in table}
    for name, values in overrides.items():
        if not isinstance(values, Mapping):
            raise ParamError(f"{cls.__name__.lower()} '{name}': expected a table of columns")
        if name in rows:
            unknown = set(values) - set(cls.FIELDS[1:])
            if unknown:
                raise ParamError(f"{cls.__name__.lower()} '{name}': unknown column(s) "
                                 f"{sorted(unknown)}; valid: {', '.join(cls.FIELDS[1:])}")
            rows[name] = dataclasses.replace(rows[name], **values)
        else:
            _check_new_row(cls, name, values, [r.name for r in table])
            rows[name] = _row(cls, name, values)
    return tuple(rows.values())


def _required_columns(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)
            if f.name != "name" and f.default is dataclasses.MISSING]


def _check_new_row(cls, name, values: Mapping[str, Any], known: list[str]) -> None:
    """A row name not in the table is a new row only if it gives every column; otherwise it is
    most likely a misspelt name (``[innovations.pdas]``), refused as unknown with a did-you-mean."""
    missing = [c for c in _required_columns(cls) if c not in values]
    if not missing:
        return
    label = cls.__name__.lower()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f", did you mean {close[0]!r}?" if close else "."
    raise ParamError(f"unknown {label} {name!r}{hint} Valid: {', '.join(known)} (a new {label} "
                     f"must give every column; missing column(s) {missing})")


def check_file(path: str | Path, what: str = "file") -> Path:
    """``path`` as a Path if it names a file; a PcsimInputError naming a directory or a missing
    file as such (every file pcsim reads is checked here first)."""
    path = Path(path)
    if path.is_dir():
        raise PcsimInputError(f"{what} {str(path)!r} is a directory: expected a file")
    if not path.is_file():
        raise PcsimInputError(f"{what} {str(path)!r} does not exist")
    return path


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped); a PcsimInputError for a
    directory, a missing or unreadable file, or bytes that are not UTF-8 (e.g. a binary file)."""
    path = check_file(path, what)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PcsimInputError(f"{what} {str(path)!r} cannot be read: {err.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PcsimInputError(f"{what} {str(path)!r} is not UTF-8 text (byte {err.start} is "
                              f"0x{data[err.start]:02x}): expected a text file saved as UTF-8") from None


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """Parsed TOML text; a PcsimInputError naming ``where`` (a file) and the parser's complaint."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PcsimInputError(f"{where} is not valid TOML: {err}") from None


def read_toml(path: str | Path, what: str = "file") -> dict[str, Any]:
    """A TOML file parsed, read by :func:`read_text` (so refused as one line if unreadable)."""
    return parse_toml(read_text(path, what), f"{what} {str(path)!r}")


def table_of(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """``data[key]`` if it is a table (an empty one if absent); a PcsimInputError otherwise."""
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PcsimInputError(f"{where}: {key} = {value!r} is not allowed: expected a table (a "
                              "[section] of keys), not one value")
    return value


_SWITCHES.update(f.name for f in dataclasses.fields(Params) if f.metadata.get("group") == "switches")
for _f in dataclasses.fields(Params):
    if "kind" in _f.metadata:
        SPECS[_f.name] = dict(_f.metadata, name=_f.name, **provenance_of(_f.name))
