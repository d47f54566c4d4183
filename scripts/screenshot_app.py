"""Take a screenshot of the teaching page for the README (headless Debian Chromium).

Starts the page's server on a free loopback port, opens it, loads a lesson setting, plays it
for some months, pauses and saves the window as a PNG; the server is stopped whatever happens.

    .venv/bin/python scripts/screenshot_app.py [--out docs/images/app.png] [--months 48]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from simulation import app, app_assets
from simulation.app_cli import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 120_000


def screenshot(out: Path, lesson_key: str, setting: int, months: int, width: int, height: int) -> Path:
    from playwright.sync_api import sync_playwright

    item = app.lesson(lesson_key)
    with running_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Step").wait_for(timeout=TIMEOUT_MS)
            select = page.locator(".v-select", has=page.locator("label", has_text="Guided lesson"))
            select.locator(".v-select__slot").click()
            page.locator(".menuable__content__active .v-list-item", has_text=item.title).first.click()
            page.locator(".pcsim-lesson h3", has_text=item.title).wait_for(timeout=TIMEOUT_MS)
            page.get_by_role("button", name=item.settings[setting].label).click()
            page.locator(".pcsim-running", has_text="month 0,").wait_for(timeout=TIMEOUT_MS)
            page.get_by_role("button", name="▶").click()
            page.locator(".pcsim-running", has_text=re.compile(rf"month ({months}|{months + 1}|{months + 2}),")) \
                .wait_for(timeout=TIMEOUT_MS)
            page.get_by_role("button", name="❚❚").click()
            page.wait_for_timeout(1500)  # the last frame reaches the browser
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/app.png"))
    parser.add_argument("--lesson", default="from_below", choices=[item.key for item in app.LESSONS])
    parser.add_argument("--setting", type=int, default=1, choices=(0, 1), help="0: A, 1: B (default)")
    parser.add_argument("--months", type=int, default=48, help="months to play before the shot")
    parser.add_argument("--size", default="1600x1000", help="window size WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    lacking = app_assets.missing()
    if lacking:
        print(f"missing front-end files {lacking}: run `make app-assets` first", file=sys.stderr)
        return 1
    width, height = (int(x) for x in args.size.split("x"))
    out = screenshot(args.out, args.lesson, args.setting, args.months, width, height)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
