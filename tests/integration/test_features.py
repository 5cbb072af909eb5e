"""Face alignment and the per-face geometry / openness features."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from burnout_tui import EMOTIONS
from burnout_tui.store.schema import FEATURE_COLUMNS
from burnout_tui.vision.align import (
    CROP_SIZE,
    FER_TEMPLATE,
    aligned_crop,
    alignment_matrix,
    box_crop,
    keypoint_array,
)
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import KEYPOINT_NAMES, Face, Point
from burnout_tui.vision.features import (
    FEATURE_NAMES,
    face_features,
    keypoint_ratios,
    measure,
    openness,
)

ASTRONAUT = Path(__file__).resolve().parents[2] / "burnout_tui/sources/assets/astronaut.jpg"
ROLL_TOLERANCE_DEG = 2.5
"""MTCNN keypoints are a pixel or two off; over a ~40 px eye distance that is ~2 degrees."""
RATIO_RTOL = 0.05
"""Keypoint-distance ratios of the astronaut move by up to ±3 % between scales 0.5x-3x of
the same photo: MTCNN's keypoint jitter, not a scale dependence of the features."""

FRONTAL = np.array([(40.0, 50.0), (80.0, 50.0), (60.0, 70.0), (44.0, 90.0), (76.0, 90.0)])
"""A level, frontal face: eyes 40 px apart, mouth 32 px wide and 40 px below the eyes."""


def _face(points: np.ndarray, box: tuple[int, int, int, int] = (20, 20, 80, 100)) -> Face:
    keypoints = {
        name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINT_NAMES, points, strict=True)
    }
    return Face(box=box, score=1.0, keypoints=keypoints)


def _rotate(points: np.ndarray, degrees: float, center: np.ndarray) -> np.ndarray:
    """Clockwise on screen for positive degrees (image y points down)."""
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return np.asarray((points - center) @ rotation.T + center)


def _transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points @ matrix[:, :2].T + matrix[:, 2])


def _roll(face: Face) -> float:
    points = keypoint_array(face)
    assert points is not None
    return keypoint_ratios(points)[0]


def test_feature_names_match_the_store_columns() -> None:
    assert FEATURE_NAMES == FEATURE_COLUMNS


def test_frontal_face_ratios() -> None:
    roll, yaw, mouth_width, eye_mouth = keypoint_ratios(FRONTAL)

    assert roll == pytest.approx(0.0)
    assert yaw == pytest.approx(0.0)
    assert mouth_width == pytest.approx(32 / 40)
    assert eye_mouth == pytest.approx(40 / 40)


@pytest.mark.parametrize("degrees", [-25.0, -7.5, 3.0, 18.0])
def test_roll_sign_and_value(degrees: float) -> None:
    """Positive roll: the image-right eye lower, a clockwise tilt on screen."""
    rotated = _rotate(FRONTAL, degrees, FRONTAL[2])

    roll, yaw, mouth_width, eye_mouth = keypoint_ratios(rotated)

    assert roll == pytest.approx(degrees)
    assert (yaw, mouth_width, eye_mouth) == pytest.approx((0.0, 0.8, 1.0))


@pytest.mark.parametrize(("shift", "sign"), [(6.0, 1.0), (-6.0, -1.0)])
def test_yaw_sign_follows_the_nose(shift: float, sign: float) -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += shift

    _, yaw, _, _ = keypoint_ratios(_rotate(turned, 12.0, FRONTAL[2]))

    assert yaw == pytest.approx(shift / 40.0)
    assert math.copysign(1.0, yaw) == sign


def test_keypoint_ratios_are_scale_and_shift_free() -> None:
    turned = FRONTAL.copy()
    turned[2, 0] += 5.0

    moved = turned * 2.7 + np.array([130.0, -20.0])

    assert keypoint_ratios(moved) == pytest.approx(keypoint_ratios(turned))


def test_degenerate_keypoints_give_nan() -> None:
    collapsed = np.repeat(FRONTAL[:1], 5, axis=0)

    assert all(math.isnan(value) for value in keypoint_ratios(collapsed))


@pytest.mark.parametrize("degrees", [-30.0, -12.0, 0.0, 9.0, 25.0])
def test_alignment_matrix_levels_the_eyes(degrees: float) -> None:
    points = _rotate(FRONTAL * 1.6 + 40.0, degrees, np.array([100.0, 120.0]))

    crop_points = _transform(alignment_matrix(points, CROP_SIZE, 0.0), points)

    assert keypoint_ratios(crop_points)[0] == pytest.approx(0.0, abs=1e-9)
    # A face shaped like the template lands where the template says.
    template_face = FER_TEMPLATE * 300.0
    mapped = _transform(alignment_matrix(template_face, CROP_SIZE, 0.0), template_face)
    np.testing.assert_allclose(mapped, FER_TEMPLATE * CROP_SIZE, atol=1e-9)


def test_margin_widens_the_view() -> None:
    points = FRONTAL * 2.0
    tight = alignment_matrix(points, CROP_SIZE, 0.0)
    wide = alignment_matrix(points, CROP_SIZE, 0.25)

    assert np.linalg.det(wide[:, :2]) == pytest.approx(np.linalg.det(tight[:, :2]) / 1.25**2)


def test_crop_shapes_and_colour() -> None:
    frame = np.random.default_rng(0).integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    face = _face(FRONTAL)

    gray = aligned_crop(frame, face)
    colour = aligned_crop(frame, face, size=96, gray=False)

    assert gray.shape == (CROP_SIZE, CROP_SIZE)
    assert gray.dtype == np.uint8
    assert colour.shape == (96, 96, 3)
    assert box_crop(frame, face).shape == (CROP_SIZE, CROP_SIZE)


@pytest.mark.parametrize(
    "keypoints",
    [{}, {name: (70.0, 80.0) for name in KEYPOINT_NAMES}],
    ids=["no keypoints", "collapsed keypoints"],
)
def test_unusable_keypoints_fall_back_and_store_nan(keypoints: dict[str, Point]) -> None:
    frame = np.random.default_rng(1).integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    face = Face(box=(50, 40, 60, 80), score=0.9, keypoints=keypoints)

    crop = aligned_crop(frame, face)
    vector = face_features(face, crop)

    np.testing.assert_array_equal(crop, box_crop(frame, face))
    assert vector.shape == (len(FEATURE_NAMES),)
    assert vector.dtype == np.float32
    assert np.isnan(vector).all()


def _schematic_face(eye_open: bool, mouth_open: bool) -> tuple[np.ndarray, np.ndarray]:
    """A drawn face in crop coordinates: lids as lines or an eye with an iris, lips likewise."""
    crop = np.full((CROP_SIZE, CROP_SIZE), 170, dtype=np.uint8)
    points = FER_TEMPLATE * CROP_SIZE
    for x, y in points[:2]:
        center = (round(x), round(y))
        if eye_open:
            cv2.ellipse(crop, center, (6, 3), 0, 0, 360, 230, -1)
            cv2.circle(crop, center, 3, 40, -1)
        else:
            cv2.line(crop, (center[0] - 6, center[1]), (center[0] + 6, center[1]), 40, 1)
    left, right = points[3], points[4]
    mid = (round((left[0] + right[0]) / 2), round(left[1]))
    if mouth_open:
        cv2.ellipse(crop, (mid[0], mid[1] + 3), (8, 6), 0, 0, 360, 30, -1)
    else:
        cv2.line(crop, (round(left[0]), mid[1]), (round(right[0]), mid[1]), 60, 2)
    return crop, points


def test_openness_rises_when_eyes_and_mouth_open() -> None:
    closed_crop, points = _schematic_face(eye_open=False, mouth_open=False)
    open_crop, _ = _schematic_face(eye_open=True, mouth_open=True)

    closed_eye, closed_mouth = openness(closed_crop, points)
    open_eye, open_mouth = openness(open_crop, points)

    assert open_eye > closed_eye + 0.2
    assert open_mouth > closed_mouth + 0.2
    assert all(0.0 <= value <= 1.0 for value in (closed_eye, closed_mouth, open_eye, open_mouth))


def test_openness_ignores_brightness_and_contrast() -> None:
    crop, points = _schematic_face(eye_open=True, mouth_open=False)
    dimmer = np.asarray(cv2.convertScaleAbs(crop, alpha=0.5, beta=20), dtype=np.uint8)

    assert openness(dimmer, points) == pytest.approx(openness(crop, points), abs=0.02)


def _framed(crop: np.ndarray) -> np.ndarray:
    """A crop with room around the face, so the detector can find it again."""
    return np.asarray(cv2.copyMakeBorder(crop, 32, 32, 32, 32, cv2.BORDER_REPLICATE), np.uint8)


def _only_face(detector: FaceDetector, image: np.ndarray) -> Face:
    faces = detector.detect(image)
    assert faces, "no face found"
    return max(faces, key=lambda face: face.box[2] * face.box[3])


@pytest.mark.parametrize("degrees", [-18.0, 12.0])
def test_alignment_levels_a_rotated_photo(
    astronaut: np.ndarray, detector: FaceDetector, degrees: float
) -> None:
    upright = _only_face(detector, astronaut)
    base_roll = _roll(upright)
    nose = upright.keypoints["nose"]
    # OpenCV's positive angle turns the picture counter-clockwise on screen.
    rotation = cv2.getRotationMatrix2D(nose, degrees, 1.0)
    size = astronaut.shape[1::-1]
    rotated = np.asarray(
        cv2.warpAffine(astronaut, rotation, size, borderMode=cv2.BORDER_REPLICATE), np.uint8
    )

    face = _only_face(detector, rotated)
    measured = face_features(face, aligned_crop(rotated, face))[0]
    in_crop = _only_face(detector, _framed(aligned_crop(rotated, face, size=192, gray=False)))
    in_box = _only_face(detector, _framed(box_crop(rotated, face, size=192, gray=False)))

    assert measured == pytest.approx(base_roll - degrees, abs=ROLL_TOLERANCE_DEG)
    assert _roll(in_crop) == pytest.approx(0.0, abs=ROLL_TOLERANCE_DEG)
    assert _roll(in_box) == pytest.approx(measured, abs=ROLL_TOLERANCE_DEG)


def test_features_survive_a_2x_resize(astronaut: np.ndarray, detector: FaceDetector) -> None:
    small_face = _only_face(detector, astronaut)
    large = np.asarray(cv2.resize(astronaut, None, fx=2.0, fy=2.0), dtype=np.uint8)
    large_face = _only_face(detector, large)

    small = measure(small_face, aligned_crop(astronaut, small_face))
    big = measure(large_face, aligned_crop(large, large_face))

    assert big.roll_deg == pytest.approx(small.roll_deg, abs=1.0)
    assert big.yaw == pytest.approx(small.yaw, abs=0.02)
    assert big.mouth_width == pytest.approx(small.mouth_width, rel=RATIO_RTOL)
    assert big.eye_mouth == pytest.approx(small.eye_mouth, rel=RATIO_RTOL)
    assert big.eye_open == pytest.approx(small.eye_open, abs=0.03)
    assert big.mouth_open == pytest.approx(small.mouth_open, abs=0.03)


def test_astronaut_features_are_plausible(astronaut: np.ndarray, detector: FaceDetector) -> None:
    """An upright, frontal, smiling portrait: small roll and yaw, a wide mouth."""
    face = _only_face(detector, astronaut)

    geometry = measure(face, aligned_crop(astronaut, face))

    assert abs(geometry.roll_deg) < 6.0
    assert abs(geometry.yaw) < 0.1
    assert geometry.mouth_width > 0.9


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative."""
    above = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(above + ties / 2)


@pytest.mark.shared_data
@pytest.mark.slow
def test_openness_separates_surprise_from_neutral(
    shared_data: Path, detector: FaceDetector
) -> None:
    """FER2013's surprised faces have wide eyes and open mouths; neutral ones do not."""
    from tools.alignment_study import embed

    data = np.load(shared_data / "fer2013/publictest.npz")
    per_class = 250
    values: dict[str, list[tuple[float, float]]] = {"surprise": [], "neutral": []}
    for name, found in values.items():
        for image in data["images"][data["labels"] == EMOTIONS.index(name)][:per_class]:
            frame = embed(image, 0.0)
            faces = detector.detect(frame)
            if faces:
                geometry = measure(faces[0], aligned_crop(frame, faces[0]))
                found.append((geometry.eye_open, geometry.mouth_open))
    surprise, neutral = np.array(values["surprise"]), np.array(values["neutral"])

    assert _auc(surprise[:, 0], neutral[:, 0]) > 0.7
    assert _auc(surprise[:, 1], neutral[:, 1]) > 0.7
