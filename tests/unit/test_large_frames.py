"""A 4000×3000 clip: faces found on a downscaled copy, stored in source pixels, bounded memory.

Each `analyze` runs under a small wrapper process, so `RUSAGE_CHILDREN` there measures
that one run and nothing else this test session started.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import duckdb
import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.config import DetectionConfig
from burnout_tui.sources.demo import ASSET as ASTRONAUT
from burnout_tui.vision.detector import FaceDetector
from tests.integration.test_detector import iou

LARGE = (4000, 3000)
SMALL = (640, 480)
FACE_SIDE = 3000
"""The 512×512 astronaut scaled to fill the large frame's height, centred."""
FRAMES = 3
MIN_IOU = 0.8
"""Stored box against the photo's own detection scaled into the large frame. The large
frame's R-Net and O-Net sample a 6× upscaled face, so boxes differ a little, not more."""
MAX_GROWTH_MB = 150
"""Peak RSS of the 4000×3000 run above the same clip at 640×480. What cannot shrink is
decoding: OpenCV's FFmpeg backend holds a YUV frame and a BGR buffer and hands out 36 MB
arrays (about 100 MB measured); before detection ran on a capped copy the growth was
760 MB (1175 MB peak against 416 MB)."""
KB = 1024


def astronaut_canvas(size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    face = cv2.resize(cv2.imread(str(ASTRONAUT)), (FACE_SIDE, FACE_SIDE))
    canvas = np.zeros((LARGE[1], LARGE[0], 3), dtype=np.uint8)
    left = (LARGE[0] - FACE_SIDE) // 2
    canvas[:, left : left + FACE_SIDE] = face
    if size == LARGE:
        return canvas
    return np.asarray(cv2.resize(canvas, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def write_clip(path: Path, size: tuple[int, int]) -> Path:
    image = astronaut_canvas(size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, size)
    for _ in range(FRAMES):
        writer.write(image)
    writer.release()
    return path


def analyse_measured(clip: Path, db: Path) -> tuple[dict[str, object], float]:
    """`analyze --json` in a grandchild; its JSON and its peak RSS in MB."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(done.returncode, peak)\n"
        "print(done.stdout)\n"
    )
    command = [sys.executable, "-m", "burnout_tui.cli", "analyze", str(clip), "--db", str(db)]
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command, "--json"],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    status, rest = done.stdout.split("\n", 1)
    returncode, peak_kb = (int(value) for value in status.split())
    assert returncode == 0, done.stderr
    return json.loads(rest), peak_kb / KB


def expected_box() -> tuple[int, int, int, int]:
    """Where the astronaut's face is in the large frame: found in the photo, scaled."""
    photo = cv2.imread(str(ASTRONAUT))
    (face,) = FaceDetector().detect(photo)
    scale = FACE_SIDE / photo.shape[1]
    left = (LARGE[0] - FACE_SIDE) // 2
    x, y, w, h = face.box
    return (round(x * scale + left), round(y * scale), round(w * scale), round(h * scale))


@pytest.mark.slow
def test_large_clip_boxes_in_source_pixels_and_bounded_memory(tmp_path: Path) -> None:
    assert max(LARGE) > DetectionConfig().max_side
    large, large_peak = analyse_measured(write_clip(tmp_path / "large.avi", LARGE), tmp_path / "l")
    small, small_peak = analyse_measured(write_clip(tmp_path / "small.avi", SMALL), tmp_path / "s")
    assert large["face_frames"] == FRAMES and small["face_frames"] == FRAMES
    con = duckdb.connect(str(tmp_path / "l"), read_only=True)
    boxes = con.execute("SELECT box_x, box_y, box_w, box_h FROM frames").fetchall()
    con.close()
    assert len(boxes) == FRAMES
    target = expected_box()
    for box in boxes:
        assert iou(box, target) >= MIN_IOU, (box, target)
    growth = large_peak - small_peak
    assert growth < MAX_GROWTH_MB, f"peak {large_peak:.0f} MB vs {small_peak:.0f} MB at 640×480"
