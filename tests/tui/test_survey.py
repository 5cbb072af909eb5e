"""Pilot tests of the survey picker and form: keyboard entry, refusal, cancel, storage."""

from __future__ import annotations

import json

import duckdb
import pytest
from textual.widgets import OptionList, Static

from burnout_tui.surveys import Instrument, InstrumentError, available_instruments, score
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens import monitor_screen
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.screens.survey_screen import PICKER_ORDER, InstrumentPicker, SurveyScreen
from burnout_tui.tui.widgets import ChoiceRow
from tests.tui.pilot import run_async, settle
from tests.tui.replay import ReplayCapture, frozen_clock

SIZE = (80, 24)
CHECKIN_KEYS = ("down", "down", "down", "enter")
"""From the picker's first entry (CBI) down to the quick check-in."""


def make_app(capture: ReplayCapture, con: duckdb.DuckDBPyConnection) -> MonitorApp:
    return MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)


def stored_surveys(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT user_id, session_id, instrument, answers, subscales, total, burnout_01"
        " FROM surveys ORDER BY survey_id"
    ).fetchall()


def rows(app: MonitorApp) -> list[ChoiceRow]:
    return list(app.screen.query(ChoiceRow))


@run_async
async def test_picker_lists_instruments_and_escape_closes_it(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, InstrumentPicker)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids[: len(PICKER_ORDER)] == list(PICKER_ORDER)
        await pilot.press("escape")
        assert isinstance(app.screen, MonitorScreen)


@run_async
async def test_quick_checkin_is_answered_by_keyboard_and_stored(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", *CHECKIN_KEYS)
        assert isinstance(app.screen, SurveyScreen)
        assert app.screen.instrument.id == "checkin"
        await pilot.press("7", "tab", "1", "0", "shift+tab", "right", "down", "down", "3")
        assert [row.value for row in rows(app)] == [8, 10, 3]
        await pilot.press("up", "6", "enter")
        assert isinstance(app.screen, SurveyScreen), "Enter before the last item moves on"
        assert app.focused is rows(app)[2]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
    [(user_id, session_id, instrument, answers, subscales, total, burnout_01)] = stored_surveys(con)
    expected = score(available_instruments()["checkin"], [8, 6, 3])
    assert (user_id, session_id, instrument) == (capture.user_id, capture.session_id, "checkin")
    assert json.loads(str(answers)) == {"stress": 8, "fatigue": 6, "motivation": 3}
    assert json.loads(str(subscales)) == expected.subscales
    assert total == expected.total
    assert burnout_01 == pytest.approx(expected.burnout_01)


@run_async
async def test_missing_answer_is_refused_naming_the_item_and_nothing_is_saved(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", *CHECKIN_KEYS, "5", "tab", "tab", "2", "ctrl+s")
        screen = app.screen
        assert isinstance(screen, SurveyScreen)
        message = str(screen.query_one("#survey-error", Static).content)
        assert "item 2 (fatigue)" in message and "no answer" in message
        assert app.focused is rows(app)[1]
        assert rows(app)[1].has_class("-invalid")
        assert stored_surveys(con) == []
        await pilot.press("4", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
    assert len(stored_surveys(con)) == 1


@run_async
async def test_escape_cancels_without_saving(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", *CHECKIN_KEYS, "5", "tab", "5", "tab", "5", "escape")
        assert isinstance(app.screen, MonitorScreen)
    assert stored_surveys(con) == []


@run_async
async def test_wide_scales_take_typed_numbers(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    """MBI subscale totals (0-54, 0-30, 0-48) are typed digit by digit."""
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", "down", "down", "enter")
        assert isinstance(app.screen, SurveyScreen)
        assert app.screen.instrument.id == "mbi"
        await pilot.press("5", "4", "tab", "3", "5", "tab", "1", "2", "backspace", "4", "0")
        assert [row.value for row in rows(app)] == [54, 5, 40]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
    [(_, _, instrument, answers, *_)] = stored_surveys(con)
    assert instrument == "mbi"
    assert json.loads(str(answers)) == {"ee": 54, "dp": 5, "pa": 40}


@run_async
async def test_broken_instrument_files_are_reported_not_fatal(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(warn: object = None) -> dict[str, Instrument]:
        raise InstrumentError("mine.toml: items[1].text: missing")

    monkeypatch.setattr(monitor_screen, "available_instruments", broken)
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        assert any("mine.toml" in str(n.message) for n in app._notifications)
