"""Reporters (one row per month), the end-of-run tables, and the registry of outcomes.

Every reporter is computed from the state arrays alone, so both engines report identical values
when their states are identical. Means and shares are over active GPs (vacant posts excluded).

The outcomes are declared once, in :data:`OUTCOMES` (and, per innovation, in
:data:`INNOVATION_OUTCOMES`): name, description, labels, kind, unit, how to format a value and
how to phrase a difference. Everything that lists or describes outcomes derives from it: the
time-series columns (:func:`reporter_names`), :data:`DESCRIPTIONS` and :data:`HEADLINE`, the
run summary of ``pcsim run``, the dashboard's legends, the reports' tables, sentences and
figures, and the outcome names a sweep accepts. Look an outcome up with :func:`outcome`; list a
run's with :func:`outcomes`; the headline ones with :func:`headline`.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import kernels
from .params import PcsimInputError
from .state import FORMS

# --- the registry of outcomes ------------------------------------------------------------------

#: What an outcome's value is: a share (0-1, shown as a percentage, differences in percentage
#: points), a count (of GPs or posts), an index (a level, 0-1 or the quality index) or the month.
KINDS = ("share", "count", "index", "month")
#: How one run's value of each kind is shown unless an outcome says otherwise (``precision``).
PRECISION = {"share": ".1%", "count": ".0f", "index": ".3f", "month": ".0f"}


@dataclass(frozen=True)
class Outcome:
    """One outcome of a run, declared once in :data:`OUTCOMES` or :data:`INNOVATION_OUTCOMES`.

    ``label`` titles tables and figure panels ("Quality of care (index)"); ``short`` names it in
    legends and the run summary ("quality (mean index)"); ``phrase`` is the noun phrase of
    sentences ("quality of care"). ``unit`` says what one unit is ("GPs", "share of GPs").
    ``precision`` is the format of one run's value (default by kind, :data:`PRECISION`).
    ``headline``: among the outcomes every summary shows (:data:`HEADLINE`); ``report``: among
    the outcomes of ``pcsim compare`` and ``pcsim impact``. A run total (``total_of``) is the
    sum of a monthly flow over months 1 to the end (:func:`summarise`); every other outcome is a
    column of the time series (:attr:`monthly`). ``innovation`` names the innovation of a
    per-innovation outcome.
    """

    name: str
    description: str
    label: str
    short: str
    phrase: str
    kind: str
    unit: str
    precision: str = ""
    headline: bool = False
    report: bool = False
    total_of: str | None = None
    innovation: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"outcome {self.name!r}: kind = {self.kind!r} is not allowed: "
                             f"expected one of {', '.join(KINDS)}")

    @property
    def monthly(self) -> bool:
        """Whether this outcome is a column of the time series (a reporter)."""
        return self.total_of is None

    @property
    def scale(self) -> float:
        """The factor from the stored value to the shown one (shares are shown in %)."""
        return 100.0 if self.kind == "share" else 1.0

    @property
    def axis_unit(self) -> str:
        """The unit of a shown value, for an axis: ``%``, ``GPs``, ``index``."""
        return {"share": "%", "index": "index", "month": "months"}.get(self.kind, self.unit)

    @property
    def difference_unit(self) -> str:
        """The unit of a shown difference: ``percentage points`` for shares, else the axis unit."""
        return "percentage points" if self.kind == "share" else self.axis_unit

    def format(self, value) -> str:
        """One run's value, as the run summary shows it (``precision``)."""
        return f"{value:{self.precision or PRECISION[self.kind]}}"

    def format_mean(self, value, difference: bool = False) -> str:
        """A mean over replicates (or a paired difference) as a report shows it: shares in %
        (differences in points, ``pts``), counts to one decimal, indices to three; differences
        carry a sign unless they round to zero."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "n/a"
        digits = {"share": 1, "count": 1}.get(self.kind, 3)
        scaled = self.scale * value
        text = f"{scaled:.{digits}f}"
        if float(text) == 0:
            text = f"{0:.{digits}f}"
        elif difference and scaled > 0:
            text = "+" + text
        if self.kind == "share":
            text += " pts" if difference else "%"
        return text

    def difference_size(self, value) -> str:
        """The size of a difference in a sentence ("2.5 percentage points", "3.0", "0.012")."""
        if self.kind == "share":
            return f"{100 * abs(value):.1f} percentage points"
        return self.format_mean(abs(value))


_O = Outcome
#: Every outcome that does not depend on the innovations, in the order of the time-series
#: columns; a run total follows the monthly flow it sums.
OUTCOMES: tuple[Outcome, ...] = (
    _O("month", "month of the simulation (0 = initial state)",
       "Month", "month", "the month", "month", "months"),
    _O("pressure", "performance pressure from the centre, P(t)",
       "Pressure from the centre (0-1)", "pressure", "pressure from the centre", "index", "0-1",
       precision=".2f"),
    _O("complex_adoption",
       "mean share of GPs using the complex (structured) QI methods genuinely",
       "Complex QI methods adopted (genuine)", "complex QI methods (genuine)",
       "genuine adoption of complex QI methods", "share", "share of GPs", headline=True,
       report=True),
    _O("quality", "mean quality-of-care index across practices",
       "Quality of care (index)", "quality (mean index)", "quality of care", "index", "index",
       headline=True, report=True),
    _O("autonomy", "mean autonomy of GPs (0-1)", "Autonomy (0-1)", "autonomy", "mean autonomy",
       "index", "0-1", precision=".2f", headline=True, report=True),
    _O("strain", "mean strain of GPs (0-1)", "Strain (0-1)", "strain", "mean strain",
       "index", "0-1", precision=".2f", headline=True, report=True),
    _O("cynicism", "mean cynicism about the top-down drive (0-1)", "Cynicism (0-1)", "cynicism",
       "cynicism about the top-down drive", "index", "0-1", precision=".2f", headline=True,
       report=True),
    _O("leavers", "GPs who left this month", "GPs who left (this month)", "leavers per month",
       "the number of GPs who left in the month", "count", "GPs", headline=True),
    _O("leavers_total", "GPs who left over the whole run (interventions' removals not counted)",
       "GPs who left (total)", "leavers (total)", "the number of GPs who left", "count", "GPs",
       report=True, total_of="leavers"),
    _O("joiners", "new GPs who filled a vacant post this month", "New GPs (this month)",
       "joiners per month", "the number of new GPs in the month", "count", "GPs"),
    _O("joiners_total", "new GPs who filled a vacant post over the whole run", "New GPs (total)",
       "joiners (total)", "the number of new GPs", "count", "GPs", total_of="joiners"),
    _O("vacancies", "vacant GP posts at the end of the month", "Vacant posts", "vacant posts",
       "the number of vacant posts", "count", "posts", headline=True),
    _O("informal_leaders", "GPs whose influence is at or above the bar", "Informal leaders",
       "informal leaders", "the number of informal leaders", "count", "GPs", headline=True,
       report=True),
    _O("informal_new", "GPs who became informal leaders this month", "New informal leaders",
       "new informal leaders per month", "the number of new informal leaders in the month",
       "count", "GPs"),
    _O("informal_lost", "informal leaders who ceased to be one (or left) this month",
       "Informal leaders lost", "informal leaders lost per month",
       "the number of informal leaders lost in the month", "count", "GPs"),
    _O("informal_tenure", "median months the current informal leaders have been leaders (0 "
       "when there are none)", "Informal leaders' tenure (median months)",
       "informal leaders' tenure (months)", "the median tenure of informal leaders", "count",
       "months"),
    _O("formal_leaders", "GPs appointed to formal leadership roles", "Formal leaders",
       "formal leaders", "the number of formal leaders", "count", "GPs", headline=True,
       report=True),
    _O("brokers", "informal leaders whose influence crosses practice boundaries",
       "Brokers (cross-practice leaders)", "brokers", "the number of brokers", "count", "GPs",
       headline=True, report=True),
    _O("badge_being", "Jaccard overlap of formal and informal leaders (0 when both are empty)",
       "Badge-being overlap (Jaccard)", "badge vs being (Jaccard)",
       "the overlap of formal and informal leaders (badge and being)", "index", "0-1",
       precision=".2f", headline=True, report=True),
    _O("federations_with_plan", "share of federations with a plan", "Federations with a plan",
       "federations with a plan", "the share of federations with a plan", "share",
       "share of federations", precision=".0%", headline=True, report=True),
    _O("trusts", "share of federations absorbed into trusts", "Federations absorbed into trusts",
       "federations absorbed into trusts", "the share of federations absorbed into trusts",
       "share", "share of federations", precision=".0%"),
)

#: The outcomes of each innovation, as templates: ``{innovation}`` is the innovation's name,
#: ``{label}`` its name in words, ``{Label}`` the same capitalised (:func:`innovation_outcomes`).
#: They follow :data:`OUTCOMES` in the time series, innovation by innovation, in this order.
INNOVATION_OUTCOMES: tuple[Outcome, ...] = (
    _O("adoption_{innovation}", "share of active GPs using {innovation} (genuinely or shallowly)",
       "{Label} used (genuine or shallow)", "{label}", "use of {label} (genuine or shallow)",
       "share", "share of GPs"),
    _O("genuine_{innovation}", "share of active GPs using {innovation} genuinely",
       "{Label} adopted (genuine)", "{label}", "genuine adoption of {label}", "share",
       "share of GPs"),
    _O("shallow_{innovation}", "share of active GPs complying with {innovation} shallowly",
       "{Label} complied with (shallow)", "{label} (shallow)", "shallow compliance with {label}",
       "share", "share of GPs"),
    _O("practice_{innovation}", "share of practices that have adopted {innovation}",
       "Practices that adopted {label}", "practices with {label}",
       "the share of practices that adopted {label}", "share", "share of practices"),
    _O("new_social_{innovation}", "new genuine adoptions of {innovation} this month, the part "
       "caused by the GPs' ties (social share of the hazard; threshold crossings)",
       "{Label}: new adoptions caused by ties", "{label}: caused by ties (per month)",
       "adoptions of {label} caused by ties", "count", "GPs"),
    _O("new_external_{innovation}", "new genuine adoptions of {innovation} this month, the part "
       "caused by external push", "{Label}: new adoptions from external push",
       "{label}: external push (per month)", "adoptions of {label} from external push",
       "count", "GPs"),
    _O("new_mandated_{innovation}", "new shallow (compliance) adoptions of mandated {innovation} "
       "this month", "{Label}: new shallow compliance", "{label}: compliance (per month)",
       "shallow compliance with {label}", "count", "GPs"),
)
del _O

_BY_NAME = {o.name: o for o in OUTCOMES}
_TEXT_FIELDS = ("name", "description", "label", "short", "phrase")

#: The headline outcomes' names, in registry order (a derived view of :data:`OUTCOMES`).
HEADLINE: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.headline)
#: The description of every reporter that does not depend on the innovations (a derived view).
DESCRIPTIONS: dict[str, str] = {o.name: o.description for o in OUTCOMES if o.monthly}


#: Innovation names written otherwise than with their underscores as spaces.
ABBREVIATIONS = {"pdsa": "PDSA"}


def innovation_words(name: str) -> str:
    """An innovation's name in words (``root_cause_analysis`` -> ``root cause analysis``)."""
    return ABBREVIATIONS.get(name, name.replace("_", " "))


@functools.lru_cache(maxsize=64)
def _innovation_outcomes(names: tuple[str, ...]) -> tuple[Outcome, ...]:
    out = []
    for name in names:
        words = innovation_words(name)
        fill = dict(innovation=name, label=words, Label=words[:1].upper() + words[1:])
        for t in INNOVATION_OUTCOMES:
            out.append(dataclasses.replace(
                t, innovation=name, **{f: getattr(t, f).format(**fill) for f in _TEXT_FIELDS}))
    return tuple(out)


def innovation_outcomes(names) -> tuple[Outcome, ...]:
    """The outcomes of these innovations (by name), from the templates, in time-series order."""
    return _innovation_outcomes(tuple(names))


def _innovation_names(params) -> tuple[str, ...]:
    return tuple(i.name for i in params.innovations) if params is not None else ()


def outcomes(params=None) -> tuple[Outcome, ...]:
    """Every outcome of a run with these parameters (their innovations'), in time-series order,
    each run total after its flow; without parameters, those of :data:`OUTCOMES` only."""
    return OUTCOMES + innovation_outcomes(_innovation_names(params))


def headline() -> tuple[Outcome, ...]:
    """The headline outcomes, in registry order."""
    return tuple(o for o in OUTCOMES if o.headline)


def total_of(name: str) -> Outcome | None:
    """The run total of a monthly flow (``leavers`` -> ``leavers_total``), or None."""
    return next((o for o in OUTCOMES if o.total_of == name), None)


def outcome(name: str, params=None) -> Outcome:
    """The outcome called ``name``. Per-innovation names (``adoption_<innovation>``, ...) are
    built from the templates: for the innovations of ``params`` when given, for any name
    otherwise. An unknown name raises :class:`~simulation.params.PcsimInputError` naming it and
    the valid names."""
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    known = _innovation_names(params)
    for t in INNOVATION_OUTCOMES:
        prefix = t.name.split("{", 1)[0]
        innovation = name[len(prefix):]
        if name.startswith(prefix) and innovation and (params is None or innovation in known):
            return innovation_outcomes([innovation])[INNOVATION_OUTCOMES.index(t)]
    valid = [o.name for o in outcomes(params)] if params is not None else \
        [o.name for o in OUTCOMES] + [t.name.replace("{innovation}", "<innovation>")
                                      for t in INNOVATION_OUTCOMES]
    raise PcsimInputError(unknown_outcome_message(name, valid))


def unknown_outcome_message(name: str, valid, where: str = "") -> str:
    """One line: the unknown outcome, the nearest valid names, and every valid one."""
    close = difflib.get_close_matches(name, list(valid), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    prefix = f"{where}: " if where else ""
    return f"{prefix}unknown outcome {name!r}.{hint} Valid: {', '.join(valid)}"


def innovation_reporters(names) -> list[str]:
    """The reporters of these innovations, in time-series order."""
    return [o.name for o in innovation_outcomes(names)]


def reporter_names(params) -> list[str]:
    """The columns of the time series of a run with these parameters, in order."""
    return [o.name for o in outcomes(params) if o.monthly]


# --- the reporters ------------------------------------------------------------------------------

def observe(state, params, tables) -> dict[str, float]:
    """The reporters of one month."""
    n, m = state.genuine.shape
    (count, genuine, shallow, either, informal, formal, brokers, both, union, practices, plans,
     trusts) = _counts((state.active, state.genuine, state.shallow, state.informal_since,
                        state.cross_influence, state.formal), params.broker_bar,
                       state.practice_adopted, (state.has_plan, state.form))
    n_active = max(count, 1)
    weights = state.active.astype(np.float64)
    # numpy's own (pairwise) sum, not np.dot: BLAS splits a long dot product across its threads,
    # so its last bits depended on the machine's core count (and it was slow on a busy machine)
    mean = lambda x: float((x * weights).sum() / n_active)
    # means of 0/1 values: their float sums are the exact counts, in any order
    if count:
        genuine_share, shallow_share, either_share = genuine / count, shallow / count, either / count
    else:
        genuine_share = shallow_share = either_share = np.zeros(m)
    complex_voluntary = ~tables.simple & ~tables.mandated
    out = {
        "month": state.month,
        "pressure": float(state.pressure),
        "complex_adoption": float(genuine_share[complex_voluntary].mean()) if complex_voluntary.any() else 0.0,
        "quality": float(state.quality.mean()),
        "autonomy": mean(state.autonomy),
        "strain": mean(state.strain),
        "cynicism": mean(state.cynicism),
        "leavers": state.leavers,
        "joiners": state.joiners,
        "vacancies": int(n - count),
        "informal_leaders": int(informal),
        "informal_new": state.informal_new,
        "informal_lost": state.informal_lost,
        "informal_tenure": informal_tenure(state),
        "formal_leaders": int(formal),
        "brokers": int(brokers),
        "badge_being": float(both / union) if union else 0.0,
        # shares of flags: exact counts over the size, as their means are
        "federations_with_plan": plans / state.n_federations,
        "trusts": trusts / state.n_federations,
    }
    practice_share = (practices / state.n_practices).tolist()
    either_share, genuine_share, shallow_share = either_share.tolist(), genuine_share.tolist(), shallow_share.tolist()
    social, external, mandated = (row.tolist() for row in state.new_by_cause)
    for k, inn in enumerate(params.innovations):
        out[f"adoption_{inn.name}"] = either_share[k]
        out[f"genuine_{inn.name}"] = genuine_share[k]
        out[f"shallow_{inn.name}"] = shallow_share[k]
        out[f"practice_{inn.name}"] = practice_share[k]
        out[f"new_social_{inn.name}"] = social[k]
        out[f"new_external_{inn.name}"] = external[k]
        out[f"new_mandated_{inn.name}"] = mandated[k]
    return out


def informal_tenure(state) -> float:
    """Median months the current informal leaders have held the role (0 with none)."""
    since = state.informal_since[state.informal_since >= 0]
    return float(np.median(state.month - since)) if since.size else 0.0


@kernels.njit
def _counts(gps, broker_bar, practice_adopted, federations):
    """The counts behind the reporters, in one pass over the GPs: active GPs; per innovation,
    active GPs using it genuinely, shallowly, either; informal leaders, formal leaders (active),
    brokers, GPs who are both, either; per innovation, practices that adopted it; federations
    with a plan; trusts (form 2)."""
    active, genuine, shallow, informal_since, cross_influence, formal = gps
    has_plan, form = federations
    n, m = genuine.shape
    count = informal = formal_count = brokers = both = union = 0
    for i in range(n):  # (& and | rather than and/or: no branches)
        a = active[i]
        informal_i = kernels.is_informal(a, informal_since[i])
        is_formal = a & formal[i]
        count += a
        informal += informal_i
        formal_count += is_formal
        brokers += informal_i & (cross_influence[i] >= broker_bar)
        both += informal_i & is_formal
        union += informal_i | is_formal
    # flags read as bytes, row by row (numba's 2-d bool reads cost more than the counting)
    g, s, e = np.zeros(m, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64)
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    for i in range(n):
        a = np.uint8(active[i])
        for k in range(m):
            x, y = g_bytes[i * m + k], s_bytes[i * m + k]
            g[k] += x & a
            s[k] += y & a
            e[k] += (x | y) & a
    practices = np.zeros(m, np.int64)
    p_bytes = practice_adopted.reshape(practice_adopted.size).view(np.uint8)
    for p in range(practice_adopted.shape[0]):
        for k in range(m):
            practices[k] += p_bytes[p * m + k]
    plans = trusts = 0
    for f in range(has_plan.size):
        plans += has_plan[f]
        trusts += form[f] == 2
    return count, g, s, e, informal, formal_count, brokers, both, union, practices, plans, trusts


def gp_table(state, params) -> pd.DataFrame:
    """One row per GP post at the end of the run."""
    styles = np.array([s.name for s in params.styles])
    table = pd.DataFrame({
        "gp": np.arange(state.n_gps), "person": state.person, "practice": state.practice,
        "federation": state.practice_federation[state.practice], "active": state.active,
        "role": np.where(state.partner, "partner", "salaried"),
        "leadership_propensity": state.propensity, "style": styles[state.style],
        "seniority": state.seniority, "autonomy": state.autonomy, "strain": state.strain,
        "cynicism": state.cynicism, "formal_leader": state.formal,
        "month_appointed": state.month_appointed, "influence": state.influence,
        "cross_influence": state.cross_influence,
        "informal_leader": kernels.informal_leaders(state, params),
        "informal_since": state.informal_since,
        "broker": kernels.brokers(state, params),
    })
    for k, inn in enumerate(params.innovations):
        table[f"genuine_{inn.name}"] = state.genuine[:, k]
        table[f"shallow_{inn.name}"] = state.shallow[:, k]
        table[f"month_adopted_{inn.name}"] = state.month_adopted[:, k]
    return table


def practice_table(state, params) -> pd.DataFrame:
    """One row per practice at the end of the run."""
    posts, active, vacancy_share = kernels.practice_counts(state)
    informal = kernels.informal_leaders(state, params)
    n_safe = np.where(active > 0, active, 1.0)
    table = pd.DataFrame({
        "practice": np.arange(state.n_practices), "federation": state.practice_federation,
        "list_size": state.list_size, "posts": posts, "gps": active.astype(int),
        "vacancies": (posts - active).astype(int),
        "partners": np.bincount(state.practice, weights=state.partner & state.active,
                                minlength=state.n_practices).astype(int),
        "culture": state.culture, "inertia": state.inertia, "quality": state.quality,
        "informal_leaders": kernels.practice_sums(state, informal).astype(int),
        "formal_leaders": kernels.practice_sums(state, state.formal).astype(int),
        "leadership": kernels.practice_sums(state, state.influence) / n_safe,
    })
    for k, inn in enumerate(params.innovations):
        table[f"adopted_{inn.name}"] = state.practice_adopted[:, k]
    return table


def federation_table(state, params) -> pd.DataFrame:
    fed = state.practice_federation[state.practice]
    n_f = state.n_federations
    table = pd.DataFrame({
        "federation": np.arange(n_f), "form": np.array(FORMS)[state.form],
        "practices": np.bincount(state.practice_federation, minlength=n_f),
        "gps": np.bincount(fed, weights=state.active, minlength=n_f).astype(int),
        "brokers": np.bincount(fed, weights=kernels.brokers(state, params), minlength=n_f).astype(int),
        "has_plan": state.has_plan,
    })
    for k, inn in enumerate(params.innovations):
        table[f"plan_{inn.name}"] = state.plan[:, k]
    return table


ROGERS = ("innovator", "early_adopter", "early_majority", "late_majority", "laggard")


def adopter_categories(month_adopted: np.ndarray) -> pd.Series:
    """Rogers' categories by adoption time: cuts at mean - 2sd, mean - sd, mean, mean + sd
    (adopters at month 0, who used the method before the run, are left out)."""
    t = month_adopted[month_adopted > 0].astype(float)
    if t.size < 2:
        return pd.Series(dtype=object)
    mu, sd = t.mean(), t.std()
    cuts = [mu - 2 * sd, mu - sd, mu, mu + sd]
    return pd.Series(np.array(ROGERS)[np.searchsorted(cuts, t, side="right")])


def summarise(timeseries: pd.DataFrame) -> dict[str, float]:
    """Summary outcomes of one run: the last month's reporters, plus the run totals of the flows
    (the outcomes with ``total_of``: months 1 to the end)."""
    last = timeseries.iloc[-1]
    out = {k: float(v) for k, v in last.items() if k != "month"}
    for o in OUTCOMES:
        if o.total_of is not None:
            out[o.name] = float(timeseries[o.total_of].iloc[1:].sum())
    out["months"] = float(last["month"])
    return out
