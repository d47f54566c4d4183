"""PrimaryCareModel: the Mesa model. Builds the population and ties, steps the ODD schedule.

One step is one month: the submodels of :data:`simulation.schedule.SCHEDULE`, in order, then
the reporters. Random numbers come from named child streams of one ``numpy.random.SeedSequence``:
``population`` (practices, GPs, federations), ``network`` (ties) and ``dynamics`` (the monthly
uniforms the submodels declare, :mod:`simulation.draws`). Scenarios that do not change the
population share it exactly, and both engines consume identical draws.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
from mesa.experimental.scenarios import Scenario as MesaScenario
import pandas as pd

from . import kernels, metrics, population, resources, schedule
from . import scenarios as scenario_files
from .agents import GP, Federation, Practice, attributes
from .draws import Draws, DrawsAhead
from .network import Ties, build_ties, from_networkx, read_edge_list
from .params import Params, ParamError, PcsimInputError, SCALES
from .records import Tables
from .workspace import Workspace

ENGINES = ("fast", "reference")


@dataclass(frozen=True)
class Streams:
    """The model's random streams, children of ``SeedSequence(seed)``.

    ``newcomers`` is not a generator but the parent of one small stream per month: the
    attributes of GPs who fill vacant posts come from the month's own stream, so the dynamics
    stream draws fixed-size arrays every month. Two runs that part (an intervention, a scenario
    with more exits) therefore keep drawing identical dynamics numbers: common random numbers
    survive the intervention."""

    seed: int
    population: np.random.Generator
    network: np.random.Generator
    dynamics: np.random.Generator
    newcomers: np.random.SeedSequence

    @classmethod
    def from_seed(cls, seed: int) -> "Streams":
        pop, net, dyn, new = np.random.SeedSequence(seed).spawn(4)
        return cls(seed, *(np.random.Generator(np.random.PCG64(s)) for s in (pop, net, dyn)), new)

    def newcomers_of_month(self, month: int) -> np.random.Generator:
        child = np.random.SeedSequence(self.newcomers.entropy,
                                       spawn_key=self.newcomers.spawn_key + (month,))
        return np.random.Generator(np.random.PCG64(child))


def resolve_seed(rng) -> int:
    """An integer root seed from ``rng`` (int, None for fresh entropy, SeedSequence or Generator)."""
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, (bool, np.bool_)):
        raise ParamError(f"rng = {rng!r} is not allowed: expected a whole number >= 0")
    if isinstance(rng, (int, np.integer)):
        if rng < 0:
            raise ParamError(f"rng = {rng!r} is not allowed: expected a whole number >= 0")
        return int(rng)
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(2, np.uint64).astype(object).dot([1, 2**64]))
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**63))
    raise ParamError(f"rng = {rng!r} is not allowed: expected a whole number >= 0, "
                     "a numpy SeedSequence or Generator, or None")


def build_params(scenario="baseline", scale="county", params: Params | None = None, *,
                 area=None, **overrides) -> Params:
    """Defaults, then the scale preset (for ``england``, of the ``area`` if one is given), then
    the scenario, then keyword overrides."""
    if params is not None:
        return params.replace(**overrides) if overrides else params
    base = Params.from_dict(population.preset(scale, area))
    if scenario is not None:
        base = Params.from_dict(scenario_files.load(scenario).overrides, base=base)
    return Params.from_dict(overrides, base=base) if overrides else base


class PrimaryCareModel(mesa.Model):
    """GPs, practices and federations under a central regime; one step is one month.

    Args:
        scenario: a shipped scenario name or a path to a scenario TOML file.
        scale: ``"county"`` (~500 GPs), ``"national"`` (~38,000 GPs), both synthetic, or
            ``"england"``: every practice, GP and PCN of England from NHS open data
            (:mod:`simulation.england`).
        area: with ``scale="england"``, one ICB, sub-ICB or PCN by code or name
            (:func:`simulation.england.find_area`); None for all of England.
        network: a networkx graph, or a path to an edge-list CSV (``source,target[,weight]``),
            to use instead of the synthetic ties; nodes may carry ``practice``/``federation``.
        rng: root seed (int), or None for fresh entropy (recorded as ``model.seed``).
        engine: ``"fast"`` (vectorised, default) or ``"reference"`` (per-agent).
        params: a complete :class:`Params`, instead of scenario and scale.
        membership: with an edge-list path, a CSV of ``gp,practice[,federation]``.
        agent_reporters: GP-level data, the Mesa way: a dict of column name to a GP attribute
            name (``"autonomy"``, ``"informal_leader"``; see :func:`simulation.agents.attributes`)
            or a function of a GP. ``model.datacollector.get_agent_vars_dataframe()`` (the same
            frame as ``get_agenttype_vars_dataframe(GP)``) then has one row per GP post and
            collected month, indexed by (``Step``, ``AgentID``); ``Step`` is the month (Mesa's
            ``model.time``). Practices and federations are not asked. An unknown attribute name
            is refused here.
        agent_every: collect the agent reporters every this many months, month 0 included
            (default 1: every month).
        **overrides: any parameter by name (``PrimaryCareModel(pressure_level=0.5)``).

    The root seed is ``rng``: ``seed=`` (deprecated in Mesa 3) is refused with a pointer to it.
    Agents do not step one by one (``GP.step()`` raises): ``step()`` runs one month of the
    schedule on all agents at once.
    """

    def __init__(self, scenario: str | None = "baseline", scale: str = "county", network=None,
                 rng=None, engine: str = "fast", params: Params | None = None,
                 membership=None, agent_reporters: Mapping | None = None, agent_every: int = 1,
                 area=None, **overrides: Any):
        if "seed" in overrides:
            raise ParamError(f"seed = {overrides['seed']!r} is not accepted: PrimaryCareModel takes "
                             f"its root seed as rng (rng={overrides['seed']!r}), as Mesa 3 models do")
        gp_reporters = _gp_reporters(agent_reporters, agent_every)
        if isinstance(scenario, MesaScenario):
            # SolaraViz's Reset passes Mesa's own (empty) Scenario object under this name.
            if rng is None and isinstance(scenario.rng, (int, np.integer)):
                rng = scenario.rng
            scenario = "baseline"
        seed = resolve_seed(rng)
        super().__init__(rng=seed)
        if engine not in ENGINES:
            raise ParamError(f"engine = {engine!r} is not allowed: expected one of {', '.join(ENGINES)}")
        if scale not in SCALES:
            raise ParamError(f"scale = {scale!r} is not allowed: expected one of {', '.join(SCALES)}")
        self.area = self.england = None
        if area is not None or scale == "england":
            from . import england
            if scale != "england":
                raise ParamError(f"area = {area!r} is not allowed with scale = {scale!r}: an area "
                                 "is a part of England, so it needs scale = 'england'")
            if network is not None:
                raise PcsimInputError("a network replaces the synthetic population; scale = "
                                      "'england' is the real one: give one or the other")
            self.area = None if area is None else england.find_area(area)
        self.params = build_params(scenario, scale, params, area=self.area, **overrides)
        if network is None:  # refuse a population that would not fit, before drawing it
            resources.check_memory(self.params)
        self.scenario_name, self.scale, self.engine_name = scenario, scale, engine
        self.seed = seed
        self.streams = Streams.from_seed(seed)
        self.draws_ahead = DrawsAhead(self.streams.dynamics)
        self.tables = Tables.from_params(self.params)
        self.ties, self.state, self.node_ids = self._build(network, membership)
        self._workspace: Workspace | None = None
        #: (params, tables, the uniforms a month draws with them, the submodels' coefficients)
        self._plan = None
        self._reference = _reference_engine(self) if engine == "reference" else None

        # each agent registers with the model as it is made (model.agents, agents_by_type); kept
        # as plain lists by index (Agent.create_agents would also build an AgentSet of each
        # list, a third of the construction time at national scale, which nothing reads)
        self.gp_agents = [GP(self, i) for i in range(self.state.n_gps)]
        self.practice_agents = [Practice(self, p) for p in range(self.state.n_practices)]
        self.federation_agents = [Federation(self, f) for f in range(self.state.n_federations)]

        self.reporters = metrics.reporter_names(self.params)
        self.observation: dict[str, float] = {}
        self.datacollector = Collector(
            model_reporters={name: _reporter(name) for name in self.reporters},
            agenttype_reporters={GP: gp_reporters} if gp_reporters else None,
            agent_every=int(agent_every))
        self.running = True
        self._collect()

    def _build(self, network, membership):
        p, s = self.params, self.streams
        form = population.PRESET_FORM.get(self.scale, 0)
        if self.scale == "england":
            from . import england
            self.england = pop = england.population(self.area)
            state = population.build_state(p, s.population, practice=pop.practice,
                                           practice_federation=pop.practice_federation, form=form,
                                           list_size=pop.list_size, partner=pop.partner)
            ties = build_ties(state.practice, state.practice_federation, p, s.network,
                              practice_region=pop.practice_region)
            return ties, state, None
        if network is None:
            state = population.build_state(p, s.population, form=form)
            ties = build_ties(state.practice, state.practice_federation, p, s.network)
            return ties, state, None
        if isinstance(network, (str, bytes)) or hasattr(network, "__fspath__"):
            network = read_edge_list(network, membership)
        elif membership is not None:
            raise PcsimInputError("membership is only used with an edge-list file; put practice "
                                  "and federation on the graph's nodes instead")
        if isinstance(network, Ties):  # prepared ties (the limits): each GP its own practice
            state = population.build_state(p, s.population, practice=np.arange(network.n), form=form)
            return network, state, None
        ties, structure = from_networkx(network)
        state = population.build_state(p, s.population, practice=structure.practice,
                                       practice_federation=structure.practice_federation, form=form)
        return ties, state, structure.node_ids

    @property
    def engine(self):
        """The per-agent :class:`simulation.reference.ReferenceEngine` that steps the model,
        or None for the fast engine's kernels."""
        return self._reference

    @engine.setter
    def engine(self, engine) -> None:
        self._reference = engine

    @property
    def workspace(self) -> Workspace:
        """The fast engine's tie arrays, work arrays and kept sums (made anew for new ties)."""
        if self._workspace is None or self._workspace.ties is not self.ties:
            self._workspace = Workspace(self.ties)
        return self._workspace

    # --- the schedule (ODD: process overview) ------------------------------------------------
    def step(self) -> None:
        """One month: the submodels of :data:`simulation.schedule.SCHEDULE`, then the reporters."""
        p, s = self.params, self.state
        s.month += 1
        if self.draws_ahead.rng is not self.streams.dynamics:  # (the streams were replaced)
            self.draws_ahead = DrawsAhead(self.streams.dynamics, self.draws_ahead.minimum)
        if self._plan is None or self._plan[0] is not p or self._plan[1] is not self.tables:
            self._plan = (p, self.tables, schedule.draw_plan(p, self.tables), {})
        key = (s.n_gps, len(p.innovations), self._plan[2])
        newcomers = self.streams.newcomers_of_month(s.month) if p.exits_on else self.streams.dynamics
        draws = Draws(self.draws_ahead.take(key),
                      lambda k: population.draw_newcomers(p, newcomers, k))
        self.draws_ahead.start(key)
        try:
            schedule.run_month(s, self.ties, p, self.tables, self.workspace, draws, self._reference,
                               self._plan[3])
        finally:
            self.draws_ahead.finish()
        self._collect()

    def _collect(self) -> None:
        self.observation = metrics.observe(self.state, self.params, self.tables)
        self.datacollector.collect(self)

    def run(self, months: int, stop_when=None) -> "PrimaryCareModel":
        """Step ``months`` months, or fewer if ``stop_when`` holds after a month.

        ``stop_when`` is an expression over this month's reporters (``"complex_adoption >= 0.5"``,
        see :mod:`simulation.experiment.derived`) or a function of the model returning a bool;
        when it holds the run ends and ``running`` becomes False (Mesa's convention).
        """
        if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months <= 0:
            raise ParamError(f"months = {months!r} is not allowed: expected a whole number >= 1")
        if stop_when is not None and not callable(stop_when):
            from .experiment.derived import stop_condition
            condition = stop_condition(stop_when, self.reporters)
            stop_when = lambda model: bool(condition.evaluate(model.observation))  # noqa: E731
        for _ in range(int(months)):
            self.step()
            if stop_when is not None and stop_when(self):
                self.running = False
                break
        return self

    # --- results -----------------------------------------------------------------------------
    @property
    def month(self) -> int:
        return self.state.month

    def timeseries(self) -> pd.DataFrame:
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def gp_table(self) -> pd.DataFrame:
        table = metrics.gp_table(self.state, self.params)
        if self.node_ids is not None:
            table.insert(1, "node", [str(v) for v in self.node_ids])
        return table

    def practice_table(self) -> pd.DataFrame:
        """One row per practice; in an England run with its ODS, PCN, sub-ICB and ICB codes and
        the data's other attributes, to join with one's own data."""
        table = metrics.practice_table(self.state, self.params)
        if self.england is not None:
            from .england import PRACTICE_COLUMNS
            codes = self.england.table[list(PRACTICE_COLUMNS)].reset_index(drop=True)
            table = pd.concat([table.iloc[:, :1], codes, table.iloc[:, 1:]], axis=1)
        return table

    def federation_table(self) -> pd.DataFrame:
        """One row per federation; in an England run each is a PCN, with its code and name."""
        table = metrics.federation_table(self.state, self.params)
        if self.england is not None:
            table = pd.concat([table.iloc[:, :1], self.england.pcns, table.iloc[:, 1:]], axis=1)
        return table


class Collector(mesa.DataCollector):
    """Mesa's DataCollector, which stores the model's own reporters as they are: they are plain
    Python numbers (:func:`simulation.metrics.observe`), which Mesa's ``collect`` would
    deep-copy one by one every month (about a tenth of a county run). Any other model reporter,
    and the agent and agent-type reporters, are collected by Mesa's own ``collect``; those of
    agents only at times that are a multiple of ``agent_every`` (time 0 included).

    The model's agent reporters are GP reporters, given to Mesa as
    ``agenttype_reporters={GP: ...}`` (Mesa's ``agent_reporters`` would ask every agent,
    practices and federations too). With agent-type reporters for one type only,
    ``get_agent_vars_dataframe()`` returns that type's frame."""

    def __init__(self, *args, agent_every: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent_every = agent_every

    def collect(self, model):
        own = bool(self.model_reporters) and all(getattr(r, "observed", False)
                                                 for r in self.model_reporters.values())
        agents_due = (bool(self.agent_reporters or self.agenttype_reporters)
                      and model.time % self.agent_every == 0)
        if own:
            if hasattr(self, "_collection_steps"):
                self._collection_steps.append(model.time)
            observation = model.observation
            for name, values in self.model_vars.items():
                values.append(observation[name])
        if not own or agents_due:
            # Mesa collects what is left: the reporters it is not to collect now are set aside
            kept = self.model_reporters, self.agent_reporters, self.agenttype_reporters
            if own:
                self.model_reporters = {}
            if not agents_due:
                self.agent_reporters, self.agenttype_reporters = {}, {}
            try:
                super().collect(model)
            finally:
                self.model_reporters, self.agent_reporters, self.agenttype_reporters = kept

    def get_agent_vars_dataframe(self):
        if not self.agent_reporters and len(self.agenttype_reporters) == 1:
            return self.get_agenttype_vars_dataframe(next(iter(self.agenttype_reporters)))
        if not self.agent_reporters:
            raise UserWarning("No agent reporters have been defined in the DataCollector: build "
                              "the model with PrimaryCareModel(..., agent_reporters={'autonomy': "
                              "'autonomy'}, agent_every=12) for GP-level data")
        return super().get_agent_vars_dataframe()


def _gp_reporters(agent_reporters, agent_every) -> dict:
    """The ``agent_reporters`` of :class:`PrimaryCareModel`, checked: GP attribute names or
    functions of a GP, by column name."""
    if (isinstance(agent_every, bool) or not isinstance(agent_every, (int, np.integer))
            or agent_every < 1):
        raise ParamError(f"agent_every = {agent_every!r} is not allowed: expected a whole number "
                         ">= 1 (months between collections of the agent reporters)")
    if agent_reporters is None:
        return {}
    if not isinstance(agent_reporters, Mapping):
        raise ParamError(f"agent_reporters = {agent_reporters!r} is not allowed: expected a dict "
                         "of column name to a GP attribute name or a function of a GP")
    names = attributes(GP)
    for column, reporter in agent_reporters.items():
        if not isinstance(column, str):
            raise ParamError(f"agent_reporters: column name {column!r} is not allowed: expected a "
                             "string")
        if isinstance(reporter, str):
            if reporter not in names:
                close = difflib.get_close_matches(reporter, names, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise ParamError(f"agent_reporters: {column} = {reporter!r} is not an attribute "
                                 f"of GP.{hint} GP's attributes: {', '.join(names)}")
        elif not callable(reporter):
            raise ParamError(f"agent_reporters: {column} = {reporter!r} is not allowed: expected "
                             "a GP attribute name or a function of a GP")
    return dict(agent_reporters)


def _reporter(name):
    def reporter(model):
        return model.observation[name]
    reporter.observed = True  # (a plain number: Collector stores it without copying)
    return reporter


def _reference_engine(model):
    """The per-agent engine (:mod:`simulation.reference`), imported only when asked for."""
    from .reference import ReferenceEngine
    return ReferenceEngine(model)


@dataclass
class RunResult:
    """One simulation's outputs as pandas tables, with what made them."""

    params: Params
    seed: int
    scenario: str | None
    scale: str
    months: int
    timeseries: pd.DataFrame
    gps: pd.DataFrame
    practices: pd.DataFrame
    federations: pd.DataFrame

    def summary(self) -> dict[str, float]:
        return metrics.summarise(self.timeseries)


def run(scenario: str | None = "baseline", scale: str = "county", months: int = 120, seed=None,
        network=None, engine: str = "fast", params: Params | None = None, area=None,
        **overrides) -> RunResult:
    """Build a model, run it for ``months`` and return its tables."""
    model = PrimaryCareModel(scenario=scenario, scale=scale, network=network, rng=seed,
                             engine=engine, params=params, area=area, **overrides)
    model.run(months)
    return RunResult(model.params, model.seed, scenario, scale, int(months), model.timeseries(),
                     model.gp_table(), model.practice_table(), model.federation_table())


# numba loads its own modules (the typing and lowering of its numpy support, ~0.2-0.3 s once
# per process) on the first call of any kernel: call the smallest one now, so that this happens
# when the model is imported, with Mesa and the other libraries, rather than inside the first
# model. (Commands that build no model, such as `pcsim params` or `--help`, never import this.)
kernels.is_informal(True, 1)
