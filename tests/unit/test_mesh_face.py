"""Landmarks → the MTCNN-like face the mesh-guided tracker follows (vision/mesh_face.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.vision.face import KEYPOINT_NAMES
from burnout_tui.vision.mesh import Mesh
from burnout_tui.vision.mesh_face import (
    BOX_SHIFT,
    BOX_STRETCH,
    KEYPOINT_LANDMARKS,
    face_from_mesh,
    mesh_box,
    visible_fraction,
)

LANDMARKS = 468
FRAME = (640, 480)


def grid_points(x0: float, y0: float, width: float, height: float) -> npt.NDArray[np.float32]:
    """468 points spread evenly over the box (x0, y0, width, height), z = 0."""
    rng = np.random.default_rng(0)
    points = np.zeros((LANDMARKS, 3), dtype=np.float32)
    points[:, 0] = x0 + rng.random(LANDMARKS) * width
    points[:, 1] = y0 + rng.random(LANDMARKS) * height
    points[0, :2] = (x0, y0)
    points[1, :2] = (x0 + width, y0 + height)
    return points


def test_keypoints_named_as_mtcnn_names_them() -> None:
    assert tuple(KEYPOINT_LANDMARKS) == KEYPOINT_NAMES
    assert all(0 <= i < LANDMARKS for indices in KEYPOINT_LANDMARKS.values() for i in indices)


def test_box_is_the_landmark_box_shifted_and_stretched() -> None:
    x, y, w, h = mesh_box(grid_points(100.0, 50.0, 200.0, 240.0))
    assert w == pytest.approx(BOX_STRETCH[0] * 200.0, rel=1e-5)
    assert h == pytest.approx(BOX_STRETCH[1] * 240.0, rel=1e-5)
    assert x + w / 2 == pytest.approx(200.0 + BOX_SHIFT[0] * 200.0, rel=1e-5)
    assert y + h / 2 == pytest.approx(170.0 + BOX_SHIFT[1] * 240.0, rel=1e-5)


def test_face_keypoints_are_the_named_landmarks() -> None:
    points = grid_points(100.0, 50.0, 200.0, 240.0)
    points[33, :2], points[133, :2] = (150.0, 150.0), (170.0, 152.0)
    points[4, :2] = (200.0, 200.0)
    face = face_from_mesh(Mesh(points, 0.9), FRAME)
    assert face is not None
    assert face.keypoints["left_eye"] == pytest.approx((160.0, 151.0))
    assert face.keypoints["nose"] == pytest.approx((200.0, 200.0))
    assert set(face.keypoints) == set(KEYPOINT_NAMES)
    assert face.score == pytest.approx(0.9)
    assert all(isinstance(v, int) for v in face.box)


def test_box_is_clipped_to_the_frame_like_mtcnn() -> None:
    face = face_from_mesh(Mesh(grid_points(-40.0, 300.0, 200.0, 240.0), 0.9), FRAME)
    assert face is not None
    x, y, _, h = face.box
    assert x == 0 and y >= 0
    assert y + h <= FRAME[1] - 1


def test_a_face_leaving_the_frame_is_lost() -> None:
    leaving = grid_points(FRAME[0] - 60.0, 100.0, 200.0, 240.0)
    assert visible_fraction(mesh_box(leaving), FRAME) < 0.5
    assert face_from_mesh(Mesh(leaving, 0.99), FRAME) is None


def test_visible_fraction() -> None:
    assert visible_fraction((0.0, 0.0, 10.0, 10.0), FRAME) == 1.0
    assert visible_fraction((-5.0, 0.0, 10.0, 10.0), FRAME) == pytest.approx(0.5)
    assert visible_fraction((700.0, 0.0, 10.0, 10.0), FRAME) == 0.0
    assert visible_fraction((0.0, 0.0, 0.0, 10.0), FRAME) == 0.0
