"""The checks of ``pcsim validate``: each run of :mod:`.runs` compared with its target.

- **verification** (the model reduced to textbook cases): the Watts (2002) cascade window, the
  Bass (1969) curve and recovery of its p and q, Granovetter's (1978) tipping point, and complex
  contagion on clustered against random ties (Centola 2010);
- **validation** (the county baseline against the patterns of MODEL.md): one function per
  pattern, each returning its rows of the table.

:func:`validate` runs them all from one root seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .runs import (LEADERS_REMOVED, OPINION_LEADER_FOLLOW_UP, OPINION_LEADER_METHOD,
                   OPINION_LEADER_START, P4P_MONTH, REMOVAL_FOLLOW_UP, REMOVAL_MONTH, TRAINING,
                   TRAINING_MONTHS, TRAINING_START, Plan, run_bass, run_centola, run_granovetter,
                   run_replicates, run_watts)
from .targets import (BASS_FIT_TOLERANCE, LEADERSHIP_TARGETS, QI_METHODS, SURVEY_2017, TARGETS,
                      WATTS_ABOVE_MARGIN,
                      WATTS_BELOW_MARGIN, WATTS_INSIDE_MARGIN, WATTS_MAX_OUTSIDE,
                      WATTS_MIN_INSIDE)

#: the checks of the leadership patterns (issue #13)
LEADERSHIP_CHECKS = ("P7-spread", "P11-mandate", "P12-removal")


@dataclass
class Check:
    """One row of the validation table."""

    id: str
    kind: str  # "verification" or "validation"
    name: str
    target: str
    source: str
    value: float
    low: float
    high: float
    interval: str  # what [low, high] is
    passed: bool
    simulated: str = ""  # the value and interval as printed
    note: str = ""
    pattern: str = ""  # number in MODEL.md's pattern table, if any

    def __post_init__(self):
        self.passed = bool(self.passed)
        if not self.simulated:
            self.simulated = f"{_fmt(self.value)} [{_fmt(self.low)}, {_fmt(self.high)}]"


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@dataclass
class Outcome:
    """What a validation produced: the checks, the data behind them and the figures' data."""

    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # name -> pandas DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def wilson(k: float, n: int, zc: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + zc * zc / n
    centre = (p + zc * zc / (2 * n)) / den
    half = zc * math.sqrt(p * (1 - p) / n + zc * zc / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean_ci(x) -> tuple[float, float]:
    """Student-t 95% CI of the mean of ``x`` (replicates are independent)."""
    import numpy as np
    from scipy import stats

    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return float(x.mean()), float(x.mean())
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


# ---------------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------------


def check_watts(plan: Plan, seed) -> tuple[list[Check], Any]:
    """Frequency of global cascades (>= 1% of GPs) on Erdős–Rényi graphs against the window."""
    table = run_watts(plan, seed)
    return [watts_check(plan, table, phi) for phi in plan.watts_phis], table


def watts_check(plan: Plan, table, phi: float) -> Check:
    """The cascade frequencies of one phi inside and outside its analytic window."""
    from ..verification import watts_window

    low, high = watts_window(phi)
    rows = table[table.phi == phi]
    inside = rows[(rows.z >= low + WATTS_INSIDE_MARGIN) & (rows.z <= high - WATTS_INSIDE_MARGIN)]
    outside = rows[(rows.z <= low - WATTS_BELOW_MARGIN) | (rows.z >= high + WATTS_ABOVE_MARGIN)]
    runs = int(rows.runs.iloc[0])
    worst_in = inside.loc[inside.global_frequency.idxmin()]
    max_out = float(outside.global_frequency.max())
    lo, hi = wilson(worst_in.global_frequency * runs, runs)
    seen = rows[rows.global_frequency > 0]
    empirical = f"z {seen.z.min():.1f}-{seen.z.max():.1f}" if len(seen) else "none"
    ok = (worst_in.global_frequency >= WATTS_MIN_INSIDE) and (max_out <= WATTS_MAX_OUTSIDE)
    return Check(
        id=f"V1-{phi:g}", kind="verification", name=f"Watts cascade window, phi = {phi:g}",
        target=(f"global cascades only for {low:.2f} < z < {high:.2f}: P >= {WATTS_MIN_INSIDE} "
                f"inside, <= {WATTS_MAX_OUTSIDE} outside"),
        source="Watts 2002 PNAS 99:5766; window derived in SOURCES.md",
        value=float(worst_in.global_frequency), low=lo, high=hi,
        interval="Wilson 95% CI of the lowest inside frequency",
        passed=ok,
        simulated=(f"P(global) >= {worst_in.global_frequency:.2f} inside "
                   f"(at z={worst_in.z:g}), <= {max_out:.2f} outside; cascades seen {empirical}"),
        note=(f"n={plan.watts_n}, {runs} cascades per z ({plan.watts_graphs} graphs x "
              f"{plan.watts_starts} seed nodes); inside = [{low + WATTS_INSIDE_MARGIN:.2f}, "
              f"{high - WATTS_INSIDE_MARGIN:.2f}], outside = z <= {low - WATTS_BELOW_MARGIN:.2f} "
              f"or z >= {high + WATTS_ABOVE_MARGIN:.2f} (finite graphs shift the upper edge up)"))


def check_bass(plan: Plan, seed) -> tuple[list[Check], Any, Any]:
    """Mean curve of the Bass limit against the discrete solution and the closed form; p and q
    recovered by fitting the closed form to single simulated curves."""
    import pandas as pd

    runs = run_bass(plan, seed)
    checks = []
    for (p, q), (curves, fits) in zip(plan.bass_pairs, runs):
        checks += [bass_curve_check(plan, p, q, curves), bass_fit_check(plan, p, q, fits)]
    return (checks, pd.concat([c for c, _ in runs], ignore_index=True),
            pd.concat([f for _, f in runs], ignore_index=True))


def bass_curve_check(plan: Plan, p: float, q: float, c) -> Check:
    """The simulated mean curve against the discrete solution of the Bass equation."""
    dev = float((c["mean"] - c.discrete).abs().max())
    dev_closed = float((c["mean"] - c.closed_form).abs().max())
    gap = float((c.discrete - c.closed_form).abs().max())
    # sampling: 4 standard errors of the mean curve; O(1/N): E[F(1-F)] differs from
    # F(1-F) by Var(F) ~ 1/N, so the expected path is the discrete map only up to ~1/N
    tol = 4.0 * float(c.se.max()) + 1.0 / plan.bass_n
    return Check(
        id=f"V2-curve-{p:g}-{q:g}", kind="verification",
        name=f"Bass mean curve, p = {p:g}, q = {q:g} per month",
        target=f"max |mean - discrete solution| <= {tol:.3f} (4 SE + 1/N)",
        source="Bass 1969; dF/dt = (p + qF)(1 - F)",
        value=dev, low=dev, high=dev, interval="over months 0-" + str(plan.bass_months),
        passed=dev <= tol,
        simulated=f"{dev:.4f} (vs closed form {dev_closed:.4f}; discrete-closed gap {gap:.4f})",
        note=(f"N={plan.bass_n} GPs on a complete graph, {plan.bass_replicates} replicates; "
              "the closed form differs from the monthly map by the discretisation gap"))


def bass_fit_check(plan: Plan, p: float, q: float, rec) -> Check:
    """p and q fitted to single runs against the true values."""
    import numpy as np

    from .. import limits
    from ..verification import fit_bass

    t = np.arange(plan.bass_months + 1)
    bias = fit_bass(t, limits.bass_discrete(p, q, plan.bass_months))
    err = max(abs(rec.p_fit.mean() / p - 1), abs(rec.q_fit.mean() / q - 1))
    return Check(
        id=f"V2-fit-{p:g}-{q:g}", kind="verification",
        name=f"Bass p, q recovered by curve_fit, p = {p:g}, q = {q:g}",
        target=f"mean fitted p and q within {BASS_FIT_TOLERANCE:.0%} of the true values",
        source="Bass 1969; scipy.optimize.curve_fit of the closed form",
        value=float(err), low=float(err), high=float(err), interval="largest relative error",
        passed=err <= BASS_FIT_TOLERANCE,
        simulated=(f"p = {rec.p_fit.mean():.4f} [{rec.p_fit.quantile(0.025):.4f}, "
                   f"{rec.p_fit.quantile(0.975):.4f}], q = {rec.q_fit.mean():.4f} "
                   f"[{rec.q_fit.quantile(0.025):.4f}, {rec.q_fit.quantile(0.975):.4f}]"),
        note=(f"fitting the continuous closed form to the monthly map alone gives p = "
              f"{bias.p:.4f}, q = {bias.q:.4f} (discretisation bias); median R^2 = "
              f"{rec.r2.median():.4f}"))


def check_granovetter(plan: Plan, seed) -> tuple[list[Check], Any]:
    """Final share against sigma with thresholds N(0.25, sigma) on a complete graph."""
    from ..verification import granovetter_critical_sigma

    table = run_granovetter(plan, seed)
    by = table.groupby("sigma").final_share
    mean = by.mean()
    sigma_star = granovetter_critical_sigma()
    low_side = mean[mean.index <= 0.10]
    high_side = mean[mean.index >= 0.14]
    crossing = _crossing(mean.index.to_numpy(), mean.to_numpy(), 0.5)
    all_low = by.max()[by.max() < 0.5]
    all_high = by.min()[by.min() > 0.5]
    band = (float(all_low.index.max()) if len(all_low) else math.nan,
            float(all_high.index.min()) if len(all_high) else math.nan)
    ok = (low_side.max() <= 0.1) and (high_side.min() >= 0.95) and (0.11 <= crossing <= 0.135)
    return [Check(
        id="V3", kind="verification", name="Granovetter tipping point (thresholds N(0.25, sigma))",
        target=(f"share <= 0.1 for sigma <= 0.10, >= 0.95 for sigma >= 0.14; jump at sigma* = "
                f"{sigma_star:.3f} (within 0.11-0.135)"),
        source="Granovetter 1978 AJS 83:1420; sigma* = 0.122 derived in SOURCES.md",
        value=crossing, low=band[0], high=band[1],
        interval="largest sigma where every run stays below 1/2, smallest where every run passes it",
        passed=bool(ok),
        simulated=(f"jump at sigma = {crossing:.3f} [{_fmt(band[0])}, {_fmt(band[1])}]; share "
                   f"{low_side.max():.3f} at sigma <= 0.10, {high_side.min():.3f} at >= 0.14"),
        note=(f"N={plan.granovetter_n} GPs fully mixed, {plan.granovetter_replicates} runs per "
              "sigma; instigators are GPs with threshold <= 0; exposure counts the other N-1 GPs"))], table


def _crossing(x, y, level: float) -> float:
    """First x where y (increasing on the whole) crosses ``level``, linearly interpolated."""
    import numpy as np

    x, y = np.asarray(x, float), np.asarray(y, float)
    above = np.flatnonzero(y >= level)
    if above.size == 0:
        return math.inf
    i = above[0]
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (level - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))


def check_centola(plan: Plan, seed) -> tuple[list[Check], Any]:
    """A complex innovation on a clustered lattice against the same lattice randomised."""
    import numpy as np

    table = run_centola(plan, seed)
    last = table[table.month == table.month.max()].pivot(index="replicate", columns="network",
                                                          values="share")
    diff = (last.clustered - last.random).to_numpy()
    mean_curve = table.groupby(["network", "month"]).share.mean().unstack(0)
    faster = bool((mean_curve.clustered >= mean_curve.random).all())
    reach = float(last.random.mean())
    t_cl = int(mean_curve.index[np.flatnonzero(mean_curve.clustered.to_numpy() >= reach)[0]])
    t_rd = int(mean_curve.index[np.flatnonzero(mean_curve.random.to_numpy() >= reach)[0]])
    lo, hi = _mean_ci(diff)
    return [Check(
        id="V4", kind="verification", pattern="9",
        name="Complex contagion: clustered lattice vs random graph of the same degrees",
        target="clustered spreads further (final share higher, CI > 0) and faster (ahead every month)",
        source="Centola 2010 Science 329:1194 (54% vs 38%); Centola & Macy 2007",
        value=float(diff.mean()), low=lo, high=hi, interval="95% CI of the mean paired difference",
        passed=bool(lo > 0 and faster),
        simulated=(f"final {last.clustered.mean():.0%} vs {last.random.mean():.0%}; "
                   f"random's final share reached at month {t_cl} vs {t_rd}"),
        note=(f"triangular lattice {plan.centola_rows}x{plan.centola_cols} on a torus (degree 6, "
              "clustering 0.4) vs double-edge-swap randomisation; thresholds N(0.3, 0.1); "
              f"seeds: a GP and its neighbours; {plan.centola_replicates} paired replicates"))], table


def its_p4p(quality, autonomy, month: int = P4P_MONTH) -> dict[str, float]:
    """Interrupted time series of one run: the pre-scheme linear trend (months 1 to month-1),
    the rise above it after one year, and the slope afterwards (year 2 to the end)."""
    import numpy as np

    q = np.asarray(quality, dtype=float)
    t = np.arange(q.size)
    pre = slice(1, month)
    b0, a0 = np.polyfit(t[pre], q[pre], 1)
    year1 = month + 12
    post = slice(year1 + 1, q.size)
    b2 = np.polyfit(t[post], q[post], 1)[0]
    a = np.asarray(autonomy, dtype=float)
    return dict(pre_slope=float(b0) * 12, year1_excess=float(q[year1] - (a0 + b0 * year1)),
                post_slope=float(b2) * 12, autonomy_change=float(a[year1] - a[month - 1]))


# ---------------------------------------------------------------------------------------------
# validation: the county baseline against the patterns
# ---------------------------------------------------------------------------------------------


def check_patterns(plan: Plan, seed, overrides: dict | None = None) -> tuple[list[Check], dict[str, Any]]:
    """Run the replicates and compare every pattern with its target; ``overrides`` (parameters
    by name) apply to every run, to validate a parameter set other than the defaults."""
    import pandas as pd

    seeds, reps = run_replicates(plan, seed, overrides)
    m = pd.DataFrame([r["metrics"] for r in reps])
    checks = (hierarchy_checks(m) + role_checks(m) + leadership_checks(m, reps)
              + structure_checks(m) + p4p_checks(reps) + opinion_leader_checks(reps)
              + s_shape_checks(m) + exit_checks(m, reps) + mandate_checks(reps)
              + removal_checks(reps))
    return checks, pattern_data(seeds, reps, m)


def band_check(m, name: str, pattern, label: str, percent: bool = True,
               targets: dict | None = None, digits: int = 2) -> Check:
    """The replicates' mean of metric ``name`` (a column of ``m``) inside its target's band
    (of ``targets``, :data:`TARGETS` by default)."""
    x = m[name]
    tgt = (targets or TARGETS)[name]
    f = _pct if percent else (lambda v: f"{v:.{digits}f}")
    return Check(
        id=f"P{pattern}-{name}", kind="validation", pattern=str(pattern), name=label,
        target=f"{f(tgt.value)} (band {f(tgt.low)}-{f(tgt.high)})", source=tgt.source,
        value=float(x.mean()), low=float(x.quantile(0.025)), high=float(x.quantile(0.975)),
        interval="mean [2.5-97.5th percentile of replicate counties]",
        passed=tgt.contains(float(x.mean())),
        simulated=f"{f(x.mean())} [{f(x.quantile(0.025))}, {f(x.quantile(0.975))}]",
        note=tgt.why)


def _per_replicate(reps, key: str):
    import numpy as np

    return np.array([r[key] for r in reps])


def hierarchy_checks(m) -> list[Check]:
    """Pattern 1: the share using each QI method after ten years, and their order."""
    checks = [band_check(m, f"adoption_{method}", 1,
                         f"QI hierarchy: {method.replace('_', ' ')} after 10 years")
              for method in QI_METHODS]
    means = m[[f"adoption_{x}" for x in QI_METHODS]].mean()
    simple = min(means["adoption_clinical_audit"], means["adoption_significant_event_analysis"])
    structured = means[["adoption_pdsa", "adoption_root_cause_analysis", "adoption_process_mapping"]]
    order_ok = simple > structured.max() and structured.min() > means["adoption_run_charts"]
    checks.append(Check(
        id="P1-order", kind="validation", pattern="1", name="QI hierarchy: order of the methods",
        target="audit, SEA > PDSA, root-cause, process mapping > run charts",
        source=SURVEY_2017, value=float(structured.min() - means["adoption_run_charts"]),
        low=float(simple - structured.max()), high=float(simple - structured.max()),
        interval="gaps between the groups (structured - run charts; simple - structured)",
        passed=bool(order_ok),
        simulated=(f"audit/SEA {_pct(simple)}+ > structured {_pct(structured.min())}-"
                   f"{_pct(structured.max())} > run charts {_pct(means['adoption_run_charts'])}"),
        note="ordering of replicate means"))
    return checks


def role_checks(m) -> list[Check]:
    """Pattern 2: PDSA use by partners and salaried GPs, and the gap between them."""
    gap = (m.pdsa_partners - m.pdsa_salaried).to_numpy()
    lo, hi = _mean_ci(gap)
    gap_check = Check(
        id="P2-gap", kind="validation", pattern="2", name="PDSA use: partners above salaried GPs",
        target="partners - salaried > 0 (survey: 25% - 13% = 12 points)",
        source=SURVEY_2017 + ", by role", value=float(gap.mean()), low=lo, high=hi,
        interval="95% CI of the mean", passed=lo > 0,
        simulated=f"{100 * gap.mean():+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}]",
        note="direction: method use follows autonomy and ownership")
    return [band_check(m, "pdsa_partners", 2, "PDSA use: partners"),
            band_check(m, "pdsa_salaried", 2, "PDSA use: salaried GPs"), gap_check]


def leadership_checks(m, reps) -> list[Check]:
    """Pattern 3: leadership and culture go together; a three-year programme barely moves it."""
    import numpy as np

    d = _per_replicate(reps, "training_effect")
    lo, hi = _mean_ci(d)
    formal = np.mean([r["formal_trained"] for r in reps]), np.mean([r["formal_base"] for r in reps])
    training = Check(
        id="P3-training", kind="validation", pattern="3",
        name="Three-year leadership programme: practice leadership, trained - untrained",
        target="near null: |effect| < 0.3 SD of practice leadership (Cohen's 'small')",
        source="Apekey et al. 2011: +4.0 points (95% CI -8.9 to 16.9), trained = untrained",
        value=float(d.mean()), low=lo, high=hi, interval="95% CI of the mean paired effect (SD units)",
        passed=max(abs(lo), abs(hi)) < 0.3,
        simulated=f"{d.mean():+.3f} SD [{lo:+.3f}, {hi:+.3f}]",
        note=(f"months {TRAINING_START}-{TRAINING_START + TRAINING_MONTHS}: leadership_drive "
              f"{TRAINING['leadership_drive']}, fill rate {TRAINING['drive_fill_rate']}: "
              f"{formal[0]:.0f} formal leaders vs {formal[1]:.0f}; paired seeds; untrained "
              f"practices' score moved {np.mean([r['untrained_change'] for r in reps]):+.2f} SD "
              "over the same 3 years"))
    return [band_check(m, "leadership_culture_r", 3,
                       "Leadership-culture correlation across practices", percent=False), training]


def structure_checks(m) -> list[Check]:
    """Patterns 4 and 5: federations' plans; leaders inside practices and brokers above them."""
    return [band_check(m, "federations_with_plan", 4, "Federations with a plan after 10 years"),
            band_check(m, "practices_with_leader", 5, "Practices with an informal leader"),
            band_check(m, "informal_leader_share", 5, "Informal leaders among GPs"),
            band_check(m, "broker_ratio", 5, "Brokers per informal leader (last year)",
                       percent=False)]


def _its(reps):
    """:func:`its_p4p` of each replicate's pay-for-performance run, one row per replicate."""
    import pandas as pd

    return pd.DataFrame([its_p4p(r["qof"].quality, r["qof"].autonomy) for r in reps])


def p4p_checks(reps) -> list[Check]:
    """Pattern 6: pay for performance lifts quality once, then the earlier trend resumes, and
    autonomy falls."""
    its = _its(reps)
    lo, hi = _mean_ci(its.year1_excess)
    jump = Check(
        id="P6-jump", kind="validation", pattern="6",
        name="Pay for performance (qof_2004): quality above the earlier trend after year 1",
        target="a one-off rise: excess over the pre-scheme trend > 0",
        source="Ann Fam Med 2012 (review of 94 studies of QOF 2004-12)",
        value=float(its.year1_excess.mean()), low=lo, high=hi, interval="95% CI of the mean",
        passed=lo > 0, simulated=f"{its.year1_excess.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] quality index",
        note="interrupted time series: linear trend of months 1-23 extrapolated to month 36")
    ratio = its.post_slope - its.pre_slope
    lo, hi = _mean_ci(ratio)
    trend = Check(
        id="P6-trend", kind="validation", pattern="6",
        name="Pay for performance: back to the earlier trend from year 2",
        target="slope from year 2 not above the pre-scheme slope (difference <= 0.005 per year)",
        source="Ann Fam Med 2012: then back to the earlier rate of improvement",
        value=float(ratio.mean()), low=lo, high=hi,
        interval="95% CI of the mean slope difference (per year)",
        passed=float(ratio.mean()) <= 0.005,
        simulated=(f"slope {its.post_slope.mean():+.4f}/yr vs earlier {its.pre_slope.mean():+.4f}/yr"),
        note="no lasting acceleration; 0.005/yr allows for sampling of the two fitted slopes")
    lo, hi = _mean_ci(its.autonomy_change)
    autonomy = Check(
        id="P6-autonomy", kind="validation", pattern="6",
        name="Pay for performance: autonomy falls in year 1",
        target="mean autonomy at month 36 below month 23 (CI < 0)",
        source="Lester et al. BJGP 2013; BMC Fam Pract 2020 meta-synthesis",
        value=float(its.autonomy_change.mean()), low=lo, high=hi, interval="95% CI of the mean",
        passed=hi < 0, simulated=f"{its.autonomy_change.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]",
        note="autonomy on its 0-1 scale")
    return [jump, trend, autonomy]


def _practice_effects(reps):
    import numpy as np

    return np.concatenate([r["practice_effects"] for r in reps])


def opinion_leader_checks(reps) -> list[Check]:
    """Pattern 7: opinion leaders against randomly chosen GPs, on the GPs seeded in neither arm
    (the check on the review's band); and, for continuity, the effect scored as before (the
    seeded leaders' own adoption included) with its spread across practices (the trials the
    review pools are run in different practices and settings)."""
    return [spread_check(reps), seeded_check(reps)]


def spread_check(reps) -> Check:
    """Pattern 7: PDSA use among the GPs seeded in neither arm, opinion leaders - random GPs."""
    import numpy as np

    e = _per_replicate(reps, "spread_effect")
    lo, hi = _mean_ci(e)
    tgt = TARGETS["opinion_leader_spread"]
    old = float(np.median(_per_replicate(reps, "opinion_leader_effect")))
    return Check(
        id="P7-spread", kind="validation", pattern="7",
        name=f"Opinion leaders spread {OPINION_LEADER_METHOD.upper()}: the GPs they did not "
             f"seed, after {OPINION_LEADER_FOLLOW_UP} months, leaders - random GPs",
        target=(f"positive (95% CI > 0), mean {100 * tgt.low:+.0f} to {100 * tgt.high:+.0f} "
                "points"),
        source=tgt.source, value=float(e.mean()), low=lo, high=hi,
        interval="95% CI of the mean paired effect",
        passed=tgt.contains(float(e.mean())) and lo > 0,
        simulated=(f"{100 * e.mean():+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}] "
                   f"({100 * np.mean(_per_replicate(reps, 'spread_led')):.1f}% vs "
                   f"{100 * np.mean(_per_replicate(reps, 'spread_control')):.1f}%); scored "
                   f"as before (P7-seeded): {100 * old:+.1f}"),
        note=(f"at month {OPINION_LEADER_START}, on two forks of the baseline, the most "
              "influential GP of each practice (or one active GP at random in each of the same "
              "practices) takes up PDSA; active GPs seeded in neither arm are compared, so the "
              "seeds' own adoption does not count; " + tgt.why))


def seeded_check(reps) -> Check:
    """Pattern 7 as scored before: seeded - not, the seeded leaders included (continuity); the
    check is the spread of practice effects, the county median's band is P7-spread's."""
    import numpy as np

    e = _per_replicate(reps, "opinion_leader_effect")
    med = float(np.median(e))
    by_practice = _practice_effects(reps)
    p10, p90 = float(np.quantile(by_practice, 0.1)), float(np.quantile(by_practice, 0.9))
    lo, hi = float(np.quantile(e, 0.025)), float(np.quantile(e, 0.975))
    tgt = TARGETS["opinion_leader_effect"]
    return Check(
        id="P7-seeded", kind="validation", pattern="7",
        name=f"Opinion leaders: {OPINION_LEADER_METHOD.upper()} adoption after "
             f"{OPINION_LEADER_FOLLOW_UP} months, seeded - not, leaders included (as before)",
        target=("variable: practice effects from <= 0 (10th pct) to >= twice the county median "
                f"(90th pct); the median (review: {100 * tgt.low:+.0f} to {100 * tgt.high:+.0f}) "
                "is reported, not checked: the seeded leaders' own adoption dominates it"),
        source=tgt.source + "; 'highly variable'", value=med, low=lo, high=hi,
        interval="median [2.5-97.5th percentile] of county effects",
        passed=p10 <= 0 and p90 >= 2 * med,
        simulated=(f"{100 * med:+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}]; practices "
                   f"{100 * p10:+.0f} to {100 * p90:+.0f} (10-90th pct)"),
        note=(f"at month {OPINION_LEADER_START} the most influential GP of each practice adopts; "
              "the seeded leaders' own adoption counts, so this is no test of their influence"))


def _mandate_differences(reps):
    """Informal leaders (relative to the without arm's mean) and federations with a plan, with
    the mandated scheme minus without it, per replicate (paired)."""
    import numpy as np

    without = _per_replicate(reps, "mandate_leaders_without")
    leaders = (_per_replicate(reps, "mandate_leaders_with") - without) / max(float(np.mean(without)), 1.0)
    plans = _per_replicate(reps, "mandate_plans_with") - _per_replicate(reps, "mandate_plans_without")
    return leaders, plans


def mandate_checks(reps) -> list[Check]:
    """Pattern 11: a mandated scheme does not make informal leaders or federation plans."""
    import numpy as np

    leaders, plans = _mandate_differences(reps)
    (llo, lhi), (plo, phi) = _mean_ci(leaders), _mean_ci(plans)
    tl, tp = LEADERSHIP_TARGETS["mandate_leaders"], LEADERSHIP_TARGETS["mandate_plans"]
    with_, without = (np.mean(_per_replicate(reps, f"mandate_leaders_{k}")) for k in ("with", "without"))
    return [Check(
        id="P11-mandate", kind="validation", pattern="11",
        name="Mandated scheme makes no informal leaders or plans (baseline - without it, paired)",
        target=(f"not higher: upper 95% CI end <= {tl.high:+.0%} of the leaders without it, and "
                f"<= {100 * tp.high:+.0f} points of federations with a plan"),
        source=tl.source, value=float(leaders.mean()), low=llo, high=lhi,
        interval="95% CI of the mean paired difference in leaders (share of the without arm's)",
        passed=lhi <= tl.high and phi <= tp.high,
        simulated=(f"leaders {leaders.mean():+.1%} [{llo:+.1%}, {lhi:+.1%}] ({with_:.0f} vs "
                   f"{without:.0f}); plans {100 * plans.mean():+.1f} points [{100 * plo:+.1f}, "
                   f"{100 * phi:+.1f}]"),
        note=f"leaders: {tl.why}; plans: {tp.why}")]


def removal_checks(reps) -> list[Check]:
    """Pattern 12: removing the most influential informal leaders slows the structured methods
    among the GPs who stay."""
    import numpy as np

    e = _per_replicate(reps, "removal_effect")
    lo, hi = _mean_ci(e)
    every = _per_replicate(reps, "removal_effect_all")
    tgt = LEADERSHIP_TARGETS["removal_effect"]
    return [Check(
        id="P12-removal", kind="validation", pattern="12",
        name=(f"Removing the {LEADERS_REMOVED} most influential informal leaders slows the "
              "structured methods among the GPs who stay (removal - baseline, paired)"),
        target=(f"mean complex adoption of the posts not removed, months {REMOVAL_MONTH + 1}-"
                f"{REMOVAL_MONTH + REMOVAL_FOLLOW_UP}, lower: 95% CI < 0 (expected "
                f"{100 * tgt.low:+.0f} to {100 * tgt.high:+.0f} points)"),
        source=tgt.source, value=float(e.mean()), low=lo, high=hi,
        interval="95% CI of the mean paired difference", passed=hi < 0,
        simulated=(f"{100 * e.mean():+.2f} points [{100 * lo:+.2f}, {100 * hi:+.2f}]; every "
                   f"active GP (complex_adoption): {100 * np.mean(every):+.2f}"),
        note=(f"the baseline forked at month {REMOVAL_MONTH}; the leaders' posts are refilled as "
              "after any exit and left out of both arms, since the leaders' own adoption, lost "
              "with them, says nothing of their influence; " + tgt.why))]


def s_shape_checks(m) -> list[Check]:
    """Pattern 8: S-shaped adoption of the structured methods."""
    return [band_check(m, "bass_r2", 8, "Structured methods' curves fit a Bass curve (median R^2)",
                       percent=False),
            band_check(m, "s_shaped_share", 8,
                       "Structured methods' curves driven by contagion (fitted q > p)"),
            band_check(m, "social_share_structured", 8,
                       "Structured methods spread through ties (share of new adoptions the "
                       "ties caused)")]


def _pressure_differences(reps):
    """Exit rate and strain, high pressure minus baseline, per replicate (paired)."""
    import numpy as np

    dx = np.array([r["pressure_exit_rate"] - r["metrics"]["exit_rate"] for r in reps])
    ds = np.array([r["pressure_strain"] - r["metrics"]["strain"] for r in reps])
    return dx, ds


def exit_checks(m, reps) -> list[Check]:
    """Pattern 10: the exit rate, and more exits under more strain."""
    dx, ds = _pressure_differences(reps)
    lo, hi = _mean_ci(dx)
    strain = Check(
        id="P10-strain", kind="validation", pattern="10",
        name="Exits rise with strain (high_pressure - baseline, paired)",
        target="higher strain, more exits: exit-rate difference CI > 0",
        source="GP Worklife Surveys 2015-21: workload and external bodies top stressors",
        value=float(dx.mean()), low=lo, high=hi, interval="95% CI of the mean paired difference",
        passed=lo > 0 and ds.mean() > 0,
        simulated=f"{100 * dx.mean():+.2f} points/yr [{100 * lo:+.2f}, {100 * hi:+.2f}] "
                  f"with strain {ds.mean():+.3f}",
        note="paired seeds")
    return [band_check(m, "exit_rate", 10, "GPs leaving per year"), strain]


def pattern_data(seeds, reps, m) -> dict[str, Any]:
    """The data behind the pattern checks and figures, as tables (one per results file)."""
    import numpy as np
    import pandas as pd

    its = _its(reps)
    dx, ds = _pressure_differences(reps)
    return dict(
        metrics=m.assign(seed=seeds),
        effects=pd.DataFrame(dict(seed=seeds, training_effect=_per_replicate(reps, "training_effect"),
                                  opinion_leader_effect=_per_replicate(reps, "opinion_leader_effect"),
                                  exit_rate_difference=dx, strain_difference=ds,
                                  p4p_year1_excess=its.year1_excess,
                                  p4p_slope_difference=its.post_slope - its.pre_slope,
                                  p4p_autonomy_change=its.autonomy_change)),
        baseline_timeseries=pd.concat([r["timeseries"].assign(seed=r["seed"]) for r in reps],
                                      ignore_index=True),
        qof_timeseries=pd.concat([r["qof"].assign(seed=r["seed"]) for r in reps], ignore_index=True),
        practice_effects=pd.DataFrame(dict(
            seed=np.repeat(seeds, [len(r["practice_effects"]) for r in reps]),
            effect=_practice_effects(reps))),
        leadership=pd.DataFrame({"seed": seeds, **{k: _per_replicate(reps, k) for k in _LEADERSHIP_KEYS}}),
        removal_timeseries=_removal_timeseries(reps),
    )


_LEADERSHIP_KEYS = ("spread_effect", "spread_led", "spread_control", "opinion_leader_effect",
                    "opinion_leaders", "random_seeds", "mandate_leaders_with",
                    "mandate_leaders_without", "mandate_plans_with", "mandate_plans_without",
                    "removal_effect", "removal_effect_all", "leaders_removed")


def _removal_timeseries(reps):
    """The removal arm and its baseline fork by month (:func:`.runs.removal_arm`), all
    replicates."""
    import pandas as pd

    return pd.concat([r["removal_timeseries"].assign(seed=r["seed"]) for r in reps], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# every check
# ---------------------------------------------------------------------------------------------


def validate(plan: Plan, seed: int = 1, progress: Callable[[str], None] | None = None) -> Outcome:
    """Run every check of ``plan``; seeds of the parts are children of one root seed."""
    from ..verification import seed_sequence

    say = progress or (lambda msg: None)
    children = seed_sequence(seed).spawn(5)
    out = Outcome()

    def timed(label, fn):
        say(f"{label} ...")
        t0 = time.perf_counter()
        result = fn()
        out.seconds[label] = round(time.perf_counter() - t0, 2)
        return result

    checks, data = timed("patterns", lambda: check_patterns(plan, children[0]))
    out.checks += checks
    out.data.update(data)
    checks, out.data["watts"] = timed("watts", lambda: check_watts(plan, children[1]))
    out.checks += checks
    checks, out.data["bass_curves"], out.data["bass_fits"] = timed("bass", lambda: check_bass(plan, children[2]))
    out.checks += checks
    checks, out.data["granovetter"] = timed("granovetter", lambda: check_granovetter(plan, children[3]))
    out.checks += checks
    checks, out.data["centola"] = timed("centola", lambda: check_centola(plan, children[4]))
    out.checks += checks
    order = {"verification": 0, "validation": 1}
    out.checks.sort(key=lambda c: order[c.kind])
    return out
