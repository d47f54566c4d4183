"""``pcsim validate``: verification against known answers, validation against published patterns.

Two kinds of check, each with a numeric target, a tolerance with its reason, and its source:

- **verification** (the model reduced to textbook cases, :mod:`simulation.verification`): the
  Watts (2002) cascade window, the Bass (1969) curve and recovery of its p and q, Granovetter's
  (1978) tipping point, and complex contagion on clustered against random ties (Centola 2010);
- **validation** (the county baseline against the patterns of MODEL.md, pattern-oriented
  modelling): the QI-method hierarchy after ten years, partners against salaried GPs,
  leadership-culture correlation and the near-null effect of a three-year training programme,
  federations without a plan, brokers against informal leaders, the pay-for-performance shock,
  opinion-leader effects, S-shaped adoption fitting a Bass curve, strain-driven exit; and
  the leadership patterns: opinion leaders spread an innovation to GPs they did not seed
  (against randomly chosen GPs), a mandated scheme makes no informal leaders, and removing the
  most influential informal leaders slows the structured methods.

Each pattern is measured over replicate runs with seeds derived from one root seed; paired
comparisons (training, opinion leaders, pressure, the mandated scheme, removed leaders) use the same replicate seed for both arms
(common random numbers). :data:`TARGETS` holds the numeric targets that the calibration
(:mod:`simulation.calibrate`) fits, so the two cannot drift apart.

The command writes a new results folder with the table (CSV and Parquet), the figures, the raw
data behind them and a manifest, prints the table, and exits 1 if any check fails. Heavy
libraries (numpy, pandas, the model, matplotlib) are imported inside functions so that
``pcsim --help`` stays fast.

Modules, by role: :mod:`.targets` (targets, weights, QI methods, tolerances and their reasons),
:mod:`.runs` (the simulations: the verification limits, the replicates and their paired arms),
:mod:`.checks` (each comparison with its target, and :func:`validate`, which runs them all),
:mod:`.figures` (one function per figure) and :mod:`.cli` (the command and its results folder).
Every public name is importable from ``simulation.validate`` itself. :mod:`.england` is the
validation of the ``england`` scale (``pcsim validate --scale england``): the partner-share
trend and median headcount of the NHS workforce data and the county patterns that apply
nationally, over 24 months from April 2023.
"""

from .checks import (LEADERSHIP_CHECKS, Check, Outcome, check_bass, check_centola,
                     check_granovetter, check_patterns, check_watts, its_p4p, validate, wilson)
from .cli import cmd_validate, format_table, markdown_table, register, table, write_results
# binds the name to the function, over the submodule of the same name
from .figures import figures
from .runs import (LEADERS_REMOVED, OPINION_LEADER_FOLLOW_UP, OPINION_LEADER_METHOD,
                   OPINION_LEADER_START, P4P_MONTH, RANDOM_SEEDING_KEY, REMOVAL_FOLLOW_UP,
                   REMOVAL_MONTH, TRAINING, TRAINING_MONTHS, TRAINING_START, Plan,
                   baseline_metrics, leadership_arms, opinion_leader_arms, opinion_leader_effect,
                   practice_adoption, removal_arm, removal_effect, run_opinion_leaders,
                   run_replicate, run_replicates, spread_effect, watts_grid, without_mandate)
from .targets import (BASS_FIT_TOLERANCE, LEADERSHIP_TARGETS, QI_METHODS, STRUCTURED_METHODS,
                      SURVEY_2017, TARGETS, WATTS_ABOVE_MARGIN, WATTS_BELOW_MARGIN,
                      WATTS_INSIDE_MARGIN, WATTS_MAX_OUTSIDE, WATTS_MIN_INSIDE, WEIGHTS, Target)

__all__ = [
    "BASS_FIT_TOLERANCE", "Check", "LEADERSHIP_CHECKS", "LEADERSHIP_TARGETS", "LEADERS_REMOVED",
    "RANDOM_SEEDING_KEY", "REMOVAL_FOLLOW_UP", "REMOVAL_MONTH", "leadership_arms",
    "opinion_leader_arms", "removal_arm", "removal_effect", "spread_effect", "without_mandate", "OPINION_LEADER_FOLLOW_UP", "OPINION_LEADER_METHOD",
    "OPINION_LEADER_START", "Outcome", "P4P_MONTH", "Plan", "QI_METHODS", "STRUCTURED_METHODS",
    "SURVEY_2017", "TARGETS", "TRAINING", "TRAINING_MONTHS", "TRAINING_START", "Target",
    "WATTS_ABOVE_MARGIN", "WATTS_BELOW_MARGIN", "WATTS_INSIDE_MARGIN", "WATTS_MAX_OUTSIDE",
    "WATTS_MIN_INSIDE", "WEIGHTS", "baseline_metrics", "check_bass", "check_centola",
    "check_granovetter", "check_patterns", "check_watts", "cmd_validate", "figures",
    "format_table", "its_p4p", "markdown_table", "opinion_leader_effect", "opinion_leaders",
    "practice_adoption", "register", "run_opinion_leaders", "run_replicate", "run_replicates",
    "table", "validate", "watts_grid", "wilson", "write_results",
]


def __getattr__(name):
    # the command line imports this package at start-up: the engine (simulation.interventions
    # imports the engine) loads on first use only, like every heavy import here
    if name == "opinion_leaders":
        from ..interventions import opinion_leaders

        return opinion_leaders
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
