"""Interventions on a model: changes made to a model's state between two months, from outside
its dynamics.

Each function takes a model (:class:`simulation.model.PrimaryCareModel`), changes its state
arrays in place, and returns the GP posts it chose (post indices). None draws from the model's
own random streams.

* :func:`remove_informal_leaders` — the ``k`` informal leaders with the highest influence leave
  (their posts fall vacant, as when a GP quits: :func:`simulation.submodels.exit_and_replace.vacate_posts`);
* :func:`remove_formal_leaders` — ``k`` formal leaders leave the same way, chosen at random
  (the badge, not the influence) or by influence or propensity;
* :func:`add_formal_leaders` — ``k`` active GPs who are not formal leaders are appointed
  (``formal = True``, ``month_appointed`` = this month), chosen at random, by propensity or by
  influence — the centre's drive with a different choice rule;
* :func:`seed_opinion_leaders` — the opinion leader of each practice (:func:`opinion_leaders`)
  takes up an innovation genuinely, as in the opinion-leader trials that ``pcsim validate``
  reproduces;
* :func:`seed_random_gps` — one active GP chosen at random in each practice takes up an
  innovation genuinely: the control arm of the opinion-leader trials (the same number of
  first users, not chosen for their influence).

``pcsim impact`` (:mod:`simulation.report.interventions`) applies the first three to one of two
identical copies of a model; ``pcsim validate`` (:mod:`simulation.validate`) applies
:func:`remove_informal_leaders` and the last two.

Random choices use a generator the caller passes in (``pcsim impact`` derives it from the
replicate's seed: :func:`simulation.report.stats.derived_stream`), never the model's dynamics
stream, so that an intervention arm and its control keep identical draws. Ranked choices break
ties by post index (stable order). When fewer than ``k`` GPs qualify, every qualifying GP is
chosen; the returned indices say how many were.
"""

from __future__ import annotations

import numpy as np

from .kernels import informal_leaders
from .submodels.exit_and_replace import vacate_posts

#: how :func:`remove_formal_leaders` and :func:`add_formal_leaders` choose their GPs
CHOICES = ("random", "propensity", "influence")


def _top(candidates: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest key; ties go to the lower post index."""
    order = np.argsort(-key[candidates], kind="stable")
    return candidates[order[:k]]


def _choose(candidates: np.ndarray, k: int, choose: str, state, rng) -> np.ndarray:
    """``k`` of ``candidates`` by the rule ``choose`` (one of :data:`CHOICES`); ``random``
    draws from ``rng`` and returns the posts in ascending order."""
    if choose == "random":
        k = min(k, candidates.size)
        return np.sort(rng.choice(candidates, size=k, replace=False))
    key = {"propensity": state.propensity, "influence": state.influence}[choose]
    return _top(candidates, key, k)


def remove_informal_leaders(model, k: int) -> np.ndarray:
    """The ``k`` most influential informal leaders leave; their posts fall vacant."""
    state = model.state
    candidates = np.flatnonzero(informal_leaders(state, model.params))
    chosen = _top(candidates, state.influence, k)
    vacate_posts(state, chosen)
    return chosen


def remove_formal_leaders(model, k: int, choose: str = "random", rng=None) -> np.ndarray:
    """``k`` active formal leaders leave (posts fall vacant), chosen by ``choose`` (one of
    :data:`CHOICES`; ``random`` needs ``rng``, a :class:`numpy.random.Generator`)."""
    state = model.state
    candidates = np.flatnonzero(state.formal & state.active)
    chosen = _choose(candidates, k, choose, state, rng)
    vacate_posts(state, chosen)
    return chosen


def add_formal_leaders(model, k: int, choose: str = "random", rng=None) -> np.ndarray:
    """``k`` active GPs who hold no formal role are appointed formal leaders this month, chosen
    by ``choose`` (one of :data:`CHOICES`; ``random`` needs ``rng``)."""
    state = model.state
    candidates = np.flatnonzero(state.active & ~state.formal)
    chosen = _choose(candidates, k, choose, state, rng)
    state.formal[chosen] = True
    state.month_appointed[chosen] = state.month
    return chosen


def opinion_leaders(model) -> np.ndarray:
    """The GP with the highest influence in each practice that has an active GP of positive
    influence (ties go to the lower post index): the peer-nominated opinion leader of a practice
    in the trials the Cochrane review pools. Ordered by influence, highest first."""
    state = model.state
    candidates = np.flatnonzero(state.active & (state.influence > 0))
    ranked = candidates[np.lexsort((candidates, -state.influence[candidates]))]
    _, first = np.unique(state.practice[ranked], return_index=True)
    return ranked[np.sort(first)]


def seed_opinion_leaders(model, method: str) -> np.ndarray:
    """Each practice's opinion leader (:func:`opinion_leaders`) takes up the innovation
    ``method`` genuinely this month. A shallow user turns genuine and keeps the month it first
    adopted; a leader who already used it genuinely is left as it was. Returns every opinion
    leader, those already using it genuinely included."""
    leaders = opinion_leaders(model)
    _take_up(model, method, leaders)
    return leaders


def seed_random_gps(model, method: str, rng: np.random.Generator, practices=None) -> np.ndarray:
    """One active GP chosen at random (uniformly, from ``rng``) in each practice of
    ``practices`` (default: every practice with an active GP) takes up the innovation
    ``method`` genuinely this month, as :func:`seed_opinion_leaders` does. Practices without an
    active GP are passed over. Returns the chosen posts, ordered by practice."""
    state = model.state
    candidates = np.flatnonzero(state.active)
    if practices is not None:
        candidates = candidates[np.isin(state.practice[candidates], practices)]
    # one uniform key per candidate, in post order: the draws do not depend on how the
    # practices are listed
    key = rng.random(candidates.size)
    ranked = candidates[np.lexsort((-key, state.practice[candidates]))]
    _, first = np.unique(state.practice[ranked], return_index=True)
    chosen = ranked[first]
    _take_up(model, method, chosen)
    return chosen


def _take_up(model, method: str, posts: np.ndarray) -> None:
    """``posts`` use ``method`` genuinely from this month (earlier users keep their month)."""
    state = model.state
    k = model.params.innovation_index(method)
    new = posts[~state.genuine[posts, k]]
    first = new[state.month_adopted[new, k] < 0]
    state.genuine[new, k] = True
    state.shallow[new, k] = False
    state.month_adopted[first, k] = model.month


def without_mandates(params):
    """``params`` with every mandated innovation neutralised: its row stays in the table, so
    every innovation's thresholds and each month's draws keep the baseline's layout (common
    random numbers with the baseline), but nobody can ever adopt it: not mandated, no external
    push or social strength, no initial users and no market potential."""
    import dataclasses

    rows = tuple(dataclasses.replace(i, mandated=False, p_external=0.0, q_social=0.0,
                                     initial_share=0.0, market_potential=0.0)
                 if i.mandated else i for i in params.innovations)
    return params.replace(innovations=rows)
