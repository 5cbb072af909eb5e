"""Blink detection and the UTA-RLDD features from synthetic EAR series with known blinks."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from burnout_tui.config import DrowsinessConfig
from burnout_tui.signals.blink_baseline import (
    BlinkBaseline,
    SessionBaseline,
    baseline_from_features,
)
from burnout_tui.signals.blinks import (
    BlinkDetector,
    blink_shapes,
    detect_blinks,
    feature_matrix,
    smooth,
)
from burnout_tui.signals.drowsiness import (
    LEVELS,
    WINDOW_BLINKS,
    BlinkTrack,
    DrowsinessLevel,
)

OPEN = 0.30
CLOSED = 0.12
FALL_S = 0.08
BOTTOM_S = 0.06
RISE_S = 0.16


def blink_profile(
    t: npt.NDArray[np.float64], start: float, depth: float
) -> npt.NDArray[np.float64]:
    """A lid closing linearly over FALL_S, held BOTTOM_S, reopening over RISE_S."""
    bottom = OPEN - depth
    closing = np.clip((t - start) / FALL_S, 0.0, 1.0)
    opening = np.clip((t - start - FALL_S - BOTTOM_S) / RISE_S, 0.0, 1.0)
    return OPEN - (OPEN - bottom) * closing + (OPEN - bottom) * opening


def series(
    fps: float,
    seconds: float,
    starts: list[float],
    depth: float = OPEN - CLOSED,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    t = np.arange(0.0, seconds, 1.0 / fps)
    ear = np.full_like(t, OPEN)
    for start in starts:
        ear = np.minimum(ear, blink_profile(t, start, depth))
    if noise:
        ear = ear + np.random.default_rng(seed).normal(0.0, noise, t.size)
    return t, ear


STARTS = [3.0 + 3.0 * i for i in range(10)]


@pytest.mark.parametrize("fps", [30.0, 15.0, 60.0])
def test_every_blink_is_found_with_the_same_features_at_any_frame_rate(fps: float) -> None:
    t, ear = series(fps, 35.0, STARTS)
    blinks = detect_blinks(t, ear)
    assert len(blinks) == len(STARTS)
    features = feature_matrix(blinks)
    # The amplitude is the lids' travel; smoothing over three samples takes a little off.
    assert features[:, 1] == pytest.approx(np.full(len(STARTS), OPEN - CLOSED), rel=0.2)
    # Duration from the lids starting to fall to fully reopened, in seconds whatever the rate.
    assert features[:, 2] == pytest.approx(
        np.full(len(STARTS), FALL_S + BOTTOM_S + RISE_S), abs=3.0 / fps + 0.02
    )
    # Opening speed: the travel over the rise time, EAR units a second.
    assert features[:, 3] == pytest.approx(np.full(len(STARTS), (OPEN - CLOSED) / RISE_S), rel=0.45)
    for blink, start in zip(blinks, STARTS, strict=True):
        assert start - 2.0 / fps <= blink.start_ts <= blink.peak_ts <= blink.end_ts
        assert blink.peak_ts == pytest.approx(start + FALL_S + BOTTOM_S / 2, abs=0.1)


def test_frequency_is_blinks_a_minute_of_observed_time() -> None:
    t, ear = series(30.0, 35.0, STARTS)
    blinks = detect_blinks(t, ear)
    last = blinks[-1]
    assert last.frequency == pytest.approx(60.0 * len(blinks) / last.end_ts, rel=0.05)


def test_shallow_dips_and_noise_are_not_blinks() -> None:
    t, ear = series(30.0, 20.0, [5.0, 10.0], depth=0.02, noise=0.003)
    assert detect_blinks(t, ear) == []


def test_noisy_blinks_are_still_found() -> None:
    t, ear = series(30.0, 35.0, STARTS, noise=0.005)
    assert len(detect_blinks(t, ear)) == len(STARTS)


def test_two_closures_a_frame_apart_are_one_blink() -> None:
    t = np.arange(0.0, 10.0, 1.0 / 30.0)
    ear = np.full_like(t, OPEN)
    ear = np.minimum(ear, blink_profile(t, 5.0, OPEN - CLOSED))
    # A one-frame flicker above the candidate threshold at the bottom of the closure.
    bottom = round((5.0 + FALL_S + 0.02) * 30)
    ear[bottom] = OPEN * 0.85
    assert len(detect_blinks(t, ear)) == 1


def test_a_gap_abandons_the_blink_in_progress() -> None:
    t, ear = series(30.0, 12.0, [5.0, 9.0])
    gap = (t > 5.05) & (t < 5.8)
    assert len(detect_blinks(t[~gap], ear[~gap])) == 1


def test_nan_samples_are_skipped_and_time_must_not_go_back() -> None:
    detector = BlinkDetector(DrowsinessConfig(), max_gap_s=0.5)
    assert detector.push(0.0, math.nan) == []
    detector.push(1.0, OPEN)
    with pytest.raises(ValueError, match="go back"):
        detector.push(0.5, OPEN)


def test_shapes_split_a_double_dip_into_two_blinks() -> None:
    raw = [0.3, 0.3, 0.2, 0.12, 0.2, 0.3, 0.3, 0.2, 0.12, 0.2, 0.3, 0.3]
    values = smooth(np.arange(len(raw)) / 30.0, raw)
    shapes = blink_shapes(values)
    assert len(shapes) == 2
    assert all(s.start < s.peak <= s.bottom_end < s.end for s in shapes)


def test_baseline_normalises_each_feature() -> None:
    rows = [(10.0 + i, 0.1, 0.3, 1.0 + i % 2) for i in range(20)]
    rows = [(f, a + 0.01 * (i % 3), d + 0.01 * (i % 4), v) for i, (f, a, d, v) in enumerate(rows)]
    baseline = baseline_from_features(rows, min_blinks=15)
    assert baseline is not None
    z = np.array([baseline.normalise(row) for row in rows])
    assert z.mean(axis=0) == pytest.approx(np.zeros(4), abs=1e-9)
    assert z.std(axis=0) == pytest.approx(np.ones(4))
    assert baseline_from_features(rows[:10], min_blinks=15) is None
    assert baseline_from_features([(1.0, 1.0, 1.0, 1.0)] * 20, min_blinks=15) is None
    with pytest.raises(ValueError, match="spreads"):
        BlinkBaseline(3, (0.0, 0.0, 0.0, 0.0), (1.0, 0.0, 1.0, 1.0))


def test_session_baseline_waits_for_its_stretch_and_enough_blinks() -> None:
    learner = SessionBaseline(baseline_s=60.0, min_blinks=3)
    assert learner.push(0.0, (1.0, 1.0, 1.0, 1.0)) is None
    assert learner.push(30.0, (2.0, 2.0, 2.0, 2.0)) is None
    # Past the stretch with only two blinks: it goes on.
    assert learner.push(70.0, (3.0, 3.0, 3.0, 3.0)) is None
    baseline = learner.push(80.0, (9.0, 9.0, 9.0, 9.0))
    assert baseline is not None
    assert baseline.count == 3
    assert baseline.means == pytest.approx((2.0, 2.0, 2.0, 2.0))


def test_level_reads_its_probabilities() -> None:
    level = DrowsinessLevel(0.1, 0.2, 0.7)
    assert level.level == LEVELS[2] == "drowsy"
    assert level.probability == pytest.approx(0.7)
    assert level.expected == pytest.approx(0.2 * 5 + 0.7 * 10)


def test_track_gives_a_window_once_thirty_blinks_are_normalised() -> None:
    settings = DrowsinessConfig(baseline_s=20.0, min_baseline_blinks=5)
    starts = [2.0 + 2.5 * i + 0.3 * (i % 3) for i in range(60)]
    rng = np.random.default_rng(1)
    t, _ = series(30.0, starts[-1] + 2.0, [])
    ear = np.full_like(t, OPEN)
    for start in starts:
        ear = np.minimum(ear, blink_profile(t, start, rng.uniform(0.12, 0.2)))
    track = BlinkTrack(settings, max_gap_s=0.5, baseline=None)
    pending = [blink for ts, e in zip(t, ear, strict=True) for blink in track.push(ts, e)]
    assert len(pending) >= 55
    normalised = [blink for blink in pending if blink.normalised is not None]
    windows = [blink.window for blink in pending if blink.window is not None]
    assert track.baseline is not None
    assert len(normalised) >= WINDOW_BLINKS
    assert len(windows) == len(normalised) - WINDOW_BLINKS + 1
    assert windows[0] is not None and windows[0].shape == (WINDOW_BLINKS, 4)
    np.testing.assert_allclose(windows[-1][-1], normalised[-1].normalised or (), rtol=1e-6)


def test_a_calibrated_track_normalises_from_its_first_blink() -> None:
    baseline = BlinkBaseline(20, (15.0, 0.15, 0.3, 1.0), (5.0, 0.02, 0.05, 0.3))
    track = BlinkTrack(DrowsinessConfig(), max_gap_s=0.5, baseline=baseline)
    t, ear = series(30.0, 8.0, [3.0])
    pending = [blink for ts, e in zip(t, ear, strict=True) for blink in track.push(ts, e)]
    assert len(pending) == 1
    assert pending[0].normalised is not None
