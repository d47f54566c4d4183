"""Reporters (one row per month) and the end-of-run tables.

Every reporter is computed from the state arrays alone, so both engines report identical values
when their states are identical. Means and shares are over active GPs (vacant posts excluded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import kernels
from .state import FORMS

HEADLINE = ("complex_adoption", "quality", "autonomy", "strain", "cynicism", "leavers",
            "vacancies", "informal_leaders", "formal_leaders", "brokers", "badge_being",
            "federations_with_plan")

DESCRIPTIONS = {
    "month": "month of the simulation (0 = initial state)",
    "pressure": "performance pressure from the centre, P(t)",
    "complex_adoption": "mean share of GPs using the complex (structured) QI methods genuinely",
    "quality": "mean quality-of-care index across practices",
    "autonomy": "mean autonomy of GPs (0-1)",
    "strain": "mean strain of GPs (0-1)",
    "cynicism": "mean cynicism about the top-down drive (0-1)",
    "leavers": "GPs who left this month",
    "joiners": "new GPs who filled a vacant post this month",
    "vacancies": "vacant GP posts at the end of the month",
    "informal_leaders": "GPs whose influence is at or above the bar",
    "formal_leaders": "GPs appointed to formal leadership roles",
    "brokers": "informal leaders whose influence crosses practice boundaries",
    "badge_being": "Jaccard overlap of formal and informal leaders (0 when both are empty)",
    "federations_with_plan": "share of federations with a plan",
    "trusts": "share of federations absorbed into trusts",
}


def innovation_reporters(names) -> list[str]:
    out = []
    for name in names:
        out += [f"adoption_{name}", f"genuine_{name}", f"shallow_{name}", f"practice_{name}"]
    return out


def reporter_names(params) -> list[str]:
    names = [i.name for i in params.innovations]
    return (["month", "pressure", *HEADLINE[:5], "leavers", "joiners", *HEADLINE[6:], "trusts"]
            + innovation_reporters(names))


def observe(state, params, tables) -> dict[str, float]:
    """The reporters of one month."""
    n, m = state.genuine.shape
    (count, genuine, shallow, either, informal, formal, brokers, both, union, practices, plans,
     trusts) = _counts(state.active, state.genuine, state.shallow, state.influence,
                       state.cross_influence, state.formal, params.informal_bar, params.broker_bar,
                       state.practice_adopted, state.has_plan, state.form)
    n_active = max(count, 1)
    weights = state.active.astype(np.float64)
    # numpy's own (pairwise) sum, not np.dot: BLAS splits a long dot product across its threads,
    # so its last bits depended on the machine's core count (and it was slow on a busy machine)
    mean = lambda x: float((x * weights).sum() / n_active)
    # means of 0/1 values: their float sums are the exact counts, in any order
    if count:
        genuine_share, shallow_share, either_share = genuine / count, shallow / count, either / count
    else:
        genuine_share = shallow_share = either_share = np.zeros(m)
    complex_voluntary = ~tables.simple & ~tables.mandated
    out = {
        "month": state.month,
        "pressure": float(state.pressure),
        "complex_adoption": float(genuine_share[complex_voluntary].mean()) if complex_voluntary.any() else 0.0,
        "quality": float(state.quality.mean()),
        "autonomy": mean(state.autonomy),
        "strain": mean(state.strain),
        "cynicism": mean(state.cynicism),
        "leavers": state.leavers,
        "joiners": state.joiners,
        "vacancies": int(n - count),
        "informal_leaders": int(informal),
        "formal_leaders": int(formal),
        "brokers": int(brokers),
        "badge_being": float(both / union) if union else 0.0,
        # shares of flags: exact counts over the size, as their means are
        "federations_with_plan": plans / state.n_federations,
        "trusts": trusts / state.n_federations,
    }
    practice_share = (practices / state.n_practices).tolist()
    either_share, genuine_share, shallow_share = either_share.tolist(), genuine_share.tolist(), shallow_share.tolist()
    for k, inn in enumerate(params.innovations):
        out[f"adoption_{inn.name}"] = either_share[k]
        out[f"genuine_{inn.name}"] = genuine_share[k]
        out[f"shallow_{inn.name}"] = shallow_share[k]
        out[f"practice_{inn.name}"] = practice_share[k]
    return out


@kernels.njit
def _counts(active, genuine, shallow, influence, cross_influence, formal, informal_bar, broker_bar,
            practice_adopted, has_plan, form):
    """The counts behind the reporters, in one pass over the GPs: active GPs; per innovation,
    active GPs using it genuinely, shallowly, either; informal leaders, formal leaders (active),
    brokers, GPs who are both, either; per innovation, practices that adopted it; federations
    with a plan; trusts (form 2)."""
    n, m = genuine.shape
    count = informal = formal_count = brokers = both = union = 0
    for i in range(n):  # (& and | rather than and/or: no branches)
        a = active[i]
        informal_i = kernels.is_informal(a, influence[i], informal_bar)
        is_formal = a & formal[i]
        count += a
        informal += informal_i
        formal_count += is_formal
        brokers += informal_i & (cross_influence[i] >= broker_bar)
        both += informal_i & is_formal
        union += informal_i | is_formal
    # flags read as bytes, row by row (numba's 2-d bool reads cost more than the counting)
    g, s, e = np.zeros(m, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64)
    g_bytes, s_bytes = genuine.reshape(n * m).view(np.uint8), shallow.reshape(n * m).view(np.uint8)
    for i in range(n):
        a = np.uint8(active[i])
        for k in range(m):
            x, y = g_bytes[i * m + k], s_bytes[i * m + k]
            g[k] += x & a
            s[k] += y & a
            e[k] += (x | y) & a
    practices = np.zeros(m, np.int64)
    p_bytes = practice_adopted.reshape(practice_adopted.size).view(np.uint8)
    for p in range(practice_adopted.shape[0]):
        for k in range(m):
            practices[k] += p_bytes[p * m + k]
    plans = trusts = 0
    for f in range(has_plan.size):
        plans += has_plan[f]
        trusts += form[f] == 2
    return count, g, s, e, informal, formal_count, brokers, both, union, practices, plans, trusts


def gp_table(state, params) -> pd.DataFrame:
    """One row per GP post at the end of the run."""
    styles = np.array([s.name for s in params.styles])
    table = pd.DataFrame({
        "gp": np.arange(state.n_gps), "person": state.person, "practice": state.practice,
        "federation": state.practice_federation[state.practice], "active": state.active,
        "role": np.where(state.partner, "partner", "salaried"),
        "leadership_propensity": state.propensity, "style": styles[state.style],
        "seniority": state.seniority, "autonomy": state.autonomy, "strain": state.strain,
        "cynicism": state.cynicism, "formal_leader": state.formal,
        "month_appointed": state.month_appointed, "influence": state.influence,
        "cross_influence": state.cross_influence,
        "informal_leader": kernels.informal_leaders(state, params),
        "broker": kernels.brokers(state, params),
    })
    for k, inn in enumerate(params.innovations):
        table[f"genuine_{inn.name}"] = state.genuine[:, k]
        table[f"shallow_{inn.name}"] = state.shallow[:, k]
        table[f"month_adopted_{inn.name}"] = state.month_adopted[:, k]
    return table


def practice_table(state, params) -> pd.DataFrame:
    """One row per practice at the end of the run."""
    posts, active, vacancy_share = kernels.practice_counts(state)
    informal = kernels.informal_leaders(state, params)
    n_safe = np.where(active > 0, active, 1.0)
    table = pd.DataFrame({
        "practice": np.arange(state.n_practices), "federation": state.practice_federation,
        "list_size": state.list_size, "posts": posts, "gps": active.astype(int),
        "vacancies": (posts - active).astype(int),
        "partners": np.bincount(state.practice, weights=state.partner & state.active,
                                minlength=state.n_practices).astype(int),
        "culture": state.culture, "inertia": state.inertia, "quality": state.quality,
        "informal_leaders": kernels.practice_sums(state, informal).astype(int),
        "formal_leaders": kernels.practice_sums(state, state.formal).astype(int),
        "leadership": kernels.practice_sums(state, state.influence) / n_safe,
    })
    for k, inn in enumerate(params.innovations):
        table[f"adopted_{inn.name}"] = state.practice_adopted[:, k]
    return table


def federation_table(state, params) -> pd.DataFrame:
    fed = state.practice_federation[state.practice]
    n_f = state.n_federations
    table = pd.DataFrame({
        "federation": np.arange(n_f), "form": np.array(FORMS)[state.form],
        "practices": np.bincount(state.practice_federation, minlength=n_f),
        "gps": np.bincount(fed, weights=state.active, minlength=n_f).astype(int),
        "brokers": np.bincount(fed, weights=kernels.brokers(state, params), minlength=n_f).astype(int),
        "has_plan": state.has_plan,
    })
    for k, inn in enumerate(params.innovations):
        table[f"plan_{inn.name}"] = state.plan[:, k]
    return table


ROGERS = ("innovator", "early_adopter", "early_majority", "late_majority", "laggard")


def adopter_categories(month_adopted: np.ndarray) -> pd.Series:
    """Rogers' categories by adoption time: cuts at mean - 2sd, mean - sd, mean, mean + sd
    (adopters at month 0, who used the method before the run, are left out)."""
    t = month_adopted[month_adopted > 0].astype(float)
    if t.size < 2:
        return pd.Series(dtype=object)
    mu, sd = t.mean(), t.std()
    cuts = [mu - 2 * sd, mu - sd, mu, mu + sd]
    return pd.Series(np.array(ROGERS)[np.searchsorted(cuts, t, side="right")])


def summarise(timeseries: pd.DataFrame) -> dict[str, float]:
    """Summary outcomes of one run: the last month's reporters, plus totals of the flows."""
    last = timeseries.iloc[-1]
    out = {k: float(v) for k, v in last.items() if k != "month"}
    out["leavers_total"] = float(timeseries["leavers"].iloc[1:].sum())
    out["joiners_total"] = float(timeseries["joiners"].iloc[1:].sum())
    out["months"] = float(last["month"])
    return out
