"""Sensitivity indices of a sweep's outcomes, with SALib doing the statistics.

* Sobol' (``design.type = "sobol"``): first-order S1 and total ST indices with bootstrap
  confidence intervals (SALib ``analyze.sobol``; Saltelli et al. 2010 estimators), plus
  second-order S2 when the design has them.
* Morris (``design.type = "morris"``): mu, mu* (mean absolute elementary effect, with a
  bootstrap interval) and sigma (SALib ``analyze.morris``; Campolongo et al. 2007).

With replicates, each design row's outcome is the mean over its replicates (so the indices
describe the expected outcome; the model's own noise then adds less to the estimates). Every
design row needs at least one finished run: the estimators pair rows by position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import designs
from .spec import Experiment, ExperimentError

CONFIDENCE = 0.95
RESAMPLES = 1000


def analysis_seed(experiment: Experiment) -> int:
    """The bootstrap seed, from the root seed (SALib treats 0 as 'unseeded', so never 0)."""
    ss = np.random.SeedSequence(experiment.seed, spawn_key=(designs.ANALYSIS_KEY,))
    return int(ss.generate_state(1, np.uint32)[0]) or 1


def sobol_indices(problem: dict, y: np.ndarray, second_order: bool, seed: int):
    """S1, S1_conf, ST, ST_conf per parameter (and S2 pairs) for outputs ``y`` in design order.

    A constant output has no variance to apportion: its indices are NaN.
    """
    from SALib.analyze import sobol

    names = problem["names"]
    y = np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        first = pd.DataFrame({"parameter": names, **{k: np.nan for k in ("S1", "S1_conf", "ST", "ST_conf")}})
        return first, _empty_pairs() if second_order else None
    si = sobol.analyze(problem, y, calc_second_order=second_order, num_resamples=RESAMPLES,
                       conf_level=CONFIDENCE, seed=seed)
    first = pd.DataFrame({"parameter": names, "S1": si["S1"], "S1_conf": si["S1_conf"],
                          "ST": si["ST"], "ST_conf": si["ST_conf"]})
    if not second_order:
        return first, None
    pairs = [{"parameter_1": names[j], "parameter_2": names[k], "S2": si["S2"][j, k],
              "S2_conf": si["S2_conf"][j, k]}
             for j in range(len(names)) for k in range(j + 1, len(names))]
    return first, pd.DataFrame(pairs)


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(columns=["parameter_1", "parameter_2", "S2", "S2_conf"])


def morris_indices(problem: dict, x: np.ndarray, y: np.ndarray, levels: int, seed: int) -> pd.DataFrame:
    """mu, mu*, mu*_conf and sigma per parameter for inputs ``x`` and outputs ``y``."""
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        return pd.DataFrame({"parameter": problem["names"],
                             **{k: np.nan for k in ("mu", "mu_star", "mu_star_conf", "sigma")}})
    si = morris.analyze(problem, np.asarray(x, dtype=float), y, num_resamples=RESAMPLES,
                        conf_level=CONFIDENCE, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "mu": si["mu"], "mu_star": si["mu_star"],
                         "mu_star_conf": si["mu_star_conf"], "sigma": si["sigma"]})


def row_means(experiment: Experiment, design: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per design row: the varied values and the mean outcome over finished replicates."""
    rows = design.drop_duplicates("design_row").set_index("design_row")[list(experiment.parameters)]
    means = runs.groupby("design_row")[list(experiment.outcome_names)].mean()
    missing = rows.index.difference(means.index)
    if len(missing):
        raise ExperimentError(
            f"{len(missing)} of {len(rows)} design rows have no finished run (e.g. row "
            f"{int(missing[0])}); sensitivity indices need every row because the estimators pair "
            "rows by position: rerun the sweep to retry the failed runs (see the failures table)")
    return rows.join(means).sort_index()


def analyse(experiment: Experiment, design: pd.DataFrame, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The indices tables of every summary outcome, by the experiment's design."""
    if experiment.design not in ("sobol", "morris"):
        raise ExperimentError(f"sensitivity indices need a sobol or morris design; "
                              f"{experiment.name} is a {experiment.design} design")
    table = row_means(experiment, design, runs)
    prob = designs.problem(experiment)
    seed = analysis_seed(experiment)
    firsts, seconds = [], []
    for outcome in experiment.outcome_names:
        y = table[outcome].to_numpy()
        if experiment.design == "sobol":
            first, pairs = sobol_indices(prob, y, experiment.design_options["second_order"], seed)
            if pairs is not None:
                seconds.append(pairs.assign(outcome=outcome))
        else:
            x = table[prob["names"]].to_numpy(dtype=float)
            first = morris_indices(prob, x, y, experiment.design_options["levels"], seed)
        firsts.append(first.assign(outcome=outcome))
    out = {experiment.design: _outcome_first(pd.concat(firsts, ignore_index=True))}
    if seconds:
        out["sobol_second_order"] = _outcome_first(pd.concat(seconds, ignore_index=True))
    return out


def _outcome_first(table: pd.DataFrame) -> pd.DataFrame:
    return table[["outcome", *[c for c in table.columns if c != "outcome"]]]
