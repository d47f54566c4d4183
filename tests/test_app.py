"""The teaching page without a browser: its controls, layout, drawings, lessons, page logic
(rendered headless with ``solara.render``, as Mesa's own tests render SolaraViz), the asset
cache and the ``pcsim app`` command."""

from __future__ import annotations

import functools
import io
import socket
import tarfile
import time

import numpy as np
import pytest

pytest.importorskip("solara")

import ipyvuetify as v  # noqa: E402
import solara  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from mesa.experimental.scenarios import Scenario as MesaScenario  # noqa: E402

from simulation import app, app_assets, app_cli, cli, kernels, metrics  # noqa: E402
from simulation.layout import network_layout  # noqa: E402
from simulation.model import build_params  # noqa: E402
from simulation.params import SPECS, PcsimInputError  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


@pytest.fixture(scope="module")
def model():
    """A county model after three years (the page's default preset, seed 1)."""
    m = app.build_model(app.Setting("baseline"), seed=1)
    m.run(36)
    return m


# --- controls --------------------------------------------------------------------------------

def test_controls_take_their_bounds_from_the_parameter_declarations():
    params = app.model_params(app.setting_parameters(app.Setting("baseline"), seed=1))
    for name in app.CONTROLLED:
        spec, control = SPECS[name], params[name]
        if spec["kind"] == "choice":
            assert control["values"] == list(spec["choices"]), f"Expected {name}'s choices from SPECS"
        elif name == "n_practices":
            assert spec["low"] <= control["min"] and control["max"] <= spec["high"], (
                "Expected the region size within the declared bounds")
            assert control["max"] == 80, "Expected the region capped at the county preset (80 practices)"
        else:
            assert (control["min"], control["max"]) == (spec["low"], spec["high"]), (
                f"Expected {name}'s slider bounds to be the declared bounds")


def test_a_setting_shows_its_values_in_the_controls_and_fixes_the_rest():
    setting = app.lesson("clustered").settings[0]
    params = app.model_params(app.setting_parameters(setting, seed=7))
    values = build_params(setting.scenario, "county", **setting.params)
    for name in app.CONTROLLED:
        assert params[name]["value"] == getattr(values, name), f"Expected {name} to show the preset's value"
    assert params["rng"]["value"] == 7, "Expected the seed control to show the seed"
    assert params["pcsim_scenario"] == "baseline"
    assert params["regional_ties_per_gp"] == 0.0, "Expected uncontrolled preset values passed as fixed"
    assert "innovations" in params, "Expected the lesson's innovation table change passed as fixed"


def test_teaching_model_ignores_the_scenario_object_mesa_passes_on_reset():
    # SolaraViz's Reset passes scenario=<mesa Scenario>; the pcsim scenario must still apply
    m = app.TeachingModel(pcsim_scenario="high_pressure", rng=3, scenario=MesaScenario(rng=3),
                          leadership_drive=0.1)
    assert m.params.pressure_level == 0.6, "Expected the high_pressure scenario's pressure"
    assert m.params.leadership_drive == 0.1 and m.seed == 3


# --- layout and drawings ---------------------------------------------------------------------

def test_network_is_drawn_on_the_shared_layout(model):
    s = model.state
    drawing = app.NetworkDrawing(model)
    assert np.array_equal(drawing.layout.xy, network_layout(s.practice, s.practice_federation).xy), (
        "Expected the page's network at the positions of simulation.layout (tested in test_layout.py)")


def test_network_marks_what_the_state_says(model):
    drawing = app.NetworkDrawing(model)
    k = model.params.innovation_index("pdsa")
    drawing.update(model, "pdsa")
    s, p = model.state, model.params
    colours = drawing.nodes.get_facecolors()
    genuine = np.all(np.isclose(colours, to_rgba(app.COLOURS["genuine"])), axis=1)
    assert np.array_equal(genuine, s.genuine[:, k] & s.active), "Expected green exactly for genuine adopters"
    assert len(drawing.formal.get_offsets()) == np.count_nonzero(s.formal & s.active), (
        "Expected one square per formal leader")
    assert len(drawing.brokers.get_offsets()) == np.count_nonzero(kernels.brokers(s, p)), (
        "Expected one ring per broker")
    assert [ring.get_visible() for ring in drawing.plans] == list(s.has_plan), (
        "Expected a plan ring exactly on federations with a plan")
    sizes = drawing.nodes.get_sizes()
    leaders = kernels.informal_leaders(s, p)
    assert leaders.any() and sizes[leaders].min() > sizes[s.active & (s.influence == 0)].max(), (
        "Expected informal leaders drawn larger than GPs with no influence")


def test_drawings_are_pngs_that_change_with_the_model():
    m = app.build_model(app.Setting("baseline"), seed=2)
    network, plots = app.NetworkDrawing(m), app.leaders_drawing(m)
    first = network.png(m, "pdsa"), plots.png(m)
    m.run(12)
    second = network.png(m, "pdsa"), plots.png(m)
    for kind, magic, a, b in zip(("network", "plots"), (JPEG, PNG), first, second):
        assert a.startswith(magic) and b.startswith(magic), f"Expected the {kind} as {magic!r} images"
        assert a != b, f"Expected a redraw of the {kind} to show the model's new state"
    assert network.png(m, "run_charts") != second[0], "Expected the drawing to follow the innovation shown"


def test_panels_plot_described_reporters_of_the_model(model):
    reporters = set(model.datacollector.model_vars)
    for panel in app.PANELS:
        assert panel.card in app.CARDS, f"Expected panel {panel.title!r} on one of the plot cards"
        described = panel.descriptions(model.params)
        assert set(described) <= reporters, f"Expected panel {panel.title!r} to plot model reporters"
        assert all(described.values()), f"Expected every line of {panel.title!r} described"
    adoption = next(p for p in app.PANELS if p.card == "adoption").for_model(model.params)
    assert [r for r, _ in adoption.series] == [f"genuine_{i.name}" for i in model.params.innovations]
    assert [r for r, _ in adoption.dashed] == [f"shallow_{i.name}" for i in model.params.innovations
                                               if i.mandated], "Expected dashed lines for mandated innovations only"
    assert app.PANELS[1].descriptions(model.params)["autonomy"] == metrics.outcome("autonomy").description


def test_nice_ceiling_grows_in_one_two_five_steps():
    assert [app.nice_ceiling(x) for x in (0, 0.7, 1.0, 1.3, 3, 7, 42, 120)] == [1, 1, 1, 2, 5, 10, 50, 200]


# --- the page, rendered headless ---------------------------------------------------------------

@solara.component
def Root():
    with solara.AppLayout():  # the server wraps a page in an AppLayout, which hosts the sidebar
        app.Page()


def running(rc) -> str:
    return rc.find(v.Html, class_="pcsim-running").widget.children[0]


@pytest.fixture
def page():
    app.choice.set(app.Choice())
    app.parameters.set(app.setting_parameters(app.Choice().current(), seed=1))
    app.shown.set("pdsa")
    app.advanced.set(False)
    app.page.going.set(None)
    app.page.chosen_area.set(None)
    box, rc = solara.render(Root(), handle_error=False)
    yield rc
    rc.close()


@pytest.fixture
def built(monkeypatch):
    """Every TeachingModel built from here on, in order (the last is the one on the page)."""
    models = []
    init = app.TeachingModel.__init__

    @functools.wraps(init)  # Mesa's ModelCreator checks the parameters against the signature
    def recording_init(self, **kwargs):
        init(self, **kwargs)
        models.append(self)

    monkeypatch.setattr(app.TeachingModel, "__init__", recording_init)
    return models


def load_setting(rc, item, index):
    """Load setting ``index`` of lesson ``item`` as a teacher does: pick the lesson, click the button."""
    rc.find(v.Select, label="Guided lesson").widget.v_model = item.title
    rc.find(v.Btn, children=[item.settings[index].label]).widget.click()
    assert app.choice.value.setting == index


def reset(rc, built):
    before = len(built)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert len(built) == before + 1, "Expected Reset to build one new model"
    return built[-1]


def changed(actual, expected) -> dict:
    a, e = app.page.flat(actual), app.page.flat(expected)
    return {k: (a[k], e[k]) for k in e if a[k] != e[k]}


SETTINGS = [(item, i) for item in app.LESSONS for i in range(2)]


@pytest.mark.parametrize("item, index", SETTINGS,
                         ids=[f"{item.key}-{'AB'[i]}" for item, i in SETTINGS])
def test_reset_rebuilds_the_loaded_lesson_setting(page, built, item, index):
    # a class compares A and B: Reset must not fall back to the defaults behind the sliders
    setting = item.settings[index]
    load_setting(page, item, index)
    model = reset(page, built)
    expected = build_params(setting.scenario, "county", **setting.params)
    assert model.params == expected, (
        f"Expected Reset to rebuild {setting.label!r} (every parameter it names, defaults "
        f"otherwise); (got, expected) differ at {changed(model.params, expected)}")
    assert model.scenario_name == setting.scenario and model.seed == 1 and model.month == 0


def test_reset_rebuilds_a_loaded_scenario(page, built):
    page.find(v.Select, label="Scenario").widget.v_model = "high_pressure"
    model = reset(page, built)
    assert model.params == build_params("high_pressure", "county"), (
        "Expected Reset to rebuild the scenario loaded, not the baseline")
    assert "pressure 0.60" in running(page) and "pressure_trend 0.02" in running(page)


@pytest.mark.parametrize("key", ["clustered", "seductive"])
def test_a_moved_slider_takes_effect_and_the_setting_stays(page, built, key):
    item = app.lesson(key)
    setting = item.settings[1]
    load_setting(page, item, 1)
    page.find(v.Slider, label="Performance pressure (0-1)").widget.v_model = 0.45
    page.find(v.Slider, label="Seed (same seed, same run)").widget.v_model = 9
    model = reset(page, built)
    expected = build_params(setting.scenario, "county", **{**setting.params, "pressure_level": 0.45})
    assert model.params == expected, (
        f"Expected the moved slider's value and the rest of {setting.label!r}; "
        f"(got, expected) differ at {changed(model.params, expected)}")
    assert model.seed == 9, "Expected the seed slider's value"
    assert app.choice.value.setting == 1, "Expected the setting to stay loaded"
    model = reset(page, built)
    assert model.params == expected, "Expected a second Reset to rebuild the same thing"


def test_running_names_every_value_that_differs_from_the_baseline(page):
    item = app.lesson("clustered")
    load_setting(page, item, 0)
    a = running(page)
    load_setting(page, item, 1)
    b = running(page)
    assert "federation_ties_per_gp 4" in a and "regional_ties_per_gp 0" in a, a
    assert "federation_ties_per_gp 0" in b and "regional_ties_per_gp 4" in b, b
    assert "innovations.run_charts.threshold_mean 0.75" in b, "Expected table overrides named"
    assert a != b, "Expected settings A and B to read differently"
    page.find(v.Select, label="Guided lesson").widget.v_model = app.NO_LESSON  # back to the baseline
    assert "nothing else differs from the baseline" in running(page)


def test_page_steps_resets_with_slider_values_and_loads_lessons(page):
    rc = page
    assert running(rc).startswith("Running: month 0, seed 1, scenario baseline;"), running(rc)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert running(rc).startswith("Running: month 1,"), "Expected Step to advance the model one month"
    # Mesa's developer controls (the time card among them) only behind the Advanced switch
    assert not rc.find(v.Html, children=["Time: 1.0"]).widgets, "Expected the time card hidden"
    rc.find(v.Switch, label="Advanced").widget.v_model = True
    rc.find(v.Html, children=["Time: 1.0"]).assert_single()
    rc.find(v.Slider, label="Play Interval (ms)").assert_single()
    rc.find(v.Switch, label="Advanced").widget.v_model = False
    assert not rc.find(v.Slider, label="Play Interval (ms)").widgets

    rc.find(v.Slider, label="Performance pressure (0-1)").widget.v_model = 0.75
    assert "pressure 0.30" in running(rc), "Expected a slider to change nothing before Reset"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert running(rc).startswith("Running: month 0,") and "pressure 0.75" in running(rc), (
        "Expected Reset to build a new model with the slider's value")

    rc.find(v.Select, label="Guided lesson").widget.v_model = "Seductive or dictatorial?"
    text = running(rc)
    assert "pressure 0.60" in text and "seduction 0.90, dictation 0.10" in text, f"Expected lesson preset A, got {text}"
    assert rc.find(v.Slider, label="Dictatorial management: targets, mandates (0-1)").widget.v_model == 0.1, (
        "Expected the sliders to show the lesson's preset")
    assert app.shown.value == "extended_access", "Expected the lesson to choose the innovation shown"
    rc.find(v.Btn, children=["B: dictatorial management (seduction 0.1, dictation 0.9), pressure 0.6"]).widget.click()
    assert "seduction 0.10, dictation 0.90" in running(rc), "Expected setting B to load"

    rc.find(v.Select, label="Scenario").widget.v_model = "decentralised"
    assert "pressure 0.20" in running(rc) and app.choice.value.lesson is None, (
        "Expected a scenario choice to load the scenario and leave the lesson")


def wait_for(condition, what: str, timeout: float = 20.0) -> None:
    """Wait for the controller's stepping thread to make ``condition()`` true."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"Expected {what} within {timeout:.0f} s"
        time.sleep(0.02)


def button(rc, label: str):
    return rc.find(v.Btn, children=[label]).widget


def test_play_and_run_to_horizon_stop_there_and_only_reset_stays_enabled(page, built):
    # a short horizon, written into the parameters as a loaded preset would be, keeps this fast
    app.parameters.set({**app.parameters.value, "horizon": 4})
    model = reset(page, built)
    button(page, "▶").click()
    wait_for(lambda: model.month == 4 and app.page.going.value is None, "Play to stop at month 4")
    wait_for(lambda: page.find(v.Btn, children=["▶"]).widgets, "Play to read ▶ again")
    time.sleep(0.3)  # three more play intervals: nothing may step past the horizon
    assert model.month == 4 and running(page).startswith("Running: month 4,"), running(page)
    assert [button(page, label).disabled for label in ("Reset", "▶", "Step", "Run 0 years")] == [
        False, True, True, True], "Expected every button but Reset disabled at the horizon"
    model = reset(page, built)
    assert model.month == 0 and not button(page, "Step").disabled, "Expected Reset to start again"
    button(page, "Run 0 years").click()
    wait_for(lambda: model.month == 4 and app.page.going.value is None, "Run to stop at month 4")
    wait_for(lambda: [w.disabled for w in page.find(v.Btn, children=["Run 0 years"]).widgets] == [True],
             "Run to read as before, disabled, at the horizon")


def test_loading_a_lesson_keeps_the_controls_and_starts_still(built, page):
    # the controls stay the same widgets across loads, so a click sent while a lesson loads
    # lands on a live button; and the new model is not playing, even if the old one was
    step = button(page, "Step")
    button(page, "▶").click()
    wait_for(lambda: built[-1].month >= 1, "Play to step the model")
    page.find(v.Select, label="Guided lesson").widget.v_model = "Pressure and autonomy"
    # while the playing thread renders, reacton leaves the new render to that thread: wait for it
    wait_for(lambda: len(built) == 2, "the lesson's model to be built")
    old = built[0]
    wait_for(lambda: app.page.going.value is None, "the old model's play to stop")
    month = old.month
    time.sleep(0.3)
    assert old.month == month, "Expected loading a lesson to stop playing the old model"
    assert built[-1].month == 0 and not app.page.is_going(built[-1]), "Expected the new model still"
    assert not page.find(v.Btn, children=["❚❚"]).widgets, "Expected ▶ (not pause) for the new model"
    assert button(page, "Step") is step and not step.disabled, (
        "Expected the same Step button, enabled, after loading a lesson")
    step.click()
    assert built[-1].month == 1, "Expected Step to step the newly loaded model"


def test_loading_a_preset_keeps_the_seed_of_the_running_model(page):
    rc = page
    rc.find(v.Slider, label="Seed (same seed, same run)").widget.v_model = 42
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rc.find(v.Select, label="Guided lesson").widget.v_model = "Pressure and autonomy"
    assert ", seed 42," in running(rc), "Expected settings A and B to run with the seed on the page"


# --- lessons -----------------------------------------------------------------------------------

@pytest.mark.parametrize("item", app.LESSONS, ids=[item.key for item in app.LESSONS])
def test_lesson_settings_are_valid(item):
    for setting in item.settings:
        params = build_params(setting.scenario, "county", **setting.params)
        params.innovation_index(item.innovation)  # raises if the lesson shows an unknown innovation
    assert item.settings[0] != item.settings[1], "Expected two different settings to compare"
    assert item.what_to_do and item.look_for and item.question


@pytest.mark.parametrize("item", app.LESSONS, ids=[item.key for item in app.LESSONS])
def test_lesson_shows_what_its_text_says(item):
    # three seeds: the 'every run' claims hold in >= 92% of seeds (scripts/check_lessons.py, 12
    # seeds), so the mean over three has the claimed sign; 'on average' claims need the script
    check = app.check_lesson(item, seeds=range(1, 4))
    assert check.ok, (f"Lesson {item.title!r}: expected B - A to have the claimed sign; "
                      f"A={check.a}, B={check.b}, held={check.held}")


def test_every_lesson_claim_has_a_verdict_across_the_shipped_ensemble():
    # the shipped file is written by scripts/check_lessons.py --ensemble --write: it must cover
    # exactly the claims the lessons make now, on every set of the shipped ensemble
    from simulation import ensemble
    from simulation.app import lessons
    k = len(ensemble.load())
    for item in app.LESSONS:
        found = lessons.claim_robustness(item.key)
        assert {c: (r.sign, r.kind) for c, r in found.items()} == lessons.claims(item), (
            f"Lesson {item.key!r}: expected a verdict for each of its claims; re-run "
            "scripts/check_lessons.py --ensemble --write after changing a lesson")
        for r in found.values():
            assert r.sets == k and r.held == k - len(set(r.failed_sets)), r
            assert r.robust == (r.held >= lessons.ROBUST_SHARE * k)


def test_a_shipped_lesson_verdict_is_what_a_re_check_gives():
    # a claim that fails in some sets: re-run it on one set it failed in and one it held in
    from simulation import ensemble
    from simulation.app import lessons
    sets = {s.id: s for s in ensemble.load()}
    seeds = tuple(lessons.robustness_about()["seeds"])
    item, r = next((item, r) for item in app.LESSONS
                   for r in lessons.claim_robustness(item.key).values() if r.failed_sets)
    held = next(i for i in sets if i not in r.failed_sets)
    assert lessons.check_on_set(item, sets[r.failed_sets[0]], seeds)[r.claim] is False, r
    assert lessons.check_on_set(item, sets[held], seeds)[r.claim] is True, r


def test_the_lesson_card_marks_a_claim_that_is_not_robust(page):
    from simulation.app import lessons
    item = next(item for item in app.LESSONS
                if any(not r.robust for r in lessons.claim_robustness(item.key).values()))
    page.find(v.Select, label="Guided lesson").widget.v_model = item.title
    card = " ".join(w.unsafe_innerHTML or "" for w in page.find(solara.widgets.HTML).widgets)
    fragile = [r for r in lessons.claim_robustness(item.key).values() if not r.robust]
    for r in fragile:
        assert f"(not robust: holds in only {r.held} of {r.sets} calibrated parameter sets)" in card
    assert "How robust." in card


def test_there_are_at_least_four_lessons_with_the_required_themes():
    titles = {item.title for item in app.LESSONS}
    assert {"A badge or a way of being?", "Pressure and autonomy",
            "Leadership from below reaches the federation", "Complex methods need clustered ties"} <= titles


# --- assets ------------------------------------------------------------------------------------

def test_asset_list_matches_what_the_installed_solara_loads():
    assert set(app_assets.referenced_by_solara()) == set(app_assets.PACKAGES), (
        "Expected app_assets.PACKAGES to list the front-end packages the installed Solara names; "
        "update PACKAGES after a Solara upgrade")


def make_tarball(path, top="package"):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in ((f"{top}/package.json", b"{}"), (f"{top}/dist/x.js", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpack_puts_the_tarballs_folder_where_the_proxy_looks(tmp_path):
    dest = app_assets.unpack(make_tarball(tmp_path / "p.tgz"), tmp_path / "cache" / "x@1.0.0")
    assert (dest / "package.json").is_file() and (dest / "dist" / "x.js").read_bytes() == b"x"
    assert not any(p.name.endswith(".extract") for p in dest.parent.iterdir()), "Expected no scratch left"


def test_ensure_is_quick_and_offline_when_the_cache_is_full(tmp_path):
    for spec in app_assets.PACKAGES:
        (tmp_path / spec).mkdir(parents=True)
        (tmp_path / spec / "package.json").write_text("{}")
    # a missing npm proves nothing is fetched
    assert app_assets.ensure(tmp_path, npm="no-such-npm-here") == []


def test_ensure_names_what_is_missing_when_npm_is_absent(tmp_path):
    with pytest.raises(app_assets.AssetError, match="npm is not installed.*requirejs@2.3.6"):
        app_assets.ensure(tmp_path, npm="no-such-npm-here")


# --- the command -------------------------------------------------------------------------------

def test_pcsim_app_refuses_to_serve_a_blank_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(app_assets.ENV_VAR, str(tmp_path))
    assert cli.main(["app", "--port", "0"]) == 2, "Expected exit status 2 without the assets"
    err = capsys.readouterr().err
    assert err.startswith("pcsim app: error:") and "make app-assets" in err, err


def test_pcsim_app_refuses_a_bad_port(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["app", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "port = '70000' is not allowed" in capsys.readouterr().err


def test_server_runs_offline_in_production_mode(tmp_path):
    env = app_cli.server_environment(tmp_path)
    assert env[app_assets.ENV_VAR] == str(tmp_path), "Expected Solara's asset cache set for the server"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false", "Expected telemetry off (no internet)"
    command = app_cli.server_command("127.0.0.1", 8765)
    assert "simulation.app" in command and "--production" in command and "--no-open" in command


def test_input_errors_are_pcsim_input_errors():
    with pytest.raises(PcsimInputError, match="lesson 'nope' is unknown"):
        app.lesson("nope")
    with pytest.raises(PcsimInputError, match="plot card 'nope' is unknown"):
        app.series_drawing(app.build_model(app.Setting("baseline"), seed=1), "nope")


def test_pcsim_app_reports_a_port_in_use_before_claiming_to_serve(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(app_assets.ENV_VAR, str(tmp_path))  # no assets: the address comes first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["app", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert err == (f"pcsim app: error: --port {port} is not allowed: it is already in use on "
                   "127.0.0.1 (choose another, or --port 0 for any free port)\n")
    assert "serving" not in out + err


@pytest.mark.parametrize("host", ["999.1.1.1", "no such host!"])
def test_pcsim_app_refuses_a_bad_host_naming_the_option(host, capsys):
    assert cli.main(["app", "--host", host, "--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"pcsim app: error: --host {host!r} is not allowed") and err.count("\n") == 1
    assert "serving" not in out + err


class Served(Exception):
    """Stands for the server taking over the process."""


@pytest.mark.parametrize("host, warned", [("0.0.0.0", True), ("127.0.0.1", False),
                                          ("localhost", False)])
def test_pcsim_app_warns_when_other_machines_can_connect(host, warned, monkeypatch, capsys):
    monkeypatch.setattr(app_assets, "missing", lambda cache: [])

    def execve(*args):
        raise Served
    monkeypatch.setattr(app_cli.os, "execve", execve)
    with pytest.raises(Served):
        cli.main(["app", "--host", host, "--port", "0"])
    err = capsys.readouterr().err
    assert ("other machines on the network" in err) == warned, err
    if warned:
        assert err.startswith(f"pcsim app: warning: --host {host} ") and err.count("\n") == 1


# --- horizon, compare mode -----------------------------------------------------------------------

def test_the_model_stops_exactly_at_the_horizon():
    m = app.TeachingModel(rng=2, horizon=5)
    m.run(4)
    assert m.running and m.month == 4
    m.step()
    assert m.month == 5 and not m.running, "Expected the model to stop running at its horizon"
    m.run(3)  # what Play would do after the horizon: nothing
    assert m.month == 5 and len(m.datacollector.model_vars["month"]) == 6


def test_plots_span_the_horizon_from_the_start():
    m = app.TeachingModel(rng=2)
    for card in app.CARDS:
        drawing = app.series_drawing(m, card)
        drawing.png(m)
        assert all(ax.get_xlim() == (0.0, app.HORIZON) for ax in drawing.axes), (
            f"Expected the {card} card's x axis fixed to months 0-{app.HORIZON} at month 0")


def test_compare_mode_steps_b_in_lockstep_on_the_same_seed():
    item = app.lesson("from_below")
    c = app.Choice(lesson=item.key, compare=True)
    m = app.TeachingModel(**app.choice_parameters(c, seed=4))
    m.run(6)
    alone = app.build_model(item.settings[1], seed=4).run(6)
    assert m.partner.month == 6 and m.partner.seed == 4
    assert m.partner.params == alone.params and m.partner.observation == alone.observation, (
        "Expected B in compare mode to be exactly setting B run alone on the same seed")
    assert m.params == build_params("baseline", "county", **item.settings[0].params), "Expected A on the left"


def test_compare_text_spells_out_the_difference_from_the_models():
    item = app.lesson("from_below")
    m = app.TeachingModel(**app.choice_parameters(app.Choice(lesson=item.key, compare=True), seed=1))
    m.run(24)
    text = app.compare_text(m, app.Choice(lesson=item.key, compare=True))
    assert len(text) == len(item.expect) + len(item.on_average), "Expected a sentence per key outcome"
    a, b = m.observation["informal_leaders"], m.partner.observation["informal_leaders"]
    more = "more" if b > a else "fewer"
    assert text[0] == f"B has {abs(b - a)} {more} informal leaders than A (A {a}, B {b}).", text[0]
    assert app.current_value(m, "leavers_total") == sum(m.datacollector.model_vars["leavers"][1:])


def test_each_lesson_compares_on_the_card_that_shows_its_outcomes():
    cards = {item.key: app.key_card(app.Choice(lesson=item.key, compare=True)) for item in app.LESSONS}
    assert cards == {"badge": "leaders", "pressure": "wellbeing", "from_below": "leaders",
                     "clustered": "adoption", "seductive": "adoption"}, cards


def test_page_compare_mode_shows_both_sides(page):
    page.find(v.Select, label="Guided lesson").widget.v_model = "Pressure and autonomy"
    page.find(v.Btn, children=[app.COMPARE_LABEL]).widget.click()
    page.find(v.Btn, children=["Step"]).widget.click()
    assert app.choice.value.compare and "Compared with B (same seed): pressure_level 0.8" in running(page)
    sides = [w for w in page.find(solara.widgets.HTML).widgets if w.attributes.get("class") == "pcsim-side"]
    assert [w.unsafe_innerHTML[:3] for w in sides] == ["A: ", "B: ", "A", "B"], (
        "Expected A and B over the networks and over the plots")


# --- a real area of England ----------------------------------------------------------------------

AREA = "15N"  # a Devon sub-ICB of 121 practices, near the page's limit of GP posts


def test_the_page_model_on_an_area_has_that_areas_practices_gps_and_pcns():
    from simulation import england

    kwargs = app.page.choice_parameters(app.Choice(), 1, AREA)
    model = app.TeachingModel(**kwargs)
    data = england.practices(AREA)
    assert model.area.code == AREA and model.scale == "england"
    assert model.state.n_practices == len(data) and model.state.n_gps == int(data.gps.sum()), (
        "Expected the area's own practices and GP posts, not the county's")
    assert model.state.n_federations == data.pcn_code.nunique(), "Expected federations = the PCNs"
    assert list(model.england.table.practice_code) == list(data.practice_code)
    assert "n_practices" not in kwargs and "n_practices" not in app.model_params(kwargs), (
        "Expected no practices slider on a real area (the data give the practices)")


def area_notes(rc) -> list:
    return [w for w in rc.find(solara.widgets.HTML).widgets
            if "checked on the synthetic county" in (w.unsafe_innerHTML or "")]


def test_choosing_an_area_rebuilds_the_model_there_and_reset_keeps_it(page, built):
    label = app.page.area_labels()[AREA]
    picker = page.find(v.Autocomplete, label="County, or type an English area")
    picker.widget.v_model = label
    assert built[-1].area.code == AREA, "Expected choosing an area to build the model on it"
    assert f"GP posts of {built[-1].area.label()};" in running(page), running(page)
    page.find(v.Btn, children=["Step"]).widget.click()
    page.find(v.Slider, label="Performance pressure (0-1)").widget.v_model = 0.55
    model = reset(page, built)
    assert model.area.code == AREA and model.month == 0 and model.params.pressure_level == 0.55, (
        "Expected Reset to keep the area and take the slider's value")
    page.find(v.Select, label="Guided lesson").widget.v_model = "Pressure and autonomy"
    assert built[-1].area.code == AREA, "Expected a lesson to load on the chosen area"
    assert len(area_notes(page)) == 1, "Expected the lesson card to say its figures are the county's"
    picker.widget.v_model = app.page.COUNTY_LABEL
    assert built[-1].area is None and built[-1].state.n_practices == 80, "Expected the county back"
    assert not area_notes(page), "Expected no note on the county, where the lessons were checked"


def test_pcsim_app_refuses_an_unknown_area_before_serving(monkeypatch, capsys):
    monkeypatch.setattr(app_assets, "missing", lambda cache: [])

    def execve(*args):
        raise Served
    monkeypatch.setattr(app_cli.os, "execve", execve)
    assert cli.main(["app", "--area", "Nowhereshire", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pcsim app: error: area = 'Nowhereshire' is not allowed") and "closest:" in err
    assert err.count("\n") == 1, err


def test_pcsim_app_opens_the_page_on_the_area(monkeypatch):
    monkeypatch.setattr(app_assets, "missing", lambda cache: [])
    seen = {}

    def execve(path, command, env):
        seen.update(env)
        raise Served
    monkeypatch.setattr(app_cli.os, "execve", execve)
    with pytest.raises(Served):
        cli.main(["app", "--area", "nhs devon icb - 15n", "--port", "0"])
    assert seen[app_cli.AREA_ENV] == AREA, "Expected the area's code passed to the server"


def test_the_page_opens_on_the_area_the_server_is_given(monkeypatch):
    monkeypatch.setenv(app_cli.AREA_ENV, AREA)
    assert app.page._area_from_environment() == AREA
    monkeypatch.delenv(app_cli.AREA_ENV)
    assert app.page._area_from_environment() is None, "Expected the county without an area"
