"""The bench's emotion-model timings: one entry per model and flip, every batch size (no
timed assertion: speed is for `make bench`)."""

from __future__ import annotations

import math

from burnout_tui.emotion_models import EMOTION_MODEL_NAMES
from tools.bench_emotion import BATCHES, emotion_timings


def test_every_model_with_and_without_flip_is_timed() -> None:
    timings = emotion_timings(rounds=1, threads=1, warmup=0)
    assert [(t.model, t.flip) for t in timings] == [
        (name, flip) for name in EMOTION_MODEL_NAMES for flip in (False, True)
    ]
    for timing in timings:
        assert sorted(timing.ms_per_face) == sorted(BATCHES)
        assert all(math.isfinite(ms) and ms > 0 for ms in timing.ms_per_face.values())
