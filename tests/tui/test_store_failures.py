"""A database call from the UI that fails shows a dialog and leaves the app usable.

History, a survey, a marker and a rename each write or read the store from a thread
worker; the failure injected here is a real DuckDB one, a closed connection, on the path
each of them takes (the UI's cursor, or the capture's own for markers and renames).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pytest
from textual.widgets import Static

from burnout_tui.config import Config
from burnout_tui.runtime.pipeline import FrameResult
from burnout_tui.store import repository, store_cursor
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens.error_modal import ErrorModal
from burnout_tui.tui.screens.history_screen import HistoryScreen
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.screens.people_screen import PeopleScreen
from burnout_tui.tui.screens.survey_screen import SurveyScreen
from burnout_tui.tui.state.store_access import CursorStore
from burnout_tui.tui.widgets import ChoiceRow, PersonPanel
from tests.tui.pilot import run_async, settle
from tests.tui.replay import MultiReplayCapture, ReplayCapture, frozen_clock, multi_replay_results
from tests.tui.test_survey import CHECKIN_KEYS

SIZE = (80, 24)


class StoringCapture(MultiReplayCapture):
    """The replay, storing markers and track users as the real worker does, on a cursor
    of its own that a test can close."""

    def __init__(
        self, config: Config, con: duckdb.DuckDBPyConnection, results: Sequence[FrameResult]
    ) -> None:
        super().__init__(config, con, results=results)
        self.store = store_cursor(con)

    def add_marker(self, note: str) -> float:
        at = super().add_marker(note)
        assert self.session_id is not None, "the app starts the capture before any key"
        repository.add_marker(self.store, self.session_id, at, note)
        return at

    def rename_track(self, track_id: int, name: str) -> None:
        assert self.session_id is not None, "the app starts the capture before any key"
        repository.assign_track_user(self.store, self.session_id, track_id, name)
        super().rename_track(track_id, name)


def dialog_text(app: MonitorApp) -> str:
    screen = app.screen
    assert isinstance(screen, ErrorModal), f"no error dialog, but {type(screen).__name__}"
    return f"{screen.what}: {screen.query_one('#error-reason', Static).content}"


def ui_cursor(app: MonitorApp) -> duckdb.DuckDBPyConnection:
    """The UI's own connection to the test's database, to close under it."""
    assert isinstance(app.store, CursorStore)
    return app.store.cursor


def make_app(capture: ReplayCapture, con: duckdb.DuckDBPyConnection, multi: bool) -> MonitorApp:
    return MonitorApp(
        worker=capture, con=con, config=capture.config, clock=frozen_clock, multi_user=multi
    )


@pytest.fixture
def storing(config: Config, con: duckdb.DuckDBPyConnection) -> StoringCapture:
    return StoringCapture(config, con, multi_replay_results(config))


@run_async
async def test_history_that_cannot_be_read_is_a_dialog(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con, multi=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ui_cursor(app).close()
        await pilot.press("h")
        await settle(pilot)
        assert "history not loaded" in dialog_text(app)
        assert "closed" in dialog_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MonitorScreen)
        await pilot.press("space")
        assert capture.paused and app.return_code is None


@run_async
async def test_a_survey_that_cannot_be_saved_keeps_its_answers(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con, multi=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ui_cursor(app).close()
        await pilot.press("s", *CHECKIN_KEYS, "5", "tab", "6", "tab", "7", "enter")
        await settle(pilot)
        assert "not saved" in dialog_text(app)
        await pilot.press("enter")
        form = app.screen
        assert isinstance(form, SurveyScreen), "the form stays, to retry or cancel"
        assert [row.value for row in form.query(ChoiceRow)] == [5, 6, 7]
        await pilot.press("escape")
        assert isinstance(app.screen, MonitorScreen)
        await pilot.press("space")
        assert capture.paused and app.return_code is None
    assert con.execute("SELECT count(*) FROM surveys").fetchone() == (0,)


@run_async
async def test_a_marker_that_cannot_be_stored_is_a_dialog(
    storing: StoringCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(storing, con, multi=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m", *"kept", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PeopleScreen)
        storing.store.close()
        await pilot.press("m", *"lost", "enter")
        await settle(pilot)
        assert "marker not saved" in dialog_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, PeopleScreen)
        await pilot.press("space")
        assert storing.paused and app.return_code is None
    notes = con.execute("SELECT note FROM markers").fetchall()
    assert notes == [("kept",)]


@run_async
async def test_a_rename_that_cannot_be_stored_is_a_dialog(
    storing: StoringCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(storing, con, multi=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        storing.store.close()
        await pilot.press("down", "r", "ctrl+a", "ctrl+k", *"bo", "enter")
        await settle(pilot)
        assert "person 2 not renamed" in dialog_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, PeopleScreen)
        title = app.screen.query_one("#person-2", PersonPanel).border_title
        assert str(title) == "person 2"
        await pilot.press("space")
        assert storing.paused and app.return_code is None
    assert storing.renames == []
    assert storing.track_names() == {1: "ana"}
