"""The capture worker with the real pipeline: sessions survive sources that fail or drop."""

from __future__ import annotations

import re
import time
from pathlib import Path

import cv2
import duckdb
import pytest

from burnout_tui.config import Config
from burnout_tui.runtime import capture
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.sources import Frame, SourceError, SourceSpec, parse_source
from burnout_tui.sources.demo import DemoSource
from tests.waiting import wait_until


class DroppingCamera:
    """A live source that delivers demo frames, then drops like an unplugged camera."""

    def __init__(self, frames: int) -> None:
        self.label = "camera 9"
        self.fps = 25.0
        self.frame_count = None
        self.live = True
        self._demo = DemoSource(loop=True)
        self._left = frames

    def read(self) -> Frame | None:
        if self._left == 0:
            return None
        self._left -= 1
        time.sleep(1 / self.fps)
        return self._demo.read()

    def close(self) -> None:
        return None


def test_file_session_is_complete_with_rows(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana", fast=True)
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 20, "20 frames with a face")
    drained = worker.drain()
    assert drained and drained[-1].primary is not None
    worker.request_new_session()
    first = worker.session_id
    wait_until(lambda: worker.session_id not in (None, first), "the new session")
    wait_until(lambda: worker.status().face_frames >= 5, "frames in the new session")
    worker.stop()
    rows = con.execute(
        "SELECT s.session_id, s.status, s.frames_total, count(f.frame_index) FROM sessions s"
        " LEFT JOIN frames f USING (session_id) GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert len(rows) == 2
    for _, status, frames_total, frame_rows in rows:
        assert status == "complete"
        assert frames_total >= frame_rows > 0


def test_an_interrupted_stop_keeps_every_row_and_closes_the_session_interrupted(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    """How the capture process ends a session when it crashes or its UI is gone."""
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana", fast=True)
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 5, "5 frames with a face")
    worker.stop(interrupted=True)
    face_frames = worker.status().face_frames
    ((status, ended, frames_total, last_index, rows),) = con.execute(
        "SELECT s.status, s.ended_at IS NOT NULL, s.frames_total, max(f.frame_index),"
        " count(f.frame_index) FROM sessions s LEFT JOIN frames f USING (session_id) GROUP BY ALL"
    ).fetchall()
    assert (status, ended) == ("interrupted", True)
    assert frames_total == last_index + 1
    assert rows == face_frames, "every processed frame with a face was written"


def test_unplugged_camera_reconnects_into_the_same_session(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[DroppingCamera] = []

    def open_dropping(spec: SourceSpec, loop_demo: bool = False) -> DroppingCamera:
        if len(opened) == 1:
            opened.append(DroppingCamera(0))
            raise SourceError("cannot open camera 9: no camera there")
        camera = DroppingCamera(15)
        opened.append(camera)
        return camera

    monkeypatch.setattr(capture, "open_source", open_dropping)
    monkeypatch.setattr(capture, "RECONNECT_DELAYS_S", (0.2,))
    worker = CaptureWorker(parse_source("9"), loaded_config, con, "ana")
    states: list[WorkerState] = []
    worker.start()
    wait_until(lambda: states.append(worker.status().state) or len(opened) >= 3, "a reconnect")
    wait_until(lambda: worker.status().frames >= 20, "frames after reconnecting")
    session = worker.session_id
    worker.stop()
    assert WorkerState.RECONNECTING in states
    status, frames_total = con.execute(
        "SELECT status, frames_total FROM sessions WHERE session_id = ?", [session]
    ).fetchone()  # type: ignore[misc]
    assert status == "complete"
    assert frames_total >= 20
    assert con.execute("SELECT count(DISTINCT session_id) FROM sessions").fetchone() == (1,)


def test_missing_stream_is_reported_and_quitting_still_finalises(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    worker = CaptureWorker(parse_source("rtsp://127.0.0.1:9/none"), loaded_config, con, "ana")
    worker.start()
    wait_until(lambda: worker.status().state is WorkerState.RECONNECTING, "the reconnect state")
    assert "retrying" in worker.status().message
    worker.stop()
    assert con.execute("SELECT status FROM sessions").fetchall() == [("complete",)]


def test_multi_user_names_tracks_and_renames_them(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    """Every new track gets an auto userNNN at first sight; a rename re-labels the whole
    session's rows of that track (the mapping, not the rows, changes); a new session
    starts with no names, since its track ids are new people."""
    worker = CaptureWorker(
        parse_source("demo"), loaded_config, con, "ana", fast=True, multi_user=True
    )
    worker.start()
    wait_until(lambda: bool(worker.track_names()), "an auto-named track")
    names = worker.track_names()
    assert all(re.fullmatch(r"user\d{3}", name) for name in names.values()), names
    track_id = min(names)
    worker.rename_track(track_id, "  bea ")
    assert worker.track_names()[track_id] == "bea"
    with pytest.raises(ValueError, match="blank"):
        worker.rename_track(track_id, "   ")
    wait_until(lambda: worker.status().face_frames >= 5, "frames after the rename")
    first = worker.session_id
    worker.request_new_session()
    wait_until(lambda: worker.session_id not in (None, first), "the new session")
    assert "bea" not in worker.track_names().values()
    worker.stop()
    assert con.execute(
        "SELECT u.name FROM track_users t JOIN users u USING (user_id)"
        " WHERE t.session_id = ? AND t.track_id = ?",
        [first, track_id],
    ).fetchall() == [("bea",)]
    named = con.execute(
        'SELECT DISTINCT "user" FROM v_track_frames WHERE session_id = ? AND track_id = ?',
        [first, track_id],
    ).fetchall()
    assert named == [("bea",)]


def test_recording_is_a_playable_file_after_stop(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    target = tmp_path / "x.avi"
    worker = CaptureWorker(
        parse_source("demo"), loaded_config, con, "ana", fast=True, multi_user=True, record=target
    )
    worker.start()
    wait_until(lambda: worker.status().frames >= 10, "10 analysed frames")
    worker.stop()
    assert target.is_file()
    video = cv2.VideoCapture(str(target))
    try:
        assert video.isOpened()
        ok, image = video.read()
        assert ok and image is not None and image.size > 0
    finally:
        video.release()
