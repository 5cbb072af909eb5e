"""Does eye-line alignment help the emotion model? Measured on labelled FER2013 faces.

FER2013's faces are already upright and framed, so they cannot show what alignment does
to a tilted head in a webcam frame. This study recreates that situation with labels:
each PublicTest face is upscaled to webcam-like size, given a border, rotated by a random
in-plane angle, and then found by the real FaceDetector. The detected face is classified
from `aligned_crop` and from `box_crop` at a few margins, and from the untouched 48-pixel
original (the reference path, the ceiling). Accuracy is over the faces detected in each
condition, so every row of a condition uses the same images.

It also measures FER_TEMPLATE: the median keypoint layout of FER2013 training faces, as
the detector sees it, which `aligned_crop` maps faces onto.

Every emotion model (`--model`, repeatable; default all of them) classifies the same
detected faces and crops, so the models' rows compare on identical inputs; detection runs
once per condition.

Run: BURNOUT_TUI_DATA=/path/to/shared/data python -m tools.alignment_study [--limit N]
     [--model ours-v1] [--skip-template]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from burnout_tui.emotion_models import EMOTION_MODEL_NAMES
from burnout_tui.vision.align import aligned_crop, box_crop
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.face import KEYPOINT_NAMES, Face

UPSCALED_SIDE = 160
"""A face of about 130 px once detected, in the range a 640x480 webcam gives at a desk."""
BORDER = 48
"""Room around the face so the detector sees context and rotation does not clip it."""
MIN_FACE_SIZE = 40
"""Well under the ~130 px faces here; skips the pyramid levels that could only find smaller ones."""
MAX_ROLL_DEG = 20.0
"""Head roll a seated user plausibly shows while working."""
TEMPLATE_SAMPLES = 5000
SEED = 0
BATCH = 512

Gray = npt.NDArray[np.uint8]
Cropper = Callable[[npt.NDArray[np.uint8], Face], npt.NDArray[np.uint8]]

CROPPERS: dict[str, Cropper] = {
    "box_crop, margin 0": lambda frame, face: box_crop(frame, face, margin=0.0),
    "box_crop, margin 0.2": lambda frame, face: box_crop(frame, face, margin=0.2),
    "aligned_crop, margin -0.1": lambda frame, face: aligned_crop(frame, face, margin=-0.1),
    "aligned_crop, margin 0": lambda frame, face: aligned_crop(frame, face, margin=0.0),
    "aligned_crop, margin 0.15": lambda frame, face: aligned_crop(frame, face, margin=0.15),
    "aligned_crop, margin 0.3": lambda frame, face: aligned_crop(frame, face, margin=0.3),
    "aligned_crop, margin 0, 48 px": lambda frame, face: aligned_crop(frame, face, size=48),
}


def embed(image: Gray, angle_deg: float) -> npt.NDArray[np.uint8]:
    """The FER face as a BGR frame, upscaled, bordered and rotated about its centre."""
    big = cv2.resize(image, (UPSCALED_SIDE, UPSCALED_SIDE), interpolation=cv2.INTER_LINEAR)
    big = cv2.copyMakeBorder(big, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_REPLICATE)
    side = big.shape[0]
    rotation = cv2.getRotationMatrix2D((side / 2.0, side / 2.0), angle_deg, 1.0)
    frame = cv2.warpAffine(big, rotation, (side, side), borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def largest(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda face: face.box[2] * face.box[3], default=None)


def measure_template(detector: FaceDetector, images: npt.NDArray[np.uint8]) -> None:
    rng = np.random.default_rng(SEED)
    chosen = rng.choice(len(images), size=min(TEMPLATE_SAMPLES, len(images)), replace=False)
    points = []
    for index in chosen:
        frame = embed(images[index], 0.0)
        face = largest(detector.detect(frame))
        if face is not None:
            xy = np.array([face.keypoints[name] for name in KEYPOINT_NAMES])
            points.append((xy - BORDER) / UPSCALED_SIDE)
    median = np.median(np.array(points), axis=0)
    mirrored = median[[1, 0, 2, 4, 3]] * [-1.0, 1.0] + [1.0, 0.0]
    symmetric = (median + mirrored) / 2.0
    print(f"\nFER2013 train keypoints ({len(points)}/{len(chosen)} detected), fractions of side:\n")
    print("| keypoint | median x | median y | symmetrised x | symmetrised y |")
    print("|---|---|---|---|---|")
    for name, (x, y), (sx, sy) in zip(KEYPOINT_NAMES, median, symmetric, strict=True):
        print(f"| {name} | {x:.3f} | {y:.3f} | {sx:.3f} | {sy:.3f} |")


@dataclass
class Condition:
    name: str
    angles: npt.NDArray[np.float64]


REFERENCE = "reference: the 48 px original, no detection"
ALIGNED = "aligned_crop, margin 0"
UNALIGNED = "box_crop, margin 0"
Z_95 = 1.96


def run_condition(
    detector: FaceDetector,
    classifiers: dict[str, EmotionClassifier],
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    condition: Condition,
) -> tuple[int, dict[str, dict[str, npt.NDArray[np.bool_]]]]:
    """Faces detected, and per model and crop method whether each detected face was
    classified right."""
    crops: dict[str, list[npt.NDArray[np.uint8]]] = {name: [] for name in CROPPERS}
    detected = []
    for index, (image, angle) in enumerate(zip(images, condition.angles, strict=True)):
        frame = embed(image, float(angle))
        face = largest(detector.detect(frame))
        if face is None:
            continue
        detected.append(index)
        for name, crop in CROPPERS.items():
            crops[name].append(crop(frame, face))
    kept = np.array(detected)
    rows = {REFERENCE: list(images[kept])} | crops
    correct: dict[str, dict[str, npt.NDArray[np.bool_]]] = {}
    for model, classifier in classifiers.items():
        correct[model] = {}
        for name, faces in rows.items():
            predicted = np.concatenate(
                [
                    classifier.predict(faces[i : i + BATCH]).argmax(axis=1)
                    for i in range(0, len(faces), BATCH)
                ]
            )
            correct[model][name] = predicted == labels[kept]
    return len(kept), correct


def paired_difference(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> str:
    """Accuracy of a minus b on the same faces, with a normal-approximation 95 % interval."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    mean, half = 100 * diff.mean(), 100 * Z_95 * diff.std(ddof=1) / np.sqrt(len(diff))
    return f"{mean:+.2f} pts (95 % CI {mean - half:+.2f} to {mean + half:+.2f})"


def report(
    total: int,
    results: list[tuple[Condition, int, dict[str, npt.NDArray[np.bool_]]]],
    model: str,
) -> None:
    names = [condition.name for condition, _, _ in results]
    print(
        f"\n{model}: accuracy on the faces detected in each condition ({total} PublicTest faces):\n"
    )
    print("| crop | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print("| faces detected | " + " | ".join(str(n) for _, n, _ in results) + " |")
    for method in results[0][2]:
        accuracies = [f"{float(correct[method].mean()):.4f}" for _, _, correct in results]
        print(f"| {method} | " + " | ".join(accuracies) + " |")
    for label, a, b in (
        ("aligned_crop - box_crop (margin 0)", ALIGNED, UNALIGNED),
        ("aligned_crop (margin 0) - reference", ALIGNED, REFERENCE),
    ):
        diffs = [paired_difference(correct[a], correct[b]) for _, _, correct in results]
        print(f"| {label} | " + " | ".join(diffs) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N PublicTest faces only")
    parser.add_argument("--skip-template", action="store_true")
    parser.add_argument(
        "--model",
        action="append",
        choices=EMOTION_MODEL_NAMES,
        help="emotion model to evaluate (repeatable; default: every model)",
    )
    args = parser.parse_args()
    data = os.environ.get("BURNOUT_TUI_DATA")
    if not data:
        sys.exit("set BURNOUT_TUI_DATA to the shared data folder")
    fer = Path(data) / "fer2013"
    test = np.load(fer / "publictest.npz")
    images, labels = test["images"][: args.limit], test["labels"][: args.limit]
    detector = FaceDetector(min_face_size=MIN_FACE_SIZE)
    models = args.model or EMOTION_MODEL_NAMES
    classifiers = {name: EmotionClassifier(model=name) for name in models}
    if not args.skip_template:
        measure_template(detector, np.load(fer / "train.npz")["images"])
    rng = np.random.default_rng(SEED)
    conditions = [
        Condition("upright (no rotation)", np.zeros(len(images))),
        Condition(
            f"rotated, uniform ±{MAX_ROLL_DEG:g}°",
            rng.uniform(-MAX_ROLL_DEG, MAX_ROLL_DEG, len(images)),
        ),
    ]
    results = [
        (condition, *run_condition(detector, classifiers, images, labels, condition))
        for condition in conditions
    ]
    for model in classifiers:
        report(
            len(images),
            [(condition, found, correct[model]) for condition, found, correct in results],
            model,
        )


if __name__ == "__main__":
    main()
