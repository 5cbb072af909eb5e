"""Speed of each emotion model, as the emotion stage runs it: ms per face, preprocessing in.

Issue #13's targets: at most 2 ms per face for one face and 1 ms per face in a batch of 8,
on 2 ONNX Runtime threads, including preprocessing (gray conversion, resize, scaling), so
the crops timed are the 64-pixel gray squares `aligned_crop` gives the stage. The models
alternate round by round so drift in machine load touches both alike. `[emotion] flip`
doubles the batch; it is timed too. The frames/s of `analyze` with each model come from
`tools.bench` (the `emotion` table), which runs the real CLI.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from burnout_tui.emotion_models import EMOTION_MODELS
from burnout_tui.vision.align import CROP_SIZE
from burnout_tui.vision.emotion import EmotionClassifier
from burnout_tui.vision.runtime import DEFAULT_THREADS

BATCHES = (1, 8)
WARMUP_RUNS = 5
TIMED_ROUNDS = 60


@dataclass(frozen=True, slots=True)
class EmotionTiming:
    model: str
    flip: bool
    ms_per_face: dict[int, float]
    """Median ms per face of one `predict` call, by batch size."""


def emotion_timings(
    rounds: int = TIMED_ROUNDS, threads: int = DEFAULT_THREADS, warmup: int = WARMUP_RUNS
) -> list[EmotionTiming]:
    generator = np.random.default_rng(0)
    crops = [
        generator.integers(0, 256, size=(CROP_SIZE, CROP_SIZE), dtype=np.uint8)
        for _ in range(max(BATCHES))
    ]
    classifiers = {
        (spec.name, flip): EmotionClassifier(threads=threads, model=spec.name, flip=flip)
        for spec in EMOTION_MODELS
        for flip in (False, True)
    }
    for classifier in classifiers.values():
        for batch in BATCHES:
            for _ in range(warmup):
                classifier.predict(crops[:batch])
    times: dict[tuple[str, bool, int], list[float]] = {
        (name, flip, batch): [] for name, flip in classifiers for batch in BATCHES
    }
    for _ in range(rounds):
        for (name, flip), classifier in classifiers.items():
            for batch in BATCHES:
                start = time.perf_counter()
                classifier.predict(crops[:batch])
                times[(name, flip, batch)].append(1000 * (time.perf_counter() - start) / batch)
    return [
        EmotionTiming(
            name, flip, {batch: statistics.median(times[(name, flip, batch)]) for batch in BATCHES}
        )
        for name, flip in classifiers
    ]


__all__ = ["BATCHES", "EmotionTiming", "emotion_timings"]
