"""`--record`: the analysed video with boxes, ids, top emotion and score drawn on it.

Drawing and encoding run on their own thread behind a bounded queue, so the analysis
thread only hands over a frame and its result; the queue blocks when full, which keeps
every frame (the file has the source's frame count) and bounds memory. The writer is
released in a `finally`, so a Ctrl-C still leaves a playable file.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.errors import UserError
from burnout_tui.folders import make_private_dirs, remove_created
from burnout_tui.runtime.results import FrameResult

CODECS: dict[str, str] = {".mp4": "mp4v", ".avi": "MJPG"}
"""FourCCs OpenCV's bundled FFmpeg can always write: MPEG-4 Part 2 in MP4, Motion JPEG
in AVI. H.264 would be smaller but is missing from many OpenCV builds."""

QUEUE_FRAMES = 16
"""Frames waiting to be encoded. Enough to ride out an encoder hiccup; at 1080p that is
about 100 MB, which is why it is not larger."""

PROBE_SIZE = (16, 16)
"""Frame size of the throw-away writer that checks a path is writable before starting."""

BOX_COLOUR = (0, 200, 0)
TEXT_COLOUR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.5
LINE_PX = 2
LABEL_PAD_PX = 4


class RecordingError(UserError):
    """A recording cannot be made: unknown extension or an unwritable path."""


def check_output(path: Path) -> Path:
    """Reject a path we could not record to, before any model or database is opened.

    A missing folder is created (0700, every level), as `report --out` does."""
    path = path.expanduser()
    suffix = path.suffix.lower()
    if suffix not in CODECS:
        known = ", ".join(CODECS)
        raise RecordingError(f"cannot record to {path}: use one of {known}")
    if path.is_dir():
        raise RecordingError(f"cannot record to {path}: it is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        created = make_private_dirs(parent)
    except OSError as error:
        raise RecordingError(
            f"cannot record to {path}: cannot create folder {parent}: {error.strerror}"
        ) from None
    if not os.access(parent, os.W_OK):
        raise RecordingError(f"cannot record to {path}: {parent} is not a writable folder")
    existed = path.exists()
    probe = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*CODECS[suffix]), 1.0, PROBE_SIZE)
    opened = probe.isOpened()
    probe.release()
    if not existed:
        path.unlink(missing_ok=True)
    if not opened:
        remove_created(created)
        raise RecordingError(f"cannot record to {path}: OpenCV cannot write {suffix} there")
    return path


def _label(result_track: int, names: Mapping[int, str]) -> str:
    return names.get(result_track, f"#{result_track}")


def draw_overlay(
    image: npt.NDArray[np.uint8], result: FrameResult, names: Mapping[int, str]
) -> npt.NDArray[np.uint8]:
    """A copy of `image` with each face's box, id (or name), top emotion and score."""
    out = image.copy()
    for face in result.faces:
        x, y, w, h = face.face.box
        emotion = EMOTIONS[int(np.argmax(face.probs))]
        text = f"{_label(face.track_id, names)} {emotion} {face.rolling_score:+.2f}"
        cv2.rectangle(out, (x, y), (x + w, y + h), BOX_COLOUR, LINE_PX)
        (tw, th), base = cv2.getTextSize(text, FONT, FONT_SCALE, 1)
        top = max(y - th - base - LABEL_PAD_PX, 0)
        cv2.rectangle(out, (x, top), (x + tw + LABEL_PAD_PX, top + th + base + 2), BOX_COLOUR, -1)
        cv2.putText(out, text, (x + 2, top + th + 1), FONT, FONT_SCALE, TEXT_COLOUR, 1, cv2.LINE_AA)
    return out


@dataclass(frozen=True, slots=True)
class _Item:
    image: npt.NDArray[np.uint8]
    result: FrameResult
    names: Mapping[int, str]


class Recorder:
    """Writes annotated frames to `path` at `fps` from a background thread.

    The writer opens on the first frame, whose size fixes the video's; later frames of
    another size (a camera that renegotiated) are scaled to it.
    """

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self.frames_written = 0
        self.error: str | None = None
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def put(
        self, image: npt.NDArray[np.uint8], result: FrameResult, names: Mapping[int, str]
    ) -> None:
        """Queue one frame; blocks only while the encoder is QUEUE_FRAMES behind."""
        if self._closed or not self._thread.is_alive():
            return
        self._queue.put(_Item(image, result, dict(names)))

    def close(self) -> None:
        """Encode what is queued, then finalise the file. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        writer: cv2.VideoWriter | None = None
        size: tuple[int, int] | None = None
        try:
            while (item := self._queue.get()) is not None:
                image = draw_overlay(item.image, item.result, item.names)
                if writer is None:
                    size = (image.shape[1], image.shape[0])
                    fourcc = cv2.VideoWriter.fourcc(*CODECS[self.path.suffix.lower()])
                    writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, size)
                    if not writer.isOpened():
                        self.error = f"cannot write {self.path}"
                        return
                if size is not None and (image.shape[1], image.shape[0]) != size:
                    writer.write(cv2.resize(image, size))
                else:
                    writer.write(image)
                self.frames_written += 1
        finally:
            if writer is not None:
                writer.release()
            self._drain()

    def _drain(self) -> None:
        """After a failure, empty the queue so a blocked `put` or `close` returns."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


def announce(path: Path) -> None:
    """The stderr line `analyze` prints: a recording holds faces, so say it is on."""
    sys.stderr.write(f"recording to {path} (the video shows faces; delete it when done)\n")


__all__ = ["CODECS", "Recorder", "RecordingError", "announce", "check_output", "draw_overlay"]
