"""`monitor --serve`: the same app in a browser, through textual-serve.

textual-serve runs a shell command per browser tab and relays its terminal over a web
socket. The command is this package's `__main__`, and everything the parent was given
(config included, which may have come from --config) travels in one environment variable,
so the child monitors exactly what the parent would have; the run's access token never
does (it stays in the server process and the one printed URL).

The page shows health-related data and its websocket starts sessions, so the server is for
the person at the keyboard: it listens on 127.0.0.1 unless `--host` says otherwise (with a
warning), and answers only requests with the printed URL's token and this server's own
Host and Origin (see `serve_access` and `serve_server`).

(`textual serve` from textual-dev would serve the monitor too, but with none of these
checks: any page the person visits could drive it.)
"""

from __future__ import annotations

import os
import shlex
import sys

from burnout_tui.errors import UserError
from burnout_tui.tui.serve_access import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    access_for,
    check_bind_host,
    exposure_warning,
    new_token,
)
from burnout_tui.tui.state.monitor_request import MonitorRequest

SERVE_ENV = "BURNOUT_TUI_SERVE"
"""Environment variable carrying the child's `MonitorRequest` as JSON."""

TITLE = "burnout-tui monitor"


def child_payload(request: MonitorRequest) -> str:
    """What a served tab's process is given: the request it runs, as JSON (no token)."""
    return request.for_child().to_json()


def child_command() -> str:
    return shlex.join([sys.executable, "-m", "burnout_tui.tui"])


def serve_monitor(request: MonitorRequest) -> None:
    """Serve the monitor on the request's `host`:`port` (127.0.0.1 and 8000 unless given;
    port 0: any free).

    A `host` given explicitly that is not loopback gets a warning on stderr; a wildcard
    address, or one that cannot be bound, is a UserError before anything is served.
    """
    try:
        from burnout_tui.tui.serve_server import GuardedServer, bind
    except ImportError:
        raise UserError("--serve needs textual-serve: pip install textual-serve") from None
    bind_host = DEFAULT_HOST if request.host is None else request.host
    check_bind_host(bind_host)
    warning = exposure_warning(bind_host)
    if warning is not None:
        sys.stderr.write(warning + "\n")
    listener = bind(bind_host, DEFAULT_PORT if request.port is None else request.port)
    access = access_for(bind_host, listener.getsockname()[1], new_token())
    os.environ[SERVE_ENV] = child_payload(request)
    GuardedServer(child_command(), access, TITLE).serve_on(listener, bind_host)
