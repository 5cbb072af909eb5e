"""Properties of the valence score that must hold for every probability vector and config."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from burnout_tui import EMOTIONS
from burnout_tui.config import LevelsConfig, ScoringConfig
from burnout_tui.scoring import (
    RollingScore,
    final_percent,
    final_score,
    frame_scores,
    level,
    score_bounds,
    session_score,
    summarise,
    volatility,
)

TOLERANCE = 1e-9
NEGATIVE = [EMOTIONS.index(name) for name in ("angry", "disgust", "fear", "sad")]
HAPPY = EMOTIONS.index("happy")
NEUTRAL = EMOTIONS.index("neutral")
SURPRISE = EMOTIONS.index("surprise")

weights = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


@st.composite
def scoring_configs(draw: st.DrawFn) -> ScoringConfig:
    alpha = draw(st.floats(min_value=0.01, max_value=10.0))
    return ScoringConfig(
        alpha=alpha,
        beta=draw(weights),
        gamma=draw(st.floats(min_value=0.0, max_value=alpha)),
        lam=draw(st.floats(min_value=0.0, max_value=1.0)),
        window=draw(st.integers(min_value=1, max_value=60)),
    )


@st.composite
def probability_vectors(draw: st.DrawFn) -> npt.NDArray[np.float64]:
    if draw(st.booleans()):
        one_hot = np.zeros(len(EMOTIONS))
        one_hot[draw(st.integers(0, len(EMOTIONS) - 1))] = 1.0
        return one_hot
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=7, max_size=7)))
    if raw.sum() == 0.0:
        raw[NEUTRAL] = 1.0
    normalised: npt.NDArray[np.float64] = raw / raw.sum()
    return normalised


sessions = st.lists(probability_vectors(), min_size=1, max_size=40).map(np.array)


def scale(config: ScoringConfig) -> float:
    lo, hi = score_bounds(config)
    return max(abs(lo), abs(hi), 1.0)


@given(probability_vectors(), scoring_configs())
def test_frame_score_within_bounds(probs: npt.NDArray[np.float64], config: ScoringConfig) -> None:
    lo, hi = score_bounds(config)
    score = float(frame_scores(probs, config))
    assert lo - TOLERANCE * scale(config) <= score <= hi + TOLERANCE * scale(config)


def test_bounds_are_reached_at_the_vertices() -> None:
    config = ScoringConfig(alpha=2.0, beta=0.5, gamma=1.0)
    scores = frame_scores(np.eye(len(EMOTIONS)), config)
    assert (float(scores.min()), float(scores.max())) == score_bounds(config) == (-0.5, 2.0)


@given(sessions, scoring_configs())
def test_percent_is_bounded(probs: npt.NDArray[np.float64], config: ScoringConfig) -> None:
    scores = frame_scores(probs, config)
    percent = final_percent(session_score(scores), volatility(scores), config)
    assert 0.0 <= percent <= 100.0


@given(sessions, scoring_configs())
def test_volatility_within_popoviciu_bound(
    probs: npt.NDArray[np.float64], config: ScoringConfig
) -> None:
    lo, hi = score_bounds(config)
    bound = ((hi - lo) / 2) ** 2
    assert volatility(frame_scores(probs, config)) <= bound * (1 + TOLERANCE) + TOLERANCE


@given(
    probability_vectors(),
    scoring_configs(),
    st.sampled_from([HAPPY, NEUTRAL, SURPRISE]),
    st.sampled_from(NEGATIVE),
    st.floats(0.0, 1.0),
)
def test_moving_mass_to_a_negative_emotion_never_lowers_the_score(
    probs: npt.NDArray[np.float64],
    config: ScoringConfig,
    source: int,
    target: int,
    share: float,
) -> None:
    moved = probs.copy()
    amount = probs[source] * share
    moved[source] -= amount
    moved[target] += amount
    before = float(frame_scores(probs, config))
    after = float(frame_scores(moved, config))
    assert after >= before - TOLERANCE * scale(config)


@given(probability_vectors(), scoring_configs(), st.integers(1, 50))
def test_constant_input_has_zero_volatility(
    probs: npt.NDArray[np.float64], config: ScoringConfig, frames: int
) -> None:
    scores = frame_scores(np.tile(probs, (frames, 1)), config)
    assert volatility(scores) == pytest.approx(0.0, abs=1e-12 * scale(config) ** 2)


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=200))
def test_session_score_is_the_mean(scores: list[float]) -> None:
    assert session_score(scores) == pytest.approx(math.fsum(scores) / len(scores), abs=1e-9)


@given(st.lists(st.floats(-1, 1), min_size=1, max_size=120), st.integers(1, 40))
def test_rolling_score_is_the_mean_of_the_last_window(scores: list[float], window: int) -> None:
    rolling = RollingScore(ScoringConfig(window=window))
    for seen, score in enumerate(scores, start=1):
        current = rolling.push(score)
        recent = scores[max(0, seen - window) : seen]
        assert current == pytest.approx(math.fsum(recent) / len(recent), abs=1e-12)
        assert len(rolling) == len(recent)


def test_rolling_default_window_is_30() -> None:
    rolling = RollingScore(ScoringConfig())
    for score in range(100):
        rolling.push(float(score))
    assert rolling.mean == pytest.approx(np.mean(np.arange(70, 100)))
    assert 0.0 <= rolling.percent <= 100.0


def test_percent_with_mean_swaps_only_the_level_term() -> None:
    """A forecast of the window mean is shown on the rolling percent's scale: same
    volatility, its own mean; the window's own mean gives the rolling percent back."""
    config = ScoringConfig()
    rolling = RollingScore(config)
    with pytest.raises(ValueError, match="no frame"):
        rolling.percent_with_mean(0.0)
    for score in (0.1, 0.4, 0.2, 0.5):
        rolling.push(score)
    assert rolling.percent_with_mean(rolling.mean) == pytest.approx(rolling.percent)
    higher = rolling.percent_with_mean(rolling.mean + 0.1)
    assert higher > rolling.percent
    lo, hi = score_bounds(config)
    step = config.lam * 100.0 * 0.1 / (hi - lo)
    assert higher - rolling.percent == pytest.approx(step)


def test_frame_scores_vectorised_matches_single_rows() -> None:
    config = ScoringConfig()
    probs = np.random.default_rng(0).dirichlet(np.ones(len(EMOTIONS)), size=20)
    batch = frame_scores(probs, config)
    assert batch.shape == (20,)
    singles = [float(frame_scores(row, config)) for row in probs]
    np.testing.assert_allclose(batch, singles)
    assert frame_scores(probs[0], config).shape == ()


@pytest.mark.parametrize("shape", [(6,), (3, 8), (2, 2, 7)])
def test_frame_scores_rejects_wrong_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="expected shape"):
        frame_scores(np.zeros(shape), ScoringConfig())


def test_documented_mapping_with_defaults() -> None:
    """default_config.toml states: percent = 40 * (S + 1) without volatility, neutral = 52 %."""
    config = ScoringConfig()
    neutral = np.zeros(len(EMOTIONS))
    neutral[NEUTRAL] = 1.0
    score = float(frame_scores(neutral, config))
    assert score == pytest.approx(0.3)
    assert final_percent(score, 0.0, config) == pytest.approx(52.0)
    assert final_percent(-1.0, 0.0, config) == 0.0
    assert final_percent(1.0, 1.0, config) == pytest.approx(100.0)
    assert final_score(0.5, 0.25, config) == pytest.approx(0.8 * 0.5 + 0.2 * 0.25)


def test_level_thresholds() -> None:
    levels = LevelsConfig(moderate=40.0, high=65.0)
    assert level(0.0, levels) == "low"
    assert level(39.99, levels) == "low"
    assert level(40.0, levels) == "moderate"
    assert level(64.99, levels) == "moderate"
    assert level(65.0, levels) == "high"
    assert level(100.0, levels) == "high"
    with pytest.raises(ValueError):
        level(float("nan"), levels)


def test_summarise_matches_numpy_and_skips_frames_without_a_face() -> None:
    scores = np.array([0.1, np.nan, 0.5, -0.2, np.nan, 0.3])
    finite = scores[np.isfinite(scores)]
    summary = summarise(scores, 8, ScoringConfig(), LevelsConfig())
    assert (summary.frames, summary.face_frames) == (8, 4)
    assert summary.mean == pytest.approx(finite.mean())
    assert (summary.min, summary.max) == (-0.2, 0.5)
    assert summary.std == pytest.approx(finite.std())
    assert summary.volatility == pytest.approx(finite.var())
    assert summary.final_percent == pytest.approx(
        final_percent(finite.mean(), finite.var(), ScoringConfig())
    )
    assert summary.final_percent is not None
    assert summary.level == level(summary.final_percent, LevelsConfig())


def test_summarise_without_faces_has_no_statistics() -> None:
    summary = summarise(np.array([np.nan, np.nan]), 2, ScoringConfig(), LevelsConfig())
    assert summary.face_frames == 0
    assert summary.mean is None and summary.final_percent is None and summary.level is None


def test_summarise_rejects_fewer_frames_than_scores() -> None:
    with pytest.raises(ValueError):
        summarise([0.1, 0.2], 1, ScoringConfig(), LevelsConfig())
