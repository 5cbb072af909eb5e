"""SVG snapshots of the monitor, the people grid and the surveys, from a replay and a frozen clock.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and review the SVGs in the report before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.tui.app import MonitorApp
from tests.tui.replay import MultiReplayCapture, ReplayCapture, frozen_clock, multi_replay_results
from tests.tui.test_survey import CHECKIN_KEYS

SnapCompare = Callable[..., bool]

SMALL = (80, 24)
LARGE = (120, 36)


def replay_app(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> MonitorApp:
    capture = ReplayCapture(config, con, results=results)
    return MonitorApp(worker=capture, con=con, config=config, clock=frozen_clock)


def test_monitor_80x24(
    snap_compare: SnapCompare,
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
) -> None:
    assert snap_compare(replay_app(config, con, results), terminal_size=SMALL)


def test_monitor_120x36(
    snap_compare: SnapCompare,
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
) -> None:
    assert snap_compare(replay_app(config, con, results), terminal_size=LARGE)


def test_survey_picker(
    snap_compare: SnapCompare,
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
) -> None:
    assert snap_compare(replay_app(config, con, results), press=["s"], terminal_size=SMALL)


def test_survey_form_partly_answered(
    snap_compare: SnapCompare,
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
) -> None:
    keys = ["s", *CHECKIN_KEYS, "7", "tab", "1", "0", "tab"]
    assert snap_compare(replay_app(config, con, results), press=keys, terminal_size=SMALL)


def test_survey_form_refused(
    snap_compare: SnapCompare,
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
) -> None:
    keys = ["s", *CHECKIN_KEYS, "7", "ctrl+s"]
    assert snap_compare(replay_app(config, con, results), press=keys, terminal_size=SMALL)


def people_app(config: Config, con: duckdb.DuckDBPyConnection) -> MonitorApp:
    capture = MultiReplayCapture(config, con, results=multi_replay_results(config))
    return MonitorApp(worker=capture, con=con, config=config, clock=frozen_clock, multi_user=True)


def test_people_grid_80x24(
    snap_compare: SnapCompare, config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    assert snap_compare(people_app(config, con), terminal_size=SMALL)


def test_people_grid_120x36(
    snap_compare: SnapCompare, config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    assert snap_compare(people_app(config, con), terminal_size=LARGE)


def test_person_view_80x24(
    snap_compare: SnapCompare, config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    assert snap_compare(people_app(config, con), press=["down", "enter"], terminal_size=SMALL)


def test_rename_modal(
    snap_compare: SnapCompare, config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    assert snap_compare(people_app(config, con), press=["r"], terminal_size=SMALL)
