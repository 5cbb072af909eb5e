"""The value that leaves the detector and crosses into alignment, scoring and storage."""

from __future__ import annotations

from dataclasses import dataclass, field

KEYPOINT_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
"""MTCNN's five landmarks; `left_eye` is the eye on the image's left (the person's right)."""

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face in pixel coordinates of the frame it was found in.

    `box` is (x, y, w, h) in whole pixels, as the `mtcnn` package reports it; keypoints
    keep sub-pixel precision because alignment and the geometry features use them.
    """

    box: tuple[int, int, int, int]
    score: float
    keypoints: dict[str, Point] = field(default_factory=dict)
