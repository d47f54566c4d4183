"""Take screenshots of the teaching page (headless Debian Chromium).

Starts the page's server on a free loopback port, opens it, loads a lesson (one setting, or
both side by side with ``--compare``), runs it (``--months``; 120 presses "Run 10 years") and
saves the window as a PNG at each ``--sizes``, reduced to a palette so that each stays small;
the server is stopped whatever happens.

    .venv/bin/python scripts/screenshot_app.py                  # docs/images/app.png
    .venv/bin/python scripts/screenshot_app.py --all-lessons    # docs/images/compare-*.png
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import PIL.Image

from simulation import app, app_assets
from simulation.app_cli import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 180_000
SIZES = ((1400, 900), (1024, 768))


def size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not allowed: expected WIDTHxHEIGHT, "
                                         "e.g. 1400x900") from None
    return width, height


def choose(page, label: str, option: str) -> None:
    select = page.locator(".v-select", has=page.locator("label", has_text=label))
    select.locator(".v-select__slot").click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def run_lesson(page, item, setting: int | None, months: int) -> None:
    """Load ``item`` (setting A or B, or compare mode when ``setting`` is None) and run it."""
    choose(page, "Guided lesson", item.title)
    page.locator(".pcsim-lesson h3", has_text=item.title).wait_for(timeout=TIMEOUT_MS)
    label = app.COMPARE_LABEL if setting is None else item.settings[setting].label
    page.get_by_role("button", name=label).click()
    if setting is None:
        page.locator(".pcsim-compare").wait_for(timeout=TIMEOUT_MS)
    page.locator(".pcsim-running", has_text="month 0,").wait_for(timeout=TIMEOUT_MS)
    if months >= app.HORIZON:
        page.get_by_role("button", name=re.compile(r"^Run \d+ years$")).click()
        months = app.HORIZON
    else:  # month by month with Step, so that the picture is of exactly that month
        for month in range(1, months + 1):
            page.get_by_role("button", name="Step").click()
            page.locator(".pcsim-running", has_text=re.compile(rf"month {month},")) \
                .wait_for(timeout=TIMEOUT_MS)
    page.locator(".pcsim-running", has_text=re.compile(rf"month {months},")).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)  # the last frame reaches the browser


def save(page, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out))
    # a palette of 256 colours: the page is mostly flat colours, and the file shrinks about 5
    # times (to about 100 KB at 1400x900; median cut keeps the colours slightly better but
    # leaves twice the size)
    PIL.Image.open(out).convert("RGB").quantize(256, method=PIL.Image.Quantize.FASTOCTREE) \
        .save(out, optimize=True)
    return out


def screenshots(jobs, months: int, sizes) -> list[Path]:
    """``jobs``: (lesson key, setting or None for compare, output pattern with ``{size}``)."""
    from playwright.sync_api import sync_playwright

    written = []
    with running_server(timeout=TIMEOUT_MS / 1000) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": sizes[0][0], "height": sizes[0][1]})
            page.goto(url, timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Step").wait_for(timeout=TIMEOUT_MS)
            for key, setting, pattern in jobs:
                page.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})
                run_lesson(page, app.lesson(key), setting, months)
                for width, height in sizes:
                    page.set_viewport_size({"width": width, "height": height})
                    page.wait_for_timeout(1000)  # the layout settles
                    written.append(save(page, Path(pattern.format(size=f"{width}x{height}"))))
                    print(f"wrote {written[-1]} ({written[-1].stat().st_size // 1024} KB)", flush=True)
        finally:
            browser.close()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/app.png",
                        help="output file (with several sizes: {size} in the name is replaced)")
    parser.add_argument("--lesson", default="from_below", choices=[item.key for item in app.LESSONS])
    parser.add_argument("--setting", type=int, default=1, choices=(0, 1), help="0: A, 1: B (default)")
    parser.add_argument("--compare", action="store_true", help="A and B side by side")
    parser.add_argument("--all-lessons", action="store_true",
                        help="every lesson in compare mode, at each size, into "
                             "docs/images/compare-<lesson>-<size>.png")
    parser.add_argument("--months", type=int, default=48,
                        help=f"months to run before the shot ({app.HORIZON}: Run 10 years)")
    parser.add_argument("--sizes", type=size, nargs="+", default=None,
                        help="window sizes WIDTHxHEIGHT (default 1600x1000; with --all-lessons "
                             "1400x900 1024x768)")
    args = parser.parse_args(argv)
    lacking = app_assets.missing()
    if lacking:
        print(f"missing front-end files {lacking}: run `make app-assets` first", file=sys.stderr)
        return 1
    if args.all_lessons:
        sizes = args.sizes or list(SIZES)
        months = args.months if "--months" in (argv or sys.argv) else app.HORIZON
        jobs = [(item.key, None, f"docs/images/compare-{item.key}-{{size}}.png") for item in app.LESSONS]
    else:
        sizes = args.sizes or [(1600, 1000)]
        months = args.months
        out = args.out if len(sizes) == 1 or "{size}" in args.out else args.out.replace(".png", "-{size}.png")
        jobs = [(args.lesson, None if args.compare else args.setting, out)]
    screenshots(jobs, months, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
