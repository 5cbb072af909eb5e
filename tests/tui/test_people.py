"""Pilot tests of `monitor --multi-user`: the people grid, renaming, and one person's view."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from textual.containers import Grid
from textual.widgets import Input, Static

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.screens.people_screen import PeopleScreen, grid_columns
from burnout_tui.tui.screens.person_screen import PersonScreen
from burnout_tui.tui.screens.rename_modal import RenameModal
from burnout_tui.tui.state.people import PeopleSeries
from burnout_tui.tui.widgets import MeterRow, PersonPanel
from tests.tui.pilot import run_async, settle
from tests.tui.replay import (
    TRACK_3_LEAVES_AT,
    TRACK_GAP_FRAMES,
    TRACK_IDS,
    MultiReplayCapture,
    ReplayCapture,
    frozen_clock,
    multi_replay_results,
)

SMALL = (80, 24)
WIDE = (120, 36)
WIDEST = (200, 40)


@pytest.fixture
def multi_results(config: Config) -> list[FrameResult]:
    return multi_replay_results(config)


@pytest.fixture
def multi(
    config: Config, con: duckdb.DuckDBPyConnection, multi_results: list[FrameResult]
) -> MultiReplayCapture:
    return MultiReplayCapture(config, con, results=multi_results)


def multi_app(capture: ReplayCapture, con: duckdb.DuckDBPyConnection) -> MonitorApp:
    return MonitorApp(
        worker=capture, con=con, config=capture.config, clock=frozen_clock, multi_user=True
    )


def state_of(panel: PersonPanel) -> str:
    return str(panel.query_one(".person-state", Static).content)


def panel(app: MonitorApp, track_id: int) -> PersonPanel:
    return app.screen.query_one(f"#person-{track_id}", PersonPanel)


def test_series_per_person_follow_their_own_face(
    config: Config, multi_results: list[FrameResult]
) -> None:
    people = PeopleSeries(config.scoring, config.levels)
    assert people.extend(multi_results[:100])
    assert people.extend(multi_results[100:])
    assert people.tracks == list(TRACK_IDS)
    assert people.in_view == {1, 2}
    gap = len(TRACK_GAP_FRAMES)
    assert people.series(1).face_frames == len(multi_results)
    assert people.series(2).face_frames == len(multi_results) - gap
    assert people.series(3).face_frames == TRACK_3_LEAVES_AT
    assert people.series(3).current_face is None
    last = multi_results[-1].faces[0]
    assert people.series(1).rolling_percent is not None
    assert people.series(1).latest_face is last


@pytest.mark.parametrize(("width", "columns"), [(80, 1), (120, 2), (150, 3), (400, 3)])
def test_grid_columns_follow_the_width(width: int, columns: int) -> None:
    assert grid_columns(width) == columns


@run_async
async def test_grid_shows_a_panel_per_person_and_who_is_lost(
    multi: MultiReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = multi_app(multi, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PeopleScreen)
        panels = list(app.screen.query(PersonPanel))
        assert [p.track_id for p in panels] == list(TRACK_IDS)
        assert str(panels[0].border_title) == "ana"
        assert str(panels[1].border_title) == "person 2"
        assert "lost" not in state_of(panels[0])
        assert "lost" in state_of(panels[2]) and panels[2].has_class("-lost")
        assert "%" in state_of(panels[0])
        burnout = panels[0].query_one(".person-burnout", MeterRow)
        assert burnout.query_one(".meter-value", Static).content != "—"
        stats = str(app.screen.query_one("#stats-line", Static).content)
        assert "people: 3 tracked, 2 in view" in stats
        assert app.focused is panels[0]
        assert app.screen.query_one("#people", Grid).styles.grid_size_columns == 1


@run_async
async def test_a_lost_person_comes_back(
    config: Config, con: duckdb.DuckDBPyConnection, multi_results: list[FrameResult]
) -> None:
    capture = MultiReplayCapture(config, con, results=multi_results[: TRACK_GAP_FRAMES.start + 5])
    app = multi_app(capture, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert "lost" in state_of(panel(app, 2))
        capture.feed(multi_results[TRACK_GAP_FRAMES.stop :])
        await pilot.pause(0.2)
        assert "lost" not in state_of(panel(app, 2))
        assert not panel(app, 2).has_class("-lost")


@pytest.mark.parametrize(("size", "columns"), [(WIDE, 2), (WIDEST, 3)])
@run_async
async def test_wider_terminals_get_more_columns(
    multi: MultiReplayCapture,
    con: duckdb.DuckDBPyConnection,
    size: tuple[int, int],
    columns: int,
) -> None:
    app = multi_app(multi, con)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#people", Grid).styles.grid_size_columns == columns
        first, second = panel(app, 1), panel(app, 2)
        assert first.region.y == second.region.y and first.region.x < second.region.x


@run_async
async def test_arrows_and_tab_select_panels(
    multi: MultiReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = multi_app(multi, con)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.focused is panel(app, 1)
        await pilot.press("right")
        assert app.focused is panel(app, 2)
        await pilot.press("down")
        assert app.focused is panel(app, 2), "no panel below the second one"
        await pilot.press("left", "down")
        assert app.focused is panel(app, 3)
        await pilot.press("up")
        assert app.focused is panel(app, 1)
        await pilot.press("tab")
        assert app.focused is panel(app, 2)
        await pilot.click("#person-3")
        assert app.focused is panel(app, 3)


@run_async
async def test_rename_through_the_modal(
    multi: MultiReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = multi_app(multi, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("down", "r")
        assert isinstance(app.screen, RenameModal)
        name_input = app.screen.query_one(Input)
        assert app.focused is name_input and name_input.value == "person 2"
        await pilot.press("ctrl+a", "ctrl+k", *"bo", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PeopleScreen)
        assert multi.renames == [(2, "bo")]
        assert str(panel(app, 2).border_title) == "bo"
        await pilot.press("r", "escape")
        await pilot.press("r", "ctrl+a", "ctrl+k", " ", "enter")
        await settle(pilot)
        assert multi.renames == [(2, "bo")], "escape and a blank name change nothing"


@run_async
async def test_enter_opens_one_person_and_escape_goes_back(
    multi: MultiReplayCapture,
    con: duckdb.DuckDBPyConnection,
    multi_results: list[FrameResult],
) -> None:
    multi.feed([])
    app = multi_app(multi, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        grid = app.screen
        await pilot.press("down", "down", "enter")
        assert isinstance(app.screen, PersonScreen)
        assert isinstance(app.screen, MonitorScreen)
        state = str(app.screen.query_one("#state-line", Static).content)
        assert "user person 3" in state
        assert "face: lost" in str(app.screen.query_one("#stats-line", Static).content)
        assert app.screen.series.face_frames == TRACK_3_LEAVES_AT
        more = multi_replay_results(multi.config, len(multi_results) + 10)[len(multi_results) :]
        multi.feed(more)
        await pilot.pause(0.2)
        assert app.screen.series.frames == len(multi_results) + len(more)
        await pilot.press("escape")
        assert app.screen is grid
        assert isinstance(grid, PeopleScreen)
        assert grid.people.series(1).frames == len(multi_results) + len(more)
        assert grid._followers == []


@run_async
async def test_recording_is_shown_in_the_state_line(
    config: Config,
    con: duckdb.DuckDBPyConnection,
    multi_results: list[FrameResult],
    tmp_path: Path,
) -> None:
    target = tmp_path / "faces.mkv"
    capture = MultiReplayCapture(config, con, results=multi_results, recording=target)
    app = multi_app(capture, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert f"● REC {target}" in str(app.screen.query_one("#state-line", Static).content)
        capture.recording = None
        await pilot.pause(0.2)
        assert "REC" not in str(app.screen.query_one("#state-line", Static).content)


@run_async
async def test_single_user_worker_cannot_rename(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = multi_app(capture, con)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert [p.track_id for p in app.screen.query(PersonPanel)] == [0]
        await pilot.press("r")
        assert isinstance(app.screen, PeopleScreen)
