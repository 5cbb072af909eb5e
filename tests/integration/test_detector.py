"""The ONNX MTCNN against the `mtcnn` package it ports, and the tracking shortcut `refine`.

The parity tier compares with `reference/mtcnn_tf_faces.json`, mtcnn 1.0.0's own output on
TensorFlow; the self-contained tier needs only the bundled public-domain astronaut photo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from burnout_tui.models_dir import models_dir
from burnout_tui.vision.detector import FaceDetector, nms, scale_pyramid
from burnout_tui.vision.face import KEYPOINT_NAMES, Face
from tests.images import ImageBGR, read_image

REFERENCE_FILE = "mtcnn_tf_faces.json"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MIN_AGREEMENT = 0.95
"""Share of images (face counts) and of reference faces (box and keypoints) that must match."""
MIN_IOU = 0.85
MAX_KEYPOINT_PX = 3.0
NEGATIVE_CONFIDENCE = 0.9
MIN_REFINE_IOU = 0.8


def iou(
    a: tuple[int, int, int, int] | list[int], b: tuple[int, int, int, int] | list[int]
) -> float:
    inter_w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    inter_h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def keypoint_error(face: Face, reference: dict[str, Any]) -> float:
    return max(
        float(np.hypot(*np.subtract(face.keypoints[name], reference["keypoints"][name])))
        for name in KEYPOINT_NAMES
    )


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads((reference_dir / REFERENCE_FILE).read_text())
    return data


@pytest.fixture(scope="module")
def detections(
    shared_data: Path, reference: dict[str, list[dict[str, Any]]], detector: FaceDetector
) -> dict[str, list[Face]]:
    """One detection per reference image, shared by the parity tests (the slow part)."""
    faces_dir = shared_data / "faces"
    return {name: detector.detect(read_image(faces_dir / name)) for name in reference}


def test_pyramid_matches_mtcnn_levels() -> None:
    scales = scale_pyramid(1280, 720, min_face_size=20, scale_factor=0.709)
    assert len(scales) == 11
    assert scales[0] == pytest.approx(0.6)
    assert scales[-1] == pytest.approx(0.6 * 0.709**10)
    assert len(scale_pyramid(10, 10, min_face_size=20, scale_factor=0.709)) == 0


def test_nms_lets_suppressed_boxes_suppress() -> None:
    """mtcnn's NMS compares every pair: C goes because of B even though A removed B."""
    boxes = np.array(
        [
            [0.0, 0.0, 10.0, 10.0, 0.9],
            [0.0, 1.0, 10.0, 11.0, 0.8],
            [0.0, 2.5, 10.0, 12.5, 0.7],
        ]
    )
    kept = nms(boxes, threshold=0.7)
    assert kept[:, 4].tolist() == [0.9]
    assert nms(boxes, threshold=0.95)[:, 4].tolist() == [0.9, 0.8, 0.7]


def test_no_face_in_blank_or_tiny_frames(detector: FaceDetector) -> None:
    assert detector.detect(np.full((240, 320, 3), 128, dtype=np.uint8)) == []
    assert detector.detect(np.zeros((8, 8, 3), dtype=np.uint8)) == []
    assert detector.refine(np.zeros((240, 320, 3), dtype=np.uint8), []) == []


def test_astronaut_has_one_plausible_face(detector: FaceDetector, astronaut: ImageBGR) -> None:
    faces = detector.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    x, y, w, h = face.box
    assert face.score > NEGATIVE_CONFIDENCE
    assert w > 0 and h > 0
    points = face.keypoints
    assert set(points) == set(KEYPOINT_NAMES)
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in points.values())
    eyes_y = max(points["left_eye"][1], points["right_eye"][1])
    mouth_y = min(points["mouth_left"][1], points["mouth_right"][1])
    assert eyes_y < points["nose"][1] < mouth_y
    assert points["left_eye"][0] < points["right_eye"][0]
    assert points["mouth_left"][0] < points["mouth_right"][0]


def test_refine_keeps_the_detected_face(detector: FaceDetector, astronaut: ImageBGR) -> None:
    found = detector.detect(astronaut)
    refined = detector.refine(astronaut, found)
    assert len(refined) == 1
    assert iou(refined[0].box, found[0].box) >= MIN_REFINE_IOU


def test_refine_drops_a_face_that_left(detector: FaceDetector, astronaut: ImageBGR) -> None:
    found = detector.detect(astronaut)
    blank = np.full_like(astronaut, 128)
    assert detector.refine(blank, found) == []


def test_runtime_never_imports_tensorflow(detector: FaceDetector, astronaut: ImageBGR) -> None:
    detector.detect(astronaut)
    assert not {"tensorflow", "torch", "mtcnn"} & set(sys.modules)


def test_models_are_what_the_converter_builds(tmp_path: Path) -> None:
    """The shipped ONNX files regenerate byte for byte from the pinned upstream weights."""
    pytest.importorskip("joblib")
    pytest.importorskip("onnx")
    convert_mtcnn = pytest.importorskip("tools.convert_mtcnn")
    try:
        convert_mtcnn.weights_dir()
    except RuntimeError as error:
        pytest.skip(str(error))
    for path in convert_mtcnn.convert(tmp_path):
        assert path.read_bytes() == (models_dir() / path.name).read_bytes(), path.name


@pytest.mark.shared_data
@pytest.mark.slow
def test_face_counts_match_reference(
    detections: dict[str, list[Face]], reference: dict[str, list[dict[str, Any]]]
) -> None:
    mismatched = {
        name: (len(detections[name]), len(faces))
        for name, faces in reference.items()
        if len(detections[name]) != len(faces)
    }
    assert 1 - len(mismatched) / len(reference) >= MIN_AGREEMENT, mismatched


@pytest.mark.shared_data
@pytest.mark.slow
def test_boxes_and_keypoints_match_reference(
    detections: dict[str, list[Face]], reference: dict[str, list[dict[str, Any]]]
) -> None:
    total = 0
    misses = []
    for name, expected in reference.items():
        for ref_face in expected:
            total += 1
            best = max(detections[name], key=lambda f: iou(f.box, ref_face["box"]), default=None)
            matched = (
                best is not None
                and iou(best.box, ref_face["box"]) >= MIN_IOU
                and keypoint_error(best, ref_face) <= MAX_KEYPOINT_PX
            )
            if not matched:
                misses.append((name, ref_face["box"], best.box if best else None))
    assert 1 - len(misses) / total >= MIN_AGREEMENT, misses


@pytest.mark.shared_data
def test_detections_sorted_by_score(detections: dict[str, list[Face]]) -> None:
    for faces in detections.values():
        scores = [face.score for face in faces]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.shared_data
def test_no_confident_faces_on_animals(
    shared_data: Path, reference: dict[str, list[dict[str, Any]]], detector: FaceDetector
) -> None:
    negatives = shared_data / "faces" / "negatives"
    paths = sorted(p for p in negatives.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    assert paths, f"no images in {negatives}"
    for path in paths:
        key = path.relative_to(shared_data / "faces").as_posix()
        allowed = sum(f["confidence"] > NEGATIVE_CONFIDENCE for f in reference.get(key, []))
        confident = [f for f in detector.detect(read_image(path)) if f.score > NEGATIVE_CONFIDENCE]
        assert len(confident) <= allowed, (path.name, confident)
