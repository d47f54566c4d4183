"""Robustness of a study's contrasts across the parameter sets of the ensemble.

A contrast (an arm against the reference, on one outcome) is **robust** when the mean paired
difference has the same sign in every parameter set the study drew, and **not robust** when the
sign changes from one set to another (positive in some sets, negative in others): the
conclusion then depends on parameters the patterns do not pin down. A set whose mean
difference is exactly zero neither confirms nor contradicts the sign: discrete outcomes (plans
move in steps of one federation) are often unchanged in a single run. Each set's mean is over that set's replicates (replicate ``r`` uses set
``r mod K``); with fewer replicates than sets each set has one replicate, so its sign carries
that run's simulation noise too, and a small difference is flagged more readily: the flag
errs on the side of caution. A study at fixed parameters (one set) has nothing to vary, and a
contrast identical in every set has no sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .study import OUTCOME_NAMES, Study

ROBUST = "robust"
NOT_ROBUST = "not robust"
NO_DIFFERENCE = "no difference"
ONE_SET = "n/a (one parameter set)"

COLUMNS = ["arm", "reference", "outcome", "sets", "positive", "negative", "zero",
           "lowest_set_mean", "highest_set_mean", "robustness"]


def verdict(set_means) -> str:
    """The verdict on one contrast from its mean paired difference in each parameter set."""
    means = np.asarray(set_means, dtype=np.float64)
    pos, neg = int((means > 0).sum()), int((means < 0).sum())
    if len(means) < 2:
        return ONE_SET
    if pos + neg == 0:
        return NO_DIFFERENCE
    return NOT_ROBUST if pos and neg else ROBUST


def robustness(study: Study) -> pd.DataFrame:
    """Per contrast (arm against the reference) and outcome: how many of the parameter sets
    drawn give a positive, negative or zero mean paired difference, the range of those means,
    and ``robustness``: :data:`ROBUST` (no set of the opposite sign), :data:`NOT_ROBUST` (some
    sets positive, some negative), :data:`NO_DIFFERENCE` (zero in every set) or
    :data:`ONE_SET`."""
    out = study.outcomes
    ref = out[out["arm"] == study.reference].sort_values("replicate").set_index("replicate")
    rows = []
    for label in study.labels[1:]:
        arm = out[out["arm"] == label].sort_values("replicate").set_index("replicate")
        diff = arm[list(OUTCOME_NAMES)] - ref[list(OUTCOME_NAMES)]
        by_set = diff.groupby(arm["param_set"]).mean()
        for name in OUTCOME_NAMES:
            means = by_set[name].to_numpy(dtype=np.float64)
            pos, neg = int((means > 0).sum()), int((means < 0).sum())
            rows.append(dict(arm=label, reference=study.reference, outcome=name,
                             sets=len(means), positive=pos, negative=neg,
                             zero=len(means) - pos - neg, lowest_set_mean=float(means.min()),
                             highest_set_mean=float(means.max()), robustness=verdict(means)))
    return pd.DataFrame(rows, columns=COLUMNS)
