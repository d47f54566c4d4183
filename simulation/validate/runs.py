"""The simulations behind ``pcsim validate``: the verification limits' runs (Watts, Bass,
Granovetter, Centola, :mod:`simulation.verification`) and the county baseline's replicates with
their paired arms (training programme, opinion leaders against randomly chosen GPs, high
pressure, pay for performance, the baseline without its mandated scheme, the most influential
informal leaders removed).

:class:`Plan` says how much to run. Each replicate seed drives every arm of that replicate, so
each pair shares its population, ties and draws up to the intervention (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .targets import QI_METHODS, STRUCTURED_METHODS


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


# ---------------------------------------------------------------------------------------------
# the verification limits
# ---------------------------------------------------------------------------------------------


def watts_grid(phi: float, step: float) -> list[float]:
    """z values for one phi: across the analytic window and past its upper edge; with
    ``step`` 0 only three points (below, inside, far above) for the quick check."""
    from ..verification import watts_window

    low, high = watts_window(phi)
    if step <= 0:
        return [0.5, round((low + high) / 2, 1), round(high + 2.5, 1)]
    return [round(z, 2) for z in _arange(0.5, high + 2.5 + 1e-9, step)]


def _arange(a: float, b: float, step: float) -> list[float]:
    n = int(math.floor((b - a) / step)) + 1
    return [a + i * step for i in range(n)]


def run_watts(plan: Plan, seed):
    """Cascade frequencies on Erdős–Rényi graphs over the z grid of each phi of ``plan``."""
    import pandas as pd

    from ..verification import seed_sequence, watts_frequencies

    frames = []
    for phi, child in zip(plan.watts_phis, seed_sequence(seed).spawn(len(plan.watts_phis))):
        frames.append(watts_frequencies([phi], watts_grid(phi, plan.watts_step), plan.watts_n,
                                        plan.watts_graphs, child, plan.watts_starts))
    return pd.concat(frames, ignore_index=True)


def run_bass(plan: Plan, seed) -> list[tuple[Any, Any]]:
    """For each (p, q) of ``plan``: the mean curve of the Bass limit beside its discrete solution
    and closed form, and p and q fitted to single runs."""
    from ..verification import bass_curves, bass_recovery, seed_sequence

    out = []
    children = seed_sequence(seed).spawn(2 * len(plan.bass_pairs))
    for i, (p, q) in enumerate(plan.bass_pairs):
        curves = bass_curves(plan.bass_n, p, q, plan.bass_months, plan.bass_replicates, children[2 * i])
        fits = bass_recovery(plan.bass_n, p, q, plan.bass_months, plan.bass_replicates,
                             children[2 * i + 1])
        out.append((curves, fits))
    return out


def run_granovetter(plan: Plan, seed):
    """Final shares against sigma, thresholds N(0.25, sigma), on a complete graph."""
    from ..verification import granovetter_sweep

    return granovetter_sweep(plan.granovetter_sigmas, plan.granovetter_n,
                             plan.granovetter_replicates, seed)


def run_centola(plan: Plan, seed):
    """A complex innovation on a clustered lattice and on the same lattice randomised."""
    from ..verification import centola_compare

    return centola_compare(rows=plan.centola_rows, cols=plan.centola_cols,
                           replicates=plan.centola_replicates, seed=seed)


# ---------------------------------------------------------------------------------------------
# the county baseline and its paired arms
# ---------------------------------------------------------------------------------------------

TRAINING_START, TRAINING_MONTHS = 84, 36
TRAINING = dict(leadership_drive=0.2, drive_fill_rate=0.2)
OPINION_LEADER_START, OPINION_LEADER_FOLLOW_UP = 60, 24
OPINION_LEADER_METHOD = "pdsa"
#: spawn key of the generator that picks the control arm's GPs (a child of the replicate seed
#: apart from the model's own streams, which are its children 0, 1 and 2)
RANDOM_SEEDING_KEY = 0x726E6473  # "rnds"
REMOVAL_MONTH, REMOVAL_FOLLOW_UP, LEADERS_REMOVED = 24, 24, 5
P4P_MONTH = 24  # scenario qof_2004


def baseline_metrics(model) -> dict[str, float]:
    """The pattern metrics of one finished baseline run (month 120): QI adoption shares, PDSA
    by role, leadership-culture correlation, plans, leaders and brokers, the S-shape of the
    adoption curves, exit rate and strain."""
    import numpy as np

    from ..verification import fit_bass

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
    social = sum(float(ts[f"new_social_{m}"].iloc[1:].sum()) for m in STRUCTURED_METHODS)
    external = sum(float(ts[f"new_external_{m}"].iloc[1:].sum()) for m in STRUCTURED_METHODS)
    out["social_share_structured"] = social / (social + external) if social + external > 0 else 0.0
    years = (len(ts) - 1) / 12.0
    posts_active = float((model.state.n_gps - ts.vacancies.iloc[1:]).mean())
    out["exit_rate"] = float(ts.leavers.iloc[1:].sum()) / years / posts_active
    out["strain"] = float(ts.strain.iloc[1:].mean())
    return out


def run_opinion_leaders(seed: int, **overrides):
    """The baseline to month 60, where each practice's opinion leader takes up PDSA (genuinely:
    :func:`simulation.interventions.seed_opinion_leaders`), then 24 months of follow-up.
    Returns the model at month 84 and the number of leaders."""
    from ..interventions import seed_opinion_leaders
    from ..model import PrimaryCareModel

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
    """PDSA adoption with opinion leaders minus without, at the end of follow-up (paired),
    the seeded leaders' own adoption included: the measure before the randomly seeded control
    arm (:func:`spread_effect`), kept for continuity and for the calibration."""
    follow = OPINION_LEADER_START + OPINION_LEADER_FOLLOW_UP
    name = f"adoption_{OPINION_LEADER_METHOD}"
    return float(ol_model.observation[name] - baseline_timeseries[name].iloc[follow])


def opinion_leader_arms(model, seed: int):
    """Two forks of ``model`` (at :data:`OPINION_LEADER_START`): in one each practice's opinion
    leader takes up PDSA, in the other one active GP chosen at random in each of the same
    practices (from a generator derived from ``seed``, never the model's streams); both run
    :data:`OPINION_LEADER_FOLLOW_UP` months. Returns (led, control, leaders, random GPs)."""
    from ..interventions import seed_opinion_leaders, seed_random_gps
    from ..report.interventions import fork
    from ..report.stats import derived_stream

    led, control = fork(model), fork(model)
    leaders = seed_opinion_leaders(led, OPINION_LEADER_METHOD)
    chosen = seed_random_gps(control, OPINION_LEADER_METHOD, derived_stream(seed, RANDOM_SEEDING_KEY),
                             practices=led.state.practice[leaders])
    led.run(OPINION_LEADER_FOLLOW_UP)
    control.run(OPINION_LEADER_FOLLOW_UP)
    return led, control, leaders, chosen


def spread_effect(led, control, seeded) -> tuple[float, float, float]:
    """PDSA use (genuine or shallow) among the active GPs of posts ``seeded`` in neither arm:
    led minus control, and the two shares. The same posts are left out of both arms, so the
    arms compare the same GPs; leaving out only each arm's own seeds would keep the opinion
    leaders (more often users anyway) in the control's denominator and bias the effect down."""
    def share(model):
        gps = model.gp_table()
        rest = gps[gps.active & ~gps.gp.isin(seeded)]
        m = OPINION_LEADER_METHOD
        return float((rest[f"genuine_{m}"] | rest[f"shallow_{m}"]).mean())

    a, b = share(led), share(control)
    return a - b, a, b


def removal_arm(model):
    """Two forks of ``model`` (at :data:`REMOVAL_MONTH`): in one its :data:`LEADERS_REMOVED`
    most influential informal leaders leave (:func:`simulation.interventions.remove_informal_leaders`;
    their posts are refilled as after any exit), the other is the baseline; both run
    :data:`REMOVAL_FOLLOW_UP` months. Returns a table by month and arm of ``complex_adoption``
    (every active GP) and ``others`` (the same share among the posts not removed), and how
    many left."""
    import numpy as np
    import pandas as pd

    from ..interventions import remove_informal_leaders
    from ..report.interventions import fork

    arms = dict(removal=fork(model), baseline=fork(model))
    removed = remove_informal_leaders(arms["removal"], LEADERS_REMOVED)
    kept = np.ones(model.state.n_gps, dtype=bool)
    kept[removed] = False
    rows = []
    for _ in range(REMOVAL_FOLLOW_UP):
        for arm, m in arms.items():
            m.run(1)
            rows.append(dict(month=m.month, arm=arm, complex_adoption=m.observation["complex_adoption"],
                             others=complex_share(m, kept)))
    return pd.DataFrame(rows), int(removed.size)


def complex_share(model, posts) -> float:
    """``complex_adoption`` (genuine use, mean over the voluntary complex innovations) among the
    active GPs of the posts flagged in ``posts``."""
    state, tables = model.state, model.tables
    mask = state.active & posts
    methods = ~tables.simple & ~tables.mandated
    return float(state.genuine[mask][:, methods].mean()) if mask.any() and methods.any() else 0.0


def removal_effect(removal_table) -> tuple[float, float]:
    """Mean over the follow-up months, removal arm minus baseline (paired): among the posts
    not removed (the leaders' spread), and over every active GP (``complex_adoption``, which
    also counts the leaders' own adoption, lost with them)."""
    means = removal_table.groupby("arm")[["others", "complex_adoption"]].mean()
    diff = means.loc["removal"] - means.loc["baseline"]
    return float(diff["others"]), float(diff["complex_adoption"])


def without_mandate(seed: int, months: int = 120, **overrides) -> dict[str, float]:
    """The baseline with its mandated innovations neutralised
    (:func:`simulation.interventions.without_mandates`: nobody can adopt them, their rows kept,
    so the population, ties, thresholds and monthly draws are the baseline's), same seed:
    informal leaders and federations with a plan at the end."""
    from ..interventions import without_mandates
    from ..model import PrimaryCareModel, build_params

    params = without_mandates(build_params("baseline", "county", **overrides))
    model = PrimaryCareModel(params=params, rng=seed)
    model.run(months)
    return dict(mandate_leaders_without=float(model.observation["informal_leaders"]),
                mandate_plans_without=float(model.observation["federations_with_plan"]))


def leadership_arms(base, seed: int) -> tuple[dict[str, Any], Any]:
    """The arms forked from the baseline ``base`` (at month 0) on its way to
    :data:`OPINION_LEADER_START`, where it is left: the leaders removed at
    :data:`REMOVAL_MONTH`, and opinion leaders against random GPs. Returns the measures and
    the opinion-leader arm."""
    import numpy as np

    base.run(REMOVAL_MONTH)
    removal, removed = removal_arm(base)
    removal_others, removal_all = removal_effect(removal)
    base.run(OPINION_LEADER_START - REMOVAL_MONTH)
    led, control, leaders, chosen = opinion_leader_arms(base, seed)
    spread, spread_led, spread_control = spread_effect(led, control, np.union1d(leaders, chosen))
    return dict(spread_effect=spread, spread_led=spread_led, spread_control=spread_control,
                opinion_leaders=int(leaders.size), random_seeds=int(chosen.size),
                removal_effect=removal_others, removal_effect_all=removal_all,
                removal_timeseries=removal, leaders_removed=removed), led


def run_replicate(seed: int, months: int = 120, **overrides) -> dict[str, Any]:
    """All runs of one replicate seed: the baseline, the training programme, the opinion-leader
    intervention and its randomly seeded control, the leaders removed, the high-pressure
    scenario, the pay-for-performance scenario and the baseline without its mandated scheme.
    The same seed makes each pair share its population, ties and draws up to the intervention;
    the training, opinion-leader and removal arms are forks of the baseline run; ``overrides``
    (parameters by name) apply to every run."""
    from ..model import PrimaryCareModel
    from ..report.interventions import fork

    base = PrimaryCareModel(scenario="baseline", rng=seed, **overrides)
    leadership, ol = leadership_arms(base, seed)
    assert OPINION_LEADER_START + OPINION_LEADER_FOLLOW_UP == TRAINING_START
    base.run(TRAINING_START - OPINION_LEADER_START)
    before_training = base.practice_table()
    control_practices = practice_adoption(base)
    trained = fork(base)
    trained.params = trained.params.replace(**TRAINING)  # the programme: 36 months of appointments
    trained.run(TRAINING_MONTHS)
    base.run(months - TRAINING_START)
    metrics = baseline_metrics(base)
    ts = base.timeseries()

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
        opinion_leader_effect=opinion_leader_effect(ol, ts),
        practice_effects=(practice_adoption(ol) - control_practices).dropna().to_numpy(),
        pressure_exit_rate=baseline_metrics(pressure)["exit_rate"],
        pressure_strain=float(pressure.timeseries().strain.iloc[1:].mean()),
        mandate_leaders_with=float(base.observation["informal_leaders"]),
        mandate_plans_with=float(base.observation["federations_with_plan"]),
        **without_mandate(seed, months, **overrides), **leadership)


def run_replicates(plan: Plan, seed, overrides: dict | None = None) -> tuple[list[int], list[dict[str, Any]]]:
    """The replicate seeds derived from ``seed`` and :func:`run_replicate` for each."""
    import numpy as np

    from ..verification import seed_sequence

    seeds = [int(s) for s in seed_sequence(seed).generate_state(plan.replicates, np.uint32)]
    return seeds, [run_replicate(s, **(overrides or {})) for s in seeds]
