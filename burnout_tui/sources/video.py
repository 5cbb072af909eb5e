"""Files, cameras and streams, all read through OpenCV's VideoCapture (FFmpeg / V4L2)."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.sources.frame import Frame
from burnout_tui.sources.spec import SourceError, SourceKind, SourceSpec

FALLBACK_FPS = 25.0
"""Used when a container or camera reports no frame rate (OpenCV then says 0)."""

OPENCV_LOG_LEVEL = cv2.utils.logging.LOG_LEVEL_ERROR
"""OpenCV warns on stderr for every backend it tries; our own one-line errors say it better."""

cv2.utils.logging.setLogLevel(OPENCV_LOG_LEVEL)

FFMPEG_QUIET = "-8"
"""FFmpeg's AV_LOG_QUIET: its own complaints ("moov atom not found") would otherwise reach
stderr beside our one-line error. Set OPENCV_FFMPEG_LOGLEVEL yourself to debug a stream."""

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", FFMPEG_QUIET)

MAX_PLAUSIBLE_FPS = 240.0
"""Some streams report absurd rates (e.g. 90000, the RTP clock); treat those as unknown."""


class VideoSource:
    """A cv2.VideoCapture with the first frame read eagerly.

    Reading the first frame at open time is what turns "not a video", "unsupported codec"
    and "camera busy" into one clear error before any session is created.
    """

    def __init__(self, spec: SourceSpec) -> None:
        self.label = spec.label
        self.live = spec.kind is not SourceKind.FILE
        if spec.kind is SourceKind.FILE and cv2.haveImageReader(spec.value):
            raise SourceError(still_image_refusal(spec.value))
        if spec.kind is SourceKind.CAMERA:
            assert spec.camera_index is not None, "parse_source sets it for every camera"
            capture = cv2.VideoCapture(spec.camera_index)
        else:
            capture = cv2.VideoCapture(spec.value, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            raise SourceError(_open_failure(spec))
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise SourceError(_open_failure(spec))
        self._capture = capture
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps <= MAX_PLAUSIBLE_FPS else FALLBACK_FPS
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count: int | None = count if (not self.live and count > 0) else None
        self._pending: npt.NDArray[np.uint8] | None = np.ascontiguousarray(first)
        self._index = -1
        self._ts = 0.0
        self._started = time.monotonic()

    def grab(self) -> float | None:
        """Advance to the next frame without decoding it (the eagerly read first frame
        counts as grabbed first); its timestamp, or None at the end."""
        if self._index >= 0:
            self._pending = None
            if not self._capture.grab():
                return None
        self._index += 1
        self._ts = time.monotonic() - self._started if self.live else self._index / self.fps
        return self._ts

    def retrieve(self) -> Frame | None:
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, decoded = self._capture.retrieve()
            if not ok or decoded is None:
                return None
            image = np.ascontiguousarray(decoded)
        return Frame(self._index, self._ts, image)

    def read(self) -> Frame | None:
        return None if self.grab() is None else self.retrieve()

    def close(self) -> None:
        self._capture.release()


def still_image_refusal(path: str) -> str:
    """FFmpeg opens a JPEG or PNG as a one-frame video, which would be stored as a complete
    session of one frame: no rolling score, volatility or blink rate means anything there.
    OpenCV's own image-signature check (`cv2.haveImageReader`) spots such files."""
    return (
        f"cannot analyse {path}: it is a still image, not a video (a session needs frames"
        " over time; `burnout-tui report gradcam --image` explains one photo)"
    )


def _open_failure(spec: SourceSpec) -> str:
    if spec.kind is SourceKind.CAMERA:
        return f"cannot open {spec.label}: no camera there, or another program is using it"
    if spec.kind is SourceKind.STREAM:
        return f"cannot open stream {spec.value}: unreachable or not a video stream"
    return f"cannot read {spec.value}: not a video file, or a codec OpenCV cannot decode"
