"""The monitor with its capture in a spawned child process: real worker, real models, demo.

- Through the child: a marker, a survey and the history list reach the database the child
  owns, and `q` leaves the session complete.
- The child raises (the `BURNOUT_TUI_TEST_CHILD_CRASH` hook, in the capture thread): the
  screen says why, the child closed the session `interrupted`, history says it is
  unavailable, and `q` still quits.
- The child is killed (SIGKILL, with --multi-user): the same, with the session marked
  `interrupted` by this process once the child is gone.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from burnout_tui.config import Config
from burnout_tui.models_dir import models_dir
from burnout_tui.runtime.capture_child import CRASH_ENV
from burnout_tui.runtime.capture_messages import CaptureSettings
from burnout_tui.runtime.capture_process import CaptureProcess
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.sources import parse_source
from burnout_tui.store import open_database
from burnout_tui.tui.app import FINALISE_FAILED_EXIT, MonitorApp
from burnout_tui.tui.screens.error_modal import ErrorModal
from burnout_tui.tui.screens.history_screen import HistoryScreen
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.screens.people_screen import PeopleScreen
from tests.tui.pilot import run_async, settle
from tests.tui.test_survey import CHECKIN_KEYS

PNET = "mtcnn_pnet.onnx"
USER = "child-user"
CRASH_AFTER = 5
WAIT_S = 60.0
"""Starting the child, loading the models and the first detections, on a slow machine."""
POLL_S = 0.1
SIZE = (80, 24)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (models_dir() / PNET).is_file(),
        reason=f"{models_dir() / PNET} is missing: the ONNX models are not built (make models)",
    ),
]


def started_capture(config: Config, db: Path, *, multi_user: bool = False) -> CaptureProcess:
    capture = CaptureProcess(
        CaptureSettings(parse_source("demo"), config, db, USER, multi_user=multi_user)
    )
    capture.wait_ready()
    return capture


def line(app: MonitorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {WAIT_S:g} s"
        await pilot.pause(POLL_S)


async def quit_app(pilot: Pilot[None], app: MonitorApp) -> None:
    await pilot.press("q")
    await wait_for(pilot, lambda: app.return_code is not None, "exit after q")


def stored_session(db: Path) -> tuple[str, int, list[str], list[str]]:
    """(status, frame rows, marker notes, survey instruments) of the one session in `db`."""
    con = open_database(db)
    try:
        ((status,),) = con.execute("SELECT status FROM sessions").fetchall()
        ((rows,),) = con.execute("SELECT count(*) FROM frames").fetchall()
        notes = [note for (note,) in con.execute("SELECT note FROM markers").fetchall()]
        surveys = [name for (name,) in con.execute("SELECT instrument FROM surveys").fetchall()]
    finally:
        con.close()
    return str(status), int(rows), notes, surveys


def dialog_text(app: MonitorApp) -> str:
    screen = app.screen
    assert isinstance(screen, ErrorModal), f"no error dialog, but {type(screen).__name__}"
    return f"{screen.what}: {screen.reason}"


@run_async
async def test_markers_surveys_and_history_go_through_the_child(
    config: Config, tmp_path: Path
) -> None:
    db = tmp_path / "child.duckdb"
    capture = started_capture(config, db)
    app = MonitorApp(worker=capture, store=capture, config=config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "face: found" in line(app, "#stats-line"), "face")
            await pilot.press("m", *"child note", "enter")
            await settle(pilot)
            await pilot.press("s", *CHECKIN_KEYS, "5", "tab", "6", "tab", "7", "enter")
            await settle(pilot)
            assert isinstance(app.screen, MonitorScreen)
            await pilot.press("h")
            await settle(pilot)
            history = app.screen
            assert isinstance(history, HistoryScreen)
            assert list(history.sessions) == [capture.session_id]
            assert history.sessions[capture.session_id].status == "running"
            await pilot.press("escape")
            await quit_app(pilot, app)
    finally:
        capture.stop()
    assert app.return_code == 0 and app.finalise_error is None
    status, rows, notes, surveys = stored_session(db)
    assert (status, notes, surveys) == ("complete", ["child note"], ["checkin"])
    assert rows > 0


@run_async
async def test_a_crash_in_the_child_is_shown_and_the_session_kept_interrupted(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "crash.duckdb"
    monkeypatch.setenv(CRASH_ENV, f"after:{CRASH_AFTER}")
    capture = started_capture(config, db)
    app = MonitorApp(worker=capture, store=capture, config=config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "FAILED" in line(app, "#state-line"), "failure")
            state = line(app, "#state-line")
            assert f"InjectedCrash: test crash after {CRASH_AFTER} frames" in state
            assert f"session {capture.session_id} was kept as interrupted" in state
            assert capture.status().state is WorkerState.FAILED
            await pilot.press("h")
            await settle(pilot)
            assert "history not loaded" in dialog_text(app)
            assert "history is unavailable" in dialog_text(app)
            await pilot.press("escape", "escape")
            assert isinstance(app.screen, MonitorScreen)
            await quit_app(pilot, app)
    finally:
        capture.stop()
    assert app.return_code == FINALISE_FAILED_EXIT
    assert app.finalise_error is not None and "crashed" in app.finalise_error
    assert capture.crash_details is not None and "InjectedCrash" in capture.crash_details
    status, rows, _, _ = stored_session(db)
    assert status == "interrupted"
    assert 0 < rows <= CRASH_AFTER


@run_async
async def test_a_killed_child_is_shown_and_its_session_recovered_here(
    config: Config, tmp_path: Path
) -> None:
    db = tmp_path / "killed.duckdb"
    capture = started_capture(config, db, multi_user=True)
    app = MonitorApp(worker=capture, store=capture, config=config, multi_user=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, PeopleScreen)
            await wait_for(pilot, lambda: "1 tracked" in line(app, "#stats-line"), "person")
            await pilot.press("r", "ctrl+a", "ctrl+k", *"bo", "enter")
            await settle(pilot)
            assert "bo" in capture.track_names().values()
            pid = capture.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await wait_for(pilot, lambda: "FAILED" in line(app, "#state-line"), "failure")
            state = line(app, "#state-line")
            assert "the capture process was killed by SIGKILL" in state
            assert "was kept as interrupted" in state
            await pilot.press("m", *"lost", "enter")
            await settle(pilot)
            assert "marker not saved" in dialog_text(app)
            await pilot.press("escape")
            await quit_app(pilot, app)
    finally:
        capture.stop()
    assert app.return_code == FINALISE_FAILED_EXIT
    status, rows, notes, _ = stored_session(db)
    assert (status, notes) == ("interrupted", [])
    assert rows > 0
