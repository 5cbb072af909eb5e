"""A database call from the UI that fails shows a dialog and leaves the app usable.

History, a survey, a marker and a rename each write or read the store from a thread
worker; the failure injected here is a real DuckDB one, a closed connection, on the path
each of them takes (the UI's cursor, or the capture's own for markers and renames).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import pytest
from textual.screen import Screen
from textual.widgets import Static

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
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


def answers_kept(screen: Screen[object]) -> None:
    """A survey that cannot be saved keeps its answers in the form, to retry or cancel."""
    assert [row.value for row in screen.query(ChoiceRow)] == [5, 6, 7]


def name_unchanged(screen: Screen[object]) -> None:
    title = screen.query_one("#person-2", PersonPanel).border_title
    assert str(title) == "person 2"


def no_survey(con: duckdb.DuckDBPyConnection, capture: ReplayCapture) -> None:
    assert con.execute("SELECT count(*) FROM surveys").fetchone() == (0,)


def only_the_first_marker(con: duckdb.DuckDBPyConnection, capture: ReplayCapture) -> None:
    notes = con.execute("SELECT note FROM markers").fetchall()
    assert notes == [("kept",)]


def no_rename(con: duckdb.DuckDBPyConnection, capture: ReplayCapture) -> None:
    assert capture.renames == []
    assert capture.track_names() == {1: "ana"}


@dataclass(frozen=True)
class UiFailure:
    """One database call from the UI, made to fail, and what the app must look like after.

    Single-user cases fail on the UI's cursor, with `capture` and the monitor screen as home;
    multi-user ones on the capture's own cursor, with `storing` and the people screen."""

    multi: bool
    before: tuple[str, ...]
    """Keys pressed while the store still works."""
    keys: tuple[str, ...]
    """Keys whose database call fails."""
    dialog: tuple[str, ...]
    """What the error dialog says."""
    dismiss: str
    stays: type[Screen[object]]
    """The screen dismissing the dialog leaves the app on, to retry or cancel."""
    back: tuple[str, ...]
    """Keys from there to the home screen, where space pauses."""
    on_screen: Callable[[Screen[object]], None] | None = None
    stored: Callable[[duckdb.DuckDBPyConnection, ReplayCapture], None] | None = None


FAILURES = {
    "history": UiFailure(
        multi=False, before=(), keys=("h",), dialog=("history not loaded", "closed"),
        dismiss="escape", stays=HistoryScreen, back=("escape",),
    ),
    "survey": UiFailure(
        multi=False, before=(),
        keys=("s", *CHECKIN_KEYS, "5", "tab", "6", "tab", "7", "enter"),
        dialog=("not saved",), dismiss="enter", stays=SurveyScreen, back=("escape",),
        on_screen=answers_kept, stored=no_survey,
    ),
    "marker": UiFailure(
        multi=True, before=("m", *"kept", "enter"), keys=("m", *"lost", "enter"),
        dialog=("marker not saved",), dismiss="escape", stays=PeopleScreen, back=(),
        stored=only_the_first_marker,
    ),
    "rename": UiFailure(
        multi=True, before=(), keys=("down", "r", "ctrl+a", "ctrl+k", *"bo", "enter"),
        dialog=("person 2 not renamed",), dismiss="escape", stays=PeopleScreen, back=(),
        on_screen=name_unchanged, stored=no_rename,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", FAILURES.values(), ids=FAILURES.keys())
@run_async
async def test_a_store_failure_is_a_dialog(
    case: UiFailure, request: pytest.FixtureRequest, con: duckdb.DuckDBPyConnection
) -> None:
    used: ReplayCapture = request.getfixturevalue("storing" if case.multi else "capture")
    home = PeopleScreen if case.multi else MonitorScreen
    app = make_app(used, con, multi=case.multi)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if case.before:
            await pilot.press(*case.before)
            await settle(pilot)
        assert isinstance(app.screen, home)
        (used.store if isinstance(used, StoringCapture) else ui_cursor(app)).close()
        await pilot.press(*case.keys)
        await settle(pilot)
        for needle in case.dialog:
            assert needle in dialog_text(app)
        await pilot.press(case.dismiss)
        assert isinstance(app.screen, case.stays)
        if case.on_screen is not None:
            case.on_screen(app.screen)
        if case.back:
            await pilot.press(*case.back)
        assert isinstance(app.screen, home)
        await pilot.press("space")
        assert used.paused and app.return_code is None
    if case.stored is not None:
        case.stored(con, used)
