"""The numbers of a report: outcome summaries, paired differences, ribbons, and the
plain-language summary generated from them.

Every table is tidy (one row per arm, outcome and, for time series, month) and is written to
the report folder as the data behind its figure. See :mod:`simulation.report.stats` for the
intervals; with fewer than :data:`~simulation.report.stats.MIN_REPLICATES` replicates every
interval and range is ``NaN`` (shown as "n/a") and no difference is ``clear``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import metrics
from . import stats
from .study import BY_NAME, OUTCOME_NAMES, Study


def _wide(outcomes: pd.DataFrame, arm: str, columns) -> np.ndarray:
    """Replicates (rows, in replicate order) x columns for one arm."""
    part = outcomes[outcomes["arm"] == arm].sort_values("replicate")
    return part[list(columns)].to_numpy(dtype=np.float64)


def _unless_meaningful(study: Study, *arrays):
    """The arrays, or NaN in their shape when the study has too few replicates for intervals."""
    if stats.intervals_meaningful(study.replicates):
        return arrays
    return tuple(np.full(np.shape(a), np.nan) for a in arrays)


def summary_table(study: Study) -> pd.DataFrame:
    """Per arm and outcome at the last month: mean, sd, and the 95% range across replicates."""
    rows = []
    for label in study.labels:
        values = _wide(study.outcomes, label, OUTCOME_NAMES)
        low, high = _unless_meaningful(study, *stats.spread(values))
        sd = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
        for j, name in enumerate(OUTCOME_NAMES):
            rows.append(dict(arm=label, outcome=name, mean=values[:, j].mean(), sd=sd[j],
                             low=low[j], high=high[j], replicates=values.shape[0]))
    return pd.DataFrame(rows)


def bootstrap_for(study: Study) -> stats.Bootstrap:
    """The resampling counts every interval of this study's report uses (seeded from --seed)."""
    return stats.Bootstrap.draw(study.replicates, stats.derived_stream(study.seed, stats.BOOTSTRAP_KEY))


DIFFERENCE_COLUMNS = ["arm", "reference", "outcome", "reference_mean", "arm_mean", "difference",
                      "ci_low", "ci_high", "standardised", "clear", "identical_replicates",
                      "replicates"]
PAIRED_COLUMNS = ["arm", "reference", "outcome", "month", "difference", "ci_low", "ci_high"]


def differences_table(study: Study, boot: stats.Bootstrap) -> pd.DataFrame:
    """Paired differences (arm - reference, replicate by replicate) at the last month: mean,
    95% percentile-bootstrap interval, and the difference in units of the reference's spread
    across replicates (its sd), used to rank differences for the summary."""
    ref = _wide(study.outcomes, study.reference, OUTCOME_NAMES)
    ref_sd = ref.std(axis=0, ddof=1) if ref.shape[0] > 1 else np.zeros(ref.shape[1])
    rows = []
    for label in study.labels[1:]:
        diff = _wide(study.outcomes, label, OUTCOME_NAMES) - ref
        low, high = _unless_meaningful(study, *boot.interval(diff))
        for j, name in enumerate(OUTCOME_NAMES):
            mean = diff[:, j].mean()
            rows.append(dict(
                arm=label, reference=study.reference, outcome=name,
                reference_mean=ref[:, j].mean(), arm_mean=ref[:, j].mean() + mean,
                difference=mean, ci_low=low[j], ci_high=high[j],
                standardised=mean / ref_sd[j] if ref_sd[j] > 0 else np.nan,
                clear=bool(low[j] > 0 or high[j] < 0),
                identical_replicates=int(np.count_nonzero(diff[:, j] == 0.0)),
                replicates=diff.shape[0]))
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def _cube(study: Study, arm: str, name: str) -> np.ndarray:
    """Replicates x months of one outcome for one arm."""
    part = study.timeseries[study.timeseries["arm"] == arm]
    return part.pivot(index="replicate", columns="month", values=name).to_numpy(dtype=np.float64)


def ribbons_table(study: Study) -> pd.DataFrame:
    """Per arm, outcome and month: median and 95% range across replicates."""
    frames = []
    for label in study.labels:
        months = np.sort(study.timeseries.loc[study.timeseries["arm"] == label, "month"].unique())
        for name in OUTCOME_NAMES:
            cube = _cube(study, label, name)
            low, high = _unless_meaningful(study, *stats.spread(cube))
            frames.append(pd.DataFrame(dict(arm=label, outcome=name, month=months,
                                            median=np.median(cube, axis=0), low=low, high=high)))
    return pd.concat(frames, ignore_index=True)


def paired_timeseries_table(study: Study, boot: stats.Bootstrap) -> pd.DataFrame:
    """Per comparison arm, outcome and month: mean paired difference from the reference and its
    95% percentile-bootstrap interval."""
    frames = []
    months = np.sort(study.timeseries["month"].unique())
    for label in study.labels[1:]:
        for name in OUTCOME_NAMES:
            diff = _cube(study, label, name) - _cube(study, study.reference, name)
            low, high = _unless_meaningful(study, *boot.interval(diff))
            frames.append(pd.DataFrame(dict(arm=label, reference=study.reference, outcome=name,
                                            month=months, difference=diff.mean(axis=0),
                                            ci_low=low, ci_high=high)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PAIRED_COLUMNS)


# --- formatting ---------------------------------------------------------------------------------

def fmt(name: str, value: float, difference: bool = False) -> str:
    """A value of an outcome as a reader wants it: shares in % (differences in points);
    differences carry a sign unless they round to zero (:meth:`simulation.metrics.Outcome.format_mean`)."""
    return metrics.outcome(name).format_mean(value, difference)


def fmt_interval(name: str, low: float, high: float, difference: bool = False,
                 replicates: int | None = None) -> str:
    """'low to high', or 'n/a (2 replicates)' when there is no interval (too few replicates)."""
    if np.isnan(low) or np.isnan(high):
        return "n/a" + (f" ({stats.replicates_text(replicates)})" if replicates else "")
    return f"{fmt(name, low, difference)} to {fmt(name, high, difference)}"


# --- the plain-language summary ------------------------------------------------------------------

def _sentence(row, against: str, flag: str = "") -> str:
    o = BY_NAME[row.outcome]
    direction = "higher" if row.difference > 0 else "lower"
    size = o.difference_size(row.difference)
    return (f"{o.phrase} was {size} {direction} than {against} "
            f"({fmt(row.outcome, row.reference_mean)} to {fmt(row.outcome, row.arm_mean)}; "
            f"95% CI of the difference {fmt_interval(row.outcome, row.ci_low, row.ci_high, True)}){flag}")


#: Outcomes every summary reports with numbers: the editorial's innovation, quality,
#: sustainability (exits) and federation-level questions.
KEY_OUTCOMES = ("complex_adoption", "quality", "leavers_total", "federations_with_plan")


def _start(prefix: str, text: str) -> str:
    return prefix + text if prefix else text[0].upper() + text[1:]


def summary_sentences(study: Study, differences: pd.DataFrame, paired: pd.DataFrame | None = None,
                      top: int = 3) -> list[str]:
    """A few plain sentences per comparison: the ``top`` clear differences (95% interval
    excluding zero), ranked by size relative to the reference's spread across replicates; the
    key outcomes (:data:`KEY_OUTCOMES`) with their intervals; the other outcomes named as clearly
    different or not."""
    horizon = f"after {study.months} months ({study.months / 12:g} years)"
    names = arm_titles(study)
    if len(study.labels) == 1:
        return [f"One scenario only ({names[study.reference]}), so there is nothing to compare: the "
                f"tables and figures show its outcomes {horizon} across {study.replicates} "
                "replicates. Give more scenarios to compare them with it."]
    out = []
    for label in study.labels[1:]:
        d = differences[differences["arm"] == label].copy()
        who = (f"With the intervention ({study.intervention.describe(study.extra.get('chosen'))} "
               f"at month {study.at_month})" if study.kind == "impact" else f"Under {names[label]}")
        against = "without it" if study.kind == "impact" else names[study.reference]
        prefix = "" if study.kind == "impact" else f"{names[label]}: "
        flag = lambda name: contrast_flag(study, name, study.reference, label)  # noqa: E731
        if (d["identical_replicates"] == d["replicates"]).all():
            out.append(f"{who}, every outcome was identical to {against} in every "
                       f"replicate {horizon}: the two arms ran on the same random numbers and "
                       "the scenario changes nothing that matters.")
            continue
        if not stats.intervals_meaningful(study.replicates):
            out.append(_few_replicates_sentence(study, d, who, horizon))
            if paired is not None and study.kind == "impact":
                out.extend(_peak_sentences(study, paired[paired["arm"] == label]))
            continue
        d["rank"] = np.where(d["standardised"].notna(), d["standardised"].abs(), np.inf)
        clear = d[d["clear"]].sort_values("rank", ascending=False)
        unclear = d[~d["clear"]]
        if clear.empty:
            out.append(f"{who}, no outcome differed clearly from {against} {horizon} "
                       f"(every 95% interval of the paired difference includes zero).")
        else:
            parts = [_sentence(row, against, flag(row.outcome)) for row in clear.head(top).itertuples()]
            out.append(f"{who}, {horizon}, " + "; ".join(parts) + ".")
        told = set(clear["outcome"].head(top))
        key = d.set_index("outcome").loc[[k for k in KEY_OUTCOMES if k not in told]]
        if not key.empty:
            items = [f"{BY_NAME[name].phrase} {fmt(name, r.difference, True)} "
                     f"(95% CI {fmt_interval(name, r.ci_low, r.ci_high, True)}"
                     f"{'' if r.clear else ', not clear'}){flag(name)}" for name, r in key.iterrows()]
            out.append(_start(prefix, "on the key outcomes: " + "; ".join(items) + "."))
        told |= set(KEY_OUTCOMES)
        rest_clear = [n for n in clear["outcome"] if n not in told]
        rest_unclear = [n for n in unclear["outcome"] if n not in told]
        if rest_clear:
            out.append(_start(prefix, "also clearly different: "
                              + ", ".join(BY_NAME[n].phrase for n in rest_clear) + "."))
        if rest_unclear and not clear.empty:
            out.append(_start(prefix, "no clear difference in "
                              + ", ".join(BY_NAME[n].phrase for n in rest_unclear)
                              + " (95% intervals include zero)."))
        if paired is not None and study.kind == "impact":
            out.extend(_peak_sentences(study, paired[paired["arm"] == label]))
    return out


def _few_replicates_sentence(study: Study, d: pd.DataFrame, who: str, horizon: str) -> str:
    """With too few replicates for intervals: the key outcomes' mean paired differences, saying
    that they are means only."""
    key = d.set_index("outcome").loc[list(KEY_OUTCOMES)]
    items = [f"{BY_NAME[name].phrase} {fmt(name, r.difference, True)}" for name, r in key.iterrows()]
    return (f"{who}, {horizon}, the mean paired differences over "
            f"{stats.replicates_text(study.replicates)} (too few for intervals, so these are not "
            "judged against chance) were: " + "; ".join(items) + "; the other outcomes are in "
            "the table of differences.")


def _peak_sentences(study: Study, paired: pd.DataFrame) -> list[str]:
    """For an intervention: its immediate effect on leaders, adoption and plans, the largest mean
    difference after it, and what was left at the end."""
    out = []
    after = paired[paired["month"] > study.at_month]
    for name in ("informal_leaders", "formal_leaders", "brokers", "complex_adoption",
                 "federations_with_plan"):
        series = after[after["outcome"] == name]
        if series.empty or (series["difference"] == 0).all():
            continue
        first, last = series.iloc[0], series.iloc[-1]
        peak = series.loc[series["difference"].abs().idxmax()]
        if stats.intervals_meaningful(study.replicates):
            ci = lambda row, lead="": f" ({lead}{fmt_interval(name, row.ci_low, row.ci_high, True)})"
        else:  # no interval to give
            ci = lambda row, lead="": ""
        text = (f"{BY_NAME[name].label}: {fmt(name, first.difference, True)} in the month after "
                f"the intervention{ci(first, '95% CI ')}")
        if int(peak.month) not in (int(first.month), int(last.month)):
            text += f", largest {fmt(name, peak.difference, True)} at month {int(peak.month)}{ci(peak)}"
        out.append(text + f", {fmt(name, last.difference, True)} at month {int(last.month)}"
                          f"{ci(last)}.")
    return out


# --- for a director: key findings, robustness, the impact headline -----------------------------------

#: The outcomes the key findings state, in order of practical importance for the service (a
#: declared order, not a ranking by standardised effect): GPs leaving (workforce), genuine
#: adoption of the structured QI methods (what the policy is for), quality of care.
FINDING_ORDER = ("leavers_total", "complex_adoption", "quality")
#: The outcomes whose difference at the end decides whether an intervention made a lasting
#: difference (the key findings' outcomes and federations' plans).
LASTING_OUTCOMES = FINDING_ORDER + ("federations_with_plan",)
#: A lasting difference is called small when every clear one is below this share of its level
#: without the intervention (a declared threshold of practical importance, not a test).
SMALL_RELATIVE = 0.05
#: The first word of an intervention's description, as the subject of the impact headline.
GERUNDS = {"remove": "Removing", "appoint": "Appointing", "add": "Adding"}


def contrast_robustness(runs: pd.DataFrame, outcome: str, a: str, b: str) -> bool | None:
    """Whether the contrast ``b - a`` in ``outcome`` keeps its sign across parameter sets.

    ``runs`` is a study's run table (``arm``, ``replicate``, the outcomes and, for a study drawn
    across a calibrated ensemble, ``param_set``). Paired by replicate, the mean difference is
    taken within each parameter set and judged by :func:`simulation.report.robustness.verdict`:
    ``False`` if some sets' means are positive and others negative (not robust), ``True`` if
    not, ``None`` if unknown (no ``param_set`` column, or fewer than two sets)."""
    from .robustness import NOT_ROBUST, ONE_SET, verdict

    if "param_set" not in runs.columns:
        return None
    left = runs[runs["arm"] == a].set_index("replicate")
    right = runs[runs["arm"] == b].set_index("replicate")
    common = left.index.intersection(right.index)
    diff = right.loc[common, outcome].astype(float) - left.loc[common, outcome].astype(float)
    judged = verdict(diff.groupby(left.loc[common, "param_set"]).mean())
    return None if judged == ONE_SET else judged != NOT_ROBUST


#: A report outcome's name in the screening (:mod:`simulation.robustness`) where they differ:
#: the screening judged the exit rate, whose sign is that of the number of GPs who left.
SCREENED_AS = {"leavers_total": "exit_rate"}
#: The evidence a "not robust" flag names.
ACROSS_SETS = "its direction changes across the calibrated parameter sets"
ACROSS_RANGES = ("its direction changes across the screened ranges of the assumed parameters "
                 "(docs/screening.md)")


def screening_applies(study: Study) -> bool:
    """Whether the shipped screening speaks to this study's contrasts: a comparison of shipped
    scenarios with ``baseline`` as the reference, at county scale (where the screening ran),
    with no ``--set`` overrides (the screening varied the assumed parameters around the shipped
    scenarios' own settings)."""
    from .. import scenarios as scenario_files

    shipped = set(scenario_files.names())
    return (study.kind == "compare" and not study.overrides and study.scale == "county"
            and study.arms[0].scenario == "baseline"
            and all(arm.scenario in shipped for arm in study.arms))


def screening_robustness(study: Study, outcome: str, a: str, b: str) -> bool | None:
    """The screening's verdict on the contrast ``b - a`` (arm labels) in ``outcome``: ``False``
    if its sign changed within the screened ranges, ``True`` if not, ``None`` when the screening
    does not speak to it (see :func:`screening_applies`; an arm against an arm other than the
    baseline; an outcome not screened). Negating a contrast keeps its verdict, so baseline may
    be either side."""
    from .. import robustness as screening

    if not screening_applies(study):
        return None
    scenario = {arm.label: arm.scenario for arm in study.arms}
    pair = {scenario[a], scenario[b]}
    if "baseline" not in pair or len(pair) != 2:
        return None
    r = screening.get((pair - {"baseline"}).pop(), SCREENED_AS.get(outcome, outcome))
    return None if r is None else r.robust


def contrast_flag(study: Study, outcome: str, a: str, b: str) -> str:
    """The flag a stated contrast ``b - a`` carries: ' [not robust: ...]' when EITHER the
    ensemble (:func:`contrast_robustness`, the study's own runs) OR the screening of the
    assumed parameters (:func:`screening_robustness`) finds that its direction changes, naming
    which evidence says so; nothing otherwise."""
    reasons = []
    if contrast_robustness(study.outcomes, outcome, a, b) is False:
        reasons.append(ACROSS_SETS)
    if screening_robustness(study, outcome, a, b) is False:
        reasons.append(ACROSS_RANGES)
    if not reasons:
        return ""
    if len(reasons) == 2:  # one sentence: "... across the sets and across the screened ranges ..."
        reasons = [ACROSS_SETS + " and" + ACROSS_RANGES.removeprefix("its direction changes")]
    return f" [not robust: {reasons[0]}]"


def scale_facts(study: Study) -> dict[str, int]:
    """What the study's population is: GP posts, practices and federations of the reference's
    run (every replicate of a preset has the same numbers of posts and practices)."""
    snap = study.snapshots[study.reference]
    s = snap.state
    return dict(gps=int(s.n_gps), practices=int(len(s.practice_federation)),
                federations=int(np.unique(s.practice_federation).size))


def scale_text(study: Study) -> str:
    """'County scale (480 GP posts in 80 practices, 8 federations)'."""
    f = scale_facts(study)
    where = f", {study.area.label()}" if getattr(study, "area", None) else ""
    layer = "PCNs" if study.scale == "england" else "federations"
    return (f"{study.scale.capitalize()} scale{where} ({f['gps']:,} GP posts in {f['practices']:,} "
            f"practices and {f['federations']:,} {layer})")


def covers(study: Study) -> str:
    """What a study's intervals cover, in words (:attr:`Study.uncertainty`)."""
    if study.parameter_sets > 1:
        return "simulation noise and the uncertainty of the calibrated parameters"
    return "simulation noise at fixed parameters"


def intervals_line(study: Study) -> str:
    """One line on what the report's intervals cover (:attr:`Study.uncertainty`)."""
    if not stats.intervals_meaningful(study.replicates):
        return (f"No intervals: {stats.replicates_text(study.replicates)} are too few "
                f"(at least {stats.MIN_REPLICATES} are needed), so the numbers are means only.")
    sets = (f", drawn across {study.parameter_sets} calibrated parameter sets"
            if study.parameter_sets > 1 else "")
    text = (f"What the intervals cover: each 95% interval reflects {covers(study)}{sets}, "
            f"over {stats.replicates_text(study.replicates)}. ")
    if study.parameter_sets > 1:
        return text + "It does not cover uncertainty in the model's structure."
    return (text + "It does not cover uncertainty in the parameter values the model assumes or "
            "calibrates, nor in its structure, so the real-world uncertainty is wider than the "
            "intervals suggest.")


def _round_int(x: float) -> int:
    return int(np.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _change(value: float, low: float, high: float, show, more: str, less: str,
            meaningful: bool, unit: str = "") -> str:
    """A difference in words: '16 more a year (95% interval 15 to 17)'; when the interval
    includes zero, 'no difference that stands out from the noise (+2 over the 10 years; ...)';
    without intervals, the mean alone."""
    word = more if value > 0 else less
    signed = lambda x: ("" if show(abs(x)) == show(0.0) else "+" if x > 0 else "-") + show(abs(x))  # noqa: E731
    if not meaningful:
        return "no change in the mean" if show(abs(value)) == show(0.0) else \
            f"{show(abs(value))} {word} on average"
    if low > 0 or high < 0:
        a, b = sorted((abs(low), abs(high)))
        return f"{show(abs(value))} {word} (95% interval {show(a)} to {show(b)})"
    return (f"no difference that stands out from the noise ({signed(value)}{unit}; 95% interval "
            f"{signed(low)} to {signed(high)})")


def arm_titles(study: Study) -> dict[str, str]:
    """Each arm's name in words: the scenario's title (a repeated scenario numbered), or, in an
    impact study, 'with the intervention' and 'no intervention'."""
    if study.kind == "impact":
        return {"control": "no intervention", "intervention": "with the intervention"}
    from .. import scenarios as scenario_files
    out = {}
    for arm in study.arms:
        title = scenario_files.load(arm.scenario).title
        suffix = arm.label.rsplit("_", 1)[-1] if arm.label != scenario_files.load(arm.scenario).name else ""
        out[arm.label] = f"{title} ({suffix})" if suffix.isdigit() else title
    return out


def quality_meaning(study: Study) -> str:
    """What the quality index means, from the reference's parameters."""
    p = study.arms[0].params
    return (f"quality of care is an index in which {p.quality_base:.2f} is a practice with no "
            "quality-improvement method in use, no strain and no vacant posts; methods in genuine "
            "use raise it, and GPs' strain and vacant posts lower it")


def key_findings(study: Study, differences: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Three plain sentences, in :data:`FINDING_ORDER`: GPs leaving per year (people, and a
    share of the posts), genuine adoption as a share of GPs, and quality explained; each
    contrast carries its robustness flag (:func:`contrast_flag`) when it is known."""
    if len(study.labels) == 1:
        return [f"One scenario only ({arm_titles(study)[study.reference]}): there is nothing to "
                "compare; the tables show its outcomes."]
    names = arm_titles(study)
    ref = study.reference
    years = study.months / 12.0
    posts = scale_facts(study)["gps"]
    meaningful = stats.intervals_meaningful(study.replicates)
    mean = summary.set_index(["arm", "outcome"])["mean"]
    d = differences.set_index(["arm", "outcome"])
    out = []
    for name in FINDING_ORDER:
        parts = []
        for label in study.labels[1:]:
            r = d.loc[(label, name)]
            flag = contrast_flag(study, name, ref, label)
            if name == "leavers_total":
                per_year = mean[(label, name)] / years
                # fewer than one a year: the whole run's number, so that no change reads as '0'
                clear = bool(r.clear) and meaningful
                per = years if clear and _round_int(r.difference / years) != 0 else 1.0
                words = ("a year" if per != 1.0 else f"over the {years:g} years")
                change = _change(r.difference / per, r.ci_low / per, r.ci_high / per,
                                 lambda x: f"{_round_int(x)}", f"more {words}", f"fewer {words}",
                                 meaningful, f" {words}")
                parts.append(f"{names[label]}: {_round_int(per_year)} a year "
                             f"({per_year / posts:.1%} of the posts), {change}{flag}")
            elif name == "complex_adoption":
                change = _change(100 * r.difference, 100 * r.ci_low, 100 * r.ci_high,
                                 lambda x: f"{x:.1f}", "percentage points more",
                                 "percentage points fewer", meaningful, " points")
                parts.append(f"{names[label]}: {mean[(label, name)]:.0%}, {change}{flag}")
            else:
                change = _change(r.difference, r.ci_low, r.ci_high, lambda x: f"{x:.3f}",
                                 "higher", "lower", meaningful)
                parts.append(f"{names[label]}: {mean[(label, name)]:.3f}, {change}{flag}")
        against = "without the intervention" if study.kind == "impact" else f"under {names[ref]}"
        if name == "leavers_total":
            per_year = mean[(ref, name)] / years
            out.append(f"GPs leaving: {_round_int(per_year)} GPs a year left {against}, "
                       f"{per_year / posts:.1%} of the {posts:,} GP posts; " + "; ".join(parts) + ".")
        elif name == "complex_adoption":
            out.append(f"Adoption: {mean[(ref, name)]:.0%} of GPs genuinely used the structured "
                       f"(complex) quality-improvement methods at the end {against}; "
                       + "; ".join(parts) + ".")
        else:
            meaning = quality_meaning(study)
            out.append(f"Quality: {meaning[0].upper() + meaning[1:]}. It was "
                       f"{mean[(ref, name)]:.3f} {against}; " + "; ".join(parts) + ".")
    return out


def lasting_headline(study: Study, differences: pd.DataFrame) -> str | None:
    """For an impact study: whether the intervention made a lasting difference, decided from
    the 95% interval of each of :data:`LASTING_OUTCOMES`' differences at the last month (none
    without enough replicates: then the headline says it cannot tell)."""
    if study.kind != "impact":
        return None
    what = study.intervention.describe(study.extra.get("chosen"))
    verb, _, rest = what.partition(" ")
    what = f"{GERUNDS.get(verb, verb.capitalize())} {rest}"
    when = f"at month {study.at_month}"
    end = f"month {study.months}"
    if not stats.intervals_meaningful(study.replicates):
        return (f"{what} {when}: with {stats.replicates_text(study.replicates)}, too few to tell "
                "whether it made a lasting difference.")
    d = differences[(differences["arm"] == "intervention")].set_index("outcome")
    lasting = [n for n in LASTING_OUTCOMES if bool(d.loc[n, "clear"])]
    phrases = ", ".join(BY_NAME[n].phrase for n in LASTING_OUTCOMES)
    if not lasting:
        return (f"{what} {when} made no lasting difference: by {end}, the 95% interval of the "
                f"difference includes zero for every key outcome ({phrases}).")
    small = all(abs(d.loc[n, "difference"]) < SMALL_RELATIVE * abs(d.loc[n, "reference_mean"])
                for n in lasting)
    size = "a small but lasting difference" if small else "a lasting difference"
    fragile = [n for n in lasting
               if contrast_flag(study, n, study.reference, "intervention")]
    caveat = ("" if not fragile else
              f" Its direction is not robust: across the calibrated parameter sets, "
              f"{' and '.join(BY_NAME[n].phrase for n in fragile)} "
              f"{'is' if len(fragile) == 1 else 'are'} higher with the intervention in some sets "
              "and lower in others, so read it as no dependable effect.")
    return (f"{what} {when} made {size}: by {end}, "
            + "; ".join(f"{BY_NAME[n].phrase} was {BY_NAME[n].difference_size(d.loc[n, 'difference'])} "
                        f"{'higher' if d.loc[n, 'difference'] > 0 else 'lower'} (95% interval "
                        f"{fmt_interval(n, d.loc[n, 'ci_low'], d.loc[n, 'ci_high'], True)}; "
                        f"{fmt(n, d.loc[n, 'reference_mean'])} without it)"
                        for n in lasting) + "." + caveat)


def screening_text(study: Study) -> str:
    """What the screening of the assumed parameters found, and whether its verdicts flag this
    report's contrasts (:func:`screening_applies`): a line for the limitations."""
    from .. import robustness as screening
    from .. import scenarios as scenario_files

    about = screening.about()
    verdicts = screening.load()
    unscreened = {v: k for k, v in SCREENED_AS.items()}
    fragile = [f"{scenario_files.load(s).title} on "
               f"{BY_NAME[unscreened.get(o, o)].phrase}"
               for s, outcomes in verdicts.items() for o, r in outcomes.items() if not r.robust]
    total = sum(len(outcomes) for outcomes in verdicts.values())
    text = (f"The assumptions were screened ({about['method']}): {about['factors']} assumed "
            f"numbers were moved ({about['ranges']}) in {about['runs']:,} county runs of "
            f"{about['months']} months. Of the {total} contrasts of the shipped scenarios "
            f"against the baseline on {len(screening.OUTCOMES)} outcomes, {len(fragile)} changed direction within those "
            "ranges" + (f" ({'; '.join(fragile)})" if fragile else "") + "; see docs/screening.md. ")
    if screening_applies(study):
        return text + ("Its verdicts are among this report's \"not robust\" flags, whether or "
                       "not the calibrated ensemble flags the same contrast.")
    if study.kind == "impact":
        why = "the screening did not vary interventions"
    elif study.overrides:
        why = "this report changes parameters with --set"
    elif study.scale != "county":
        why = f"the screening ran on the synthetic county, not at {study.scale} scale"
    else:
        why = "this report does not compare shipped scenarios with the baseline"
    rest = ("only the calibrated parameter sets can flag a contrast" if study.parameter_sets > 1
            else "at fixed parameters, nothing flags a contrast in this report")
    return text + f"They do not apply here, since {why}: {rest}."
