"""pcsim: an agent-based simulator of leadership, autonomy and innovation in primary care.

    >>> from simulation import PrimaryCareModel, run
    >>> result = run(scenario="baseline", months=120, seed=1)
    >>> result.timeseries[["month", "complex_adoption", "informal_leaders"]].tail()
    >>> from simulation import GP
    >>> model = PrimaryCareModel(rng=1, agent_reporters={"autonomy": "autonomy"}, agent_every=12)
    >>> model.run(24).datacollector.get_agenttype_vars_dataframe(GP)

See docs/ODD.md for the model and ``pcsim --help`` for the command line. The names below are
imported on first use, so that ``pcsim --help`` does not pay for importing Mesa.
"""

from importlib import import_module

__all__ = ["PrimaryCareModel", "RunResult", "run", "Params", "ParamError", "PcsimInputError",
           "GP", "Practice", "Federation"]
__version__ = "0.1.0"

_HOME = {"PrimaryCareModel": ".model", "RunResult": ".model", "run": ".model",
         "Params": ".params", "ParamError": ".params", "PcsimInputError": ".params",
         "GP": ".agents", "Practice": ".agents", "Federation": ".agents"}


def __getattr__(name):
    if name in _HOME:
        return getattr(import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
