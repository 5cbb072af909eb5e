"""Eye, mouth and head measures from one 468-point face mesh: pure geometry, no state.

The fatigue tracker (`burnout_tui.scoring.fatigue`) turns a stream of these into blinks,
PERCLOS, yawns and looking-away; this module only measures one frame.

- EAR, the eye aspect ratio (Soukupová & Čech, 2016): the two lid-to-lid distances over
  twice the corner-to-corner distance, on MediaPipe's six contour points per eye
  (EYE_RIGHT, EYE_LEFT). 0.27-0.33 for an open eye on this mesh, depending on the
  person. The mesh never lets the lids meet, so a closed eye reads 0.1-0.2, not 0: read
  EAR relative to the person's own open value, never as an absolute.
- MAR, the mouth aspect ratio: the mean of three inner-lip gaps over the inner mouth
  width (MOUTH). 0.01-0.05 with closed lips, 0.2-0.45 while talking, 0.5 and more when
  the mouth gapes.
- Head pose: yaw, pitch and roll in degrees from `cv2.solvePnP` of rigid landmarks
  against MediaPipe's canonical face (`canonical_face`).

Every ratio uses x and y only. The mesh's z is a learned guess whose scale drifts with
the face; 3D distances separated closed from open eyes no better on the shared clips,
and 2D keeps EAR what the literature means by it.

Eyes are named for the person, as in MediaPipe: the person's right eye is on the image's
left (landmarks 33-133) in an unmirrored camera image.

Head-pose sign conventions (zero = facing the camera squarely):
- `head_yaw`: positive when the face turns towards the image's right, i.e. the person's
  own left in an unmirrored image.
- `head_pitch`: positive when the face tilts up (looking up).
- `head_roll`: positive when the head tilts clockwise on screen (the image-right eye
  lower), the same sign as `features.FaceGeometry.roll_deg`.

The angles are intrinsic yaw, then pitch, then roll: the rotation from the head's frame
to the camera's is Ry(-yaw) · Rx(-pitch) · Rz(roll) in OpenCV axes (x right, y down,
z away from the camera), so yaw and pitch are exactly the direction the face points in,
and roll is the tilt about that direction.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.measures import MeshMeasures as MeshMeasures
from burnout_tui.vision.canonical_face import NUM_LANDMARKS, POSE_LANDMARKS, POSE_MODEL

EYE_RIGHT: tuple[int, int, int, int, int, int] = (33, 160, 158, 133, 153, 144)
"""The person's right eye as EAR's p1..p6: outer corner, upper lid (outer, inner), inner
corner, lower lid (inner, outer). p2 sits above p6 and p3 above p5."""
EYE_LEFT: tuple[int, int, int, int, int, int] = (263, 387, 385, 362, 380, 373)
"""The person's left eye in the same order: outer corner 263, inner corner 362."""

MOUTH: tuple[int, int, tuple[tuple[int, int], ...]] = (78, 308, ((81, 178), (13, 14), (311, 402)))
"""Inner-lip corners (78 on the image's left, 308 on its right) and three upper/lower
inner-lip pairs: left of centre, centre, right of centre."""

MIN_SPAN_PX = 1.0
"""An eye or mouth narrower than a pixel gives no ratio (NaN) rather than a huge one."""

FOCAL_PER_WIDTH = 1.0
"""Assumed focal length in units of the frame width.

Webcams' horizontal field of view is mostly 55-78°, i.e. focal lengths of 0.6-1.0 frame
widths; 1.0 (about 53°) is the usual guess when the camera is unknown. The angles barely
depend on it: a face spans a small part of the view, so the projection is close to
orthographic and a wrong focal length mostly changes the estimated distance."""


Points = npt.NDArray[np.floating]


def _distance(points: Points, a: int, b: int) -> float:
    return float(np.hypot(*(points[a, :2] - points[b, :2])))


def eye_aspect_ratio(points: Points, eye: tuple[int, int, int, int, int, int]) -> float:
    """(|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|) in the image plane."""
    p1, p2, p3, p4, p5, p6 = eye
    width = _distance(points, p1, p4)
    if not width >= MIN_SPAN_PX:
        return math.nan
    return (_distance(points, p2, p6) + _distance(points, p3, p5)) / (2.0 * width)


def mouth_aspect_ratio(points: Points) -> float:
    """Mean inner-lip gap over the inner mouth width, in the image plane."""
    left, right, pairs = MOUTH
    width = _distance(points, left, right)
    if not width >= MIN_SPAN_PX:
        return math.nan
    return sum(_distance(points, upper, lower) for upper, lower in pairs) / (len(pairs) * width)


def camera_matrix(frame_size: tuple[int, int]) -> npt.NDArray[np.float64]:
    """A pinhole camera for a (width, height) frame: focal FOCAL_PER_WIDTH × width, square
    pixels, principal point at the frame's centre (where it is on any ordinary webcam to
    within a few per cent)."""
    width, height = frame_size
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {frame_size}")
    focal = FOCAL_PER_WIDTH * width
    return np.array(
        [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]],
        dtype=np.float64,
    )


def euler_angles(rotation: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a head-to-camera rotation matrix.

    Inverse of `rotation_matrix`: yaw and pitch from the direction the face points (the
    head's -z axis in camera coordinates), roll from what remains once those two are
    undone.
    """
    forward = -rotation[:, 2]
    yaw = math.atan2(forward[0], -forward[2])
    pitch = math.atan2(-forward[1], math.hypot(forward[0], forward[2]))
    remaining = rotation_matrix(math.degrees(yaw), math.degrees(pitch), 0.0).T @ rotation
    roll = math.atan2(remaining[1, 0], remaining[0, 0])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> npt.NDArray[np.float64]:
    """Head-to-camera rotation Ry(-yaw) · Rx(-pitch) · Rz(roll), angles in degrees."""
    a, b, c = (math.radians(angle) for angle in (-yaw, -pitch, roll))
    ry = np.array(
        [[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]]
    )
    rx = np.array(
        [[1.0, 0.0, 0.0], [0.0, math.cos(b), -math.sin(b)], [0.0, math.sin(b), math.cos(b)]]
    )
    rz = np.array(
        [[math.cos(c), -math.sin(c), 0.0], [math.sin(c), math.cos(c), 0.0], [0.0, 0.0, 1.0]]
    )
    return np.asarray(ry @ rx @ rz, dtype=np.float64)


def head_pose(points: Points, frame_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees, or NaNs when the pose cannot be solved.

    SQPnP finds the global least-squares pose without a starting guess, so a frame never
    inherits a wrong local minimum and the function stays free of state.
    """
    image_points = np.ascontiguousarray(points[list(POSE_LANDMARKS), :2], dtype=np.float64)
    if not np.isfinite(image_points).all():
        return math.nan, math.nan, math.nan
    ok, rvec, _ = cv2.solvePnP(
        POSE_MODEL,
        image_points,
        camera_matrix(frame_size),
        None,
        flags=cv2.SOLVEPNP_SQPNP,
    )
    if not ok:
        return math.nan, math.nan, math.nan
    rotation, _ = cv2.Rodrigues(rvec)
    return euler_angles(np.asarray(rotation, dtype=np.float64))


def mesh_measures(points: npt.ArrayLike, frame_size: tuple[int, int]) -> MeshMeasures:
    """All measures of one (468, 3) mesh in the pixels of a (width, height) frame."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != NUM_LANDMARKS or array.shape[1] < 2:
        raise ValueError(f"expected ({NUM_LANDMARKS}, 3) mesh points, got {array.shape}")
    yaw, pitch, roll = head_pose(array, frame_size)
    return MeshMeasures(
        ear_left=eye_aspect_ratio(array, EYE_LEFT),
        ear_right=eye_aspect_ratio(array, EYE_RIGHT),
        mar=mouth_aspect_ratio(array),
        head_yaw=yaw,
        head_pitch=pitch,
        head_roll=roll,
    )
