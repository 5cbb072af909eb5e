"""A face mesh turned back into the `Face` MTCNN would report, so the mesh can track.

MediaPipe's face_landmark_front follows a face without its detector: the next frame's
region comes from the last frame's landmarks. Here that region has to be an MTCNN-like
`Face` (a box and five keypoints), because the mesh's own crop (`mesh.roi_matrix` with
`ROI_SCALE`) and the emotion crop (`align.aligned_crop`, from the keypoints) were tuned on
MTCNN's boxes and keypoints. So the box is the landmarks' bounding box moved and stretched
by the median relation between the two, and each keypoint is the named landmark(s) closest
to MTCNN's (docs/tracking.md has the fit and how close it comes).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from burnout_tui.vision.face import KEYPOINT_NAMES, Face, Point
from burnout_tui.vision.mesh import Mesh

KEYPOINT_LANDMARKS: dict[str, tuple[int, ...]] = dict(
    zip(
        KEYPOINT_NAMES,
        (
            (33, 133),  # left_eye (the image's left): its outer and inner corner
            (362, 263),  # right_eye: inner and outer corner
            (4,),  # nose: just above the tip (1), where MTCNN puts it
            (61,),  # mouth_left: the corner on the image's left
            (291,),  # mouth_right
        ),
        strict=True,
    )
)
"""Mesh landmarks averaged into each of MTCNN's keypoints, in KEYPOINT_NAMES order."""

BOX_SHIFT = (-0.033, -0.054)
"""Centre of MTCNN's box minus the landmarks' bounding-box centre, in that box's width and
height: MTCNN's box sits a little up (towards the forehead) and to the image's left."""
BOX_STRETCH = (0.964, 1.093)
"""MTCNN's box width and height over the landmarks' bounding-box width and height: about as
wide as the landmarks, taller because MTCNN's box reaches up the forehead."""

MIN_VISIBLE_FRACTION = 0.5
"""A derived box less than half inside the frame means the face is leaving it: the mesh
of a half-cut face is guesswork, and MTCNN decides whether a face is still there."""


def mesh_box(points: npt.NDArray[np.float32]) -> tuple[float, float, float, float]:
    """The MTCNN-like (x, y, w, h) of landmarks `points` (N, 2+), unclipped, in float."""
    x0, y0 = float(points[:, 0].min()), float(points[:, 1].min())
    x1, y1 = float(points[:, 0].max()), float(points[:, 1].max())
    width, height = x1 - x0, y1 - y0
    centre_x = (x0 + x1) / 2.0 + BOX_SHIFT[0] * width
    centre_y = (y0 + y1) / 2.0 + BOX_SHIFT[1] * height
    w, h = BOX_STRETCH[0] * width, BOX_STRETCH[1] * height
    return centre_x - w / 2.0, centre_y - h / 2.0, w, h


def visible_fraction(box: tuple[float, float, float, float], frame_size: tuple[int, int]) -> float:
    """The share of `box`'s area inside a frame of `frame_size` (width, height)."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return 0.0
    inside_w = max(0.0, min(x + w, frame_size[0]) - max(x, 0.0))
    inside_h = max(0.0, min(y + h, frame_size[1]) - max(y, 0.0))
    return inside_w * inside_h / (w * h)


def face_from_mesh(mesh: Mesh, frame_size: tuple[int, int]) -> Face | None:
    """The `Face` MTCNN would give for the face `mesh` was fitted to, in a frame of
    `frame_size` (width, height), or None when the face is mostly outside the frame.

    The box is clipped to the frame and rounded as MTCNN's is (`FaceDetector._faces`);
    the keypoints are not clipped, as MTCNN's are not. The score is the mesh's presence.
    """
    points = mesh.points
    box = mesh_box(points)
    if visible_fraction(box, frame_size) < MIN_VISIBLE_FRACTION:
        return None
    width, height = frame_size
    x, y, w, h = box
    x1, x2 = np.clip([x, x + w], 0, width - 1)
    y1, y2 = np.clip([y, y + h], 0, height - 1)
    xywh = (round(x1), round(y1), round(x2 - x1), round(y2 - y1))
    if xywh[2] <= 0 or xywh[3] <= 0:
        return None
    keypoints: dict[str, Point] = {}
    for name, indices in KEYPOINT_LANDMARKS.items():
        centre = points[list(indices), :2].astype(np.float64).mean(axis=0)
        keypoints[name] = (float(centre[0]), float(centre[1]))
    return Face(box=xywh, score=mesh.presence, keypoints=keypoints)


__all__ = [
    "BOX_SHIFT",
    "BOX_STRETCH",
    "KEYPOINT_LANDMARKS",
    "MIN_VISIBLE_FRACTION",
    "face_from_mesh",
    "mesh_box",
    "visible_fraction",
]
