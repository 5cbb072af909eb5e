"""One session runner under both drivers, and one pipeline built from a policy and stages.

The monitor's worker stores the source's frame numbers (as `analyze` does), times decode
and store, closes the cursors it opens, refuses a marker without a session in one clear
error, and closes a session it cannot finish `interrupted` rather than leaving it running.
"""

from __future__ import annotations

from dataclasses import fields, replace

import duckdb
import pytest

from burnout_tui.config import BlendshapesConfig, Config, load_config
from burnout_tui.runtime import capture
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.runtime.face_policy import LargestFace
from burnout_tui.runtime.face_stages import (
    CropStage,
    FaceWork,
    ScoringStage,
    StageOrderError,
    default_stages,
)
from burnout_tui.runtime.pipeline import Pipeline, make_detector, make_pipeline
from burnout_tui.runtime.results import FaceResult
from burnout_tui.runtime.runner import SessionRunner
from burnout_tui.runtime.worker_status import NoSessionError
from burnout_tui.sources import Frame, SourceSpec, parse_source
from burnout_tui.sources.demo import DemoSource
from burnout_tui.store import StoreError
from burnout_tui.store.writer import FrameWriter
from tests.waiting import wait_until

SOURCE_STEP = 3
"""The stand-in file's frame numbers advance by this, as if its decoder skipped frames."""


class SkippingFile:
    """A file-like (not live) source whose frame numbers advance by SOURCE_STEP."""

    def __init__(self) -> None:
        self._demo = DemoSource(loop=True)
        self.label = "skipping"
        self.fps = self._demo.fps / SOURCE_STEP
        self.frame_count = None
        self.live = False

    def read(self) -> Frame | None:
        frame = self._demo.read()
        for _ in range(SOURCE_STEP - 1):
            self._demo.read()
        return frame

    def close(self) -> None:
        return None


def test_marker_without_a_session_is_a_clear_error(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana")
    with pytest.raises(NoSessionError, match="no session is open"):
        worker.add_marker("before start")
    worker.stop()
    with pytest.raises(NoSessionError, match="no session is open"):
        worker.add_marker("after stop")


def test_worker_stores_source_frame_numbers_times_stages_and_closes_its_cursors(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[duckdb.DuckDBPyConnection] = []
    real_cursor = capture.store_cursor

    def recording_cursor(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        cursor = real_cursor(connection)
        opened.append(cursor)
        return cursor

    def open_skipping(spec: SourceSpec, loop_demo: bool = False) -> SkippingFile:
        return SkippingFile()

    monkeypatch.setattr(capture, "store_cursor", recording_cursor)
    monkeypatch.setattr(capture, "open_source", open_skipping)
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana", fast=True)
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 10, "10 frames with a face")
    worker.add_marker("one")
    worker.add_marker("two")
    status = worker.status()
    session = worker.session_id
    worker.stop()
    assert status.stage_ms["decode"] > 0 and status.stage_ms["store"] > 0
    assert set(status.stage_ms) >= {"decode", "detect", "classify", "score", "store"}
    indices = [
        index
        for (index,) in con.execute(
            "SELECT frame_index FROM frames WHERE session_id = ? ORDER BY frame_index", [session]
        ).fetchall()
    ]
    assert len(indices) >= 10
    assert indices == [SOURCE_STEP * n for n in range(len(indices))]
    assert con.execute("SELECT count(*) FROM markers").fetchone() == (2,)
    assert opened, "the worker reaches the store through store_cursor"
    for cursor in opened:
        with pytest.raises(duckdb.ConnectionException):
            cursor.execute("SELECT 1")


def test_a_session_that_cannot_be_flushed_is_closed_interrupted(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that fails (disk full, say) leaves the rows it committed; the session is
    closed `interrupted` now, as the next open would, and the error still reaches `stop`."""
    worker = CaptureWorker(parse_source("demo"), loaded_config, con, "ana", fast=True)
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 5, "5 frames with a face")
    session = worker.session_id

    def failing_insert(self: FrameWriter, batch: list[object]) -> list[object]:
        raise duckdb.IOException("no space left on device")

    monkeypatch.setattr(FrameWriter, "_insert", failing_insert)
    with pytest.raises(StoreError, match="no space left"):
        worker.stop()
    assert con.execute(
        "SELECT status FROM sessions WHERE session_id = ?", [session]
    ).fetchall() == [("interrupted",)]


def test_runner_rollback_and_interrupt_end_a_session(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    """`rollback` deletes the session with its rows; `interrupt` keeps the rows and closes
    it with frames_total from the last stored frame number."""
    no_mesh = replace(loaded_config, mesh=replace(loaded_config.mesh, enabled=False))
    pipeline = make_pipeline(no_mesh, multi_user=False)
    source = DemoSource(loop=False)
    with SessionRunner(con, no_mesh, "ana", source.label, pipeline) as runner:
        kept = runner.begin()
        for _ in range(4):
            frame = runner.read(source.read)
            assert frame is not None
            runner.process(frame)
        runner.flush()
        runner.interrupt()
        assert runner.session_id is None
        removed = runner.begin()
        frame = runner.read(source.read)
        assert frame is not None
        assert runner.process(frame).faces
        runner.rollback()
    rows = con.execute("SELECT session_id, status, frames_total FROM sessions").fetchall()
    assert rows == [(kept, "interrupted", 4)]
    assert con.execute(
        "SELECT count(*) FROM frames WHERE session_id = ?", [removed]
    ).fetchone() == (0,)


def test_face_work_carries_every_result_field() -> None:
    """A stage's output reaches FaceResult by field name, so FaceWork must name them all:
    adding a stage means adding its field to both, and nothing else in the pipeline."""
    work = {field.name for field in fields(FaceWork)}
    assert {field.name for field in fields(FaceResult)} <= work


def test_default_stage_order() -> None:
    loaded_config = load_config()
    names = [
        type(stage).__name__
        for stage in default_stages(loaded_config, 1, forecaster=None, calibration=None)
    ]
    assert names == [
        "MeshStage",
        "PulseStage",
        "BlendshapeStage",
        "CropStage",
        "EmotionStage",
        "FatigueStage",
        "DrowsinessStage",
        "ScoringStage",
    ]
    without = replace(loaded_config, drowsiness=replace(loaded_config.drowsiness, enabled=False))
    stages = default_stages(without, 1, forecaster=None, calibration=None)
    assert "DrowsinessStage" not in [type(stage).__name__ for stage in stages]


def test_blendshapes_off_drops_their_stage() -> None:
    config = replace(load_config(), blendshapes=BlendshapesConfig(enabled=False))
    names = [type(s).__name__ for s in default_stages(config, 1, forecaster=None, calibration=None)]
    assert "BlendshapeStage" not in names and "MeshStage" in names


def test_a_stage_list_missing_a_stage_fails_clearly(loaded_config: Config) -> None:
    """Scoring without the emotion stage before it names what is missing."""
    pipeline = Pipeline(
        LargestFace(make_detector(loaded_config, 1), loaded_config.detection),
        [
            CropStage(),
            ScoringStage(loaded_config.scoring, None, loaded_config.calibration.min_score_std),
        ],
    )
    frame = DemoSource(loop=False).read()
    assert frame is not None
    with pytest.raises(StageOrderError, match="scoring stage needs probs"):
        pipeline.process(frame)
