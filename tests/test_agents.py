"""The Mesa agents as a modeller coming from Mesa meets them: importing them from the package,
agent-level data through the DataCollector, what ``step`` on one agent does, and ``seed=``."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import PrimaryCareModel, kernels
from simulation.params import ParamError

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(n_practices=6)  # ~40 GPs, one federation: enough for a frame, quick to build
REPORTERS = {"autonomy": "autonomy", "leader": "informal_leader"}


def test_agent_classes_come_from_the_package_without_mesa_for_help():
    """`from simulation import GP, Practice, Federation` gives the classes of simulation.agents,
    and `pcsim --help` still does not import Mesa (the names are imported on first use)."""
    from simulation import GP, Federation, Practice
    from simulation import agents
    assert (GP, Practice, Federation) == (agents.GP, agents.Practice, agents.Federation)
    code = ("import sys\nfrom simulation.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('mesa' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout.split()
    assert out[-1] == "False", "Expected `pcsim --help` not to import Mesa"


def collected_states(model, months, every):
    """Step ``model`` month by month, keeping a copy of the GP arrays at every collected month."""
    def keep():
        s = model.state
        return {"autonomy": s.autonomy.copy(), "leader": kernels.is_informal(s.active, s.informal_since)}
    kept = {0: keep()}
    for _ in range(months):
        model.step()
        if model.month % every == 0:
            kept[model.month] = keep()
    return kept


def test_agent_reporters_collect_gps_every_agent_every_months_from_month_0():
    """Every 12 months over 24 gives months 0, 12 and 24, one row per GP post (practices and
    federations are not asked), indexed by (Step, AgentID) as Mesa's DataCollector does."""
    from simulation import GP
    model = PrimaryCareModel(rng=3, agent_reporters=REPORTERS, agent_every=12, **SMALL)
    model.run(24)
    frame = model.datacollector.get_agent_vars_dataframe()
    assert list(frame.index.names) == ["Step", "AgentID"]
    assert list(frame.columns) == ["autonomy", "leader"]
    assert list(frame.index.get_level_values("Step").unique()) == [0, 12, 24]
    assert len(frame) == 3 * model.state.n_gps
    gp_ids = {agent.unique_id for agent in model.gp_agents}
    assert set(frame.index.get_level_values("AgentID")) == gp_ids
    assert frame.equals(model.datacollector.get_agenttype_vars_dataframe(GP)), \
        "Expected the agent frame to be Mesa's agent-type frame of GP"
    assert len(model.timeseries()) == 25, "Expected the time series still to have every month"


def test_agent_frame_holds_the_state_arrays_at_the_collected_months():
    """Each collected value is the GP's state at that month, not at the end of the run."""
    model = PrimaryCareModel(rng=5, agent_reporters=REPORTERS, agent_every=12, **SMALL)
    kept = collected_states(model, 24, 12)
    frame = model.datacollector.get_agent_vars_dataframe()
    order = [agent.unique_id for agent in model.gp_agents]  # row i of the arrays
    for month, arrays in kept.items():
        at = frame.xs(month, level="Step").loc[order]
        np.testing.assert_array_equal(at["autonomy"].to_numpy(), arrays["autonomy"].astype(float))
        np.testing.assert_array_equal(at["leader"].to_numpy(bool), arrays["leader"])
    assert not np.array_equal(kept[0]["autonomy"], kept[24]["autonomy"]), \
        "Expected autonomy to move over two years (else this test could not fail)"


def test_a_function_of_a_gp_is_a_reporter_and_every_month_is_the_default():
    model = PrimaryCareModel(rng=2, agent_reporters={"twice": lambda gp: 2 * gp.strain}, **SMALL)
    model.run(3)
    frame = model.datacollector.get_agent_vars_dataframe()
    assert list(frame.index.get_level_values("Step").unique()) == [0, 1, 2, 3]
    last = frame.xs(3, level="Step").loc[[a.unique_id for a in model.gp_agents], "twice"]
    np.testing.assert_allclose(last.to_numpy(), 2 * model.state.strain)


def test_without_agent_reporters_the_model_collects_as_before():
    """No agent records are kept, the time series is the same with and without them, and asking
    for the agent frame says how to get one."""
    plain = PrimaryCareModel(rng=7, **SMALL).run(13)
    with_agents = PrimaryCareModel(rng=7, agent_reporters=REPORTERS, agent_every=6, **SMALL).run(13)
    assert plain.datacollector._agenttype_records == {} and plain.datacollector._agent_records == {}
    pd.testing.assert_frame_equal(plain.timeseries(), with_agents.timeseries())
    with pytest.raises(UserWarning, match="agent_reporters="):
        plain.datacollector.get_agent_vars_dataframe()


def test_an_unknown_attribute_is_refused_at_construction_naming_it_and_gps_attributes():
    with pytest.raises(ParamError, match=r"'autonomyy' is not an attribute of GP\. Did you mean "
                                         r"autonomy\?.*informal_leader") as error:
        PrimaryCareModel(agent_reporters={"autonomy": "autonomyy"}, **SMALL)
    assert "\n" not in str(error.value)
    with pytest.raises(ParamError, match="list_size"):  # a practice's, not a GP's
        PrimaryCareModel(agent_reporters={"size": "list_size"}, **SMALL)
    with pytest.raises(ParamError, match="expected a GP attribute name or a function"):
        PrimaryCareModel(agent_reporters={"x": 3}, **SMALL)
    for every in (0, 1.5, True):
        with pytest.raises(ParamError, match="agent_every"):
            PrimaryCareModel(agent_reporters=REPORTERS, agent_every=every, **SMALL)


@pytest.mark.parametrize("kind", ["GP", "Practice", "Federation"])
def test_stepping_one_agent_fails_loudly_and_points_to_the_schedule(kind):
    import simulation
    model = PrimaryCareModel(rng=1, **SMALL)
    agent = next(iter(model.agents_by_type[getattr(simulation, kind)]))
    with pytest.raises(NotImplementedError, match=rf"{kind} agents do not step one by one.*"
                                                  r"model\.step\(\).*simulation\.schedule\.SCHEDULE"):
        agent.step()


def test_mesa_shuffle_do_step_fails_instead_of_doing_nothing():
    model = PrimaryCareModel(rng=1, **SMALL)
    with pytest.raises(NotImplementedError, match="do not step one by one"):
        model.agents.shuffle_do("step")


def test_seed_is_refused_in_one_line_pointing_to_rng():
    with pytest.raises(ParamError) as error:
        PrimaryCareModel(seed=42, **SMALL)
    message = str(error.value)
    assert "seed = 42 is not accepted" in message and "rng=42" in message
    assert "\n" not in message and "pressure_level" not in message, \
        "Expected one line about seed, not the list of every parameter"
