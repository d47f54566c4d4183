"""The figures of ``pcsim validate``, one function per figure (each takes the data of a
:class:`~.checks.Outcome` and returns a matplotlib figure): the Watts window (like Watts 2002
Fig. 1), the Bass curves, Granovetter's jump, clustered against random ties, the baseline
patterns and the leadership patterns."""

from __future__ import annotations

from pathlib import Path

from .runs import LEADERS_REMOVED, P4P_MONTH, REMOVAL_MONTH
from .targets import LEADERSHIP_TARGETS, QI_METHODS, TARGETS


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figures(outcome, folder: Path, prefix: str = "validation") -> list[Path]:
    """Write every figure of ``outcome`` to ``folder`` as ``{prefix}_{name}.png``; return the
    paths."""
    plt = _pyplot()
    folder = Path(folder)
    paths = []
    for name, draw in (("watts", watts_figure), ("bass", bass_figure),
                       ("granovetter", granovetter_figure), ("centola", centola_figure),
                       ("patterns", patterns_figure), ("leadership", leadership_figure)):
        fig = draw(outcome.data)
        path = folder / f"{prefix}_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def watts_figure(d):
    """Frequency of global cascades against mean degree, with the analytic window shaded."""
    from ..verification import watts_window

    plt = _pyplot()
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
    return fig


def bass_figure(d):
    """The Bass limit's mean curves against the discrete solution and the closed form, and the
    fitted p and q relative to the true ones."""
    plt = _pyplot()
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
    return fig


def granovetter_figure(d):
    """Final share against the spread of thresholds, beside the continuous model's jump."""
    import numpy as np

    from ..verification import granovetter_analytic, granovetter_critical_sigma

    plt = _pyplot()
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
    return fig


def centola_figure(d):
    """Adoption curves of a complex innovation on the clustered lattice and the random graph."""
    plt = _pyplot()
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
    return fig


def patterns_figure(d):
    """Six panels of the baseline patterns: QI methods, PDSA by role, adoption curves, pay for
    performance, opinion-leader effects, strain and exit."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5), constrained_layout=True)
    hierarchy_panel(axes[0, 0], d["metrics"])
    roles_panel(axes[0, 1], d["metrics"])
    curves_panel(axes[0, 2], d["baseline_timeseries"])
    p4p_panel(axes[1, 0], d["qof_timeseries"])
    opinion_leaders_panel(axes[1, 1], d["practice_effects"], d["effects"])
    exit_panel(axes[1, 2], d["metrics"], d["effects"])
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    return fig


_ADOPTION = [f"adoption_{x}" for x in QI_METHODS]


def hierarchy_panel(ax, m) -> None:
    """Pattern 1: the share using each QI method, survey against model (with the replicates'
    2.5-97.5th percentiles)."""
    import numpy as np

    names = _ADOPTION
    x = np.arange(len(names))
    ax.bar(x - 0.2, [TARGETS[n].value for n in names], 0.4, color="grey", label="survey 2017")
    ax.bar(x + 0.2, m[names].mean(), 0.4, color="tab:blue", label="model (mean)")
    ax.errorbar(x + 0.2, m[names].mean(), yerr=[m[names].mean() - m[names].quantile(0.025),
                                                 m[names].quantile(0.975) - m[names].mean()],
                fmt="none", color="k", lw=1)
    ax.set_xticks(x, [n[9:].replace("_", "\n") for n in names], fontsize=8)
    ax.set(title="1. QI methods used after 10 years", ylabel="share of GPs", ylim=(0, 1))
    ax.legend(fontsize=8)


def roles_panel(ax, m) -> None:
    """Pattern 2: PDSA use by partners and salaried GPs."""
    ax.bar([0, 2], [TARGETS["pdsa_partners"].value, TARGETS["pdsa_salaried"].value], 0.8,
           color="grey", label="survey 2017")
    ax.bar([0.8, 2.8], [m.pdsa_partners.mean(), m.pdsa_salaried.mean()], 0.8, color="tab:blue",
           label="model (mean)")
    ax.set_xticks([0.4, 2.4], ["partners", "salaried"])
    ax.set(title="2. PDSA use by role", ylabel="share of GPs")
    ax.legend(fontsize=8)


def curves_panel(ax, ts) -> None:
    """Pattern 8: the baseline's mean adoption curve of each QI method."""
    for name in _ADOPTION:
        mean = ts.groupby("month")[name].mean()
        ax.plot(mean.index / 12, mean, label=name[9:].replace("_", " "))
    ax.set(title="8. Adoption curves (baseline mean)", xlabel="years", ylabel="share of GPs", ylim=(0, 1))
    ax.legend(fontsize=7)


def p4p_panel(ax, q) -> None:
    """Pattern 6: quality (each replicate and the mean) and autonomy under qof_2004."""
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


def opinion_leaders_panel(ax, practice_effects, e) -> None:
    """Pattern 7: opinion-leader effects of practices and of counties, beside the reviews'
    medians."""
    ax.hist(100 * practice_effects.effect, bins=30, color="tab:orange", alpha=0.6,
            density=True, label="practices")
    ax.hist(100 * e.opinion_leader_effect, bins=10, color="tab:red", alpha=0.6, density=True,
            label="counties (replicates)")
    ax.axvspan(9, 12, color="grey", alpha=0.3, label="Cochrane medians 9-12")
    ax.set(title="7. Opinion-leader effects (paired)", xlabel="PDSA adoption, points",
           ylabel="density")
    ax.legend(fontsize=8)


def exit_panel(ax, m, e) -> None:
    """Pattern 10: exit rate against strain, baseline and high pressure, per replicate."""
    ax.scatter(m.strain, 100 * m.exit_rate, color="tab:blue", label="baseline")
    ax.scatter(m.strain + e.strain_difference, 100 * (m.exit_rate + e.exit_rate_difference),
               color="tab:red", label="high pressure")
    ax.axhspan(100 * TARGETS["exit_rate"].low, 100 * TARGETS["exit_rate"].high, color="grey",
               alpha=0.2, label="plausible band")
    ax.set(title="10. Strain and exit (one point per replicate)", xlabel="mean strain",
           ylabel="GPs leaving per year, %")
    ax.legend(fontsize=8)


def leadership_figure(d):
    """Three panels of the leadership patterns (7, 11, 12), one point or line per replicate."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), constrained_layout=True)
    lead = d["leadership"]
    spread_panel(axes[0], lead)
    mandate_panel(axes[1], lead)
    removal_panel(axes[2], d["removal_timeseries"])
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    return fig


def spread_panel(ax, lead) -> None:
    """Pattern 7: the effect on the GPs seeded in neither arm beside the effect scored with the
    seeded leaders included, per replicate, and the review's band."""
    tgt = TARGETS["opinion_leader_effect"]
    for x, column, label in ((0, "spread_effect", "unseeded GPs:\nleaders - random GPs"),
                             (1, "opinion_leader_effect", "all GPs, leaders included:\nseeded - not")):
        ax.scatter([x] * len(lead), 100 * lead[column], color="tab:red", alpha=0.5)
        ax.hlines(100 * lead[column].mean(), x - 0.25, x + 0.25, color="k", lw=2)
    ax.axhspan(100 * tgt.low, 100 * tgt.high, color="grey", alpha=0.2, label="review's band")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks([0, 1], ["unseeded GPs:\nleaders - random GPs", "all GPs, leaders included:\nseeded - not"])
    ax.set(title="7. Opinion leaders (PDSA, 24 months)", ylabel="points", xlim=(-0.6, 1.6))
    ax.legend(fontsize=8)


def mandate_panel(ax, lead) -> None:
    """Pattern 11: informal leaders and plans with the mandated scheme against without it."""
    top = max(lead.mandate_leaders_with.max(), lead.mandate_leaders_without.max()) * 1.05
    ax.scatter(lead.mandate_leaders_without, lead.mandate_leaders_with, color="tab:purple",
               label="informal leaders (one per replicate)")
    ax.plot([0, top], [0, top], "k--", lw=1, label="equal")
    ax.plot([0, top], [0, top * (1 + LEADERSHIP_TARGETS["mandate_leaders"].high)], ":", color="grey",
            label="allowance")
    plans = (lead.mandate_plans_with - lead.mandate_plans_without).mean()
    ax.set(title=f"11. Mandated scheme (plans {100 * plans:+.1f} points with it)",
           xlabel="informal leaders at month 120, without the scheme", ylabel="with the scheme",
           xlim=(0, top), ylim=(0, top))
    ax.legend(fontsize=8)


def removal_panel(ax, ts) -> None:
    """Pattern 12: mean complex adoption of the posts not removed after the most influential
    informal leaders leave."""
    for arm, colour in (("baseline", "tab:blue"), ("removal", "tab:orange")):
        mean = ts[ts.arm == arm].groupby("month").others.mean()
        ax.plot(mean.index, 100 * mean, color=colour, lw=2,
                label=arm if arm == "baseline" else f"{LEADERS_REMOVED} leaders removed")
    ax.axvline(REMOVAL_MONTH, color="k", ls="--", lw=1)
    ax.set(title="12. Informal leaders removed (mean of replicates)", xlabel="month",
           ylabel="complex adoption (genuine) of the GPs who stay, %")
    ax.legend(fontsize=8)
