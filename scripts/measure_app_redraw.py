"""Measure how long the teaching page takes to step the county model and redraw it.

Server side (no browser): each step is ``model.step()`` plus the figures the page redraws (one
setting: the network and the three plot cards; ``--compare``: A and B stepped together, their
two networks and two plot cards), timed over a ten-year run. With ``--browser``: the page in
headless Chromium, the time from clicking Step until the browser shows the new month and every
new network image (what a teacher waits for), timed inside the page.

    .venv/bin/python scripts/measure_app_redraw.py [--compare] [--browser] [--clicks 20]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import numpy as np

from simulation import app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


LESSON = "from_below"  # the lesson compare mode is measured on


def server_side(months: int, seed: int, compare: bool) -> np.ndarray:
    if compare:
        choice = app.Choice(lesson=LESSON, compare=True)
        model = app.TeachingModel(**app.choice_parameters(choice, seed))
        card = app.key_card(choice)
        sides = [(model, [app.series_drawing(model, card)]),
                 (model.partner, [app.series_drawing(model.partner, card)])]
    else:
        model = app.build_model(app.Setting("baseline"), seed)
        sides = [(model, [app.series_drawing(model, card) for card in app.CARDS])]
    networks = [app.NetworkDrawing(m) for m, _ in sides]

    def redraw():
        for network, (m, series) in zip(networks, sides):
            network.png(m, "pdsa")
            for drawing in series:
                drawing.png(m)

    redraw()
    times = []
    for _ in range(months):
        start = time.perf_counter()
        model.step()
        redraw()
        times.append(time.perf_counter() - start)
    return np.array(times)


CLICK_TO_REDRAW = """([button, images, running]) => new Promise(resolve => {
  const sources = images.map(img => img.src), text = running.textContent;
  const done = () => running.textContent !== text && images.every((img, i) => img.src !== sources[i]);
  const observer = new MutationObserver(() => {
    if (done()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const start = performance.now();
  button.click();
})"""


def in_browser(clicks: int, compare: bool) -> np.ndarray:
    from playwright.sync_api import sync_playwright

    from simulation.app_cli import running_server

    times = []
    with running_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url, timeout=120_000)
            page.get_by_role("button", name="Step").wait_for(timeout=120_000)
            page.locator(".pcsim-figure img").nth(3).wait_for(timeout=120_000)
            if compare:
                select = page.locator(".v-select", has=page.locator("label", has_text="Guided lesson"))
                select.locator(".v-select__slot").click()
                page.locator(".menuable__content__active .v-list-item",
                             has_text=app.lesson(LESSON).title).first.click()
                page.get_by_role("button", name=app.COMPARE_LABEL).click()
                page.locator(".pcsim-network .pcsim-figure img").nth(1).wait_for(timeout=120_000)
            networks = page.locator(".pcsim-network .pcsim-figure img")
            if not networks.count():  # a page without the network card's class: its first figure
                networks = page.locator(".pcsim-figure img").first
            step = page.get_by_role("button", name="Step")
            for _ in range(clicks):
                step.wait_for()
                page.wait_for_timeout(300)  # let the page settle, as between a teacher's clicks
                handles = [networks.nth(i).element_handle() for i in range(networks.count())]
                # timed in the page: from the click to the moment the running text and every
                # network picture have changed (no polling by the test driver in between)
                times.append(page.evaluate(CLICK_TO_REDRAW, [step.element_handle(), handles,
                                                             page.locator(".pcsim-running").element_handle()]) / 1000)
        finally:
            browser.close()
    return np.array(times)


def report(label: str, times: np.ndarray) -> None:
    print(f"{label}: n={times.size}, median {1000 * statistics.median(times):.0f} ms, "
          f"95th percentile {1000 * np.percentile(times, 95):.0f} ms, max {1000 * times.max():.0f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=120, help="steps timed server side (default 120)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare", action="store_true",
                        help=f"compare mode (lesson {LESSON!r}, A and B side by side)")
    parser.add_argument("--browser", action="store_true", help="also time Step clicks in Chromium")
    parser.add_argument("--clicks", type=int, default=20, help="Step clicks timed in the browser")
    args = parser.parse_args(argv)
    mode = "compare mode, A and B" if args.compare else "one setting"
    report(f"server ({mode}): step + redraw of every figure", server_side(args.months, args.seed, args.compare))
    if args.browser:
        report(f"browser ({mode}): click Step -> new month and networks shown", in_browser(args.clicks, args.compare))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
