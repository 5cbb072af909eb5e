"""ONNX Runtime intra-op threads 1 vs 2 for each model, as `load_session` builds them.

The question behind it (issue #12): with a decode thread beside inference on two cores,
does a model gain from a second intra-op thread, or does the hand-off cost more than the
split saves? Each model runs on an input of the size `analyze` gives it; the two thread
counts alternate so drift in machine load touches both alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import numpy as np

from burnout_tui.vision.runtime import load_session

THREAD_COUNTS = (1, 2)
WARMUP_RUNS = 5
TIMED_ROUNDS = 40

MODEL_INPUTS: dict[str, tuple[int, ...]] = {
    "mtcnn_pnet.onnx": (1, 3, 308, 308),
    "mtcnn_rnet.onnx": (8, 3, 24, 24),
    "mtcnn_onet.onnx": (2, 3, 48, 48),
    "emotion_minixception.onnx": (1, 1, 64, 64),
    "emotion_ours_v1.onnx": (1, 1, 48, 48),
    "face_mesh.onnx": (1, 3, 192, 192),
}
"""P-Net at the first pyramid level of a 512×512 frame (20-px faces: scale 12/20); R-Net
on a typical batch of P-Net candidates, O-Net on its survivors; one face for the others.
The dimensions a model fixes itself replace these where they differ."""


def _fitted(wanted: tuple[int, ...], declared: list[object]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) else w for w, d in zip(wanted, declared, strict=True))


def ort_thread_timings() -> Iterator[tuple[str, tuple[int, ...], list[float]]]:
    """(model, input shape, median ms per run for each of THREAD_COUNTS)."""
    generator = np.random.default_rng(0)
    for name, wanted in MODEL_INPUTS.items():
        sessions = [load_session(name, threads) for threads in THREAD_COUNTS]
        declared = sessions[0].get_inputs()[0]
        shape = _fitted(wanted, list(declared.shape))
        feed = {declared.name: generator.random(shape, dtype=np.float32)}
        for session in sessions:
            for _ in range(WARMUP_RUNS):
                session.run(None, feed)
        times: list[list[float]] = [[] for _ in sessions]
        for _ in range(TIMED_ROUNDS):
            for timed, session in zip(times, sessions, strict=True):
                start = time.perf_counter()
                session.run(None, feed)
                timed.append(1000 * (time.perf_counter() - start))
        yield name, shape, [statistics.median(timed) for timed in times]


__all__ = ["MODEL_INPUTS", "THREAD_COUNTS", "ort_thread_timings"]
