"""Face crops for the emotion model: rotated so the eyes are level, framed like FER2013.

The emotion model was trained on FER2013, whose faces are upright and fill the image in
a consistent way. `aligned_crop` reproduces that framing from MTCNN's five keypoints
with one `cv2.warpAffine`: the rotation levels the eye line exactly, and the scale and
position are the least-squares fit (at that rotation) of the five keypoints onto
`FER_TEMPLATE`, the median keypoint layout of FER2013's training faces. Fitting all five
points, not just the eyes, makes the scale steadier than the eye distance alone when a
turned head shortens it.

`box_crop` is the unaligned alternative (a square around the detector's box), kept for
the alignment study in models/README.md and as the fallback for faces without keypoints.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.vision.face import KEYPOINT_NAMES, Face

CROP_SIZE = 64
"""The emotion model's input side, so its resize is a no-op; also enough pixels for the
eye and mouth openness cues. FER2013's own 48 px scored the same within noise in the
alignment study, but would leave the eye patches a handful of pixels tall."""

FER_TEMPLATE: npt.NDArray[np.float64] = np.array(
    [
        (0.315, 0.386),  # left_eye
        (0.685, 0.386),  # right_eye
        (0.500, 0.590),  # nose
        (0.345, 0.775),  # mouth_left
        (0.655, 0.775),  # mouth_right
    ]
)
"""Keypoints in FER2013's framing, as fractions of the image side, in KEYPOINT_NAMES order:
the median over 4388 training faces found by FaceDetector, made left-right symmetric so
the template itself adds no tilt (`python -m tools.alignment_study` prints it)."""

DEFAULT_MARGIN = 0.0
"""Extra context around FER2013's framing: the crop side is (1 + margin) times FER2013's.
0, the framing the model was trained on, scored best in the alignment study
(models/README.md); -0.1 was 0.2-0.5 points worse, 0.15 and 0.3 lost 2-7 points."""

BOX_MARGIN = 0.0
"""Context around MTCNN's box for `box_crop`, as a fraction of the box side. MTCNN's box
is about as tall as a FER2013 image (median 1.03 of its side), so 0 already comes close
to FER2013's framing; 0.2 lost 3-4 points in the study."""

MIN_EYE_DISTANCE_PX = 1.0
"""Below this the keypoints are degenerate: no rotation or scale can be read from them."""

Matrix = npt.NDArray[np.float64]


def keypoint_array(face: Face) -> npt.NDArray[np.float64] | None:
    """(5, 2) keypoints in KEYPOINT_NAMES order, or None when the detector gave none."""
    if not all(name in face.keypoints for name in KEYPOINT_NAMES):
        return None
    return np.array([face.keypoints[name] for name in KEYPOINT_NAMES], dtype=np.float64)


def alignment_matrix(points: npt.NDArray[np.float64], size: int, margin: float) -> Matrix:
    """The 2x3 similarity taking frame keypoints into the `size`-pixel aligned crop."""
    left_eye, right_eye = points[0], points[1]
    angle = math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])
    cos, sin = math.cos(angle), math.sin(angle)
    rotation = np.array([[cos, sin], [-sin, cos]])  # by -angle: the eye line onto the x axis
    target = ((FER_TEMPLATE - 0.5) / (1.0 + margin) + 0.5) * size
    source_mean, target_mean = points.mean(axis=0), target.mean(axis=0)
    rotated = (points - source_mean) @ rotation.T
    scale = float(np.sum(rotated * (target - target_mean)) / np.sum(rotated * rotated))
    linear = scale * rotation
    return np.hstack([linear, (target_mean - linear @ source_mean)[:, None]])


def box_matrix(face: Face, size: int, margin: float) -> Matrix:
    """The 2x3 scale-and-shift taking a square around the face's box onto the crop."""
    x, y, w, h = face.box
    side = max(w, h) * (1.0 + margin)
    scale = size / side
    center_x, center_y = x + w / 2.0, y + h / 2.0
    return np.array(
        [
            [scale, 0.0, size / 2.0 - scale * center_x],
            [0.0, scale, size / 2.0 - scale * center_y],
        ]
    )


def _warp(
    frame_bgr: npt.NDArray[np.uint8], matrix: Matrix, size: int, gray: bool
) -> npt.NDArray[np.uint8]:
    """Warp first, convert after: the colour conversion then touches size² pixels only.

    Borders replicate the edge rather than paint black: a face at the frame's edge then
    gets a smear instead of a hard black edge, which the model never saw in training.
    """
    crop = cv2.warpAffine(
        frame_bgr,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if gray and crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return np.asarray(crop, dtype=np.uint8)


def box_crop(
    frame_bgr: npt.NDArray[np.uint8],
    face: Face,
    size: int = CROP_SIZE,
    margin: float = BOX_MARGIN,
    gray: bool = True,
) -> npt.NDArray[np.uint8]:
    """Square crop centred on the detector's box, no rotation."""
    return _warp(frame_bgr, box_matrix(face, size, margin), size, gray)


def aligned_crop(
    frame_bgr: npt.NDArray[np.uint8],
    face: Face,
    size: int = CROP_SIZE,
    margin: float = DEFAULT_MARGIN,
    gray: bool = True,
) -> npt.NDArray[np.uint8]:
    """Eye-levelled crop in FER2013's framing; gray for the model, `gray=False` for overlays.

    Falls back to `box_crop` for a face without usable keypoints rather than failing the
    frame; the features of such a face are NaN, so the fallback stays visible in the store.
    """
    points = keypoint_array(face)
    if points is None or np.hypot(*(points[1] - points[0])) < MIN_EYE_DISTANCE_PX:
        return box_crop(frame_bgr, face, size, gray=gray)
    return _warp(frame_bgr, alignment_matrix(points, size, margin), size, gray)
