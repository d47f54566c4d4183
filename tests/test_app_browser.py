"""The teaching page in a real browser: Debian's Chromium, driven by Playwright, offline.

One server (``pcsim app``'s command line on a free loopback port, in its own process group)
and one page serve the whole module; the server is stopped by its process group id whatever
happens. Every request the page makes is recorded, so the last test can check that nothing
left this machine: the page must work with no internet.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from simulation import app_assets
from simulation.app_cli import running_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOAD_TIMEOUT_MS = 90_000  # a cold server on a busy 2-core machine takes ~10 s; leave room
UPDATE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; `make browser-deps` installs Debian's chromium")
    lacking = app_assets.missing()
    assert not lacking, (f"Solara's front-end files {lacking} are not in {app_assets.default_cache_dir()}; "
                         "`make app-assets` fills the cache (the page is blank offline without them)")
    log = tmp_path_factory.mktemp("server") / "server.log"
    # started in its own process group, stopped by the group's id when the module ends
    with running_server("127.0.0.1", log=log, timeout=LOAD_TIMEOUT_MS / 1000) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(server, timeout=LOAD_TIMEOUT_MS)
            page.get_by_role("button", name="Step").wait_for(timeout=LOAD_TIMEOUT_MS)
            page.locator(".pcsim-figure img").nth(3).wait_for(timeout=LOAD_TIMEOUT_MS)
            yield page, requests, failed
        finally:
            browser.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def running_text(page) -> str:
    return page.locator(".pcsim-running").inner_text()


def wait_for_running(page, pattern: str) -> str:
    """Wait until the sidebar's description of the running model matches ``pattern``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.locator(".pcsim-running", has_text=re.compile(pattern)).wait_for(timeout=UPDATE_TIMEOUT_MS)
    except PlaywrightTimeout:
        pytest.fail(f"Expected the running model to match {pattern!r}, still: {running_text(page)!r}")
    return running_text(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Vuetify select labelled ``label``."""
    select = page.locator(".v-select", has=page.locator("label", has_text=label))
    select.locator(".v-select__slot").click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def slider(page, label: str):
    return page.get_by_role("slider", name=label)


INK = """img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
  return {width: c.width, height: c.height, ink: ink / (c.width * c.height)};
}"""


def test_network_and_plots_are_drawn(browser_page):
    page, _, _ = browser_page
    figures = page.locator(".pcsim-figure img")
    assert figures.count() == 4, "Expected the network and three plot cards"
    for i in range(4):
        assert figures.nth(i).is_visible(), f"Expected figure {i} to be visible"
        ink = figures.nth(i).evaluate(INK)
        assert ink["width"] > 300 and ink["height"] > 200, f"Expected a real image in figure {i}, got {ink}"
        # a blank or failed image has no ink; drawn axes, nodes and legends cover well over 1%
        assert ink["ink"] > 0.01, f"Expected figure {i} to show a drawing, got {ink['ink']:.4f} ink"


def test_step_advances_the_counter(browser_page):
    page, _, _ = browser_page
    month = int(re.search(r"month (\d+)", running_text(page)).group(1))
    network = page.locator(".pcsim-figure img").first
    before = network.get_attribute("src")
    page.get_by_role("button", name="Step").click()
    wait_for_running(page, rf"month {month + 1},")
    page.locator(".pcsim-figures", has_text=f"{month + 1} month").wait_for(timeout=UPDATE_TIMEOUT_MS)
    # the figure's new image may arrive after the text that reports the month: wait for it
    from playwright.sync_api import expect
    expect(network, "Expected the network to be redrawn after a step").not_to_have_attribute(
        "src", before, timeout=UPDATE_TIMEOUT_MS)


def test_slider_then_reset_changes_the_model(browser_page):
    page, _, _ = browser_page
    pressure = float(re.search(r"pressure ([\d.]+)", running_text(page)).group(1))
    thumb = slider(page, "Performance pressure (0-1)")
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowRight")  # one step (0.01) each
    assert float(thumb.get_attribute("aria-valuenow")) == pytest.approx(pressure + 0.10), (
        "Expected ten arrow presses to move the pressure slider by 0.10")
    # ipywidgets keeps at most one state update of a widget in flight and sends the latest
    # value when the server acknowledges it, so on a busy machine a click sent at once can
    # overtake the slider's last value (Reset then builds 0.39). A person takes longer than the
    # acknowledgement; give the page that long, and if the click still overtook the value, the
    # next Reset must take it (a Reset that ignores the sliders fails both times).
    page.wait_for_timeout(1000)
    wanted = re.compile(rf"month 0, .*pressure {pressure + 0.10:.2f}")
    for _ in range(2):
        page.get_by_role("button", name="Reset").click()
        try:
            page.locator(".pcsim-running", has_text=wanted).wait_for(timeout=UPDATE_TIMEOUT_MS // 3)
            break
        except Exception:
            continue
    text = running_text(page)
    assert wanted.search(text), f"Expected Reset to build the model with the moved slider, got {text!r}"


def test_lesson_loads_its_preset(browser_page):
    page, _, _ = browser_page
    choose(page, "Guided lesson", "A badge or a way of being?")
    text = wait_for_running(page, r"drive 0\.20 by random")
    assert "month 0," in text, "Expected a lesson to start a new model"
    # the sliders are redrawn just after the model: wait for them (each expect polls)
    expect(slider(page, "Formal leadership drive (share of GPs)")).to_have_attribute(
        "aria-valuenow", "0.2", timeout=UPDATE_TIMEOUT_MS)
    expect(slider(page, "Dictatorial management: targets, mandates (0-1)")).to_have_attribute(
        "aria-valuenow", "0.6", timeout=UPDATE_TIMEOUT_MS)
    expect(page.locator(".pcsim-lesson h3")).to_have_text("A badge or a way of being?")
    page.get_by_role("button", name=re.compile("^B: ")).click()
    wait_for_running(page, r"drive 0\.20 by influence")
    select = page.locator(".v-select", has=page.locator("label", has_text="How the drive chooses"))
    expect(select).to_contain_text("influence", timeout=UPDATE_TIMEOUT_MS)


def test_reset_keeps_the_loaded_setting(browser_page):
    """Reset after loading setting B rebuilds B (not the defaults behind the sliders)."""
    page, _, _ = browser_page
    choose(page, "Guided lesson", "Seductive or dictatorial?")
    wait_for_running(page, r"seduction 0\.90, dictation 0\.10")
    page.get_by_role("button", name=re.compile("^B: ")).click()
    wait_for_running(page, r"month 0, .*pressure 0\.60, .*seduction 0\.10, dictation 0\.90")
    page.get_by_role("button", name="Step").click()
    wait_for_running(page, r"month 1,")
    page.get_by_role("button", name="Reset").click()
    text = wait_for_running(page, r"month 0,")
    assert re.search(r"pressure 0\.60, .*seduction 0\.10, dictation 0\.90", text), (
        f"Expected Reset to rebuild setting B (pressure 0.60, seduction 0.10, dictation 0.90), got {text}")
    expect(slider(page, "Dictatorial management: targets, mandates (0-1)")).to_have_attribute(
        "aria-valuenow", "0.9", timeout=UPDATE_TIMEOUT_MS)


# --- the classroom layout ------------------------------------------------------------------

DEVELOPER_CONTROLS = ("Page 0", "Render Interval", "Play Interval", "Time:",
                      "This website runs on")

#: the layout as the browser measures it: page overflow, the network's width, the smallest text
#: size of the page's text and of the plots' pictures (their font at natural size, scaled as shown)
MEASURE = """fontPx => {
  const root = document.scrollingElement;
  const overflowing = [...document.querySelectorAll('.pcsim-card, .pcsim-legend')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length;
  const scrollers = [...document.querySelectorAll('*')].filter(e => {
    const o = getComputedStyle(e).overflowX;
    return (o === 'auto' || o === 'scroll') && e.scrollWidth > e.clientWidth + 1;
  }).length;
  const text = [...document.querySelectorAll('.pcsim-legend .pcsim-key, .pcsim-figures span, .pcsim-lesson p, .pcsim-side, .pcsim-compare div')]
    .map(e => parseFloat(getComputedStyle(e).fontSize));
  const plots = [...document.querySelectorAll('.pcsim-plot .pcsim-figure img')]
    .map(img => fontPx * img.getBoundingClientRect().width / img.naturalWidth);
  const network = document.querySelector('.pcsim-network .pcsim-figure img').getBoundingClientRect();
  const lesson = document.querySelector('.pcsim-lesson');
  // buttons that stick out of the card holding them (e.g. Reset, Play, Step in a narrow sidebar)
  const buttonsOut = [...document.querySelectorAll('.v-card .v-btn')].filter(b => {
    const card = b.closest('.v-card').getBoundingClientRect(), r = b.getBoundingClientRect();
    return r.width > 0 && (r.right > card.right + 1 || r.left < card.left - 1);
  }).map(b => b.innerText.trim());
  return {pageOverflow: root.scrollWidth - root.clientWidth, overflowing, scrollers,
          smallestText: Math.min(...text), smallestPlotText: Math.min(...plots),
          networkWidth: network.width, networkHeight: network.height,
          lessonClipped: lesson.scrollHeight - lesson.clientHeight, buttonsOut};
}"""


def visible_texts(page, texts) -> list[str]:
    return [t for t in texts if page.get_by_text(t, exact=False).filter(visible=True).count()]


@pytest.mark.parametrize("width, height", [(1400, 900), (1024, 768), (1920, 1080)])
def test_classroom_layout(browser_page, width, height):
    """Readable on a projector: no horizontal scrolling, the network at least half of a 1400 px
    screen, text and plot labels at 14 px or more, the lesson card unclipped, Mesa's developer
    controls and Solara's badge hidden until Advanced is switched on."""
    from simulation.app.drawing import FONT_PT

    page, _, _ = browser_page
    choose(page, "Guided lesson", "Pressure and autonomy")
    page.locator(".pcsim-lesson h3", has_text="Pressure and autonomy").wait_for(timeout=UPDATE_TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.wait_for_timeout(500)  # the layout settles
        m = page.evaluate(MEASURE, FONT_PT * 100 / 72)
        assert m["pageOverflow"] <= 0 and m["overflowing"] == 0 and m["scrollers"] == 0, (
            f"Expected no horizontal scrolling at {width}x{height}, got {m}")
        assert m["smallestText"] >= 14, f"Expected page text of 14 px or more at {width}x{height}, got {m}"
        assert m["smallestPlotText"] >= 14, f"Expected plot labels of 14 px or more at {width}x{height}, got {m}"
        assert m["lessonClipped"] <= 0, f"Expected the lesson card not to clip its text, got {m}"
        assert not m["buttonsOut"], f"Expected every button inside its card, got {m['buttonsOut']}"
        if width == 1400:
            assert m["networkWidth"] >= width / 2, f"Expected the network on half the width, got {m}"
        assert not visible_texts(page, DEVELOPER_CONTROLS), (
            f"Expected Mesa's developer controls and Solara's badge hidden, saw {visible_texts(page, DEVELOPER_CONTROLS)}")
        expect(page.get_by_text("leavers", exact=False).or_(page.get_by_text("GPs who left")).first).to_be_visible()
        expect(page.get_by_text("vacant posts").first).to_be_visible()
    finally:
        page.set_viewport_size({"width": 1600, "height": 1000})
    if width == 1400:
        page.get_by_text("Advanced").click()
        expect(page.get_by_text("Play Interval (ms)")).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
        page.get_by_text("Advanced").click()
        expect(page.get_by_text("Play Interval (ms)")).to_have_count(0, timeout=UPDATE_TIMEOUT_MS)


def test_run_ten_years_stops_at_month_120(browser_page):
    page, _, _ = browser_page
    choose(page, "Guided lesson", "Leadership from below reaches the federation")
    wait_for_running(page, r"month 0, .*propensity 0\.10")
    page.get_by_role("button", name="▶").click()  # Play, then pause: the model stays put
    wait_for_running(page, r"month [2-9],")
    page.get_by_role("button", name="❚❚").click()
    expect(page.get_by_role("button", name="Step")).to_be_enabled(timeout=UPDATE_TIMEOUT_MS)
    paused = running_text(page)
    page.wait_for_timeout(500)  # five play intervals
    assert running_text(page) == paused, f"Expected pause to stop the model, {paused!r} became {running_text(page)!r}"
    start = time.monotonic()
    page.get_by_role("button", name="Run 10 years").click()
    page.locator(".pcsim-running", has_text=re.compile(r"month 120,")).wait_for(timeout=LOAD_TIMEOUT_MS)
    print(f"Run 10 years: {time.monotonic() - start:.1f} s")
    # at the horizon only Reset is left: Play, Step and Run 10 years would do nothing
    for name in ("Run 10 years", "▶", "Step"):
        expect(page.get_by_role("button", name=name)).to_be_disabled(timeout=UPDATE_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Reset")).to_be_enabled()
    assert "month 120," in running_text(page), "Expected the run to stay at the horizon, month 120"


#: Lessons in an order that never picks the one already loaded (the previous test's), with
#: what the sidebar says of their setting A one month in.
LESSONS_STEPPED = (("A badge or a way of being?", r"dictation 0\.60, .*drive 0\.20 by random"),
                   ("Pressure and autonomy", r"pressure 0\.30, .*dictation 0\.30, propensity 0\.30, drive 0\.05"),
                   ("Complex methods need clustered ties", r"federation_ties_per_gp 4"),
                   ("Seductive or dictatorial?", r"seduction 0\.90, dictation 0\.10"),
                   ("Leadership from below reaches the federation", r"propensity 0\.10"))


def test_step_clicked_at_once_after_loading_a_lesson_takes_effect(browser_page):
    """The controls stay mounted across loads, so a Step clicked the moment a lesson is picked
    steps the lesson's new model (the first load follows a run that stopped at the horizon)."""
    page, _, _ = browser_page
    for title, setting in LESSONS_STEPPED:
        choose(page, "Guided lesson", title)
        page.get_by_role("button", name="Step").click()  # no wait: at once
        wait_for_running(page, rf"month 1, .*{setting}")


def test_compare_mode_runs_a_and_b_in_lockstep(browser_page):
    page, _, _ = browser_page
    choose(page, "Guided lesson", "Leadership from below reaches the federation")
    page.get_by_role("button", name="Compare A and B side by side").click()
    compare = page.locator(".pcsim-compare")
    expect(compare).to_contain_text("Month 0", timeout=UPDATE_TIMEOUT_MS)
    expect(page.locator(".pcsim-network .pcsim-figure img")).to_have_count(2)
    expect(page.locator(".pcsim-side", has_text="A: ")).to_be_visible()
    expect(page.locator(".pcsim-side", has_text="B: ")).to_be_visible()
    for month in (1, 2):
        page.get_by_role("button", name="Step").click()
        expect(compare).to_contain_text(f"Month {month},", timeout=UPDATE_TIMEOUT_MS)
    # both sides show the same month, and the difference is spelled out in words
    for side in range(2):
        expect(page.locator(".pcsim-figures").nth(side)).to_contain_text(re.compile(r"^2 month"),
                                                                         timeout=UPDATE_TIMEOUT_MS)
    assert re.search(r"B has \d+ (more|fewer) informal leaders than A|same number of informal leaders",
                     compare.inner_text()), compare.inner_text()
    # half the width each, side by side
    boxes = [img.bounding_box() for img in page.locator(".pcsim-network .pcsim-figure img").all()]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1 and abs(boxes[0]["y"] - boxes[1]["y"]) < 2


def pick_population(page, typed: str, option: str) -> None:
    """Type into the Population card's search box and pick the option that matches."""
    box = page.locator(".pcsim-population input[type=text]")
    box.click()
    box.fill(typed)
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def test_a_real_area_is_chosen_by_name_stepped_and_named(browser_page):
    page, _, _ = browser_page
    choose(page, "Guided lesson", "Pressure and autonomy")
    page.locator(".pcsim-lesson h3", has_text="Pressure and autonomy").wait_for(timeout=UPDATE_TIMEOUT_MS)
    pick_population(page, "devon icb - 15n", "SUB-ICB 15N")
    area = r"of NHS Devon ICB - 15N \(SUB-ICB 15N\)"
    wait_for_running(page, rf"month 0, .*121 practices, 974 GP posts {area}")
    expect(page.locator(".pcsim-area-note").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    network = page.locator(".pcsim-network .pcsim-figure img").first
    before = network.get_attribute("src")
    start = time.monotonic()
    page.get_by_role("button", name="Step").click()
    wait_for_running(page, rf"month 1, .*{area}")
    print(f"Step on sub-ICB 15N (974 GP posts): {time.monotonic() - start:.2f} s")
    expect(network).not_to_have_attribute(  # the area's network is redrawn after a step
        "src", before, timeout=UPDATE_TIMEOUT_MS)
    # back to the county, for any test that follows
    pick_population(page, "synthetic", "Synthetic county")
    wait_for_running(page, r"month 0, .*80 practices, \d+ GP posts in the synthetic county")


def test_nothing_left_this_machine(browser_page):
    """Runs last: covers every request made by the tests above."""
    page, requests, failed = browser_page
    hosts = {urlsplit(url).hostname for url in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts and hosts <= LOOPBACK, f"Expected requests to this machine only, got hosts {sorted(hosts)}"
    assert not failed, f"Expected every request to succeed, these failed: {failed[:5]}"
    packages = {m.group(1) for url in requests
                if (m := re.search(r"/_solara/cdn/((?:@[^/]+/)?[^/]+@[^/]+)/", url))}
    # the list the set-up installs covers what the page asks for (and the grid layout a plain
    # SolaraViz page uses, which this page does not)
    assert packages and packages <= set(app_assets.PACKAGES), (
        f"Expected the page to load its front-end files from app_assets.PACKAGES; it asked "
        f"for {sorted(packages)} (update PACKAGES, then `make app-assets`)")
