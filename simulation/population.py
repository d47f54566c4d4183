"""Synthetic practices, GPs and federations, and the scale presets.

``county`` is a county-sized region (~80 practices, ~500 GPs, ~8 federations, as in the 2007
survey county); ``national`` is England (~6,300 practices, ~38,000 GPs, ~1,250 networks of
~5 practices); ``england`` is not drawn but read from NHS open data
(:mod:`simulation.england`), only its parameters are set here. List sizes are log-normal; GPs
per practice follow from list size (1 + Poisson); every practice has at least one partner and the overall salaried share is
``share_salaried``. Every random number comes from the generator passed in (the model's
``population`` stream).
"""

from __future__ import annotations

import numpy as np

from .params import ParamError, SCALES
from .state import FEDERATION, NETWORK, State

PRESETS: dict[str, dict] = {
    "county": dict(n_practices=80, practices_per_federation=10.0),
    "national": dict(n_practices=6300, practices_per_federation=5.0),
}
PRESET_FORM = {"county": FEDERATION, "national": NETWORK, "england": NETWORK}


def preset(scale: str, area=None) -> dict:
    """The parameters a scale sets; ``england`` (or one of its areas) from the shipped data
    (:func:`simulation.england.preset`)."""
    if scale == "england":
        from . import england
        return england.preset(area)
    if scale not in PRESETS:
        raise ParamError(f"scale = {scale!r} is not allowed: expected one of {', '.join(SCALES)}")
    if area is not None:
        raise ParamError(f"area = {area!r} is not allowed with scale = {scale!r}: an area is a "
                         "part of England, so it needs scale = 'england'")
    return dict(PRESETS[scale])


def practices_and_federations(params, rng):
    """List sizes, GP posts per practice and the federation of each practice."""
    n_p = params.n_practices
    s = params.sd_log_list_size
    mu = np.log(params.mean_list_size) - s * s / 2
    list_size = np.maximum(np.rint(rng.lognormal(mu, s, n_p)), 100).astype(np.int64)
    expected = np.maximum(list_size / params.patients_per_gp - 1.0, 0.0)
    gps = 1 + rng.poisson(expected)
    practice_federation = group_practices(n_p, params.practices_per_federation, rng)
    return list_size, gps, practice_federation


def group_practices(n_practices: int, per_group: float, rng) -> np.ndarray:
    """Assign practices to federations of mean size ``per_group``; none is empty."""
    n_fed = max(1, int(round(n_practices / per_group)))
    order = rng.permutation(n_practices)
    fed = np.empty(n_practices, dtype=np.int64)
    fed[order[:n_fed]] = np.arange(n_fed)
    fed[order[n_fed:]] = rng.integers(0, n_fed, n_practices - n_fed)
    return fed


def build_state(params, rng, practice=None, practice_federation=None, form=FEDERATION,
                list_size=None, partner=None) -> State:
    """The initial state. ``practice`` (and ``practice_federation``) come from a user's network
    or from data, or are drawn here (GPs grouped by practice). Data may also give each
    practice's ``list_size`` and each post's role (``partner``), which are then not drawn."""
    m = len(params.innovations)
    if practice is None:
        list_size, gps, practice_federation = practices_and_federations(params, rng)
        practice = np.repeat(np.arange(list_size.size), gps)
    else:
        gps = np.bincount(practice)
        if list_size is None:
            list_size = np.rint(gps * params.patients_per_gp).astype(np.int64)
        if practice_federation is None:
            practice_federation = group_practices(gps.size, params.practices_per_federation, rng)
    n, n_p = practice.size, gps.size
    n_f = int(practice_federation.max()) + 1

    # partners: the first post of each practice, then enough others for the salaried share
    first = np.zeros(n, dtype=bool)
    first[np.unique(practice, return_index=True)[1]] = True
    if partner is None:
        extra = (n * (1.0 - params.share_salaried) - n_p) / max(n - n_p, 1)
        partner = first | (rng.random(n) < min(max(extra, 0.0), 1.0))

    a = params.leadership_propensity * params.propensity_concentration
    b = (1.0 - params.leadership_propensity) * params.propensity_concentration
    propensity = rng.beta(a, b, n)
    shares = np.array([s.share for s in params.styles])
    style = rng.choice(len(shares), n, p=shares / shares.sum())
    seniority = np.where(partner, rng.uniform(5.0, 30.0, n), rng.uniform(0.0, 15.0, n))
    culture = np.clip(rng.normal(params.culture_mean, params.culture_sd, n_p), 0.0, 1.0)
    threshold = draw_thresholds(params, rng, n)
    genuine, potential = draw_initial_adoption(params, rng, n)

    n_partners = np.bincount(practice, weights=partner, minlength=n_p)
    inertia = np.clip(params.inertia_base + params.inertia_per_partner * n_partners, 0.0, 1.0)
    pressure0 = min(max(params.pressure_level, 0.0), 1.0)
    autonomy = np.clip(params.autonomy_base + params.autonomy_partner_bonus * partner
                       + params.decentralisation - params.rel_pressure_autonomy * pressure0, 0.0, 1.0)
    strain = np.full(n, min(params.workload_base + params.rel_pressure_strain * pressure0, 1.0))
    absorb_order = rng.permutation(n_f)

    return State(
        month=0,
        practice=practice.astype(np.int64), partner=partner, propensity=propensity,
        style=style.astype(np.int64), seniority=seniority, autonomy=autonomy, strain=strain,
        cynicism=np.full(n, params.initial_cynicism), formal=np.zeros(n, dtype=bool),
        month_appointed=np.full(n, -1, dtype=np.int64), influence=np.zeros(n),
        cross_influence=np.zeros(n), active=np.ones(n, dtype=bool), embeddedness=np.ones(n),
        person=np.arange(n, dtype=np.int64), genuine=genuine, shallow=np.zeros((n, m), dtype=bool),
        month_adopted=np.where(genuine, 0, -1).astype(np.int64), threshold=threshold,
        potential=potential, informal_since=np.full(n, -1, dtype=np.int64),
        new_by_cause=np.zeros((3, m)),
        list_size=list_size, practice_federation=practice_federation.astype(np.int64),
        culture=culture, inertia=inertia, practice_adopted=np.zeros((n_p, m), dtype=bool),
        quality=np.full(n_p, params.quality_base), form=np.full(n_f, form, dtype=np.int64),
        has_plan=np.zeros(n_f, dtype=bool), plan=np.zeros((n_f, m), dtype=bool),
        absorb_order=absorb_order, next_person=n, pressure=pressure0,
    )


def draw_thresholds(params, rng, k: int) -> np.ndarray:
    """Adoption thresholds, one per GP and innovation (normal; uniform if the spread is 0)."""
    mean = np.array([i.threshold_mean for i in params.innovations])
    sd = np.array([i.threshold_sd for i in params.innovations])
    return mean + sd * rng.standard_normal((k, mean.size))


def draw_initial_adoption(params, rng, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Innovations a GP already uses on arrival (from training), by each one's initial share,
    and those the GP could ever use, by each one's market potential (Bass's m).

    One uniform r per GP and innovation ranks GPs' receptiveness: a GP uses it on arrival if
    r < initial_share and could ever use it if r < market_potential, so the first users are
    among the eventual ones (initial_share <= market_potential is checked)."""
    share = np.array([i.initial_share if i.month_introduced == 0 else 0.0 for i in params.innovations])
    potential = np.array([i.market_potential for i in params.innovations])
    r = rng.random((k, share.size))
    return r < share, r < potential


def draw_newcomers(params, rng, k: int) -> dict:
    """Attributes of ``k`` new GPs filling vacant posts (in post order), drawn as the initial
    population's are (:func:`simulation.submodels.exit_and_replace`)."""
    a = params.leadership_propensity * params.propensity_concentration
    b = (1.0 - params.leadership_propensity) * params.propensity_concentration
    shares = np.array([s.share for s in params.styles])
    return dict(
        partner=rng.random(k) < params.newcomer_partner_share,
        propensity=rng.beta(a, b, k),
        style=rng.choice(len(shares), k, p=shares / shares.sum()).astype(np.int64),
        threshold=draw_thresholds(params, rng, k),
        **dict(zip(("genuine", "potential"), draw_initial_adoption(params, rng, k))),
    )
