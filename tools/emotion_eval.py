"""Accuracy and calibration of an emotion ONNX model on FER2013 PublicTest, as JSON.

    python -m tools.emotion_eval models/emotion_ours_v1.onnx [--out FILE]

Our model (input 48x48, x/255) is run directly with ONNX Runtime through
`burnout_tui.vision.runtime.load_session` (2 threads, spinning off, as the app runs it);
the mini-Xception (`emotion_minixception.onnx`) through `EmotionClassifier`, with its own
64x64 preprocessing. Reported: accuracy, macro-F1, per-class recall/precision/F1, the
confusion matrix, 15-bin ECE and NLL; for a model with a stored temperature also the same
before temperature scaling (from `features` and the classifier initializers), and for both
horizontal-flip test-time augmentation (mean of the image's and its mirror's probabilities).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from burnout_tui import EMOTIONS
from burnout_tui.vision.runtime import load_session
from tools.emotion_metrics import reliability, softmax, summary
from tools.emotion_onnx import (
    CLASSIFIER_BIAS,
    CLASSIFIER_WEIGHT,
    FEATURES_NAME,
    INPUT_NAME,
    INPUT_SIZE,
    PROBS_NAME,
    TEMPERATURE,
)

BATCH = 256
SPEED_BATCHES = (1, 8)
SPEED_CROP = 96
"""Side of the random gray crops timed with their resize: about an aligned face's size."""
SPEED_WARMUP = 20
SPEED_ROUNDS = 300
MINIXCEPTION = "emotion_minixception.onnx"
FloatArray = npt.NDArray[np.float32]


def preprocess(images: npt.NDArray[np.uint8]) -> FloatArray:
    """(N, H, W) gray uint8 -> (N, 1, 48, 48) float32 in [0, 1] (the model contract)."""
    if images.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        images = np.stack([cv2.resize(image, (INPUT_SIZE, INPUT_SIZE)) for image in images])
    return (images.astype(np.float32) / np.float32(255.0))[:, None]


def open_session(path: Path) -> ort.InferenceSession:
    return load_session(Path(path))


def evaluate_session(
    session: ort.InferenceSession, images: npt.NDArray[np.uint8]
) -> tuple[FloatArray, FloatArray]:
    probs, features = [], []
    for start in range(0, len(images), BATCH):
        p, f = session.run(
            [PROBS_NAME, FEATURES_NAME], {INPUT_NAME: preprocess(images[start : start + BATCH])}
        )
        probs.append(p)
        features.append(f)
    return np.concatenate(probs), np.concatenate(features)


def flip_tta(session: ort.InferenceSession, images: npt.NDArray[np.uint8]) -> FloatArray:
    plain, _ = evaluate_session(session, images)
    mirrored, _ = evaluate_session(session, np.ascontiguousarray(images[:, :, ::-1]))
    return np.asarray((plain + mirrored) / 2, dtype=np.float32)


def initializers(path: Path) -> dict[str, npt.NDArray[Any]]:
    model = onnx.load(str(path))
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def ours_logits(path: Path, features: FloatArray) -> npt.NDArray[np.float64]:
    """Logits before the temperature: mean over the map, then the classifier's Gemm."""
    weights = initializers(path)
    pooled = np.asarray(features, np.float64).mean(axis=(2, 3))
    weight = np.asarray(weights[CLASSIFIER_WEIGHT], np.float64)
    return np.asarray(pooled @ weight.T + weights[CLASSIFIER_BIAS], np.float64)


def evaluate(path: Path, data: Path) -> dict[str, Any]:
    with np.load(data / "fer2013" / "publictest.npz") as fer:
        images = np.asarray(fer["images"], np.uint8)
        labels = np.asarray(fer["labels"], np.int64)
        if tuple(str(name) for name in fer["classes"]) != EMOTIONS:
            raise SystemExit("publictest.npz classes are not in EMOTIONS order")
    report: dict[str, Any] = {"model": path.name, "images": len(labels)}
    if path.name == MINIXCEPTION:
        from burnout_tui.vision.emotion import EmotionClassifier

        classifier = EmotionClassifier()
        probs = np.concatenate(
            [classifier.predict(list(images[i : i + BATCH])) for i in range(0, len(images), BATCH)]
        )
        mirrored = np.concatenate(
            [
                classifier.predict(list(np.ascontiguousarray(images[i : i + BATCH, :, ::-1])))
                for i in range(0, len(images), BATCH)
            ]
        )
        report["plain"] = summary(probs, labels)
        report["plain"]["reliability"] = reliability(probs, labels)
        report["flip_tta"] = summary((probs + mirrored) / 2, labels)
        return report
    session = open_session(path)
    probs, features = evaluate_session(session, images)
    weights = initializers(path)
    report["temperature"] = float(weights[TEMPERATURE])
    raw = softmax(ours_logits(path, features))
    report["plain"] = summary(probs, labels)
    report["plain"]["reliability"] = reliability(probs, labels)
    report["before_temperature"] = summary(raw, labels)
    report["before_temperature"]["reliability"] = reliability(raw, labels)
    report["flip_tta"] = summary(flip_tta(session, images), labels)
    return report


def speed(path: Path) -> dict[str, float]:
    """Median ms per face, preprocessing included, for each of SPEED_BATCHES (noisy)."""
    rng = np.random.default_rng(0)
    predict: Callable[[Sequence[npt.NDArray[np.uint8]]], object]
    if path.name == MINIXCEPTION:
        from burnout_tui.vision.emotion import EmotionClassifier

        predict = EmotionClassifier().predict
    else:
        session = open_session(path)

        def predict(faces: Sequence[npt.NDArray[np.uint8]]) -> object:
            return session.run([PROBS_NAME], {INPUT_NAME: preprocess(np.stack(faces))})

    result = {}
    for batch in SPEED_BATCHES:
        faces = list(rng.integers(0, 256, (batch, SPEED_CROP, SPEED_CROP), dtype=np.uint8))
        times = []
        for round_ in range(SPEED_WARMUP + SPEED_ROUNDS):
            began = time.perf_counter()
            predict(faces)
            if round_ >= SPEED_WARMUP:
                times.append((time.perf_counter() - began) * 1000 / batch)
        result[f"batch_{batch}_ms_per_face"] = statistics.median(times)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    parser.add_argument("--speed", action="store_true", help="only time it (ms per face)")
    args = parser.parse_args(argv)
    if args.speed:
        sys.stdout.write(json.dumps(speed(args.model), indent=1) + "\n")
        return 0
    root = os.environ.get("BURNOUT_TUI_DATA")
    if not root:
        raise SystemExit("set BURNOUT_TUI_DATA to the shared data folder (fer2013/ inside)")
    if not args.model.exists():
        raise SystemExit(f"no such model: {args.model}")
    text = json.dumps(evaluate(args.model, Path(root)), indent=1) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
