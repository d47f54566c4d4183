"""``pcsim validate``: verification against known answers, validation against published patterns.

Two kinds of check, each with a numeric target, a tolerance with its reason, and its source:

- **verification** (the model reduced to textbook cases, :mod:`simulation.verification`): the
  Watts (2002) cascade window, the Bass (1969) curve and recovery of its p and q, Granovetter's
  (1978) tipping point, and complex contagion on clustered against random ties (Centola 2010);
- **validation** (the county baseline against the patterns of MODEL.md, pattern-oriented
  modelling): the QI-method hierarchy after ten years, partners against salaried GPs,
  leadership-culture correlation and the near-null effect of a three-year training programme,
  federations without a plan, brokers against informal leaders, the pay-for-performance shock,
  opinion-leader effects, S-shaped adoption fitting a Bass curve, strain-driven exit.

Each pattern is measured over replicate runs with seeds derived from one root seed; paired
comparisons (training, opinion leaders, pressure) use the same replicate seed for both arms
(common random numbers). :data:`TARGETS` holds the numeric targets that the calibration
(:mod:`simulation.calibrate`) fits, so the two cannot drift apart.

The command writes a new results folder with the table (CSV and Parquet), the figures, the raw
data behind them and a manifest, prints the table, and exits 1 if any check fails. Heavy
libraries (numpy, pandas, the model, matplotlib) are imported inside functions so that
``pcsim --help`` stays fast.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

# ---------------------------------------------------------------------------------------------
# targets: what the literature says, with the tolerance the comparison allows and why
# ---------------------------------------------------------------------------------------------

SURVEY_2017 = "Health Foundation/LSHTM UK survey 2017 (2,377 GPs; Gosling et al. 2019)"


@dataclass(frozen=True)
class Target:
    """A pattern's target: the published value, the band [low, high] the simulated mean must
    fall in, where the number comes from and why the band is as wide as it is."""

    value: float
    low: float
    high: float
    source: str
    why: str

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def distance(self, x: float, margin: float = 0.0) -> float:
        """Distance outside the band shrunk by ``margin`` (a share of its width) on each side,
        in units of the band's half-width; 0 inside. The calibration's objective term: a
        margin keeps calibrated means clear of the edges, where fresh seeds would tip them out."""
        half = max((self.high - self.low) / 2.0, 1e-9)
        # no margin at an edge that is the end of the scale (a share of 0 or 1, R^2 of 1)
        low = self.low + margin * (self.high - self.low) if self.low > 0.0 else self.low
        high = self.high - margin * (self.high - self.low) if self.high < 1.0 else self.high
        if x < low:
            return (low - x) / half
        if x > high:
            return (x - high) / half
        return 0.0


_QI_WHY = ("±5 points: a county of ~420 GPs has a sampling SD of ~2 points at 20% "
           "(sqrt(0.2*0.8/420)), and 'ever used' in a voluntary survey carries response bias "
           "of a few points more")

TARGETS: dict[str, Target] = {
    "adoption_clinical_audit": Target(0.90, 0.85, 0.95, SURVEY_2017, _QI_WHY),
    "adoption_significant_event_analysis": Target(0.90, 0.85, 0.95, SURVEY_2017, _QI_WHY),
    "adoption_pdsa": Target(0.21, 0.16, 0.26, SURVEY_2017, _QI_WHY),
    "adoption_root_cause_analysis": Target(0.19, 0.14, 0.24, SURVEY_2017, _QI_WHY),
    "adoption_process_mapping": Target(0.16, 0.11, 0.21, SURVEY_2017, _QI_WHY),
    "adoption_run_charts": Target(0.03, 0.01, 0.05, SURVEY_2017,
                                  "±2 points: a small share (sampling SD ~0.8 points in a county) "
                                  "where the survey's relative error is large"),
    "pdsa_partners": Target(0.25, 0.19, 0.31, SURVEY_2017 + ", by role",
                            "±6 points: ~220 partners per county give a sampling SD of ~3 points"),
    "pdsa_salaried": Target(0.13, 0.07, 0.19, SURVEY_2017 + ", by role",
                            "±6 points: ~200 salaried GPs per county give a sampling SD of ~2.4 "
                            "points, plus newcomers' short exposure"),
    "leadership_culture_r": Target(0.57, 0.39, 0.72, "Apekey et al. 2011 (63 practices, one county)",
                                   "the 95% CI of r = 0.57 with n = 63 (Fisher z, SE 1/sqrt(60))"),
    "federations_with_plan": Target(0.20, 0.05, 0.45,
                                    "editorial ref. 9 ('no plan' commonest); BJGP 2019;69:e682 "
                                    "(~5% working closely at scale)",
                                    "'most without a plan': below half; yet some (>= 5%) with one, "
                                    "as some practices work closely at scale; 8 federations per "
                                    "county move the share in steps of 12.5 points"),
    "practices_with_leader": Target(0.75, 0.5, 1.0, "editorial: leadership qualities fairly "
                                    "common inside practices",
                                    "'fairly common': at least half of the practices"),
    "informal_leader_share": Target(0.15, 0.05, 0.30,
                                    "assumption; leadership behaviours 'not commonly reported' "
                                    "(Apekey 2011)",
                                    "leaders are a minority of GPs, yet not a rarity"),
    "broker_ratio": Target(0.0, 0.0, 0.25, "editorial; Marshall et al. BJGP 2018",
                           "'far rarer': at most one broker per four informal leaders"),
    "opinion_leader_effect": Target(0.105, 0.04, 0.17,
                                    "Flodgren et al. 2011 Cochrane: median +9 to +12 points, "
                                    "range -15 to +72",
                                    "the reviews' medians (9-12 points) +-5 points"),
    "bass_r2": Target(0.97, 0.9, 1.0, "Dunn et al. BMC Health Serv Res 2012 (103 drugs)",
                      "Dunn's median R^2 0.97; at least 0.9 for an S-shaped Bass curve"),
    "s_shaped_share": Target(0.82, 0.5, 1.0, "Dunn et al. 2012: 84 of 103 drugs driven mainly "
                             "by contagion",
                             "most curves of the peer-spread (structured) methods rising >= 5 "
                             "points are contagion-driven (q > p, an S with an inflection)"),
    "exit_rate": Target(0.055, 0.03, 0.083,
                        "GP Worklife Surveys 2015-21: 35-39% intend to quit within 5 years",
                        "between retirement alone (~3%/year over a 30-year career) and the "
                        "intention rate 1-(1-0.35)^(1/5) = 8.3%/year (intentions overstate exits)"),
}

#: weights of the calibration objective: the QI hierarchy is the pattern the baseline must hold
WEIGHTS = {"adoption_clinical_audit": 2.0, "adoption_significant_event_analysis": 2.0,
           "adoption_pdsa": 2.0, "adoption_root_cause_analysis": 2.0,
           "adoption_process_mapping": 2.0, "adoption_run_charts": 2.0,
           "pdsa_partners": 1.0, "pdsa_salaried": 1.0, "leadership_culture_r": 1.0,
           "federations_with_plan": 2.0, "practices_with_leader": 1.0,
           "informal_leader_share": 1.0, "broker_ratio": 1.0, "opinion_leader_effect": 1.0,
           "bass_r2": 1.0, "s_shaped_share": 1.0, "exit_rate": 1.5}

QI_METHODS = ("clinical_audit", "significant_event_analysis", "pdsa", "root_cause_analysis",
              "process_mapping", "run_charts")
STRUCTURED_METHODS = QI_METHODS[2:]


# ---------------------------------------------------------------------------------------------
# the check table
# ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Plan:
    """How much to run: ``full`` for ``pcsim validate``, ``quick`` for the test suite (the same
    pattern replicates, since fewer would let borderline patterns flip with the seed; smaller
    verification graphs and fewer verification runs)."""

    replicates: int
    watts_phis: tuple[float, ...]
    watts_n: int
    watts_graphs: int
    watts_starts: int
    watts_step: float
    bass_pairs: tuple[tuple[float, float], ...]
    bass_n: int
    bass_replicates: int
    bass_months: int
    granovetter_n: int
    granovetter_sigmas: tuple[float, ...]
    granovetter_replicates: int
    centola_rows: int
    centola_cols: int
    centola_replicates: int

    @classmethod
    def full(cls, replicates: int = 20) -> "Plan":
        return cls(replicates=replicates, watts_phis=(0.18, 0.22, 0.15), watts_n=4000,
                   watts_graphs=10, watts_starts=4, watts_step=0.5,
                   bass_pairs=((0.01, 0.10), (0.03, 0.02)), bass_n=500, bass_replicates=20,
                   bass_months=120, granovetter_n=1000,
                   granovetter_sigmas=(0.06, 0.08, 0.10, 0.11, 0.115, 0.12, 0.125, 0.13, 0.14,
                                       0.16, 0.20, 0.25),
                   granovetter_replicates=8, centola_rows=16, centola_cols=25,
                   centola_replicates=20)

    @classmethod
    def quick(cls, replicates: int = 20) -> "Plan":
        return cls(replicates=replicates, watts_phis=(0.18,), watts_n=2000, watts_graphs=5,
                   watts_starts=4, watts_step=0.0, bass_pairs=((0.01, 0.10),), bass_n=300,
                   bass_replicates=8, bass_months=100, granovetter_n=400,
                   granovetter_sigmas=(0.08, 0.10, 0.14, 0.20), granovetter_replicates=3,
                   centola_rows=16, centola_cols=25, centola_replicates=6)


@dataclass
class Outcome:
    """What a validation produced: the checks, the data behind them and the figures' data."""

    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # name -> pandas DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


# ---------------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------------


def watts_grid(phi: float, step: float) -> list[float]:
    """z values for one phi: across the analytic window and past its upper edge; with
    ``step`` 0 only three points (below, inside, far above) for the quick check."""
    from .verification import watts_window

    low, high = watts_window(phi)
    if step <= 0:
        return [0.5, round((low + high) / 2, 1), round(high + 2.5, 1)]
    return [round(z, 2) for z in _arange(0.5, high + 2.5 + 1e-9, step)]


def _arange(a: float, b: float, step: float) -> list[float]:
    n = int(math.floor((b - a) / step)) + 1
    return [a + i * step for i in range(n)]


def wilson(k: float, n: int, zc: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    den = 1 + zc * zc / n
    centre = (p + zc * zc / (2 * n)) / den
    half = zc * math.sqrt(p * (1 - p) / n + zc * zc / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


#: margins around the analytic window: inside points must be this far from an edge to count,
#: outside points this far beyond it (the upper edge moves up on finite graphs: Whitney 2010)
WATTS_INSIDE_MARGIN = 0.4
WATTS_BELOW_MARGIN = 0.5
WATTS_ABOVE_MARGIN = 1.0
WATTS_MIN_INSIDE = 0.2
WATTS_MAX_OUTSIDE = 0.05


def check_watts(plan: Plan, seed) -> tuple[list[Check], Any]:
    """Frequency of global cascades (>= 1% of GPs) on Erdős–Rényi graphs against the window."""
    import numpy as np
    import pandas as pd

    from .verification import seed_sequence, watts_frequencies, watts_window

    frames = []
    for phi, child in zip(plan.watts_phis, seed_sequence(seed).spawn(len(plan.watts_phis))):
        frames.append(watts_frequencies([phi], watts_grid(phi, plan.watts_step), plan.watts_n,
                                        plan.watts_graphs, child, plan.watts_starts))
    table = pd.concat(frames, ignore_index=True)
    checks = []
    for phi in plan.watts_phis:
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
        checks.append(Check(
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
                  f"or z >= {high + WATTS_ABOVE_MARGIN:.2f} (finite graphs shift the upper edge up)")))
    return checks, table


BASS_FIT_TOLERANCE = 0.15


def check_bass(plan: Plan, seed) -> tuple[list[Check], Any, Any]:
    """Mean curve of the Bass limit against the discrete solution and the closed form; p and q
    recovered by fitting the closed form to single simulated curves."""
    import numpy as np
    import pandas as pd

    from . import limits
    from .verification import bass_curves, bass_recovery, fit_bass, seed_sequence

    curves, fits, checks = [], [], []
    children = seed_sequence(seed).spawn(2 * len(plan.bass_pairs))
    for i, (p, q) in enumerate(plan.bass_pairs):
        c = bass_curves(plan.bass_n, p, q, plan.bass_months, plan.bass_replicates, children[2 * i])
        curves.append(c)
        dev = float((c["mean"] - c.discrete).abs().max())
        dev_closed = float((c["mean"] - c.closed_form).abs().max())
        gap = float((c.discrete - c.closed_form).abs().max())
        # sampling: 4 standard errors of the mean curve; O(1/N): E[F(1-F)] differs from
        # F(1-F) by Var(F) ~ 1/N, so the expected path is the discrete map only up to ~1/N
        tol = 4.0 * float(c.se.max()) + 1.0 / plan.bass_n
        checks.append(Check(
            id=f"V2-curve-{p:g}-{q:g}", kind="verification",
            name=f"Bass mean curve, p = {p:g}, q = {q:g} per month",
            target=f"max |mean - discrete solution| <= {tol:.3f} (4 SE + 1/N)",
            source="Bass 1969; dF/dt = (p + qF)(1 - F)",
            value=dev, low=dev, high=dev, interval="over months 0-" + str(plan.bass_months),
            passed=dev <= tol,
            simulated=f"{dev:.4f} (vs closed form {dev_closed:.4f}; discrete-closed gap {gap:.4f})",
            note=(f"N={plan.bass_n} GPs on a complete graph, {plan.bass_replicates} replicates; "
                  "the closed form differs from the monthly map by the discretisation gap")))
        rec = bass_recovery(plan.bass_n, p, q, plan.bass_months, plan.bass_replicates, children[2 * i + 1])
        fits.append(rec)
        t = np.arange(plan.bass_months + 1)
        bias = fit_bass(t, limits.bass_discrete(p, q, plan.bass_months))
        err = max(abs(rec.p_fit.mean() / p - 1), abs(rec.q_fit.mean() / q - 1))
        checks.append(Check(
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
                  f"{rec.r2.median():.4f}")))
    return checks, pd.concat(curves, ignore_index=True), pd.concat(fits, ignore_index=True)


def check_granovetter(plan: Plan, seed) -> tuple[list[Check], Any]:
    """Final share against sigma with thresholds N(0.25, sigma) on a complete graph."""
    import numpy as np

    from .verification import granovetter_critical_sigma, granovetter_sweep

    table = granovetter_sweep(plan.granovetter_sigmas, plan.granovetter_n,
                              plan.granovetter_replicates, seed)
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

    from .verification import centola_compare

    table = centola_compare(rows=plan.centola_rows, cols=plan.centola_cols,
                            replicates=plan.centola_replicates, seed=seed)
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
# validation: the county baseline against the patterns
# ---------------------------------------------------------------------------------------------

TRAINING_START, TRAINING_MONTHS = 84, 36
TRAINING = dict(leadership_drive=0.2, drive_fill_rate=0.2)
OPINION_LEADER_START, OPINION_LEADER_FOLLOW_UP = 60, 24
OPINION_LEADER_METHOD = "pdsa"
P4P_MONTH = 24  # scenario qof_2004


def baseline_metrics(model) -> dict[str, float]:
    """The pattern metrics of one finished baseline run (month 120): QI adoption shares, PDSA
    by role, leadership-culture correlation, plans, leaders and brokers, the S-shape of the
    adoption curves, exit rate and strain."""
    import numpy as np

    from .verification import fit_bass

    obs = model.observation
    out = {f"adoption_{m}": float(obs[f"adoption_{m}"]) for m in QI_METHODS}
    gps = model.gp_table()
    active = gps[gps.active]
    pdsa = active.genuine_pdsa | active.shallow_pdsa
    out["pdsa_partners"] = float(pdsa[active.role == "partner"].mean())
    out["pdsa_salaried"] = float(pdsa[active.role == "salaried"].mean())
    practices = model.practice_table()
    practices = practices[practices.gps > 0]
    if practices.leadership.std() > 0 and practices.culture.std() > 0:
        out["leadership_culture_r"] = float(np.corrcoef(practices.leadership, practices.culture)[0, 1])
    else:
        out["leadership_culture_r"] = 0.0
    out["practices_with_leader"] = float((practices.informal_leaders > 0).mean())
    out["federations_with_plan"] = float(obs["federations_with_plan"])
    ts = model.timeseries()
    informal = float(ts.informal_leaders.iloc[-12:].mean())
    brokers = float(ts.brokers.iloc[-12:].mean())
    out["broker_ratio"] = brokers / informal if informal > 0 else math.inf
    out["informal_leader_share"] = informal / float(len(active))
    # the structured methods spread by peer influence in the model; audit and SEA are pushed by
    # appraisal (external influence), whose curves are concave by design
    fits = [fit_bass(ts.month.to_numpy(), y, offset=True)
            for y in (ts[f"adoption_{m}"].to_numpy() for m in STRUCTURED_METHODS) if y[-1] - y[0] >= 0.05]
    out["s_shaped_share"] = float(np.mean([f.q > f.p for f in fits])) if fits else 0.0
    out["bass_r2"] = float(np.median([f.r2 for f in fits])) if fits else math.nan
    years = (len(ts) - 1) / 12.0
    posts_active = float((model.state.n_gps - ts.vacancies.iloc[1:]).mean())
    out["exit_rate"] = float(ts.leavers.iloc[1:].sum()) / years / posts_active
    out["strain"] = float(ts.strain.iloc[1:].mean())
    return out


def run_opinion_leaders(seed: int, **overrides):
    """The baseline to month 60, where each practice's opinion leader takes up PDSA (genuinely:
    :func:`simulation.interventions.seed_opinion_leaders`), then 24 months of follow-up.
    Returns the model at month 84 and the number of leaders."""
    from .interventions import seed_opinion_leaders
    from .model import PrimaryCareModel

    model = PrimaryCareModel(scenario="baseline", rng=seed, **overrides)
    model.run(OPINION_LEADER_START)
    leaders = seed_opinion_leaders(model, OPINION_LEADER_METHOD)
    model.run(OPINION_LEADER_FOLLOW_UP)
    return model, len(leaders)


def practice_adoption(model, method: str = OPINION_LEADER_METHOD):
    """Share of each practice's active GPs using ``method`` (genuinely or shallowly)."""
    gps = model.gp_table()
    active = gps[gps.active]
    used = active[f"genuine_{method}"] | active[f"shallow_{method}"]
    return used.groupby(active.practice).mean()


def opinion_leader_effect(ol_model, baseline_timeseries) -> float:
    """PDSA adoption with opinion leaders minus without, at the end of follow-up (paired)."""
    follow = OPINION_LEADER_START + OPINION_LEADER_FOLLOW_UP
    name = f"adoption_{OPINION_LEADER_METHOD}"
    return float(ol_model.observation[name] - baseline_timeseries[name].iloc[follow])


def run_replicate(seed: int, months: int = 120, **overrides) -> dict[str, Any]:
    """All runs of one replicate seed: the baseline, the training programme, the opinion-leader
    intervention, the high-pressure scenario and the pay-for-performance scenario. The same
    seed makes each pair share its population, ties and draws up to the intervention;
    ``overrides`` (parameters by name) apply to every run."""
    from .model import PrimaryCareModel

    base = PrimaryCareModel(scenario="baseline", rng=seed, **overrides)
    base.run(TRAINING_START)
    before_training = base.practice_table()
    assert OPINION_LEADER_START + OPINION_LEADER_FOLLOW_UP == TRAINING_START
    control_practices = practice_adoption(base)
    base.run(months - TRAINING_START)
    metrics = baseline_metrics(base)
    ts = base.timeseries()

    trained = PrimaryCareModel(scenario="baseline", rng=seed, **overrides)
    trained.run(TRAINING_START)
    trained.params = trained.params.replace(**TRAINING)  # the programme: 36 months of appointments
    trained.run(TRAINING_MONTHS)

    ol, n_leaders = run_opinion_leaders(seed, **overrides)
    pressure = PrimaryCareModel(scenario="high_pressure", rng=seed, **overrides)
    pressure.run(months)
    qof = PrimaryCareModel(scenario="qof_2004", rng=seed, **overrides)
    qof.run(months)

    lead_base = base.practice_table().leadership
    sd = float(lead_base.std())
    in_sd = lambda x: float(x) / sd if sd > 0 else 0.0
    return dict(
        seed=seed, metrics=metrics, timeseries=ts, qof=qof.timeseries(),
        training_effect=in_sd(trained.practice_table().leadership.mean() - lead_base.mean()),
        untrained_change=in_sd(lead_base.mean() - before_training.leadership.mean()),
        formal_trained=int(trained.observation["formal_leaders"]),
        formal_base=int(base.observation["formal_leaders"]),
        opinion_leader_effect=opinion_leader_effect(ol, ts), opinion_leaders=n_leaders,
        practice_effects=(practice_adoption(ol) - control_practices).dropna().to_numpy(),
        pressure_exit_rate=baseline_metrics(pressure)["exit_rate"],
        pressure_strain=float(pressure.timeseries().strain.iloc[1:].mean()),
    )


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


def check_patterns(plan: Plan, seed, overrides: dict | None = None) -> tuple[list[Check], dict[str, Any]]:
    """Run the replicates and compare every pattern with its target; ``overrides`` (parameters
    by name) apply to every run, to validate a parameter set other than the defaults."""
    import numpy as np
    import pandas as pd

    from .verification import seed_sequence

    seeds = [int(s) for s in seed_sequence(seed).generate_state(plan.replicates, np.uint32)]
    reps = [run_replicate(s, **(overrides or {})) for s in seeds]
    m = pd.DataFrame([r["metrics"] for r in reps])
    checks: list[Check] = []

    def band(name, pattern, label, percent=True):
        x = m[name]
        tgt = TARGETS[name]
        f = _pct if percent else (lambda v: f"{v:.2f}")
        checks.append(Check(
            id=f"P{pattern}-{name}", kind="validation", pattern=str(pattern), name=label,
            target=f"{f(tgt.value)} (band {f(tgt.low)}-{f(tgt.high)})", source=tgt.source,
            value=float(x.mean()), low=float(x.quantile(0.025)), high=float(x.quantile(0.975)),
            interval="mean [2.5-97.5th percentile of replicate counties]",
            passed=tgt.contains(float(x.mean())),
            simulated=f"{f(x.mean())} [{f(x.quantile(0.025))}, {f(x.quantile(0.975))}]",
            note=tgt.why))

    # 1. the QI hierarchy
    for method in QI_METHODS:
        band(f"adoption_{method}", 1, f"QI hierarchy: {method.replace('_', ' ')} after 10 years")
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

    # 2. partners vs salaried
    band("pdsa_partners", 2, "PDSA use: partners")
    band("pdsa_salaried", 2, "PDSA use: salaried GPs")
    gap = (m.pdsa_partners - m.pdsa_salaried).to_numpy()
    lo, hi = _mean_ci(gap)
    checks.append(Check(
        id="P2-gap", kind="validation", pattern="2", name="PDSA use: partners above salaried GPs",
        target="partners - salaried > 0 (survey: 25% - 13% = 12 points)",
        source=SURVEY_2017 + ", by role", value=float(gap.mean()), low=lo, high=hi,
        interval="95% CI of the mean", passed=lo > 0,
        simulated=f"{100 * gap.mean():+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}]",
        note="direction: method use follows autonomy and ownership"))

    # 3. leadership and culture; training
    band("leadership_culture_r", 3, "Leadership-culture correlation across practices", percent=False)
    d = np.array([r["training_effect"] for r in reps])
    lo, hi = _mean_ci(d)
    formal = np.mean([r["formal_trained"] for r in reps]), np.mean([r["formal_base"] for r in reps])
    checks.append(Check(
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
              "over the same 3 years")))

    # 4. plans, 5. leaders inside practices and brokers above them
    band("federations_with_plan", 4, "Federations with a plan after 10 years")
    band("practices_with_leader", 5, "Practices with an informal leader")
    band("informal_leader_share", 5, "Informal leaders among GPs")
    band("broker_ratio", 5, "Brokers per informal leader (last year)", percent=False)

    # 6. pay for performance
    its = pd.DataFrame([its_p4p(r["qof"].quality, r["qof"].autonomy) for r in reps])
    lo, hi = _mean_ci(its.year1_excess)
    checks.append(Check(
        id="P6-jump", kind="validation", pattern="6",
        name="Pay for performance (qof_2004): quality above the earlier trend after year 1",
        target="a one-off rise: excess over the pre-scheme trend > 0",
        source="Ann Fam Med 2012 (review of 94 studies of QOF 2004-12)",
        value=float(its.year1_excess.mean()), low=lo, high=hi, interval="95% CI of the mean",
        passed=lo > 0, simulated=f"{its.year1_excess.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] quality index",
        note="interrupted time series: linear trend of months 1-23 extrapolated to month 36"))
    ratio = its.post_slope - its.pre_slope
    lo, hi = _mean_ci(ratio)
    checks.append(Check(
        id="P6-trend", kind="validation", pattern="6",
        name="Pay for performance: back to the earlier trend from year 2",
        target="slope from year 2 not above the pre-scheme slope (difference <= 0.005 per year)",
        source="Ann Fam Med 2012: then back to the earlier rate of improvement",
        value=float(ratio.mean()), low=lo, high=hi,
        interval="95% CI of the mean slope difference (per year)",
        passed=float(ratio.mean()) <= 0.005,
        simulated=(f"slope {its.post_slope.mean():+.4f}/yr vs earlier {its.pre_slope.mean():+.4f}/yr"),
        note="no lasting acceleration; 0.005/yr allows for sampling of the two fitted slopes"))
    lo, hi = _mean_ci(its.autonomy_change)
    checks.append(Check(
        id="P6-autonomy", kind="validation", pattern="6",
        name="Pay for performance: autonomy falls in year 1",
        target="mean autonomy at month 36 below month 23 (CI < 0)",
        source="Lester et al. BJGP 2013; BMC Fam Pract 2020 meta-synthesis",
        value=float(its.autonomy_change.mean()), low=lo, high=hi, interval="95% CI of the mean",
        passed=hi < 0, simulated=f"{its.autonomy_change.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]",
        note="autonomy on its 0-1 scale"))

    # 7. opinion leaders: the county effect, and its spread across practices (the trials the
    # review pools are run in different practices and settings)
    e = np.array([r["opinion_leader_effect"] for r in reps])
    med = float(np.median(e))
    by_practice = np.concatenate([r["practice_effects"] for r in reps])
    p10, p90 = float(np.quantile(by_practice, 0.1)), float(np.quantile(by_practice, 0.9))
    lo, hi = float(np.quantile(e, 0.025)), float(np.quantile(e, 0.975))
    tgt = TARGETS["opinion_leader_effect"]
    checks.append(Check(
        id="P7", kind="validation", pattern="7",
        name=f"Opinion leaders: {OPINION_LEADER_METHOD.upper()} adoption after "
             f"{OPINION_LEADER_FOLLOW_UP} months, seeded - not",
        target=(f"moderate: median {100 * tgt.low:+.0f} to {100 * tgt.high:+.0f} points; variable: "
                "practice effects from <= 0 (10th pct) to >= twice the median (90th pct)"),
        source=tgt.source, value=med, low=lo, high=hi,
        interval="median [2.5-97.5th percentile] of county effects",
        passed=tgt.contains(med) and p10 <= 0 and p90 >= 2 * med,
        simulated=(f"{100 * med:+.1f} points [{100 * lo:+.1f}, {100 * hi:+.1f}]; practices "
                   f"{100 * p10:+.0f} to {100 * p90:+.0f} (10-90th pct)"),
        note=(f"at month {OPINION_LEADER_START} the most influential GP of each practice adopts; "
              + tgt.why)))

    # 8. S-shaped adoption
    band("bass_r2", 8, "Structured methods' curves fit a Bass curve (median R^2)", percent=False)
    band("s_shaped_share", 8, "Structured methods' curves driven by contagion (fitted q > p)")

    # 10. strain and exit
    band("exit_rate", 10, "GPs leaving per year")
    dx = np.array([r["pressure_exit_rate"] - r["metrics"]["exit_rate"] for r in reps])
    ds = np.array([r["pressure_strain"] - r["metrics"]["strain"] for r in reps])
    lo, hi = _mean_ci(dx)
    checks.append(Check(
        id="P10-strain", kind="validation", pattern="10",
        name="Exits rise with strain (high_pressure - baseline, paired)",
        target="higher strain, more exits: exit-rate difference CI > 0",
        source="GP Worklife Surveys 2015-21: workload and external bodies top stressors",
        value=float(dx.mean()), low=lo, high=hi, interval="95% CI of the mean paired difference",
        passed=lo > 0 and ds.mean() > 0,
        simulated=f"{100 * dx.mean():+.2f} points/yr [{100 * lo:+.2f}, {100 * hi:+.2f}] "
                  f"with strain {ds.mean():+.3f}",
        note="paired seeds"))

    data = dict(
        metrics=m.assign(seed=seeds),
        effects=pd.DataFrame(dict(seed=seeds, training_effect=d, opinion_leader_effect=e,
                                  exit_rate_difference=dx, strain_difference=ds,
                                  p4p_year1_excess=its.year1_excess,
                                  p4p_slope_difference=ratio,
                                  p4p_autonomy_change=its.autonomy_change)),
        baseline_timeseries=pd.concat([r["timeseries"].assign(seed=r["seed"]) for r in reps],
                                      ignore_index=True),
        qof_timeseries=pd.concat([r["qof"].assign(seed=r["seed"]) for r in reps], ignore_index=True),
        practice_effects=pd.DataFrame(dict(
            seed=np.repeat(seeds, [len(r["practice_effects"]) for r in reps]), effect=by_practice)),
    )
    return checks, data


# ---------------------------------------------------------------------------------------------
# running everything
# ---------------------------------------------------------------------------------------------


def validate(plan: Plan, seed: int = 1, progress: Callable[[str], None] | None = None) -> Outcome:
    """Run every check of ``plan``; seeds of the parts are children of one root seed."""
    from .verification import seed_sequence

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


def figures(outcome: Outcome, folder: Path, prefix: str = "validation") -> list[Path]:
    """The figures of a validation: Watts window (like Watts 2002 Fig. 1), Bass curves,
    Granovetter's jump, clustered vs random ties, and the baseline patterns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .verification import granovetter_analytic, granovetter_critical_sigma, watts_window

    folder = Path(folder)
    paths = []
    d = outcome.data

    def save(fig, name):
        path = folder / f"{prefix}_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    # Watts
    w = d["watts"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), constrained_layout=True)
    for phi, colour in zip(sorted(w.phi.unique()), ("tab:red", "tab:blue", "tab:green")):
        rows = w[w.phi == phi]
        low, high = watts_window(phi)
        ax.plot(rows.z, rows.global_frequency, "o-", color=colour, label=f"simulated, phi = {phi:g}")
        ax.axvspan(low, high, color=colour, alpha=0.08)
        ax.axvline(high, color=colour, ls="--", lw=1)
    ax.set(xlabel="mean degree z", ylabel="frequency of global cascades (>= 1% of GPs)",
           title="Watts cascade window: simulated (points), analytic window (shaded, dashed edge)",
           ylim=(-0.02, 1.02))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, "watts")

    # Bass
    c, f = d["bass_curves"], d["bass_fits"]
    pairs = list(c.groupby(["p", "q"]).groups)
    fig, axes = plt.subplots(1, len(pairs) + 1, figsize=(5 * (len(pairs) + 1), 4), constrained_layout=True)
    for ax, (p, q) in zip(axes, pairs):
        rows = c[(c.p == p) & (c.q == q)]
        ax.fill_between(rows.month, rows["mean"] - 2 * rows.se, rows["mean"] + 2 * rows.se,
                        color="tab:blue", alpha=0.2, label="simulated mean +-2 SE")
        ax.plot(rows.month, rows["mean"], color="tab:blue")
        ax.plot(rows.month, rows.discrete, "k--", lw=1, label="discrete solution")
        ax.plot(rows.month, rows.closed_form, color="tab:orange", lw=1, label="closed form")
        ax.set(title=f"Bass limit, p = {p:g}, q = {q:g} per month", xlabel="month",
               ylabel="share adopted", ylim=(0, 1.02))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    for (p, q), rows in f.groupby(["p_true", "q_true"]):
        ax.scatter(rows.p_fit / p, rows.q_fit / q, s=14, label=f"p = {p:g}, q = {q:g}")
    ax.axvline(1, color="k", lw=0.8)
    ax.axhline(1, color="k", lw=0.8)
    ax.set(title="Fitted / true p and q (one point per run)", xlabel="p fitted / true",
           ylabel="q fitted / true")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, "bass")

    # Granovetter
    g = d["granovetter"]
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    ax.scatter(g.sigma, g.final_share, s=12, alpha=0.5, color="tab:blue", label="simulated runs")
    ax.plot(g.groupby("sigma").final_share.mean(), "o-", color="tab:blue", label="simulated mean")
    fine = np.linspace(g.sigma.min(), g.sigma.max(), 400)
    ax.plot(fine, [granovetter_analytic(s) for s in fine], "k--", lw=1, label="continuous model")
    ax.axvline(granovetter_critical_sigma(), color="tab:red", lw=1, label="sigma* = 0.122")
    ax.set(xlabel="sigma of thresholds (mean 0.25)", ylabel="final share adopted",
           title="Granovetter: fully mixed population", ylim=(-0.02, 1.02))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, "granovetter")

    # Centola
    t = d["centola"]
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for name, colour in (("clustered", "tab:green"), ("random", "tab:purple")):
        rows = t[t.network == name]
        for _, rep in rows.groupby("replicate"):
            ax.plot(rep.month, rep.share, color=colour, alpha=0.12, lw=0.8)
        ax.plot(rows.groupby("month").share.mean(), color=colour, lw=2.5, label=f"{name} (mean)")
    ax.set(xlabel="month", ylabel="share adopted", ylim=(0, 1.02),
           title="Complex contagion: clustered lattice vs random graph, same degrees")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save(fig, "centola")

    # patterns
    m, e, q = d["metrics"], d["effects"], d["qof_timeseries"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5), constrained_layout=True)
    ax = axes[0, 0]
    names = [f"adoption_{x}" for x in QI_METHODS]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [TARGETS[n].value for n in names], 0.4, color="grey", label="survey 2017")
    ax.bar(x + 0.2, m[names].mean(), 0.4, color="tab:blue", label="model (mean)")
    ax.errorbar(x + 0.2, m[names].mean(), yerr=[m[names].mean() - m[names].quantile(0.025),
                                                 m[names].quantile(0.975) - m[names].mean()],
                fmt="none", color="k", lw=1)
    ax.set_xticks(x, [n[9:].replace("_", "\n") for n in names], fontsize=8)
    ax.set(title="1. QI methods used after 10 years", ylabel="share of GPs", ylim=(0, 1))
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.bar([0, 2], [TARGETS["pdsa_partners"].value, TARGETS["pdsa_salaried"].value], 0.8,
           color="grey", label="survey 2017")
    ax.bar([0.8, 2.8], [m.pdsa_partners.mean(), m.pdsa_salaried.mean()], 0.8, color="tab:blue",
           label="model (mean)")
    ax.set_xticks([0.4, 2.4], ["partners", "salaried"])
    ax.set(title="2. PDSA use by role", ylabel="share of GPs")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    ts = d["baseline_timeseries"]
    for name in names:
        mean = ts.groupby("month")[name].mean()
        ax.plot(mean.index / 12, mean, label=name[9:].replace("_", " "))
    ax.set(title="8. Adoption curves (baseline mean)", xlabel="years", ylabel="share of GPs", ylim=(0, 1))
    ax.legend(fontsize=7)
    ax = axes[1, 0]
    for _, rep in q.groupby("seed"):
        ax.plot(rep.month / 12, rep.quality, color="tab:green", alpha=0.2, lw=0.8)
    ax.plot(q.groupby("month").quality.mean().index / 12, q.groupby("month").quality.mean(),
            color="tab:green", lw=2.5, label="quality")
    ax2 = ax.twinx()
    ax2.plot(q.groupby("month").autonomy.mean().index / 12, q.groupby("month").autonomy.mean(),
             color="tab:brown", lw=1.5, label="autonomy (right)")
    ax.axvline(P4P_MONTH / 12, color="k", ls="--", lw=1)
    ax.set(title="6. Pay for performance (qof_2004)", xlabel="years", ylabel="quality index")
    ax2.set_ylabel("autonomy")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    ax = axes[1, 1]
    ax.hist(100 * d["practice_effects"].effect, bins=30, color="tab:orange", alpha=0.6,
            density=True, label="practices")
    ax.hist(100 * e.opinion_leader_effect, bins=10, color="tab:red", alpha=0.6, density=True,
            label="counties (replicates)")
    ax.axvspan(9, 12, color="grey", alpha=0.3, label="Cochrane medians 9-12")
    ax.set(title="7. Opinion-leader effects (paired)", xlabel="PDSA adoption, points",
           ylabel="density")
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    ax.scatter(m.strain, 100 * m.exit_rate, color="tab:blue", label="baseline")
    ax.scatter(m.strain + e.strain_difference, 100 * (m.exit_rate + e.exit_rate_difference),
               color="tab:red", label="high pressure")
    ax.axhspan(100 * TARGETS["exit_rate"].low, 100 * TARGETS["exit_rate"].high, color="grey",
               alpha=0.2, label="plausible band")
    ax.set(title="10. Strain and exit (one point per replicate)", xlabel="mean strain",
           ylabel="GPs leaving per year, %")
    ax.legend(fontsize=8)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    save(fig, "patterns")
    return paths


def markdown_table(checks: list[Check]) -> str:
    """The checks as a Markdown table (as pasted into docs/validation.md)."""
    esc = lambda text: str(text).replace("|", "\\|")
    lines = ["| check | target | source | simulated [interval] | result |", "|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.id} {esc(c.name)} | {esc(c.target)} | {esc(c.source)} | "
                     f"{esc(c.simulated)} | {'pass' if c.passed else '**FAIL**'} |")
    return "\n".join(lines) + "\n"


def write_results(outcome: Outcome, folder: Path, plan: Plan, seed: int, seconds: float) -> Path:
    """Table (CSV, Parquet), the data behind the checks (Parquet), figures and manifest, in a
    new folder built atomically."""
    from . import output

    with output.atomic_folder(folder) as tmp:
        t = table(outcome.checks)
        t.to_csv(tmp / "validation.csv", index=False)
        t.to_parquet(tmp / "validation.parquet", index=False)
        (tmp / "validation.md").write_text(markdown_table(outcome.checks))
        for name, frame in outcome.data.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        figures(outcome, tmp)
        output.write_json(tmp / "manifest.json", output.manifest(
            seed=seed, plan=asdict(plan), seconds=round(seconds, 2), parts=outcome.seconds,
            checks=len(outcome.checks), failed=[c.id for c in outcome.checks if not c.passed]))
    return folder


def register(subparsers) -> None:
    """Add ``pcsim validate`` to the command line."""
    from .cli import positive_int, seed_int

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
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    import sys

    from . import output

    plan = Plan.quick(args.replicates or 20) if args.quick else Plan.full(args.replicates or 20)
    folder = output.new_folder_path("validate-quick" if args.quick else "validate", args.out)
    t0 = time.perf_counter()
    outcome = validate(plan, args.seed, progress=lambda msg: print(f"pcsim validate: {msg}",
                                                                   file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    write_results(outcome, folder, plan, args.seed, seconds)
    print(format_table(outcome.checks))
    failed = [c for c in outcome.checks if not c.passed]
    print(f"\n{len(outcome.checks) - len(failed)} of {len(outcome.checks)} checks passed"
          + (f"; failed: {', '.join(c.id for c in failed)}" if failed else "")
          + f" ({'quick' if args.quick else 'full'}, {plan.replicates} replicates, seed "
            f"{args.seed}, {seconds:.0f} s)")
    print(f"results: {folder}")
    return 1 if failed else 0


def __getattr__(name):
    # the command line imports this module at start-up: the engine (simulation.interventions
    # imports simulation.rules) loads on first use only, like every heavy import here
    if name == "opinion_leaders":
        from .interventions import opinion_leaders

        return opinion_leaders
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
