"""The ONNX face mesh against MediaPipe's TFLite original, and the runtime's ROI contract.

The self-contained tier needs only the bundled public-domain astronaut photo; the parity
tier feeds the same 192×192 crops of every shared photo's faces to ONNX Runtime and to the
original `face_landmark.tflite`, run by LiteRT (`ai_edge_litert`), read from the mediapipe
wheel that `make test` downloads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.vision.canonical_face import NUM_LANDMARKS
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.mesh import (
    INPUT_SIZE,
    PRESENCE_THRESHOLD,
    FaceMesh,
    crop_tensor,
    roi_matrix,
)
from tests.images import ImageBGR, read_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

MIN_PRESENCE = 0.9
BOX_SLACK = 0.25
"""The mesh reaches past MTCNN's box (ears, jaw line); allow this fraction of its side."""
MAX_KEYPOINT_ERROR = 0.15
"""Mesh vs MTCNN keypoints, as a fraction of the eye distance (measured: 0.02-0.05)."""
LEFT_EYE_CORNERS = (33, 133)
RIGHT_EYE_CORNERS = (362, 263)
"""MediaPipe's outer and inner eye corners; `left` is the eye on the image's left, as in
MTCNN's keypoints (the person's right eye)."""
MOUTH_CORNERS = {"mouth_left": 61, "mouth_right": 291}
BATCH_ATOL_PX = 1e-3
ROLL_DEGREES = 25.0
MAX_ROLL_ERROR = 0.04
"""Mean landmark distance after rolling the photo, as a fraction of the eye distance
(measured: 0.010; an unrotated ROI gives 0.066)."""

PARITY_MEAN_PX = 1.0
PARITY_MAX_PX = 1.0
"""Landmark error in 192-pixel crop units; measured: mean 4e-5, max 2e-4 (models/README.md)."""
PRESENCE_ATOL = 1e-4


def eye_distance(face: Face) -> float:
    return math.dist(face.keypoints["left_eye"], face.keypoints["right_eye"])


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh()


@pytest.fixture(scope="module")
def astronaut_face(detector: FaceDetector, astronaut: ImageBGR) -> Face:
    (face,) = detector.detect(astronaut)
    return face


def test_astronaut_mesh_is_plausible(
    mesh: FaceMesh, astronaut: ImageBGR, astronaut_face: Face
) -> None:
    (result,) = mesh.predict(astronaut, [astronaut_face])

    assert result.presence > MIN_PRESENCE
    assert result.points.shape == (NUM_LANDMARKS, 3)
    assert result.points.dtype == np.float32
    x, y, w, h = astronaut_face.box
    slack = BOX_SLACK * max(w, h)
    xs, ys = result.points[:, 0], result.points[:, 1]
    assert xs.min() >= x - slack and xs.max() <= x + w + slack
    assert ys.min() >= y - slack and ys.max() <= y + h + slack
    tolerance = MAX_KEYPOINT_ERROR * eye_distance(astronaut_face)
    for name, corners in (("left_eye", LEFT_EYE_CORNERS), ("right_eye", RIGHT_EYE_CORNERS)):
        centre = result.points[list(corners), :2].mean(axis=0)
        assert math.dist(centre, astronaut_face.keypoints[name]) < tolerance, name
    for name, index in MOUTH_CORNERS.items():
        assert math.dist(result.points[index, :2], astronaut_face.keypoints[name]) < tolerance


def test_batch_equals_singles(mesh: FaceMesh, astronaut: ImageBGR, astronaut_face: Face) -> None:
    """Two different crops (the second unrotated: no keypoints) in one run or in two."""
    no_keypoints = Face(box=astronaut_face.box, score=astronaut_face.score)
    faces = [astronaut_face, no_keypoints]

    batched = mesh.predict(astronaut, faces)
    singles = [mesh.predict(astronaut, [face])[0] for face in faces]

    assert len(batched) == len(faces)
    for together, alone in zip(batched, singles, strict=True):
        np.testing.assert_allclose(together.points, alone.points, atol=BATCH_ATOL_PX)
        assert together.presence == pytest.approx(alone.presence, abs=PRESENCE_ATOL)
    assert not np.allclose(batched[0].points, batched[1].points, atol=BATCH_ATOL_PX)
    assert batched[1].presence > MIN_PRESENCE


def test_rolled_head_gives_the_same_mesh(
    mesh: FaceMesh, detector: FaceDetector, astronaut: ImageBGR, astronaut_face: Face
) -> None:
    """Rolling the photo rolls the ROI with the eyes, so the mesh just follows the pixels."""
    (upright,) = mesh.predict(astronaut, [astronaut_face])
    x, y, w, h = astronaut_face.box
    rotation = cv2.getRotationMatrix2D((x + w / 2.0, y + h / 2.0), ROLL_DEGREES, 1.0)
    height, width = astronaut.shape[:2]
    rolled_image = np.asarray(
        cv2.warpAffine(astronaut, rotation, (width, height), borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )
    (rolled_face,) = detector.detect(rolled_image)

    (rolled,) = mesh.predict(rolled_image, [rolled_face])

    expected = upright.points[:, :2] @ rotation[:, :2].T + rotation[:, 2]
    error = np.linalg.norm(rolled.points[:, :2] - expected, axis=1).mean()
    assert rolled.presence > MIN_PRESENCE
    assert error < MAX_ROLL_ERROR * eye_distance(astronaut_face)


def test_crop_is_rgb_in_unit_range_with_level_eyes(astronaut_face: Face) -> None:
    blue = np.zeros((240, 320, 3), dtype=np.uint8)
    blue[:, :, 0] = 255  # BGR

    tensor, matrix = crop_tensor(blue, astronaut_face)

    assert tensor.shape == (3, INPUT_SIZE, INPUT_SIZE)
    assert tensor.dtype == np.float32
    assert tensor[2].min() == 1.0 and tensor[:2].max() == 0.0
    eyes = np.array([astronaut_face.keypoints["left_eye"], astronaut_face.keypoints["right_eye"]])
    in_crop = eyes @ matrix[:, :2].T + matrix[:, 2]
    assert in_crop[0, 1] == pytest.approx(in_crop[1, 1])
    assert in_crop[0, 0] < in_crop[1, 0]
    x, y, w, h = astronaut_face.box
    unrotated = roi_matrix(Face(box=astronaut_face.box, score=1.0))
    centre = unrotated @ np.array([x + w / 2.0, y + h / 2.0, 1.0])
    np.testing.assert_allclose(centre, [INPUT_SIZE / 2.0] * 2)
    assert unrotated[0, 1] == 0.0 and unrotated[1, 0] == 0.0


def test_no_faces_and_bad_images(mesh: FaceMesh, astronaut_face: Face) -> None:
    assert mesh.predict(np.zeros((64, 64, 3), dtype=np.uint8), []) == []
    with pytest.raises(ValueError, match="uint8"):
        mesh.predict(np.zeros((64, 64, 3), dtype=np.float32), [astronaut_face])
    with pytest.raises(ValueError, match="no area"):
        mesh.predict(np.zeros((64, 64, 3), dtype=np.uint8), [Face(box=(1, 1, 0, 0), score=1.0)])


def test_blank_crop_has_low_presence(mesh: FaceMesh, astronaut_face: Face) -> None:
    (result,) = mesh.predict(np.full((240, 320, 3), 128, dtype=np.uint8), [astronaut_face])
    assert result.presence < PRESENCE_THRESHOLD


@pytest.fixture(scope="module")
def tflite_model() -> bytes:
    """MediaPipe's original model, read (and sha256-checked) from the cached wheel."""
    pytest.importorskip("tflite", reason="the converter's `tflite` package is not installed")
    from tools import convert_face_mesh
    from tools.upstream_wheel import CACHE_DIR

    wheel = convert_face_mesh.MEDIAPIPE_WHEEL.cached()
    if wheel is None:
        pytest.skip(
            f"no mediapipe wheel in {CACHE_DIR}; `make test` downloads it (needs the network once)"
        )
    return convert_face_mesh.MEDIAPIPE_WHEEL.read_member(wheel)


@pytest.fixture(scope="module")
def tflite_interpreter(tflite_model: bytes) -> Any:
    litert = pytest.importorskip(
        "ai_edge_litert.interpreter",
        reason="LiteRT (ai-edge-litert) has no build for this platform",
    )
    interpreter = litert.Interpreter(model_content=tflite_model, num_threads=2)
    interpreter.allocate_tensors()
    return interpreter


def run_tflite(interpreter: Any, crops: npt.NDArray[np.float32]) -> tuple[Any, Any]:
    """Landmarks (N, 468, 3) and presence (N,) from LiteRT, one crop at a time (NHWC)."""
    (image,) = interpreter.get_input_details()
    landmark_out, flag_out = interpreter.get_output_details()
    landmarks, presence = [], []
    for crop in crops:
        interpreter.set_tensor(image["index"], np.ascontiguousarray(crop.transpose(1, 2, 0)[None]))
        interpreter.invoke()
        landmarks.append(interpreter.get_tensor(landmark_out["index"]).reshape(NUM_LANDMARKS, 3))
        logit = float(interpreter.get_tensor(flag_out["index"]).ravel()[0])
        presence.append(1.0 / (1.0 + math.exp(-logit)))
    return np.array(landmarks), np.array(presence)


@pytest.mark.shared_data
def test_onnx_matches_tflite_on_shared_photos(
    shared_data: Path, tflite_interpreter: Any, detector: FaceDetector, mesh: FaceMesh
) -> None:
    photos = sorted(
        p for p in (shared_data / "faces").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
    )
    crops = [
        crop_tensor(image, face)[0]
        for image in map(read_image, photos)
        for face in detector.detect(image)
    ]
    assert crops, "no face found in the shared photos"
    batch = np.stack(crops)

    landmarks, presence = mesh.run(batch)
    expected_landmarks, expected_presence = run_tflite(tflite_interpreter, batch)

    error = np.linalg.norm(landmarks[:, :, :2] - expected_landmarks[:, :, :2], axis=2)
    depth_error = np.abs(landmarks[:, :, 2] - expected_landmarks[:, :, 2])
    print(
        f"{len(crops)} faces in {len(photos)} photos: landmark error mean {error.mean():.2e} px, "
        f"max {error.max():.2e} px, z max {depth_error.max():.2e}, "
        f"presence max diff {np.abs(presence - expected_presence).max():.2e}"
    )
    assert error.mean() < PARITY_MEAN_PX
    assert error.max() < PARITY_MAX_PX
    assert depth_error.max() < PARITY_MAX_PX
    np.testing.assert_allclose(presence, expected_presence, atol=PRESENCE_ATOL)
