"""The monitor in one `--serve` browser tab: the parent's arguments back from the environment.

Apart from `serve` because it calls `run.run_monitor`, which itself calls `serve` for
`--serve`: with the child here, neither of those two modules imports the other back (an
import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import os

from burnout_tui.errors import UserError
from burnout_tui.tui.run import run_monitor
from burnout_tui.tui.serve import SERVE_ENV
from burnout_tui.tui.state.monitor_request import MonitorRequest


def run_child() -> None:
    """Run the monitor a served page asked for, with the parent's arguments."""
    encoded = os.environ.get(SERVE_ENV)
    if encoded is None:
        raise UserError(f"{SERVE_ENV} is unset: start this through `burnout-tui monitor --serve`")
    run_monitor(MonitorRequest.from_json(encoded, f"${SERVE_ENV}"))
