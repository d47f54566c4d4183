"""Open a report in a real headless Chromium: check that it renders offline, take screenshots.

Uses Playwright to drive Debian's Chromium by path (``/usr/bin/chromium``; set
``PCSIM_CHROMIUM`` to use another binary); Playwright never downloads a browser here.

    python -m simulation.report.browser results/compare-.../report.html docs/images/report.png
    python -m simulation.report.browser REPORT.html SHOT.png '#timeseries'

checks the report and writes a screenshot of its first screen, or of the screen that starts at
a section (``#summary``, ``#changes``, ``#outcomes``, ``#differences``, ``#timeseries``,
``#networks``); the command exits non-zero and lists the problems if the report does not
render cleanly.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_path() -> str:
    return os.environ.get("PCSIM_CHROMIUM", CHROMIUM)


@dataclass
class Rendering:
    """What the browser saw while loading a report."""

    images: int = 0
    broken_images: list[str] = field(default_factory=list)  # alt text of images that did not load
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    title: str = ""

    @property
    def external_requests(self) -> list[str]:
        """Requests for anything but the file itself and its embedded (data:) images."""
        return [u for u in self.requests if not u.startswith(("file://", "data:"))]

    @property
    def problems(self) -> list[str]:
        out = [f"image did not load: {a}" for a in self.broken_images]
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"page error: {e}" for e in self.page_errors]
        out += [f"network request: {u}" for u in self.external_requests]
        if self.images == 0:
            out.append("no images in the report")
        return out


def render(html_path: str | Path, screenshot: str | Path | None = None,
           width: int = 1280, height: int = 1500, anchor: str | None = None) -> Rendering:
    """Load ``html_path`` from disk with the network blocked, wait until it has loaded, and
    report what happened; optionally save a screenshot of one screen (``width`` x ``height``),
    from the top or from the element ``anchor`` (a CSS selector such as ``#timeseries``)."""
    from playwright.sync_api import sync_playwright

    url = Path(html_path).resolve().as_uri()
    seen = Rendering()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          offline=True)
            page = context.new_page()
            page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
            page.on("request", lambda r: seen.requests.append(r.url))
            page.goto(url, wait_until="load")
            seen.title = page.title()
            result = page.evaluate("""() => {
                const imgs = Array.from(document.images);
                return {n: imgs.length,
                        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)};
            }""")
            seen.images, seen.broken_images = result["n"], result["broken"]
            if screenshot is not None:
                if anchor:
                    page.locator(anchor).scroll_into_view_if_needed()
                    page.evaluate("(sel) => window.scrollTo(0, document.querySelector(sel).offsetTop - 12)",
                                  anchor)
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    return seen


#: Block elements whose text must fit their box; ``.scroll`` wrappers (wide tables) may scroll.
OVERFLOW_JS = """() => {
    const out = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1)
        out.push(`page: ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
    const blocks = document.querySelectorAll(
        'main, section, h1, h2, h3, p, ul, li, figure, figcaption, pre, td, th, div:not(.scroll)');
    for (const el of blocks) {
        if (el.scrollWidth > el.clientWidth + 1)
            out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}: ` +
                     `${el.scrollWidth}px of content in ${el.clientWidth}px: ` +
                     el.textContent.trim().slice(0, 60));
    }
    for (const img of document.images) {
        const box = img.parentElement.getBoundingClientRect(), r = img.getBoundingClientRect();
        if (r.right > box.right + 1 || r.left < box.left - 1)
            out.push(`image wider than its figure: ${img.alt}`);
    }
    return out;
}"""


def overflows(html_path: str | Path, width: int = 1280, height: int = 800) -> list[str]:
    """Open a report at ``width`` x ``height`` and list every block element whose content is
    wider than its box (text that overflows or would be cut), every image wider than its figure,
    and a page wider than the window; wide tables sit in ``.scroll`` wrappers, which may scroll.
    Empty for a report that reads cleanly."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
            page = context.new_page()
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            return page.evaluate(OVERFLOW_JS)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2, 3):
        print("usage: python -m simulation.report.browser REPORT.html [SCREENSHOT.png [#section]]",
              file=sys.stderr)
        return 2
    seen = render(argv[0], argv[1] if len(argv) > 1 else None, anchor=argv[2] if len(argv) > 2 else None)
    print(f"{argv[0]}: '{seen.title}', {seen.images} images, {len(seen.requests)} requests")
    for problem in seen.problems:
        print(f"  {problem}")
    return 1 if seen.problems else 0


if __name__ == "__main__":
    sys.exit(main())
