"""The valence score: from emotion probabilities to a bounded burnout / stress proxy.

Everything here is a pure function of its arguments (RollingScore only keeps the last
frames it was given), so the same numbers come out of a live monitor, a batch analysis
and a recomputation from stored rows.

Scale. S_t is linear in the probability vector, so over the probability simplex it is
bounded by its values at the vertices: S_t lies in [lo, hi] with lo = -beta and
hi = max(alpha, gamma) (the weights are non-negative). By Popoviciu's inequality the
population variance of values confined to [lo, hi] is at most ((hi - lo) / 2)^2. Dividing
by those bounds puts both the mean and the volatility on [0, 1] before they are mixed:

    percent = 100 * (lam * (S - lo) / (hi - lo) + (1 - lam) * V / ((hi - lo) / 2)^2)

Mixing the raw values instead (the thesis' lam * S + (1 - lam) * V, kept as
`final_score`) would let the weights change the relative influence of the two terms and
gives no fixed range to map to a percentage.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.config import LevelsConfig, ScoringConfig

Level = Literal["low", "moderate", "high"]

NEGATIVE_EMOTIONS = ("angry", "disgust", "fear", "sad")
POSITIVE_EMOTIONS = ("happy",)
FLAT_EMOTIONS = ("neutral", "surprise")

PERCENT = 100.0
HALF = 0.5

FloatArray = npt.NDArray[np.float64]


def _weights(config: ScoringConfig) -> FloatArray:
    by_name = {
        **dict.fromkeys(NEGATIVE_EMOTIONS, config.alpha),
        **dict.fromkeys(POSITIVE_EMOTIONS, -config.beta),
        **dict.fromkeys(FLAT_EMOTIONS, config.gamma),
    }
    return np.array([by_name[name] for name in EMOTIONS], dtype=np.float64)


def frame_scores(probs: npt.ArrayLike, config: ScoringConfig) -> FloatArray:
    """S_t for one probability vector (shape (7,) -> 0-d) or many (shape (N, 7) -> (N,)).

    Probabilities are taken as given: the bounds in `score_bounds` hold for vectors on the
    simplex, which a softmax output is up to rounding.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[-1] != len(EMOTIONS):
        raise ValueError(
            f"expected shape ({len(EMOTIONS)},) or (N, {len(EMOTIONS)}), got {p.shape}"
        )
    return np.asarray(p @ _weights(config))


def score_bounds(config: ScoringConfig) -> tuple[float, float]:
    """The exact range of S_t over all probability vectors: (-beta, max(alpha, gamma))."""
    return -config.beta, max(config.alpha, config.gamma)


def session_score(scores: npt.ArrayLike) -> float:
    """Mean of S_t: the level of affect over the session."""
    return float(np.mean(np.asarray(scores, dtype=np.float64)))


def volatility(scores: npt.ArrayLike) -> float:
    """Population variance of S_t (ddof=0).

    The frames are the whole session, not a sample from a larger one, and the population
    variance is the one bounded by Popoviciu's inequality, which the percentage relies
    on (the sample variance of two frames at opposite extremes is twice that bound). It
    is also defined, as 0, for a single frame.
    """
    return float(np.var(np.asarray(scores, dtype=np.float64)))


def final_score(mean: float, variance: float, config: ScoringConfig) -> float:
    """The thesis' unscaled mix lam * S + (1 - lam) * V, for comparison with its results."""
    return config.lam * mean + (1.0 - config.lam) * variance


def final_percent(mean: float, variance: float, config: ScoringConfig) -> float:
    """The proxy on 0-100 %: mean and volatility each scaled by their exact bounds, then mixed.

    Clipping only absorbs rounding (a softmax summing to 1 + 1e-7); in exact arithmetic
    both scaled terms already lie in [0, 1].
    """
    lo, hi = score_bounds(config)
    span = hi - lo
    level_01 = np.clip((mean - lo) / span, 0.0, 1.0)
    volatility_01 = np.clip(variance / (HALF * span) ** 2, 0.0, 1.0)
    return float(PERCENT * (config.lam * level_01 + (1.0 - config.lam) * volatility_01))


def level(percent: float, levels: LevelsConfig) -> Level:
    if not np.isfinite(percent):
        raise ValueError(f"percent must be a finite number, got {percent}")
    if percent < levels.moderate:
        return "low"
    if percent < levels.high:
        return "moderate"
    return "high"


class RollingScore:
    """The live score over the last `window` face frames.

    Recomputed from the window on each push rather than kept as a running sum, so no
    rounding error accumulates over hours of frames; at 30 values this is negligible work.
    """

    def __init__(self, config: ScoringConfig) -> None:
        self.config = config
        self._window: deque[float] = deque(maxlen=config.window)

    def push(self, score: float) -> float:
        """Add one frame's S_t; returns the window mean."""
        self._window.append(score)
        return self.mean

    def __len__(self) -> int:
        return len(self._window)

    @property
    def mean(self) -> float:
        if not self._window:
            raise ValueError("no frame scored yet")
        return session_score(self._window)

    @property
    def percent(self) -> float:
        """The proxy over the window, on the same 0-100 % scale as a whole session."""
        return final_percent(self.mean, volatility(self._window), self.config)

    def percent_with_mean(self, mean: float) -> float:
        """The window's proxy had its mean been `mean`, its volatility unchanged.

        The forecaster predicts the window mean only; shown beside the rolling percent,
        it has to be on that scale, and the volatility of the last 30 frames is the best
        guess for the next second's.
        """
        if not self._window:
            raise ValueError("no frame scored yet")
        return final_percent(mean, volatility(self._window), self.config)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A session's numbers; the statistics are None when no frame had a face."""

    frames: int
    face_frames: int
    mean: float | None
    min: float | None
    max: float | None
    std: float | None
    volatility: float | None
    final_percent: float | None
    level: Level | None


def summarise(
    scores: npt.ArrayLike, frames: int, scoring: ScoringConfig, levels: LevelsConfig
) -> SessionSummary:
    """Summarise a session from its frame scores.

    `scores` may hold NaN for frames without a face; only finite values are scored.
    `frames` counts every frame processed, with or without a face.
    """
    values = np.asarray(scores, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if frames < values.size:
        raise ValueError(f"frames ({frames}) is less than the {values.size} scored frames")
    if values.size == 0:
        return SessionSummary(frames, 0, None, None, None, None, None, None, None)
    mean = session_score(values)
    variance = volatility(values)
    percent = final_percent(mean, variance, scoring)
    return SessionSummary(
        frames=frames,
        face_frames=int(values.size),
        mean=mean,
        min=float(values.min()),
        max=float(values.max()),
        std=float(np.sqrt(variance)),
        volatility=variance,
        final_percent=percent,
        level=level(percent, levels),
    )
