"""Pilot tests of the history screen: sessions newest first, a session's trace and surveys."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb
import pytest
from textual.widgets import DataTable, Static

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.scoring import final_percent, summarise
from burnout_tui.store import FrameRow, FrameWriter, repository
from burnout_tui.store.recovery import recover_interrupted
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.formatting import format_clock
from burnout_tui.tui.screens.history_screen import INTERRUPTED_NOTE, HistoryScreen, session_cells
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.state.history_queries import CHART_POINTS, downsample, list_sessions
from burnout_tui.tui.widgets import FixedSparkline, MeterRow
from tests.tui.pilot import run_async, settle
from tests.tui.replay import ReplayCapture, frozen_clock

SIZE = (100, 30)


def seed_session(
    con: duckdb.DuckDBPyConnection, config: Config, user: str, results: list[FrameResult]
) -> int:
    user_id = repository.get_or_create_user(con, user)
    session_id = repository.start_session(con, user_id, "seeded.mp4", json.dumps(config.to_dict()))
    with FrameWriter(con) as writer:
        writer.put_many(
            FrameRow.from_result(session_id, r.index, r.ts, r.primary)
            for r in results
            if r.primary is not None
        )
    repository.finish_session(con, session_id, len(results))
    return session_id


@pytest.fixture
def seeded(
    con: duckdb.DuckDBPyConnection, config: Config, results: list[FrameResult]
) -> tuple[int, int]:
    """Two finished sessions of `tester` (the older with a survey, a marker), one of another."""
    older = seed_session(con, config, "tester", results)
    repository.add_marker(con, older, 1.5, "coffee")
    repository.add_survey(
        con,
        repository.get_or_create_user(con, "tester"),
        "checkin",
        datetime(2025, 1, 2, 9, 30, tzinfo=timezone.utc),
        {"stress": 7, "fatigue": 6, "motivation": 3},
        total=16.0,
        burnout_01=0.63,
        session_id=older,
    )
    newer = seed_session(con, config, "tester", results[:60])
    seed_session(con, config, "someone-else", results)
    return older, newer


def test_sessions_are_listed_newest_first_with_scored_percent(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    results: list[FrameResult],
    seeded: tuple[int, int],
) -> None:
    older, newer = seeded
    rows = list_sessions(con, "tester", config)
    assert [row.session_id for row in rows] == [newer, older]
    scores = [r.primary.frame_score for r in results if r.primary is not None]
    expected = summarise(scores, len(results), config.scoring, config.levels)
    assert rows[1].percent == pytest.approx(expected.final_percent)
    assert rows[1].level == expected.level
    assert rows[1].status == "complete"


def test_downsample_keeps_short_traces_and_averages_long_ones() -> None:
    import numpy as np

    short = np.arange(10, dtype=np.float64)
    assert downsample(short) == short.tolist()
    long = np.ones(CHART_POINTS * 7 + 3)
    assert downsample(long) == [1.0] * CHART_POINTS
    assert final_percent(0.0, 0.0, Config().scoring) == pytest.approx(40.0)


@run_async
async def test_history_screen_lists_and_details_sessions(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection, seeded: tuple[int, int]
) -> None:
    older, newer = seeded
    app = MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#sessions", DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        assert keys == [str(capture.session_id), str(newer), str(older)]
        detail = screen.query_one("#detail-summary", Static)
        assert "0 face frames" in str(detail.content)
        await pilot.press("down", "down")
        await settle(pilot)
        assert f"session {older}" in str(screen.query_one("#session-detail").border_title)
        assert "coffee" in str(detail.content)
        surveys = str(screen.query_one("#detail-surveys", Static).content)
        assert "checkin" in surveys and "burnout 0.63" in surveys
        rolling = screen.query_one("#detail-rolling", MeterRow)
        assert rolling.query_one(FixedSparkline).data
        await pilot.press("escape")
        assert isinstance(app.screen, MonitorScreen)


@run_async
async def test_an_interrupted_session_says_so(
    capture: ReplayCapture,
    con: duckdb.DuckDBPyConnection,
    config: Config,
    results: list[FrameResult],
) -> None:
    """A session a dead process left running reads as interrupted, with its length up to
    its last saved frame, in the list and in the detail pane."""
    user_id = repository.get_or_create_user(con, "tester")
    session_id = repository.start_session(con, user_id, "killed.mp4", json.dumps(config.to_dict()))
    with FrameWriter(con) as writer:
        writer.put_many(
            FrameRow.from_result(session_id, r.index, r.ts, r.primary)
            for r in results
            if r.primary is not None
        )
    assert recover_interrupted(con) == [session_id]
    (row,) = [r for r in list_sessions(con, "tester", config) if r.session_id == session_id]
    assert row.status == "interrupted"
    last_ts = max(r.ts for r in results if r.primary is not None)
    assert session_cells(row)[2].plain == f"{format_clock(last_ts)} interrupted"

    app = MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        await pilot.press("down")
        await settle(pilot)
        assert f"session {session_id}" in str(screen.query_one("#session-detail").border_title)
        assert INTERRUPTED_NOTE in str(screen.query_one("#detail-summary", Static).content)
