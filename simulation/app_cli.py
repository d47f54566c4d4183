"""``pcsim app``: serve the teaching page (:mod:`simulation.app`) on this machine.

Runs ``solara run`` on the page in production mode, with Solara's asset cache pointed at the
folder :mod:`simulation.app_assets` fills, so the page loads every front-end file from this
server and works with no internet. Solara's usage telemetry is switched off for the same
reason. Heavy imports stay inside the handler so that ``pcsim --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .cli_options import whole_number
from .params import PcsimInputError


#: the ``--port`` option's type
port_number = whole_number("port", 0, 65535, " (0: any free port)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "app", help="serve the teaching page (network, sliders, live plots, guided lessons)",
        description="Serve the teaching page: a Mesa SolaraViz page where leadership emerges "
                    "from below, or fails to, in a county of GPs (or, with --area, a real area of "
                    "England). Open the printed address in a "
                    "browser. Works with no internet once `make app-assets` (or "
                    "`python -m simulation.app_assets`) has filled the asset cache.")
    p.add_argument("--port", type=port_number, default=8765,
                   help="port to listen on (default: 8765; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; "
                        "0.0.0.0 to let other machines on the network connect)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("--area", metavar="TEXT",
                   help="open the page on a real area of England instead of the synthetic county: "
                        "a sub-ICB or PCN of at most 1,000 GPs, by code or name (see `pcsim areas`); "
                        "the page's Population card changes it")
    p.set_defaults(func=cmd_app)


def server_command(host: str, port: int, open_browser: bool = False) -> list[str]:
    """The ``solara run`` command line for the page."""
    # by module name, so that the page is imported as part of the installed package
    return [sys.executable, "-m", "solara", "run", "simulation.app", "--host", host, "--port", str(port),
            "--production", "--open" if open_browser else "--no-open", "--log-level", "warning"]


#: how the page, in the server's own process, learns the area it opens on (a code)
AREA_ENV = "PCSIM_APP_AREA"


def server_environment(cache: Path | None = None, area: str | None = None) -> dict[str, str]:
    """The environment for the server: the filled asset cache, no telemetry, no Solara badge,
    and the area (a code) the page opens on, or none (the synthetic county)."""
    from .app_assets import ENV_VAR, default_cache_dir

    env = dict(os.environ)
    env.pop(AREA_ENV, None)
    if area is not None:
        env[AREA_ENV] = area
    env[ENV_VAR] = str(cache if cache is not None else default_cache_dir())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    # Solara's own switch for its "This website runs on Solara" badge, which covers a plot
    env["SOLARA_THEME_SHOW_BANNER"] = "false"
    return env


def cmd_app(args) -> int:
    from .app_assets import missing, default_cache_dir

    area = None
    if args.area is not None:  # refused, with the closest matches, before anything is served
        from .app.page import offered_area
        area = offered_area(args.area)
    # the address first, so that nothing claims to be serving on one the server cannot have
    address = check_address(args.host, args.port)
    if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
        print(f"pcsim app: warning: --host {args.host} lets other machines on the network connect "
              "to the page (it has no login); --host 127.0.0.1 keeps it to this machine",
              file=sys.stderr, flush=True)
    cache = default_cache_dir()
    lacking = missing(cache)
    if lacking:
        raise PcsimInputError(f"the page's front-end files are not in {cache} (missing "
                              f"{', '.join(lacking)}); run `make app-assets` or "
                              "`python -m simulation.app_assets` once, with access to the npm registry")
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    if args.port:
        print(f"pcsim app: serving the teaching page at http://{shown_host}:{args.port}/ "
              "(Ctrl-C to stop)", flush=True)
    # become the server (exec), so that signals sent to this process reach it directly
    command = server_command(args.host, args.port, args.open)
    os.execve(command[0], command, server_environment(cache, area))


def check_address(host: str, port: int) -> str:
    """Refuse, before anything is served, an address the server could not listen on: bind a
    socket to (host, port) as the server (uvicorn) will, then close it. Return the IP address
    ``host`` stands for. :class:`PcsimInputError` names ``--host`` (no such address on this
    machine) or ``--port`` (in use, or not allowed to this user)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    expected = ("expected an address of this machine, e.g. 127.0.0.1 (this machine only), "
                "::1 or 0.0.0.0 (every network interface)")
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise PcsimInputError(f"--host {host!r} is not allowed: {expected}") from None
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind(infos[0][4])
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PcsimInputError(f"--port {port} is not allowed: it is already in use on "
                                      f"{host} (choose another, or --port 0 for any free port)") from None
            if err.errno == errno.EACCES:
                raise PcsimInputError(f"--port {port} is not allowed: this user may not listen on "
                                      "it (ports below 1024 need privileges; the default is 8765)") from None
            reason = os.strerror(err.errno).lower() if err.errno else str(err)
            raise PcsimInputError(f"--host {host!r} is not allowed ({reason}): {expected}") from None
    return infos[0][4][0]


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on ``host`` now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1", port: int | None = None, log: Path | None = None,
                   timeout: float = 90.0, area: str | None = None):
    """Serve the page in the background (its own process group) and yield its URL once it
    answers; on exit, stop the whole group by its id, whatever happened (tests, scripts)."""
    port = port or free_port(host)
    out = open(log, "w") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(server_command(host, port), env=server_environment(area=area), stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{host}:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the page's server exited with status {process.returncode}"
                                   + (f"; see {log}" if log else ""))
            try:
                with urllib.request.urlopen(url + "readyz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the page's server did not answer within {timeout:.0f} s"
                                       + (f"; see {log}" if log else "")) from None
                time.sleep(0.5)
        yield url
    finally:
        stop_server(process)
        if log is not None:
            out.close()


def stop_server(process: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a server started by :func:`running_server`: its process group, by the group's id."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
