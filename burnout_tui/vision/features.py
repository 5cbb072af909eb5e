"""Per-face geometry and fatigue cues from the five keypoints and the aligned crop.

Every feature is scale-free (distances are divided by the inter-ocular distance, the
eye-centre to eye-centre length), so a user leaning towards the camera does not look
like a change of expression. They are cues for the stored time series and a later
sequence model, not measurements: MTCNN's keypoints are a few pixels noisy, and the
ratios inherit that noise, more so on small faces.

Sign conventions, in image coordinates (x right, y down):
- `roll_deg`: angle of the line from the image-left eye to the image-right eye,
  positive when the image-right eye is lower (the head tilts clockwise on screen).
- `yaw`: the nose's offset from the eye midpoint along the eye line, in inter-ocular
  units, positive towards the image's right. A cue, not an angle: it also moves with
  MTCNN's nose placement and with face shape.

`eye_open` and `mouth_open` are unitless shares in [0, 1] read from the aligned crop
(see `openness`), higher when open; they are relative cues, not distances.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui import FEATURE_NAMES
from burnout_tui.vision.align import (
    DEFAULT_MARGIN,
    MIN_EYE_DISTANCE_PX,
    alignment_matrix,
    keypoint_array,
)
from burnout_tui.vision.face import Face

EYE_HALF_WIDTH = 0.25
EYE_HALF_HEIGHT = 0.15
"""Eye patch half-extents in inter-ocular units: an eye is about half an inter-ocular
distance wide, and the brow's lower edge sits about 0.25 above the eye centre, so the
patch covers the lids and stops short of the brow."""

MOUTH_INSET = 0.10
"""Fraction of the mouth width dropped at each corner, where cheek folds add edges that
do not change with opening."""
MOUTH_ABOVE = 0.15
MOUTH_BELOW = 0.35
"""Mouth patch extent above and below the corner line, in inter-ocular units: short of
the nostrils, deep enough for the lower lip of an open mouth."""


@dataclass(frozen=True, slots=True)
class FaceGeometry:
    """One face's features, in FEATURE_NAMES order."""

    roll_deg: float
    yaw: float
    mouth_width: float
    eye_mouth: float
    eye_open: float
    mouth_open: float

    def vector(self) -> npt.NDArray[np.float32]:
        return np.array(astuple(self), dtype=np.float32)


NAN_GEOMETRY = FaceGeometry(*(math.nan for _ in FEATURE_NAMES))
"""What a face without usable keypoints stores: missing, not zero, which would read as a value."""


def keypoint_ratios(points: npt.NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Roll (degrees), yaw cue, mouth width and eye-to-mouth distance from (5, 2) keypoints."""
    left_eye, right_eye, nose, mouth_left, mouth_right = points
    eye_vector = right_eye - left_eye
    eye_distance = float(np.hypot(*eye_vector))
    if eye_distance < MIN_EYE_DISTANCE_PX:
        return math.nan, math.nan, math.nan, math.nan
    eye_axis = eye_vector / eye_distance
    eye_mid = (left_eye + right_eye) / 2.0
    mouth_mid = (mouth_left + mouth_right) / 2.0
    roll = math.degrees(math.atan2(eye_vector[1], eye_vector[0]))
    yaw = float(np.dot(nose - eye_mid, eye_axis)) / eye_distance
    mouth_width = float(np.hypot(*(mouth_right - mouth_left))) / eye_distance
    eye_mouth = float(np.hypot(*(mouth_mid - eye_mid))) / eye_distance
    return roll, yaw, mouth_width, eye_mouth


def vertical_edge_share(patch: npt.NDArray[np.float32]) -> float:
    """Share of vertical edges, mean|dI/dx| / (mean|dI/dx| + mean|dI/dy|), in [0, 1].

    A closed eye or mouth is a horizontal line (lid, lips), whose edges are all in
    dI/dy. Opening it adds vertical structure, the iris's sides and the eye corners, or
    the mouth's rounded sides, teeth and cavity, so the share rises. A ratio of two
    gradient means, it does not change with brightness or contrast.
    """
    if patch.shape[0] < 2 or patch.shape[1] < 2:
        return math.nan
    across = float(np.abs(np.diff(patch, axis=1)).mean())
    down = float(np.abs(np.diff(patch, axis=0)).mean())
    total = across + down
    return across / total if total > 0.0 else math.nan


def _patch(
    crop: npt.NDArray[np.float32], x0: float, x1: float, y0: float, y1: float
) -> npt.NDArray[np.float32]:
    height, width = crop.shape
    top, bottom = max(round(y0), 0), min(round(y1) + 1, height)
    left, right = max(round(x0), 0), min(round(x1) + 1, width)
    return crop[top:bottom, left:right]


def openness(
    crop_gray: npt.NDArray[np.uint8], crop_points: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """Eye (mean of both) and mouth openness cues from the aligned gray crop.

    `crop_points` are the keypoints in crop pixels; the crop is eye-levelled, so the
    patches are axis-aligned and "horizontal" means along the eye line, which is what
    makes the edge-direction cue meaningful at all.

    Checked on FER2013 PublicTest faces found by FaceDetector: surprise (wide eyes,
    dropped jaw) scores above neutral with AUC 0.78 for the eyes and 0.76 for the mouth;
    the width of the dark band in the vertical intensity profile, tried first, reached
    only 0.54-0.60 and 0.60-0.69. On the LivePortrait clips the lowest eye values are the
    frames with closed eyes and the highest mouth values the open mouths.

    Limits, honestly: the values are unitless shares, not lid distances, and their
    baseline differs between people, so use them as relative, per-person signals over
    time (blinks, drooping lids, yawns). Glasses frames, hair over the eyes, beards and
    strong shadows add edges of their own; a head turned far to one side foreshortens an
    eye; a blurred or tiny face (under about 40 px between the eyes in the frame) flattens
    both gradients and makes the ratio noisy.
    """
    gray = crop_gray.astype(np.float32)
    left_eye, right_eye, _, mouth_left, mouth_right = crop_points
    eye_distance = float(np.hypot(*(right_eye - left_eye)))
    if eye_distance < MIN_EYE_DISTANCE_PX:
        return math.nan, math.nan
    half_w, half_h = EYE_HALF_WIDTH * eye_distance, EYE_HALF_HEIGHT * eye_distance
    eyes = [
        vertical_edge_share(_patch(gray, x - half_w, x + half_w, y - half_h, y + half_h))
        for x, y in (left_eye, right_eye)
    ]
    inset = MOUTH_INSET * (mouth_right[0] - mouth_left[0])
    line = (mouth_left[1] + mouth_right[1]) / 2.0
    mouth = vertical_edge_share(
        _patch(
            gray,
            mouth_left[0] + inset,
            mouth_right[0] - inset,
            line - MOUTH_ABOVE * eye_distance,
            line + MOUTH_BELOW * eye_distance,
        )
    )
    return (eyes[0] + eyes[1]) / 2.0, mouth


def measure(
    face: Face, crop: npt.NDArray[np.uint8], margin: float = DEFAULT_MARGIN
) -> FaceGeometry:
    """All features of a face; `crop` must be its `aligned_crop` with the same `margin`."""
    points = keypoint_array(face)
    if points is None:
        return NAN_GEOMETRY
    roll, yaw, mouth_width, eye_mouth = keypoint_ratios(points)
    if math.isnan(roll):
        return NAN_GEOMETRY
    matrix = alignment_matrix(points, crop.shape[0], margin)
    crop_points = points @ matrix[:, :2].T + matrix[:, 2]
    gray = (
        crop
        if crop.ndim == 2
        else np.asarray(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    )
    eye_open, mouth_open = openness(gray, crop_points)
    return FaceGeometry(roll, yaw, mouth_width, eye_mouth, eye_open, mouth_open)


def face_features(
    face: Face, crop: npt.NDArray[np.uint8], margin: float = DEFAULT_MARGIN
) -> npt.NDArray[np.float32]:
    """The float32 vector in FEATURE_NAMES order that the store and sequence models take."""
    return measure(face, crop, margin).vector()
