"""Validation of the ``england`` scale: the patterns that apply to England as a whole, and the
workforce dynamics the NHS data show (``pcsim validate --scale england``).

An England run starts in April 2023 (the 2022/23 workforce, the 2017 survey's QI use) and is
validated over :data:`MONTHS` = 24 months, the span of the workforce data (fiscal years
2022/23, 2023/24 and 2024/25):

- **E1 partner share** of the active qualified GPs at months 0, 12 and 24 against the data's
  fiscal-year shares (``simulation/data/england/facts.json``), each within
  :data:`PARTNER_SHARE_TOLERANCE`;
- **E2 median GP headcount** per practice at months 0, 12 and 24 against the data's 5.0;
- the county patterns that apply nationally (:data:`NATIONAL`), measured at month 24 against the
  same targets (:data:`simulation.validate.TARGETS`); the others are left out for the reasons in
  :data:`COUNTY_ONLY`.

:data:`ENGLAND_TARGETS` and :data:`ENGLAND_WEIGHTS` are what the England calibration
(``python -m simulation.calibrate --scale england``) fits, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .targets import QI_METHODS, TARGETS, WEIGHTS, Target

#: months validated: April 2023 to April 2025, the span of the workforce data
MONTHS = 24
#: the months compared with the data's fiscal years (month 0 is the run's start, April 2023,
#: whose workforce is FY 2022/23's)
YEARS = {0: "fy2023", 12: "fy2024", 24: "fy2025"}

PARTNER_SHARE_TOLERANCE = 0.015
_PARTNER_WHY = (
    "+-0.015: the run starts from headcounts rounded per practice (0.545 against the data's "
    "0.5459); a fiscal year's mean is centred mid-year, not at the month compared, and FY "
    "2024/25 covers only April 2024 - January 2025 (at the data's ~0.02-0.03 a year, half a "
    "year of misalignment is ~0.01); the data's practice set changes from year to year (6,461 "
    "-> 6,225 practices) while the model's stays; replicates of all England vary by < 0.002")
_HEADCOUNT_WHY = ("the data's median is 5.0 in all three years; +-0.5 asks the model's median "
                  "(whole or half GPs) to stay 5: vacancies must not hollow practices out")
_SOURCE = ("NHS Digital General Practice Workforce, fiscal-year means (HEEC), "
           "simulation/data/england/facts.json")

#: the county patterns measured on England at month 24, and why each applies nationally
NATIONAL: dict[str, str] = {
    **{f"adoption_{m}": "the 2017 survey is national; the run starts at its shares, so after "
                        "24 months each QI method should still lie in the survey's band (the "
                        "preset takes the 2017 shares as today's: use moves slowly)"
       for m in QI_METHODS},
    "leadership_culture_r": "practices anywhere: Apekey's correlation is across practices",
    "federations_with_plan": "the federations are the real PCNs; most have no plan",
    "practices_with_leader": "leadership inside practices, any practice",
    "informal_leader_share": "leaders are a minority of GPs anywhere",
    "broker_ratio": "brokers above practices are rare anywhere",
    "exit_rate": "the GP Worklife Surveys are national",
}

#: the county patterns not checked on England, and why
COUNTY_ONLY: dict[str, str] = {
    "P1-order": "implied by the six bands of P1",
    "P2 (PDSA by role)": "the preset draws initial use without regard to role (the survey's "
                         "all-GP shares), so a by-role split after 24 months tests that draw, "
                         "not the dynamics",
    "P3-training, P6, P7, P10-strain, P11, P12": "paired experiments: the same code at any "
                                                 "scale, checked on the county design "
                                                 "(`pcsim validate`); on England they would "
                                                 "cost time and tell nothing new",
    "P8 (S-shape, Bass R^2, social share)": "fitted to ten-year curves rising from near zero; "
                                            "an England run starts mid-curve and lasts 24 months",
    "V1-V4": "verification limits: the model reduced to textbook cases, independent of scale",
}


def _facts() -> dict:
    from .. import england

    return england.load().facts


def data_trend(area=None) -> dict[int, tuple[float, float, str]]:
    """The data's partner share and median qualified GP headcount per practice at months 0, 12,
    24, with their source: for all of England the published aggregates of ``facts.json`` (every
    practice with a record that year); for an area, the same aggregates over its practices'
    fiscal-year means in ``practices.parquet`` (those with a record that year)."""
    if area is None:
        years = _facts()["partner_share_by_year"]
        return {month: (float(years[fy]["partner_share"]), float(years[fy]["median_gp_hc"]),
                        f"{_SOURCE}, {fy}") for month, fy in YEARS.items()}
    from .. import england

    p = england.practices(area)
    where = area.label() if hasattr(area, "label") else str(area)
    out = {}
    for month, fy in YEARS.items():
        suffix = "" if fy == "fy2023" else f"_{fy}"
        gps, partners = p[f"gp_hc_mean{suffix}"], p[f"partner_hc_mean{suffix}"]
        seen = gps.notna() & partners.notna()
        out[month] = (float(partners[seen].sum() / gps[seen].sum()), float(gps[seen].median()),
                      f"{_SOURCE} (practices.parquet, {where}), {fy}")
    return out


def partner_share_targets(area=None) -> dict[str, Target]:
    """E1: the partner share at months 0, 12, 24, from the data's fiscal years."""
    t = PARTNER_SHARE_TOLERANCE
    return {f"partner_share_m{month}": Target(share, round(share - t, 4), round(share + t, 4),
                                              source, _PARTNER_WHY)
            for month, (share, _, source) in data_trend(area).items()}


def headcount_targets(area=None) -> dict[str, Target]:
    """E2: the median qualified GP headcount per practice at months 0, 12, 24."""
    return {f"median_headcount_m{month}": Target(median, median - 0.5, median + 0.5, source,
                                                 _HEADCOUNT_WHY)
            for month, (_, median, source) in data_trend(area).items()}


def england_targets(area=None) -> dict[str, Target]:
    """Every target of the England validation and calibration (of ``area`` if given)."""
    return {**partner_share_targets(area), **headcount_targets(area),
            **{name: TARGETS[name] for name in NATIONAL}}


def england_weights() -> dict[str, float]:
    """Weights of the England calibration's objective: the data's trend counts as much as the QI
    hierarchy (2); the headcount is a guard (1); the county patterns keep the county's weights."""
    w = {f"partner_share_m{m}": 2.0 for m in YEARS}
    w.update({f"median_headcount_m{m}": 1.0 for m in YEARS})
    w.update({name: WEIGHTS[name] for name in NATIONAL})
    return w


def workforce(model) -> tuple[float, float]:
    """Partner share of the active GPs, and the median active GPs per practice."""
    import numpy as np

    s = model.state
    active = s.active
    n = int(active.sum())
    share = float((s.partner & active).sum() / n) if n else math.nan
    heads = np.bincount(s.practice[active], minlength=int(s.practice.max()) + 1)
    return share, float(np.median(heads))


def run_england(seed: int, area=None, months: int = MONTHS, **overrides) -> dict[str, Any]:
    """One England (or area) baseline run of ``months``: the workforce at months 0, 12, 24 and
    the national patterns' metrics at the end. Returns metrics and the workforce by year."""
    from ..model import PrimaryCareModel
    from .runs import baseline_metrics

    model = PrimaryCareModel(scenario="baseline", scale="england", area=area, rng=seed, **overrides)
    metrics: dict[str, float] = {}
    rows = []
    for month in sorted(YEARS):
        if month > months:
            break
        if month > model.month:
            model.run(month - model.month)
        share, median = workforce(model)
        metrics[f"partner_share_m{month}"] = share
        metrics[f"median_headcount_m{month}"] = median
        rows.append(dict(month=month, partner_share=share, median_headcount=median))
    if months > model.month:
        model.run(months - model.month)
    full = baseline_metrics(model)
    metrics.update({name: full[name] for name in NATIONAL})
    return dict(seed=seed, metrics=metrics, workforce=rows)


def run_england_replicates(replicates: int, seed, area=None, overrides: dict | None = None):
    """The replicate seeds derived from ``seed`` (as the county's) and :func:`run_england` of
    each."""
    import numpy as np

    from ..verification import seed_sequence

    seeds = [int(s) for s in seed_sequence(seed).generate_state(replicates, np.uint32)]
    return seeds, [run_england(s, area, **(overrides or {})) for s in seeds]


def check_england(replicates: int, seed, area=None, overrides: dict | None = None):
    """Run the replicates and compare each England pattern with its target."""
    import pandas as pd

    from .checks import band_check

    seeds, reps = run_england_replicates(replicates, seed, area, overrides)
    m = pd.DataFrame([r["metrics"] for r in reps])
    targets = england_targets(area)
    checks = []
    for month, fy in YEARS.items():
        name = f"partner_share_m{month}"
        c = band_check(m, name, "E1", f"Partner share of qualified GPs at month {month} "
                       f"({fy}: {targets[name].value:.4f})", percent=False, targets=targets,
                       digits=4)
        c.id = f"E1-partner-share-m{month}"
        checks.append(c)
    for month, fy in YEARS.items():
        name = f"median_headcount_m{month}"
        c = band_check(m, name, "E2", f"Median qualified GPs per practice at month {month} ({fy})",
                       percent=False, targets=targets)
        c.id = f"E2-headcount-m{month}"
        checks.append(c)
    labels = {"leadership_culture_r": ("3", "Leadership-culture correlation across practices", False),
              "federations_with_plan": ("4", "PCNs with a plan", True),
              "practices_with_leader": ("5", "Practices with an informal leader", True),
              "informal_leader_share": ("5", "Informal leaders among GPs", True),
              "broker_ratio": ("5", "Brokers per informal leader (last year)", False),
              "exit_rate": ("10", "GPs leaving per year", True)}
    for name in NATIONAL:
        if name.startswith("adoption_"):
            pattern, label, pct = "1", f"QI hierarchy: {name[9:].replace('_', ' ')}", True
        else:
            pattern, label, pct = labels[name]
        checks.append(band_check(m, name, pattern, f"{label} after {MONTHS} months",
                                 percent=pct, targets=targets))
    workforce_rows = pd.DataFrame([dict(seed=r["seed"], **row) for r in reps for row in r["workforce"]])
    return checks, dict(metrics=m.assign(seed=seeds), workforce=workforce_rows)


def validate_england(replicates: int, seed: int = 1, area=None,
                     progress: Callable[[str], None] | None = None):
    """The England validation: :func:`check_england` on every replicate, as an Outcome."""
    import time

    from ..verification import seed_sequence
    from .checks import Outcome

    say = progress or (lambda msg: None)
    out = Outcome()
    say(f"england patterns ({replicates} replicates"
        + (f", {area.label() if hasattr(area, 'label') else area}" if area else ", all of England") + ") ...")
    t0 = time.perf_counter()
    checks, data = check_england(replicates, seed_sequence(seed).spawn(1)[0], area)
    out.seconds["england"] = round(time.perf_counter() - t0, 2)
    out.checks += checks
    out.data.update(data)
    return out


def partner_share_figure(data, area=None):
    """The simulated partner share by month against the data's fiscal years."""
    from .figures import _pyplot

    plt = _pyplot()
    w = data["workforce"]
    trend = data_trend(area)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for _, rows in w.groupby("seed"):
        ax.plot(rows.month, rows.partner_share, color="tab:blue", alpha=0.25, lw=1)
    mean = w.groupby("month").partner_share.mean()
    ax.plot(mean.index, mean.to_numpy(), "o-", color="tab:blue", label="simulated (mean, replicates)")
    months = list(YEARS)
    data_share = [trend[m][0] for m in months]
    ax.errorbar(months, data_share, yerr=PARTNER_SHARE_TOLERANCE, fmt="s", color="black",
                capsize=4, label=f"data (fiscal-year means) +-{PARTNER_SHARE_TOLERANCE}")
    ax.set(xlabel="month (0 = April 2023)", ylabel="partner share of qualified GPs",
           title=("England" if area is None else area.label()[:60])
           + ": partner share, model against NHS workforce data")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
