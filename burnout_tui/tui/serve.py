"""`monitor --serve`: the same app in a browser, through textual-serve.

textual-serve runs a shell command per browser tab and relays its terminal over a web
socket. The command is this package's `__main__`, and everything the parent was given
(config included, which may have come from --config) travels in one environment variable,
so the child monitors exactly what the parent would have. The server listens on
localhost only: the page shows health-related data, and exposing it is a decision for
whoever puts a proxy with authentication in front of it.

Without textual-serve, `textual serve "burnout-tui monitor --source demo"` (textual-dev)
does the same.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from burnout_tui.config import Config, config_from_table
from burnout_tui.errors import UserError

SERVE_ENV = "BURNOUT_TUI_SERVE"
"""Environment variable carrying the child's arguments as JSON."""

HOST = "localhost"
PORT = 8000
"""textual-serve's default port."""


def child_payload(
    config: Config,
    source: str,
    user: str,
    db_path: Path,
    fast: bool,
    *,
    multi_user: bool = False,
    record: Path | None = None,
) -> str:
    payload: dict[str, Any] = {
        "config": config.to_dict(),
        "source": source,
        "user": user,
        "db": str(db_path.expanduser().resolve()),
        "fast": fast,
        "multi_user": multi_user,
        "record": None if record is None else str(record.expanduser().resolve()),
    }
    return json.dumps(payload)


def child_command() -> str:
    return shlex.join([sys.executable, "-m", "burnout_tui.tui"])


def serve_monitor(
    config: Config,
    source: str,
    user: str,
    db_path: Path,
    fast: bool,
    host: str = HOST,
    port: int = PORT,
    *,
    multi_user: bool = False,
    record: Path | None = None,
) -> None:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError(
            "--serve needs textual-serve: pip install textual-serve "
            '(or run: textual serve "burnout-tui monitor")'
        ) from None
    os.environ[SERVE_ENV] = child_payload(
        config, source, user, db_path, fast, multi_user=multi_user, record=record
    )
    Server(child_command(), host=host, port=port, title="burnout-tui monitor").serve()


def run_child() -> None:
    """Run the monitor a served page asked for, with the parent's arguments."""
    from burnout_tui.tui.run import run_monitor

    encoded = os.environ.get(SERVE_ENV)
    if encoded is None:
        raise UserError(f"{SERVE_ENV} is unset: start this through `burnout-tui monitor --serve`")
    payload = json.loads(encoded)
    config = config_from_table(payload["config"], f"${SERVE_ENV}")
    run_monitor(
        config,
        payload["source"],
        payload["user"],
        Path(payload["db"]),
        payload["fast"],
        serve=False,
        multi_user=payload.get("multi_user", False),
        record=None if payload.get("record") is None else Path(payload["record"]),
    )
