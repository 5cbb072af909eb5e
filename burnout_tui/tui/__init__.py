"""The Textual front end of `burnout-tui monitor`; the only package that imports Textual.

Importing it is cheap: `run_monitor` loads the app (and the models) only when it runs.
"""

from __future__ import annotations

from burnout_tui.tui.run import run_monitor
from burnout_tui.tui.state.monitor_request import MonitorRequest

__all__ = ["MonitorRequest", "run_monitor"]
