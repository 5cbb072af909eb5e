"""End to end with the real capture worker and models on the built-in demo source.

Waits for a face and a heart-rate window (withheld, "—": the demo face has no pulse),
adds a marker with a note, answers the quick check-in, quits, and checks that frames, the
marker, the survey and a completed session are in DuckDB.

Capture is paused (space) before typing: Pilot waits after every key until the process is
idle by CPU time, which a running pipeline never is, so each key would cost about two
seconds; the keys and the stored rows are the same paused or not.
"""

from __future__ import annotations

import time

import duckdb
import pytest
from textual.widgets import Label, Static

from burnout_tui.config import Config
from burnout_tui.models_dir import models_dir
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.sources import parse_source
from burnout_tui.store import store_cursor
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.widgets.heart_rate import HeartRatePanel
from tests.tui.pilot import run_async, settle
from tests.tui.test_survey import CHECKIN_KEYS

PNET = "mtcnn_pnet.onnx"
FACE_TIMEOUT_S = 60.0
"""Loading the models and the first detections take a few seconds on a slow CI machine."""
EXIT_TIMEOUT_S = 30.0
POLL_S = 0.1
USER = "demo-user"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (models_dir() / PNET).is_file(),
        reason=f"{models_dir() / PNET} is missing: the ONNX models are not built (make models)",
    ),
]


@run_async
async def test_demo_session_with_marker_and_survey_is_stored(
    config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    worker = CaptureWorker(parse_source("demo"), config, con, USER)
    app = MonitorApp(worker=worker, con=con, config=config)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, MonitorScreen)
            deadline = time.monotonic() + FACE_TIMEOUT_S
            while "face: found" not in str(screen.query_one("#stats-line", Static).content):
                status = worker.status()
                assert status.state is not WorkerState.FAILED, status.message
                assert time.monotonic() < deadline, f"no face within {FACE_TIMEOUT_S:g} s"
                await pilot.pause(POLL_S)
            heart = screen.query_one(HeartRatePanel)
            detail = heart.query_one(".heart-detail", Static)
            while "rate withheld" not in str(detail.content):
                assert time.monotonic() < deadline, (
                    f"no heart-rate window within {FACE_TIMEOUT_S:g} s"
                )
                await pilot.pause(POLL_S)
            session_id = worker.session_id
            await pilot.press("space")
            assert str(heart.query_one(".heart-bpm", Label).content) == "—", "no pulse in the demo"
            assert worker.paused
            await pilot.press("m", *"demo note", "enter")
            await settle(pilot)
            await pilot.press("s", *CHECKIN_KEYS, "5", "tab", "6", "tab", "7", "enter")
            await settle(pilot)
            assert isinstance(app.screen, MonitorScreen)
            await pilot.press("q")
            deadline = time.monotonic() + EXIT_TIMEOUT_S
            while app.return_code is None:
                assert time.monotonic() < deadline, "the app did not exit after q"
                await pilot.pause(POLL_S)
    finally:
        worker.stop()
    assert app.finalise_error is None
    cur = store_cursor(con)
    frames = cur.execute(
        "SELECT count(*) FROM frames WHERE session_id = ?", [session_id]
    ).fetchone()
    assert frames is not None and frames[0] > 0
    assert cur.execute(
        "SELECT note FROM markers WHERE session_id = ?", [session_id]
    ).fetchall() == [("demo note",)]
    assert cur.execute(
        "SELECT instrument, json_extract(answers, '$.fatigue')::INTEGER FROM surveys"
        " WHERE session_id = ?",
        [session_id],
    ).fetchall() == [("checkin", 6)]
    assert cur.execute(
        "SELECT status FROM sessions WHERE session_id = ?", [session_id]
    ).fetchall() == [("complete",)]
