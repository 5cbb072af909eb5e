"""Mean skin colour of a face per frame, from its 468-point mesh.

The pulse (`burnout_tui.signals.pulse`) is read from colour changes of a fraction of a
grey level, so the pixels averaged must be skin, follow the face as it moves, and be
many: on compressed video (the shared UBFC clips are H.264) each 8×8 chroma block carries
its own quantisation noise, and only an average over many blocks brings it below the
pulse. Small forehead and cheek patches (6-10 landmarks each) gave per-second errors of
10-25 bpm there; the whole face skin gives 1-2 bpm (docs/heart-rate.md).

So the region is the face oval (MediaPipe's silhouette) shrunk towards its centre to
`OVAL_SCALE`, which keeps the hairline, ears and background out, less the eyes with their
brows, the mouth and the nostrils. What remains is forehead, both cheeks, the nose's
bridge and the chin. Every part is the convex hull of its landmarks on this frame, so no
vertex order has to be kept as the head turns. The mean is OpenCV's masked mean over the
oval's bounding rectangle only: one small mask, no per-pixel Python.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

FACE_OVAL: tuple[int, ...] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
    377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""MediaPipe's face silhouette."""
RIGHT_EYE: tuple[int, ...] = (
    70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 133, 155, 154, 153, 145, 144, 163, 7, 33,
    130, 226, 113, 124, 35, 111, 117, 118, 119, 120, 121, 128, 245, 193,
)  # fmt: skip
"""The person's right eye with its brow and lower lid ring (the image's left)."""
LEFT_EYE: tuple[int, ...] = (
    300, 293, 334, 296, 336, 285, 295, 282, 283, 276, 362, 382, 381, 380, 374, 373, 390,
    249, 263, 359, 446, 342, 353, 265, 340, 346, 347, 348, 349, 350, 357, 465, 417,
)  # fmt: skip
"""The mirror image of RIGHT_EYE in MediaPipe's symmetric topology."""
MOUTH: tuple[int, ...] = (
    61, 291, 0, 17, 37, 267, 84, 314, 40, 270, 91, 321, 185, 409, 146, 375, 39, 269, 181, 405,
)  # fmt: skip
"""The outer lip contour."""
NOSTRILS: tuple[int, ...] = (98, 327, 2, 97, 326, 240, 460, 64, 294, 129, 358, 219, 439)
EXCLUDED: tuple[tuple[int, ...], ...] = (RIGHT_EYE, LEFT_EYE, MOUTH, NOSTRILS)

OVAL_SCALE = 0.85
"""The silhouette shrunk to 85 % about its centre: the mesh's outline sits on the face's
edge, where hair, ears and background begin; 85 % stays on skin on every shared clip and
gave lower errors on UBFC than 75 % (fewer pixels) or 100 % (edge pixels)."""
MOUTH_SCALE = 1.15
"""The lip contour grown by 15 %: the skin just around the lips moves and shades with
speech and smiles, which changes its colour far more than a pulse does."""

MIN_SKIN_PIXELS = 200
"""Fewest skin pixels a mean is taken over: fewer (a face under about 40 pixels wide)
leave camera noise far above a pulse of a fraction of a grey level."""

MAX_SAMPLED_SIDE_PX = 160
"""The mask is drawn and averaged on every k-th pixel, k chosen so the face's rectangle is
at most this many samples a side: a 300-pixel face then costs a quarter, while the mean
still spans several thousand pixels, and the noise it averages out is correlated within
8-pixel compression blocks anyway, so the skipped neighbours add little."""

Rgb = tuple[float, float, float]

_OVAL = np.asarray(FACE_OVAL)
_HOLES = tuple((np.asarray(part), MOUTH_SCALE if part is MOUTH else 1.0) for part in EXCLUDED)


def _hull(xy: npt.NDArray[np.float64], scale: float) -> npt.NDArray[np.int32]:
    centre = xy.mean(axis=0)
    scaled = np.rint(centre + (xy - centre) * scale).astype(np.int32)
    return np.asarray(cv2.convexHull(scaled), dtype=np.int32).reshape(-1, 2)


def skin_rgb(image: npt.NDArray[np.uint8], points: npt.NDArray[np.float32]) -> Rgb | None:
    """The mean (R, G, B), 0-255, of the face's skin, or None when it holds too few pixels
    (a tiny face, or one mostly outside the frame)."""
    height, width = image.shape[:2]
    xy = points[:, :2].astype(np.float64)
    oval = _hull(xy[_OVAL], OVAL_SCALE)
    x0, y0 = np.maximum(oval.min(axis=0), 0)
    x1, y1 = np.minimum(oval.max(axis=0) + 1, (width, height))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    step = max(1, -(-int(max(x1 - x0, y1 - y0)) // MAX_SAMPLED_SIDE_PX))
    sampled = image[y0:y1:step, x0:x1:step]
    offset = np.array([x0, y0], dtype=np.float64)
    mask = np.zeros(sampled.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [_hull((xy[_OVAL] - offset) / step, OVAL_SCALE)], 255)
    cv2.fillPoly(mask, [_hull((xy[part] - offset) / step, scale) for part, scale in _HOLES], 0)
    if cv2.countNonZero(mask) * step * step < MIN_SKIN_PIXELS:
        return None
    blue, green, red, _ = cv2.mean(sampled, mask=mask)
    return (red, green, blue)
