"""Resource limits, declared once like the parameters: how long a run, how many replicates, how
large a sweep and how much memory one model may take before anything is built.

(Not to be confused with :mod:`simulation.limits`, the model's textbook limiting cases.)

Every command that builds models checks its input here first (``pcsim run``, ``compare``,
``impact``, ``sweep``, ``sensitivity``), and :class:`simulation.model.PrimaryCareModel` checks
its memory estimate before it draws the population. An input over a limit is refused with one
:class:`ResourceError` line naming the value, the limit and (for memory) the estimate.

The limits are lifted for a big machine with ``--no-limits`` (all of them) or ``--max-memory GB``
(the memory ceiling), or, for Python code and worker processes, the environment variables
``PCSIM_NO_LIMITS=1`` and ``PCSIM_MAX_MEMORY_GB``, which the command-line options set for the
processes they start (Dask workers on other machines need them set there).

The memory estimate of one model (the population's state arrays, the workspace, the Mesa agent
objects and the ties) is calibrated against models measured with the fast engine over 24 months
(peak resident memory above the interpreter's, numba and Mesa loaded):

================================  ========  ===========  ========  ========
model                             GP posts  tie entries  measured  estimate
================================  ========  ===========  ========  ========
county (default)                       423        3,674    < 1 MB    1.0 MB
county, n_practices=2000            12,041      122,574   25.0 MB   24.8 MB
national (default)                  38,523      389,616   78.0 MB   78.2 MB
national, patients_per_gp=600      106,273    2,546,188  275.9 MB  277.0 MB
================================  ========  ===========  ========  ========

(the expected GP posts and tie entries it starts from are within 1-2 % of the drawn ones at
national scale, and over them for the small county). The estimate is within 1 % of the
measured peak of the larger models; the interpreter itself, with Mesa, numba and pandas
loaded, takes about 250 MB more, which the estimate leaves out.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from .params import PcsimInputError

#: bytes per GP post not counting innovations: its state arrays, the workspace's per-GP arrays
#: and the Mesa GP agent object (about 1 KB of Python objects)
BYTES_PER_GP = 1240
#: bytes per GP post and innovation: adoption state, thresholds, the month's uniforms and the
#: workspace's exposure arrays
BYTES_PER_GP_INNOVATION = 64
#: bytes per stored tie entry (each tie is stored in both directions): sparse matrix data and
#: indices, and the workspace's copies
BYTES_PER_TIE = 43

#: the parameters the memory estimate depends on (besides the number of innovations)
SIZE_PARAMETERS = ("n_practices", "mean_list_size", "sd_log_list_size", "patients_per_gp",
                   "federation_ties_per_gp", "regional_ties_per_gp")

ENV_NO_LIMITS = "PCSIM_NO_LIMITS"
ENV_MAX_MEMORY = "PCSIM_MAX_MEMORY_GB"
GB = 2 ** 30


class ResourceError(PcsimInputError):
    """An input that would take more time, runs or memory than a resource limit allows."""


@dataclass(frozen=True)
class Limit:
    """One resource limit: its name, default, unit and description (as a parameter's)."""
    name: str
    default: Any
    unit: str
    doc: str


LIMITS: dict[str, Limit] = {l.name: l for l in (
    Limit("months", 12_000, "months",
          "Most months one run may simulate (1,000 years; the time series grows with every month)."),
    Limit("replicates", 100_000, "replicates",
          "Most replicates (seeds) per scenario or design row."),
    Limit("design_runs", 10_000_000, "runs",
          "Most runs in one sweep (design rows x replicates); the run table is built at the start."),
    Limit("memory", None, "GB",
          "Most memory one model may take by its estimate (GP posts x (bytes per GP + innovations x "
          "bytes per GP and innovation) + tie entries x bytes per tie); default 80 % of this "
          "machine's physical memory; --max-memory GB sets it."),
)}


def physical_memory() -> int:
    """This machine's physical memory in bytes."""
    try:
        import psutil
        return int(psutil.virtual_memory().total)
    except ImportError:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def enabled() -> bool:
    return os.environ.get(ENV_NO_LIMITS, "") not in ("1", "true", "yes")


def max_memory() -> int:
    """The memory ceiling of one model, in bytes."""
    text = os.environ.get(ENV_MAX_MEMORY)
    if text:
        try:
            return int(float(text) * GB)
        except ValueError:
            raise ResourceError(f"{ENV_MAX_MEMORY} = {text!r} is not allowed: expected a number "
                                "of GB") from None
    return int(0.8 * physical_memory())


@contextlib.contextmanager
def settings(no_limits: bool = False, max_memory_gb: float | None = None):
    """Within the block (and in the processes started in it), the limits are off
    (``no_limits``) or the memory ceiling is ``max_memory_gb``."""
    saved = {k: os.environ.get(k) for k in (ENV_NO_LIMITS, ENV_MAX_MEMORY)}
    if no_limits:
        os.environ[ENV_NO_LIMITS] = "1"
    if max_memory_gb is not None:
        os.environ[ENV_MAX_MEMORY] = repr(float(max_memory_gb))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def apply(args) -> contextlib.AbstractContextManager:
    """:func:`settings` from a command's ``--no-limits`` and ``--max-memory``."""
    return settings(getattr(args, "no_limits", False), getattr(args, "max_memory", None))


def _over(name: str, value: int, what: str) -> ResourceError:
    lim = LIMITS[name]
    return ResourceError(f"{what} = {value:,} is over the limit of {lim.default:,} {lim.unit}: "
                         f"{lim.doc[0].lower() + lim.doc[1:-1]}; use --no-limits on a machine "
                         "that can take it")


def check_counts(months: int | None = None, replicates: int | None = None,
                 design_runs: int | None = None, label: str = "") -> None:
    """Refuse months, replicates or a sweep's number of runs over their limits."""
    if not enabled():
        return
    for name, value in (("months", months), ("replicates", replicates),
                        ("design_runs", design_runs)):
        if value is not None and value > LIMITS[name].default:
            raise _over(name, value, label + name)


# --- the memory estimate ----------------------------------------------------------------------

_QUANTILES = [NormalDist().inv_cdf((i + 0.5) / 400) for i in range(400)]


def expected_size(params) -> tuple[float, float]:
    """The expected number of GP posts and of stored tie entries of a synthetic population,
    from ``n_practices``, the log-normal list sizes and ``patients_per_gp``, as
    :func:`simulation.population.practices_and_federations` and
    :func:`simulation.network.build_ties` draw them (without drawing them): each practice has
    1 + Poisson(lambda) posts, lambda = max(list size / patients per GP - 1, 0), and is a
    complete graph; each GP has federation and regional ties on top."""
    import math
    s = params.sd_log_list_size
    mu = math.log(params.mean_list_size) - s * s / 2
    posts = pairs = 0.0
    for z in _QUANTILES:
        size = max(round(math.exp(mu + s * z)), 100)
        lam = max(size / params.patients_per_gp - 1.0, 0.0)
        posts += 1.0 + lam
        pairs += 2.0 * lam + lam * lam  # E[g (g - 1)] for g = 1 + Poisson(lam)
    n = params.n_practices / len(_QUANTILES)
    gps = n * posts
    ties = n * pairs + gps * (params.federation_ties_per_gp + params.regional_ties_per_gp)
    return gps, ties


def estimate_bytes(params) -> int:
    """The estimated peak memory of one model of these parameters (see the module's table)."""
    gps, ties = expected_size(params)
    m = len(params.innovations)
    return int(gps * (BYTES_PER_GP + m * BYTES_PER_GP_INNOVATION) + ties * BYTES_PER_TIE)


def check_memory(params, copies: int = 1, what: str = "the model") -> None:
    """Refuse parameters whose model (``copies`` of it at once) would not fit the ceiling."""
    if not enabled():
        return
    need, ceiling = copies * estimate_bytes(params), max_memory()
    if need > ceiling:
        gps, _ = expected_size(params)
        sizes = (f"n_practices={params.n_practices}, mean_list_size={params.mean_list_size:g}, "
                 f"patients_per_gp={params.patients_per_gp:g}")
        raise ResourceError(
            f"{what} ({sizes}: about {gps:,.0f} GP posts{f', {copies} models at once' if copies > 1 else ''}) "
            f"would need about {_size(need)}, over the memory limit of {_size(ceiling)} "
            + (f"(set by --max-memory)" if os.environ.get(ENV_MAX_MEMORY) else
               "(80 % of this machine's memory)")
            + "; use --max-memory GB or --no-limits on a machine that can take it")


def _size(n: int) -> str:
    return f"{n / GB:,.1f} GB" if n >= GB / 10 else f"{n / 2 ** 20:,.1f} MB"


def add_options(p) -> None:
    """``--no-limits`` and ``--max-memory GB`` on a command that builds models."""
    g = p.add_argument_group("resource limits (see README: Resource limits)")
    g.add_argument("--max-memory", type=_gigabytes, metavar="GB",
                   help="most memory one model may take by its estimate (default: 80%% of this "
                        "machine's memory)")
    g.add_argument("--no-limits", action="store_true",
                   help=f"lift every resource limit (months <= {LIMITS['months'].default:,}, "
                        f"replicates <= {LIMITS['replicates'].default:,}, sweep runs <= "
                        f"{LIMITS['design_runs'].default:,}, model memory) on a big machine")


def _gigabytes(text: str) -> float:
    import argparse
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"max-memory = {text!r} is not allowed: expected a "
                                         "number of GB > 0")
    return value
