"""The built-in `demo` source: a real, public-domain face moving like a person at a desk.

It needs no camera, network or downloaded data, so `make demo` and the self-contained
tests work on a fresh machine. The motion (slow zoom, drift, head roll, light changes) is
there so detection, alignment and tracking do real work rather than seeing one frame, and
the face goes through a cycle of expressions (smile, sad, neutral, surprise, angry; warped
from the portrait along its face mesh, `expressions.py`) so the emotion probabilities, the
sparklines and the score move as they would with a person.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.sources.expressions import FaceWarp, expression_at, load_landmarks
from burnout_tui.sources.frame import Frame

ASSET = Path(__file__).resolve().parent / "assets" / "astronaut.jpg"

DEMO_FPS = 25.0
DEMO_SIZE = (640, 480)
"""Width and height of a typical webcam frame."""

DEMO_SECONDS = 12.0
"""Length of one pass; `analyze demo` processes one pass, `monitor` loops."""

ZOOM_RANGE = (1.0, 1.35)
"""Relative to filling the frame's width, so no border (and no mirrored second face) shows."""

FOCUS = (0.47, 0.33)
"""Where the face sits in the asset, as fractions of its width and height; kept near the
frame's upper middle, where a webcam usually sees a face."""

FOCUS_IN_FRAME = (0.5, 0.42)
ROLL_DEGREES = 8.0
DRIFT_PIXELS = 40.0
BRIGHTNESS_SWING = 0.12
EXPRESSION_PERIOD_S = DEMO_SECONDS
"""One cycle through every expression per pass: `analyze demo` sees each once, and the
tests that analyse the demo stay as short as before. About 2.4 s per expression, longer
than the 30-frame rolling score, so the score settles on each before the next."""

EXPRESSION_HOLD_SHARE = 0.55
"""Share of each expression's slot it is held; the rest blends into the next (1.3 s held,
1.1 s changing)."""

MOTION_PERIOD_S = (9.0, 5.0, 7.0, 11.0)
"""Periods of zoom, roll, drift and light, in seconds: mutually incommensurate so the
motion never visibly repeats."""


def _load_asset() -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(ASSET), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"demo asset missing: {ASSET}")
    return np.asarray(image, dtype=np.uint8)


def render_demo_frame(
    face: npt.NDArray[np.uint8], t: float, size: tuple[int, int] = DEMO_SIZE
) -> npt.NDArray[np.uint8]:
    """The demo frame at time `t`; pure, so tests can render any instant."""
    width, height = size
    zoom_p, roll_p, drift_p, light_p = MOTION_PERIOD_S
    low, high = ZOOM_RANGE
    zoom = low + (high - low) * 0.5 * (1 + math.sin(2 * math.pi * t / zoom_p))
    roll = ROLL_DEGREES * math.sin(2 * math.pi * t / roll_p)
    dx = DRIFT_PIXELS * math.sin(2 * math.pi * t / drift_p)
    scale = zoom * width / face.shape[1]
    focus = (FOCUS[0] * face.shape[1], FOCUS[1] * face.shape[0])
    matrix = cv2.getRotationMatrix2D(focus, roll, scale)
    matrix[0, 2] += FOCUS_IN_FRAME[0] * width - focus[0] + dx
    matrix[1, 2] += FOCUS_IN_FRAME[1] * height - focus[1]
    frame = cv2.warpAffine(face, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    gain = 1.0 + BRIGHTNESS_SWING * math.sin(2 * math.pi * t / light_p)
    return np.asarray(cv2.convertScaleAbs(frame, alpha=gain), dtype=np.uint8)


def demo_face(warp: FaceWarp, t: float) -> npt.NDArray[np.uint8]:
    """The portrait with the expression of time `t` (pure, like `render_demo_frame`)."""
    return warp.render(expression_at(t, EXPRESSION_PERIOD_S, EXPRESSION_HOLD_SHARE))


class DemoSource:
    def __init__(self, loop: bool = False, seconds: float = DEMO_SECONDS) -> None:
        self.label = "demo"
        self.fps = DEMO_FPS
        self.live = False
        self._loop = loop
        self._total = round(seconds * DEMO_FPS)
        self.frame_count: int | None = None if loop else self._total
        self._warp = FaceWarp(_load_asset(), load_landmarks())
        self._index = 0
        self._grabbed = 0

    def grab(self) -> float | None:
        """Advance without rendering: a skipped demo frame costs nothing, as a grabbed
        but not decoded camera frame."""
        if not self._loop and self._index >= self._total:
            return None
        self._grabbed = self._index
        self._index += 1
        return self._grabbed / self.fps

    def retrieve(self) -> Frame | None:
        ts = self._grabbed / self.fps
        return Frame(self._grabbed, ts, render_demo_frame(demo_face(self._warp, ts), ts))

    def read(self) -> Frame | None:
        return None if self.grab() is None else self.retrieve()

    def close(self) -> None:
        return None
