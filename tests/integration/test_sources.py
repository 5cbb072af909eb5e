"""Source parsing and opening: what a user can type after --source, and what they get."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from burnout_tui.sources import SourceError, SourceKind, open_source, parse_source
from burnout_tui.sources.demo import DEMO_SIZE, DemoSource


@pytest.mark.parametrize(
    ("text", "kind", "index"),
    [
        ("0", SourceKind.CAMERA, 0),
        ("2", SourceKind.CAMERA, 2),
        ("/dev/video1", SourceKind.CAMERA, 1),
        ("demo", SourceKind.DEMO, None),
        ("DEMO", SourceKind.DEMO, None),
        ("rtsp://127.0.0.1:8554/cam", SourceKind.STREAM, None),
        ("http://127.0.0.1:8080/video.mjpg", SourceKind.STREAM, None),
    ],
)
def test_parse_source_kinds(text: str, kind: SourceKind, index: int | None) -> None:
    spec = parse_source(text)
    assert spec.kind is kind
    assert spec.camera_index == index


def test_parse_source_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        parse_source(str(tmp_path / "nope.mp4"))


def test_parse_source_rejects_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a file"):
        parse_source(str(tmp_path))


def test_non_video_file_is_refused_with_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n")
    with pytest.raises(SourceError) as caught:
        open_source(parse_source(str(bogus)))
    assert "\n" not in str(caught.value)


def test_demo_is_finite_deterministic_and_webcam_sized() -> None:
    first = DemoSource(seconds=0.4)
    second = DemoSource(seconds=0.4)
    frames = []
    while (frame := first.read()) is not None:
        frames.append(frame)
        other = second.read()
        assert other is not None
        np.testing.assert_array_equal(frame.image, other.image)
    assert len(frames) == first.frame_count == 10
    assert frames[0].image.shape == (DEMO_SIZE[1], DEMO_SIZE[0], 3)
    assert frames[1].ts == pytest.approx(1 / first.fps)
    assert not np.array_equal(frames[0].image, frames[-1].image), "the demo should move"


def test_looping_demo_never_ends() -> None:
    source = open_source(parse_source("demo"), loop_demo=True)
    assert source.frame_count is None
    for _ in range(5):
        assert source.read() is not None


def test_video_file_reads_in_media_time(tmp_path: Path) -> None:
    path = tmp_path / "tiny.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for value in range(0, 250, 50):
        writer.write(np.full((48, 64, 3), value, dtype=np.uint8))
    writer.release()
    source = open_source(parse_source(str(path)))
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    assert source.fps == pytest.approx(10.0)
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[-1].ts == pytest.approx(0.4)
    assert not source.live


@pytest.mark.shared_data
def test_shared_clip_opens(shared_data: Path) -> None:
    source = open_source(parse_source(str(shared_data / "videos" / "liveportrait_d3.mp4")))
    frame = source.read()
    source.close()
    assert frame is not None and frame.image.dtype == np.uint8
    assert source.frame_count is not None and source.frame_count > 100
