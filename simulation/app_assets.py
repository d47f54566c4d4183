"""Solara's front-end files on this machine, so the teaching page works with no internet.

Solara's page loads its JavaScript, CSS and fonts through its own asset proxy at
``/_solara/cdn/NAME@VERSION/...``. The proxy serves a file from its cache folder
(``SOLARA_ASSETS_PROXY_CACHE_DIR``; by default ``<venv>/share/solara/cdn``) and, when the file
is missing, downloads it from a public CDN. Offline, that download fails and the page stays
blank. The files are the contents of npm packages, so this module fills the cache folder with
``npm pack NAME@VERSION`` from the npm registry, unpacking each tarball's top folder
(``package/``) as ``<cache>/NAME@VERSION/``: the layout the proxy itself would have written.

The packages follow the installed Solara (its page template pins them); :data:`PACKAGES` is the
list for the pinned ``solara==1.64.1``. :func:`referenced_by_solara` reads the versions the
installed Solara asks for, and the browser test checks that every file the page requests is
in the cache, so an upgrade of Solara that needs other files fails a test instead of a class.

Run ``python -m simulation.app_assets`` (``make app-assets``): quick when the cache is full.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",  # Solara's Vue 2 front end, CSS and fonts
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",  # SolaraViz's draggable grid (not on the teaching page)
    "font-awesome@4.5.0",  # icons
    "requirejs@2.3.6",  # the widget module loader
)

ENV_VAR = "SOLARA_ASSETS_PROXY_CACHE_DIR"

# Where the installed Solara names the packages its page template and grid layout load.
_TEMPLATE = "server/templates/solara.html.j2"
_GRID_LAYOUT = {2: "widgets/vue/gridlayout.vue", 3: "widgets/vue/gridlayout_v3.vue"}
_REFERENCE = re.compile(r"(?:\{\{\s*cdn\s*\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[\w.+-]+)/")


class AssetError(RuntimeError):
    """The asset cache could not be filled (npm missing, registry unreachable, bad tarball)."""


def default_cache_dir() -> Path:
    """The cache folder Solara's proxy reads: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else
    Solara's own default inside the running environment (``<sys.prefix>/share/solara/cdn``)."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else Path(sys.prefix) / "share" / "solara" / "cdn"


def package_dir(cache: Path, spec: str) -> Path:
    """The folder of one package in the cache (``<cache>/NAME@VERSION``)."""
    return Path(cache) / spec


def missing(cache: Path | None = None, packages=PACKAGES) -> list[str]:
    """The packages not yet in the cache folder."""
    cache = Path(cache) if cache is not None else default_cache_dir()
    return [spec for spec in packages if not (package_dir(cache, spec) / "package.json").is_file()]


def ensure(cache: Path | None = None, packages=PACKAGES, npm: str = "npm", log=print) -> list[str]:
    """Fill the cache with every package it lacks; return the packages fetched (none if full)."""
    cache = Path(cache) if cache is not None else default_cache_dir()
    todo = missing(cache, packages)
    if not todo:
        return []
    if shutil.which(npm) is None:
        raise AssetError(f"npm is not installed, and the Solara asset cache {cache} lacks "
                         f"{', '.join(todo)}; install npm (Debian: apt-get install npm) and rerun "
                         "`make app-assets`")
    cache.mkdir(parents=True, exist_ok=True)
    for spec in todo:
        log(f"fetching {spec} from the npm registry into {cache}")
        fetch(spec, cache, npm)
    return todo


def fetch(spec: str, cache: Path, npm: str = "npm") -> Path:
    """``npm pack`` one package and unpack it as ``<cache>/NAME@VERSION`` (atomically: the
    folder appears complete or not at all, so an interrupted run leaves nothing half-written)."""
    target = package_dir(cache, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pack-") as tmp:
        tmp = Path(tmp)
        done = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp, capture_output=True,
                              text=True, timeout=600)
        tarballs = sorted(tmp.glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise AssetError(f"npm pack {spec} failed (exit {done.returncode}): "
                             f"{detail[-1] if detail else 'no tarball written'}")
        unpack(tarballs[0], tmp / "unpacked")
        if target.exists():  # another process filled it meanwhile: keep theirs
            return target
        os.replace(tmp / "unpacked", target)
    return target


def unpack(tarball: Path, dest: Path) -> Path:
    """Extract an npm tarball's single top folder (``package/``) as ``dest``."""
    with tarfile.open(tarball, "r:gz") as archive:
        tops = {Path(m.name).parts[0] for m in archive.getmembers() if Path(m.name).parts}
        if len(tops) != 1:
            raise AssetError(f"{tarball.name}: expected one top folder, found {sorted(tops)}")
        scratch = dest.parent / (dest.name + ".extract")
        archive.extractall(scratch, filter="data")
    os.replace(scratch / tops.pop(), dest)
    scratch.rmdir()
    return dest


def referenced_by_solara() -> list[str]:
    """The ``NAME@VERSION`` packages the installed Solara's page and grid layout load.

    The template names both of Solara's front ends; the one served follows the installed
    ``ipyvue`` (major version 2: Vue 2, ``solara-vuetify-app``; 3: Vue 3, ``solara-vuetify3-app``).
    """
    import importlib.metadata
    import importlib.util

    vue = 3 if int(importlib.metadata.version("ipyvue").split(".")[0]) >= 3 else 2
    root = Path(importlib.util.find_spec("solara").origin).parent
    found: list[str] = []
    for relative in (_TEMPLATE, _GRID_LAYOUT[vue]):
        for spec in _REFERENCE.findall((root / relative).read_text()):
            if ("vuetify3-app" in spec) == (vue == 3) or "vuetify" not in spec:
                if spec not in found:
                    found.append(spec)
    from solara.server import settings

    icons = settings.assets.fontawesome_path.strip("/").split("/")[0]
    if settings.assets.fontawesome_enabled and icons not in found:
        found.append(icons)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulation.app_assets",
        description="Fill Solara's asset cache from the npm registry so the teaching page "
                    "(`pcsim app`) works with no internet. Quick when the cache is full.")
    parser.add_argument("--cache", type=Path, default=None,
                        help=f"cache folder (default: ${ENV_VAR}, else <venv>/share/solara/cdn)")
    parser.add_argument("--check", action="store_true",
                        help="only report missing packages (exit 1 if any); download nothing")
    args = parser.parse_args(argv)
    cache = args.cache if args.cache is not None else default_cache_dir()
    if args.check:
        lacking = missing(cache)
        for spec in lacking:
            print(f"missing: {spec}")
        print(f"{cache}: {'incomplete' if lacking else 'complete'}")
        return 1 if lacking else 0
    try:
        fetched = ensure(cache)
    except AssetError as err:
        print(f"app_assets: error: {err}", file=sys.stderr)
        return 1
    print(f"Solara assets in {cache}: " + (f"fetched {', '.join(fetched)}" if fetched else "complete"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
