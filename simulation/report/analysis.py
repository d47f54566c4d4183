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

def _sentence(row, against: str) -> str:
    o = BY_NAME[row.outcome]
    direction = "higher" if row.difference > 0 else "lower"
    size = o.difference_size(row.difference)
    return (f"{o.phrase} was {size} {direction} than {against} "
            f"({fmt(row.outcome, row.reference_mean)} to {fmt(row.outcome, row.arm_mean)}; "
            f"95% CI of the difference {fmt_interval(row.outcome, row.ci_low, row.ci_high, True)})")


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
    if len(study.labels) == 1:
        return [f"One scenario only ({study.reference}), so there is nothing to compare: the "
                f"tables and figures show its outcomes {horizon} across {study.replicates} "
                "replicates. Give more scenarios to compare them with it."]
    out = []
    for label in study.labels[1:]:
        d = differences[differences["arm"] == label].copy()
        who = (f"With the intervention ({study.intervention.describe(study.extra.get('chosen'))} "
               f"at month {study.at_month})" if study.kind == "impact" else f"Under {label}")
        against = "without it" if study.kind == "impact" else study.reference
        prefix = "" if study.kind == "impact" else f"{label}: "
        if (d["identical_replicates"] == d["replicates"]).all():
            out.append(f"{who}, every outcome was identical to {study.reference} in every "
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
            parts = [_sentence(row, against) for row in clear.head(top).itertuples()]
            out.append(f"{who}, {horizon}, " + "; ".join(parts) + ".")
        told = set(clear["outcome"].head(top))
        key = d.set_index("outcome").loc[[k for k in KEY_OUTCOMES if k not in told]]
        if not key.empty:
            items = [f"{BY_NAME[name].phrase} {fmt(name, r.difference, True)} "
                     f"(95% CI {fmt_interval(name, r.ci_low, r.ci_high, True)}"
                     f"{'' if r.clear else ', not clear'})" for name, r in key.iterrows()]
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
