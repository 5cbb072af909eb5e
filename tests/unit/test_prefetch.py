"""Decode-ahead reading and the frame rate limit (`monitor --rate`, `[capture] max_fps`).

The reader ahead of inference must hand over exactly the frames a plain read gives, pass
a source's error on and stop promptly; a rate keeps the analysed frames within 10 % of
what was asked (counted over the frames' own timestamps, not wall time), skips the rest
without decoding them, and never counts them as dropped.
"""

from __future__ import annotations

import random
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from burnout_tui.cli.main import cli
from burnout_tui.config import Config
from burnout_tui.runtime.capture import CaptureWorker
from burnout_tui.runtime.prefetch import DecodeAhead, RateGate, read_due
from burnout_tui.sources import Frame, parse_source
from burnout_tui.sources import demo as demo_module
from burnout_tui.sources.demo import DEMO_FPS, DemoSource
from burnout_tui.sources.video import VideoSource
from tests.waiting import wait_until

RATE_TOLERANCE = 0.10
"""The issue's bound: the analysed rate within ±10 % of `--rate`."""

CLIP_FRAMES = 24
CLIP_FPS = 30.0
CLIP_SIZE = (64, 48)


def kept(max_fps: float, source_fps: float, timestamps: list[float]) -> list[float]:
    gate = RateGate(max_fps, source_fps)
    return [ts for ts in timestamps if gate.due(ts)]


def test_rate_gate_keeps_the_asked_rate_whatever_the_ratio() -> None:
    seconds = 10
    timestamps = [index / CLIP_FPS for index in range(round(seconds * CLIP_FPS))]
    assert len(kept(0.0, CLIP_FPS, timestamps)) == len(timestamps)
    assert len(kept(2 * CLIP_FPS, CLIP_FPS, timestamps)) == len(timestamps)
    assert kept(10.0, CLIP_FPS, timestamps) == timestamps[::3]
    assert abs(len(kept(7.0, CLIP_FPS, timestamps)) - 7 * seconds) <= 1


def test_rate_gate_lets_a_jittery_camera_through_at_its_own_rate() -> None:
    """A camera's timestamps wobble by milliseconds; at a rate equal to the camera's, no
    frame may be refused for arriving a little early."""
    jitter = random.Random(12)
    period = 1.0 / CLIP_FPS
    timestamps = [n * period + jitter.uniform(-0.1, 0.1) * period for n in range(300)]
    gate = RateGate(CLIP_FPS, CLIP_FPS)
    assert all(gate.due(ts) for ts in timestamps)
    assert gate.skipped == 0


def test_skipped_demo_frames_are_never_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[float] = []
    real_render = demo_module.render_demo_frame

    def counting_render(face: np.ndarray, t: float) -> np.ndarray:  # type: ignore[type-arg]
        rendered.append(t)
        return real_render(face, t)

    monkeypatch.setattr(demo_module, "render_demo_frame", counting_render)
    step = 5
    with closing(DecodeAhead(DemoSource(seconds=2.0), max_fps=DEMO_FPS / step)) as ahead:
        frames = list(iter(ahead.read, None))
        assert ahead.skipped == round(2.0 * DEMO_FPS) - len(frames)
    assert [frame.index for frame in frames] == list(range(0, round(2.0 * DEMO_FPS), step))
    assert len(rendered) == len(frames)


def write_clip(path: Path) -> list[np.ndarray]:  # type: ignore[type-arg]
    """A short clip whose frames differ (a moving bar), lossless so frames compare exactly."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"FFV1"), CLIP_FPS, CLIP_SIZE)
    images = []
    for index in range(CLIP_FRAMES):
        image = np.zeros((CLIP_SIZE[1], CLIP_SIZE[0], 3), dtype=np.uint8)
        image[:, index * 2 : index * 2 + 4] = 255
        writer.write(image)
        images.append(image)
    writer.release()
    return images


def test_video_file_read_ahead_and_grab_skipping_match_plain_reads(tmp_path: Path) -> None:
    path = tmp_path / "bar.avi"
    images = write_clip(path)
    spec = parse_source(str(path))
    plain = VideoSource(spec)
    expected = list(iter(plain.read, None))
    plain.close()
    assert len(expected) == CLIP_FRAMES
    pairs = zip(expected, images, strict=True)
    assert all(np.array_equal(frame.image, image) for frame, image in pairs)

    source = VideoSource(spec)
    with closing(DecodeAhead(source)) as ahead:
        ahead_frames = list(iter(ahead.read, None))
    source.close()
    assert [(f.index, f.ts) for f in ahead_frames] == [(f.index, f.ts) for f in expected]
    pairs = zip(ahead_frames, expected, strict=True)
    assert all(np.array_equal(a.image, b.image) for a, b in pairs)

    source = VideoSource(spec)
    gate = RateGate(CLIP_FPS / 4, CLIP_FPS)
    sparse = list(iter(lambda: read_due(source, gate), None))
    source.close()
    assert [frame.index for frame in sparse] == list(range(0, CLIP_FRAMES, 4))
    assert all(np.array_equal(frame.image, images[frame.index]) for frame in sparse)


class FailingSource:
    """A file-like source whose decoder fails after a few frames."""

    def __init__(self) -> None:
        self._demo = DemoSource(loop=True)
        self.label = "failing"
        self.fps = DEMO_FPS
        self.frame_count = None
        self.live = False

    def read(self) -> Frame | None:
        frame = self._demo.read()
        if frame is not None and frame.index == 3:
            raise OSError("decoder gave up")
        return frame

    def close(self) -> None:
        return None


def test_a_source_error_reaches_the_reader_and_close_does_not_wait_on_a_full_queue() -> None:
    with closing(DecodeAhead(FailingSource())) as ahead:
        assert [ahead.read() for _ in range(3)] != [None] * 3
        with pytest.raises(OSError, match="decoder gave up"):
            ahead.read()
        assert ahead.read() is None
    endless = DecodeAhead(DemoSource(loop=True))
    wait_until(lambda: endless._queue.full(), "the queue to fill")
    endless.close()
    assert not endless._thread.is_alive()


def stored_indices(con: duckdb.DuckDBPyConnection, session_id: int | None) -> list[int]:
    rows = con.execute(
        "SELECT frame_index FROM frames WHERE session_id = ? ORDER BY frame_index", [session_id]
    ).fetchall()
    return [index for (index,) in rows]


def analysed_rate(indices: list[int]) -> float:
    """Analysed frames per second of source time (the demo's frames are 1/25 s apart)."""
    return (len(indices) - 1) / ((indices[-1] - indices[0]) / DEMO_FPS)


@pytest.mark.parametrize("rate", [5.0, 10.0])
def test_monitor_rate_is_honoured_over_source_time(
    loaded_config: Config, con: duckdb.DuckDBPyConnection, rate: float
) -> None:
    config = replace(loaded_config, capture=replace(loaded_config.capture, max_fps=rate))
    worker = CaptureWorker(parse_source("demo"), config, con, "ana", fast=True)
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 20, "20 analysed frames")
    session = worker.session_id
    worker.stop()
    indices = stored_indices(con, session)
    assert abs(analysed_rate(indices) - rate) <= RATE_TOLERANCE * rate, indices


@pytest.mark.slow
def test_frames_skipped_for_the_rate_are_not_counted_as_dropped(
    loaded_config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    """At the demo's native pace, a rate of 5 frames/s skips four frames in five; the
    analysis keeps up easily, so nothing should be dropped. Were skips counted, there
    would be four drops per analysed frame; the bound (fewer than one) leaves room for a
    CPU shared with other work."""
    rate = 5.0
    config = replace(loaded_config, capture=replace(loaded_config.capture, max_fps=rate))
    worker = CaptureWorker(parse_source("demo"), config, con, "ana")
    worker.start()
    wait_until(lambda: worker.status().face_frames >= 12, "12 analysed frames")
    status = worker.status()
    session = worker.session_id
    worker.stop()
    assert status.dropped < status.frames, status
    indices = stored_indices(con, session)
    assert abs(analysed_rate(indices) - rate) <= RATE_TOLERANCE * rate, indices


@pytest.mark.parametrize(("rate", "message"), [("-1", "x>=0"), ("inf", "finite")])
def test_a_bad_rate_is_one_line(rate: str, message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["monitor", "--source", "demo", "--rate", rate, "--db", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.duckdb").exists()
