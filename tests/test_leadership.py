"""Leadership means something: informal leaders earn influence only for what their ties caused,
and the contrasts the teaching page and the reports draw point the way the evidence does.

Each contrast is paired: both arms share their seeds (population, ties and monthly draws), so
a difference is the intervention's, not the dice's. County models of 120 months take ~35 ms;
the replicate counts keep each test to a second or two.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import stats

from simulation import interventions
from simulation.model import PrimaryCareModel

SEEDS = range(1, 13)


def final(scenario="baseline", params=None, seed=1, months=120, **overrides):
    model = PrimaryCareModel(scenario=scenario, params=params, rng=seed, **overrides)
    model.run(months)
    return model.timeseries().iloc[-1]


def without_mandates(seed):
    return interventions.without_mandates(PrimaryCareModel(rng=seed).params)


def paired(a, b, name):
    """(mean of b - a over the seeds, the upper end of its 95% t interval)."""
    d = np.array([b(s)[name] - a(s)[name] for s in SEEDS], dtype=float)
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size) if d.std() > 0 else 0.0
    return d.mean(), d.mean() + half


def test_with_only_external_push_no_gp_becomes_an_informal_leader():
    """Exposure switched off: every adoption comes from external push or a mandate, so no tie
    caused anything and nobody earns influence."""
    model = PrimaryCareModel(rng=3, exposure_on=False)
    model.run(120)
    ts = model.timeseries()
    assert ts.genuine_pdsa.iloc[-1] > ts.genuine_pdsa.iloc[0], "Expected adoption to go on"
    assert (ts.informal_leaders == 0).all(), "Expected no informal leader without social influence"
    assert (model.state.influence == 0).all()
    social = ts[[c for c in ts if c.startswith("new_social_")]].to_numpy()
    assert (social == 0).all(), "Expected no adoption caused by ties"


def test_a_mandated_scheme_does_not_create_informal_leaders_or_plans():
    """The baseline with and without its mandated scheme (extended access), same seeds:
    compliance is not leadership, so the scheme may not raise leaders or plans (it may lower
    them, through strain and cynicism). Tolerance: 2 leaders (~0.5% of GPs) and 2 points of
    plans, the size of one run's noise in a paired difference."""
    with_scheme = lambda s: final(seed=s)
    without = lambda s: final(params=without_mandates(s), seed=s)
    for name, tolerance in (("informal_leaders", 2.0), ("federations_with_plan", 0.02)):
        mean, _ = paired(without, with_scheme, name)
        assert mean <= tolerance, (
            f"Expected the mandated scheme not to raise {name}: with - without = {mean:+.3f}")


def test_dictation_does_not_raise_leaders_or_plans_over_seduction():
    """Same pressure (0.6), same seeds: a dictatorial centre (targets, mandates) against a
    seductive one (engagement, co-option) may not grow more leadership from below."""
    seductive = lambda s: final(seed=s, pressure_level=0.6, seduction=0.9, dictation=0.1)
    dictatorial = lambda s: final(seed=s, pressure_level=0.6, seduction=0.1, dictation=0.9)
    for name, tolerance in (("informal_leaders", 2.0), ("federations_with_plan", 0.02)):
        mean, _ = paired(seductive, dictatorial, name)
        assert mean <= tolerance, (
            f"Expected dictation not to raise {name} over seduction: {mean:+.3f}")


def test_a_drive_of_badges_chosen_at_random_does_not_raise_complex_adoption():
    """top_down_drive appoints many formal leaders at random: a title alone pulls no culture
    and relieves no strain, so complex adoption may not rise (paired, same seeds; tolerance
    half a point, below one run's noise)."""
    mean, _ = paired(lambda s: final(seed=s), lambda s: final("top_down_drive", seed=s),
                     "complex_adoption")
    assert mean <= 0.005, f"Expected no rise of complex adoption under badges: {mean:+.4f}"


def _removal_difference(seed: int) -> float:
    """Complex adoption, mean over months 25-48: the arm without the five most influential
    informal leaders (removed at month 24) minus the arm with them."""
    model = PrimaryCareModel(rng=seed)
    model.run(24)
    twin = copy.deepcopy(model)
    removed = interventions.remove_informal_leaders(twin, 5)
    assert removed.size == 5, "Expected five informal leaders to remove at month 24"
    model.run(24), twin.run(24)
    kept, cut = (m.timeseries().complex_adoption.iloc[25:49].mean() for m in (model, twin))
    return cut - kept


def test_removing_the_most_influential_informal_leaders_slows_the_structured_methods():
    """Twenty paired replicates: removing the five most influential informal leaders at month
    24 lowers complex adoption over the next 24 months, with a 95% interval below zero.

    Expected size: the opinion-leader pattern puts a leader's effect on the GPs it leads at
    about +4 to +17 points (Flodgren 2011); five leaders lead of the order of their practices'
    colleagues, ~20-30 of ~420 GPs (5-7%), so complex adoption should fall by a few tenths of a
    point, up to about a point, on average over the two years (the lost adoptions accumulate)."""
    d = np.array([_removal_difference(seed) for seed in range(1, 21)])
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() + half < 0, (
        f"Expected removal to slow the structured methods: {d.mean():+.4f} (95% CI upper "
        f"{d.mean() + half:+.4f})")
    assert d.mean() > -0.03, f"Expected an effect of the order of a point at most: {d.mean():+.4f}"


@pytest.mark.parametrize("scenario", ["baseline", "bottom_up"])
def test_informal_leadership_is_a_reputation_not_a_flicker(scenario):
    """Leaders hold the role for years, not months: the median tenure of the informal leaders
    at month 120 is above 12 months (the reputation's memory is ~36 months)."""
    ts = PrimaryCareModel(scenario=scenario, rng=2).run(120).timeseries()
    assert ts.informal_leaders.iloc[-1] > 0
    assert ts.informal_tenure.iloc[-1] > 12, ts.informal_tenure.iloc[-1]


def test_adoptions_by_cause_add_up_to_the_new_adoptions():
    """Each month, social + external = new genuine adoptions, and mandated = new shallow ones,
    per innovation (newcomers' prior use is not an adoption of the month)."""
    model = PrimaryCareModel(rng=4, exits_on=False)
    before = model.state.genuine.copy(), model.state.shallow.copy()
    for _ in range(12):
        g0, s0 = model.state.genuine.copy(), model.state.shallow.copy()
        model.step()
        new_genuine = (model.state.genuine & ~g0).sum(axis=0)
        by_cause = model.state.new_by_cause
        assert np.allclose(by_cause[0] + by_cause[1], new_genuine)
        assert (by_cause[2] <= (model.state.shallow & ~s0).sum(axis=0) + 1e-9).all()
    assert not np.array_equal(before[0], model.state.genuine)
