"""pcsim: an agent-based simulator of leadership, autonomy and innovation in primary care.

    >>> from simulation import PrimaryCareModel, run
    >>> result = run(scenario="baseline", months=120, seed=1)
    >>> result.timeseries[["month", "complex_adoption", "informal_leaders"]].tail()

See docs/ODD.md for the model and ``pcsim --help`` for the command line.
"""

from .model import PrimaryCareModel, RunResult, run
from .params import Params, ParamError, PcsimInputError

__all__ = ["PrimaryCareModel", "RunResult", "run", "Params", "ParamError", "PcsimInputError"]
__version__ = "0.1.0"
