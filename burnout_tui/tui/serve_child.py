"""The monitor in one `--serve` browser tab: the parent's arguments back from the environment.

Apart from `serve` because it calls `run.run_monitor`, which itself calls `serve` for
`--serve`: with the child here, neither of those two modules imports the other back (an
import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from burnout_tui.config import config_from_table
from burnout_tui.errors import UserError
from burnout_tui.tui.run import run_monitor
from burnout_tui.tui.serve import SERVE_ENV


def run_child() -> None:
    """Run the monitor a served page asked for, with the parent's arguments."""
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
