"""Measure how long the teaching page takes to step the county model and redraw it.

Server side (no browser): each step is ``model.step()`` plus the four figures the page redraws
(network, adoption, wellbeing and quality, leaders and plans), timed over a ten-year run. With
``--browser``: the page in headless Chromium, the time from clicking Step until the browser
shows the new month and the new network image (what a teacher waits for).

    .venv/bin/python scripts/measure_app_redraw.py [--browser] [--clicks 20]
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


def server_side(months: int, seed: int) -> np.ndarray:
    model = app.build_model(app.Setting("baseline"), seed)
    network = app.NetworkDrawing(model)
    series = [app.adoption_drawing(model), app.wellbeing_drawing(model), app.leaders_drawing(model)]
    network.png(model, "pdsa")
    for drawing in series:
        drawing.png(model)
    times = []
    for _ in range(months):
        start = time.perf_counter()
        model.step()
        network.png(model, "pdsa")
        for drawing in series:
            drawing.png(model)
        times.append(time.perf_counter() - start)
    return np.array(times)


def in_browser(clicks: int) -> np.ndarray:
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
            network = page.locator(".pcsim-figure img").first
            for _ in range(clicks):
                month = int(re.search(r"month (\d+)", page.locator(".pcsim-running").inner_text()).group(1))
                before = network.get_attribute("src")
                start = time.perf_counter()
                page.get_by_role("button", name="Step").click()
                page.locator(".pcsim-running", has_text=f"month {month + 1},").wait_for(timeout=30_000)
                page.wait_for_function("([img, old]) => img.src !== old",
                                       arg=[network.element_handle(), before], timeout=30_000)
                times.append(time.perf_counter() - start)
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
    parser.add_argument("--browser", action="store_true", help="also time Step clicks in Chromium")
    parser.add_argument("--clicks", type=int, default=20, help="Step clicks timed in the browser")
    args = parser.parse_args(argv)
    report("server: step + redraw of all four figures", server_side(args.months, args.seed))
    if args.browser:
        report("browser: click Step -> new month and network shown", in_browser(args.clicks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
