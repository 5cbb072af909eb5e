"""Fatigue cues on synthetic input: mesh geometry on hand-made points, and the tracker's
events, windows and calibration on hand-made measure streams (no models, no shared data)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from burnout_tui.config import FatigueConfig
from burnout_tui.scoring.fatigue import (
    Baseline,
    FatigueFrame,
    FatigueTracker,
    baseline_from_measures,
    population_baseline,
)
from burnout_tui.store.fatigue import session_fatigue
from burnout_tui.vision.canonical_face import NUM_LANDMARKS, POSE_LANDMARKS, POSE_MODEL
from burnout_tui.vision.fatigue import (
    EYE_LEFT,
    EYE_RIGHT,
    MOUTH,
    MeshMeasures,
    camera_matrix,
    euler_angles,
    eye_aspect_ratio,
    head_pose,
    mesh_measures,
    mouth_aspect_ratio,
    rotation_matrix,
)
from tests.fatigue_view import stored_session, view_row, view_summary

FRAME = (640, 480)
FPS = 30.0
DT = 1.0 / FPS
EAR_OPEN = 0.30
BASELINE = Baseline(ear_open=EAR_OPEN, mar_rest=0.05, yaw0=0.0, pitch0=0.0, roll0=0.0)
SETTINGS = FatigueConfig()
ANGLE_TOL_DEG = 1e-3
"""Exact projections of the model's own points: the pose comes back to solver precision."""


def _blank() -> npt.NDArray[np.float64]:
    return np.zeros((NUM_LANDMARKS, 3))


def _place_eye(points: npt.NDArray[np.float64], eye: Sequence[int], x: float, gap: float) -> None:
    """A 10-px-wide eye at (x, 100) whose two lid pairs are `gap` apart."""
    p1, p2, p3, p4, p5, p6 = eye
    coords = {
        p1: (x, 100.0),
        p4: (x + 10.0, 100.0),
        p2: (x + 3.0, 100.0 - gap / 2),
        p6: (x + 3.0, 100.0 + gap / 2),
        p3: (x + 7.0, 100.0 - gap / 2),
        p5: (x + 7.0, 100.0 + gap / 2),
    }
    for index, (px, py) in coords.items():
        points[index, :2] = px, py


def test_eye_aspect_ratio_of_a_drawn_eye() -> None:
    points = _blank()
    _place_eye(points, EYE_RIGHT, 0.0, 4.0)
    _place_eye(points, EYE_LEFT, 50.0, 1.0)
    assert eye_aspect_ratio(points, EYE_RIGHT) == pytest.approx(0.4)  # (4 + 4) / (2 * 10)
    assert eye_aspect_ratio(points, EYE_LEFT) == pytest.approx(0.1)
    measures = mesh_measures(points, FRAME)
    assert measures.ear_right == pytest.approx(0.4)
    assert measures.ear_left == pytest.approx(0.1)


def test_eye_indices_are_mediapipe_contours() -> None:
    """The person's right eye is 33-133, the left 263-362; p2/p6 and p3/p5 face each other."""
    assert (EYE_RIGHT[0], EYE_RIGHT[3]) == (33, 133)
    assert (EYE_LEFT[0], EYE_LEFT[3]) == (263, 362)
    assert {EYE_RIGHT[1], EYE_RIGHT[5]} == {160, 144}
    assert {EYE_LEFT[1], EYE_LEFT[5]} == {387, 373}


def test_ear_ignores_z_and_scale() -> None:
    points = _blank()
    _place_eye(points, EYE_RIGHT, 0.0, 3.0)
    before = eye_aspect_ratio(points, EYE_RIGHT)
    points[:, 2] = np.arange(NUM_LANDMARKS)  # depth has no say
    points[:, :2] *= 3.7
    assert eye_aspect_ratio(points, EYE_RIGHT) == pytest.approx(before)


def test_mouth_aspect_ratio_of_a_drawn_mouth() -> None:
    points = _blank()
    left, right, pairs = MOUTH
    points[left, :2] = 0.0, 200.0
    points[right, :2] = 20.0, 200.0
    for (upper, lower), gap in zip(pairs, (2.0, 4.0, 2.0), strict=True):
        points[upper, :2] = 10.0, 200.0 - gap / 2
        points[lower, :2] = 10.0, 200.0 + gap / 2
    assert mouth_aspect_ratio(points) == pytest.approx(8.0 / 3.0 / 20.0)


def test_degenerate_spans_give_nan_not_infinity() -> None:
    points = _blank()  # every point at the origin: no eye or mouth width
    assert math.isnan(eye_aspect_ratio(points, EYE_LEFT))
    assert math.isnan(mouth_aspect_ratio(points))


def test_mesh_measures_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="468"):
        mesh_measures(np.zeros((68, 2)), FRAME)


def test_nan_landmarks_give_nan_pose() -> None:
    points = _blank()
    points[POSE_LANDMARKS[0]] = math.nan
    assert all(math.isnan(angle) for angle in head_pose(points, FRAME))


def _project(
    yaw: float, pitch: float, roll: float, frame: tuple[int, int] = FRAME
) -> npt.NDArray[np.float64]:
    """A mesh whose pose landmarks are the canonical face seen at a known pose, 60 cm away."""
    rvec, _ = cv2.Rodrigues(rotation_matrix(yaw, pitch, roll))
    image, _ = cv2.projectPoints(
        POSE_MODEL, rvec, np.array([0.0, 0.0, 60.0]), camera_matrix(frame), None
    )
    points = _blank()
    points[list(POSE_LANDMARKS), :2] = image[:, 0, :]
    return points


@pytest.mark.parametrize(
    "pose",
    [(0.0, 0.0, 0.0), (30.0, 0.0, 0.0), (0.0, -20.0, 0.0), (0.0, 0.0, 15.0), (-35.0, 18.0, -12.0)],
)
def test_head_pose_recovers_a_projected_pose(pose: tuple[float, float, float]) -> None:
    measures = mesh_measures(_project(*pose), FRAME)
    recovered = (measures.head_yaw, measures.head_pitch, measures.head_roll)
    assert recovered == pytest.approx(pose, abs=ANGLE_TOL_DEG)


def test_head_pose_is_independent_of_frame_size() -> None:
    pose = (20.0, -10.0, 5.0)
    wide = (1280, 720)
    assert head_pose(_project(*pose, wide), wide) == pytest.approx(pose, abs=ANGLE_TOL_DEG)


def _nose(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return points[1, :2]


def test_head_pose_signs_on_screen() -> None:
    """Yaw + moves the nose to the image's right, pitch + moves it up, roll + lowers the
    image-right eye (263, the person's left): the documented conventions."""
    straight = _project(0.0, 0.0, 0.0)
    assert _nose(_project(20.0, 0.0, 0.0))[0] > _nose(straight)[0]
    assert _nose(_project(0.0, 20.0, 0.0))[1] < _nose(straight)[1]
    tilted = _project(0.0, 0.0, 20.0)
    assert tilted[263, 1] > tilted[33, 1]


@given(
    st.floats(-80.0, 80.0),
    st.floats(-80.0, 80.0),
    st.floats(-170.0, 170.0),
)
def test_euler_angles_invert_rotation_matrix(yaw: float, pitch: float, roll: float) -> None:
    assert euler_angles(rotation_matrix(yaw, pitch, roll)) == pytest.approx(
        (yaw, pitch, roll), abs=1e-6
    )


def _m(
    ear: float = EAR_OPEN,
    *,
    right: float | None = None,
    mar: float = 0.05,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
) -> MeshMeasures:
    """Measures with both eyes at `ear` (or the right eye at `right`)."""
    return MeshMeasures(ear, ear if right is None else right, mar, yaw, pitch, roll)


def _ratio(share: float) -> MeshMeasures:
    """Both eyes at `share` of BASELINE's open EAR."""
    return _m(share * EAR_OPEN)


def _feed(
    tracker: FatigueTracker, measures: Iterable[MeshMeasures], start: float = 0.0, dt: float = DT
) -> list[FatigueFrame]:
    frames = []
    for i, measure in enumerate(measures):
        frame = tracker.push(start + i * dt, measure)
        assert frame is not None
        frames.append(frame)
    return frames


def _tracker(settings: FatigueConfig = SETTINGS) -> FatigueTracker:
    return FatigueTracker(settings, BASELINE)


def _stamped(
    frames: Sequence[FatigueFrame | None], start: float = 0.0, dt: float = DT
) -> list[tuple[float, FatigueFrame | None]]:
    """`_feed`'s frames with the timestamps they were pushed at, as the store keeps them."""
    return [(start + i * dt, frame) for i, frame in enumerate(frames)]


def test_no_measures_gives_no_frame_and_changes_nothing() -> None:
    tracker = _tracker()
    frame = tracker.push(0.0, None)
    assert frame is None
    assert view_summary([(0.0, frame)]) is None  # a face without cues: nothing observed


def test_one_blink_is_one_event_on_the_reopening_frame() -> None:
    shares = [1.0] * 5 + [0.5, 0.3, 0.3, 0.5] + [1.0] * 5
    frames = _feed(_tracker(), map(_ratio, shares))
    assert [f.blink for f in frames].index(True) == 9
    assert sum(f.blink for f in frames) == 1
    assert [f.eyes_closed for f in frames] == [s < 0.7 for s in shares]


def test_hysteresis_keeps_jitter_from_double_counting() -> None:
    """Between closed_ratio (0.70) and reopen_ratio (0.80) the eye stays in its closure:
    jitter around one threshold does not end it, a real reopening does."""
    shares = [1.0, 0.65, 0.72, 0.66, 0.78, 0.69, 0.75, 0.79, 0.85, 0.95]
    frames = _feed(_tracker(), map(_ratio, shares))
    assert [i for i, f in enumerate(frames) if f.blink] == [8]


def test_jitter_near_the_closed_threshold_of_an_open_eye_is_no_blink() -> None:
    shares = [0.72, 0.75, 0.71, 0.78, 0.74] * 6
    frames = _feed(_tracker(), map(_ratio, shares))
    assert not any(f.blink or f.eyes_closed for f in frames)


def test_long_closure_counts_for_perclos_not_as_blink() -> None:
    closed_frames = round(1.0 * FPS)  # 1 s > max_blink_s
    shares = [1.0] * 10 + [0.3] * closed_frames + [1.0] * 10
    tracker = _tracker()
    frames = _feed(tracker, map(_ratio, shares))
    assert not any(f.blink for f in frames)
    assert frames[-1].perclos == pytest.approx(closed_frames / (len(shares) - 1), abs=1e-9)


def test_blink_duration_limit_is_inclusive_and_in_seconds() -> None:
    """The closed span is first to last closed frame; the irregular frame spacing does not
    matter, only the timestamps."""
    limit = SETTINGS.max_blink_s
    for span, expected in ((limit, True), (limit + 0.05, False)):
        tracker = _tracker()
        stamps = [0.0, 0.1, 0.2, 0.2 + span / 3, 0.2 + span, 0.25 + span]
        shares = [1.0, 1.0, 0.3, 0.3, 0.3, 1.0]
        frames = [tracker.push(ts, _ratio(s)) for ts, s in zip(stamps, shares, strict=True)]
        assert frames[-1] is not None
        assert frames[-1].blink is expected


def test_a_wink_is_neither_closed_eyes_nor_a_blink() -> None:
    winks = [_m(EAR_OPEN, right=0.3 * EAR_OPEN)] * 6
    frames = _feed(_tracker(), [_m(), *winks, _m(), _m()])
    assert not any(f.eyes_closed or f.blink for f in frames)


def test_a_closure_across_a_long_gap_is_dropped() -> None:
    tracker = _tracker()
    _feed(tracker, [_ratio(1.0), _ratio(0.3)])
    after_gap = tracker.push(DT + 2 * SETTINGS.max_gap_s, _ratio(0.3))
    reopened = tracker.push(DT + 2 * SETTINGS.max_gap_s + DT, _ratio(1.0))
    assert after_gap is not None and after_gap.eyes_closed
    assert reopened is not None and reopened.blink  # a new closure began after the gap
    tracker = _tracker()
    _feed(tracker, [_ratio(1.0), _ratio(0.3)])
    reopened = tracker.push(DT + 2 * SETTINGS.max_gap_s, _ratio(1.0))
    assert reopened is not None and not reopened.blink


def test_perclos_weighs_time_not_frames() -> None:
    """Four closed frames 0.4 s apart against 40 open frames 0.01 s apart: by frame count
    the eyes were closed 4/44 of the time, by the clock 1.6 / 2.0."""
    tracker = _tracker()
    ts = 0.0
    frame = tracker.push(ts, _ratio(1.0))
    for _ in range(40):
        ts += 0.01
        frame = tracker.push(ts, _ratio(1.0))
    for _ in range(4):
        ts += 0.4
        frame = tracker.push(ts, _ratio(0.3))
    assert frame is not None
    assert frame.perclos == pytest.approx(1.6 / 2.0)


def test_gaps_beyond_max_gap_count_as_unobserved() -> None:
    """The tracker's window counts a gap as max_gap_s; the session summary (the view)
    spans first to last stored frame, gap included, as docs/views.md defines `seconds`."""
    tracker = _tracker()
    stamps = (0.0, 0.1, 5.1)
    frames = [
        tracker.push(ts, _ratio(share)) for ts, share in zip(stamps, (1.0, 1.0, 0.3), strict=True)
    ]
    frame = frames[-1]  # stands for max_gap_s, not 5 s
    assert frame is not None
    assert frame.perclos == pytest.approx(SETTINGS.max_gap_s / (0.1 + SETTINGS.max_gap_s))
    summary = view_summary(zip(stamps, frames, strict=True))
    assert summary is not None and summary.seconds == pytest.approx(stamps[-1] - stamps[0])


def test_perclos_window_slides_by_timestamps() -> None:
    settings = FatigueConfig(window_s=10.0)
    tracker = _tracker(settings)
    stamps = np.cumsum(np.tile([0.02, 0.05, 0.11], 200))  # irregular, ~36 s in all
    closed_until = 5.0
    frame = None
    stored: list[tuple[float, FatigueFrame | None]] = []
    for ts in stamps:
        frame = tracker.push(float(ts), _ratio(0.3 if ts < closed_until else 1.0))
        stored.append((float(ts), frame))
        if closed_until + settings.window_s + 0.2 < ts:
            assert frame is not None and frame.perclos == 0.0
    assert frame is not None
    # The view weighs rows, not time; the spacing repeats every 3 frames, so the closed
    # share of rows is the closed share of time to within the tolerance.
    summary = view_summary(stored)
    assert summary is not None and summary.perclos == pytest.approx(
        (closed_until - stamps[0]) / (stamps[-1] - stamps[0]), abs=0.01
    )


def test_blink_rate_over_the_window() -> None:
    settings = FatigueConfig(window_s=60.0, min_rate_s=10.0)
    tracker = _tracker(settings)
    # one blink every 4 s (15 a minute): 3 closed frames, then open, at irregular spacing
    pattern = [0.3, 0.3, 0.3] + [1.0] * 117
    spacing = [0.025, 0.04] * 60
    ts, frames = 0.0, []
    for _ in range(30):  # 2 minutes
        for share, dt in zip(pattern, spacing, strict=True):
            frame = tracker.push(ts, _ratio(share))
            assert frame is not None
            frames.append((ts, frame))
            ts += dt
    assert all(math.isnan(f.blink_rate) for t, f in frames if t < settings.min_rate_s - 0.1)
    late = [f.blink_rate for t, f in frames if t > settings.window_s + 5.0]
    assert np.mean(late) == pytest.approx(15.0, rel=0.1)
    summary = view_summary(frames)
    assert summary is not None
    assert summary.blinks == 30
    assert summary.blinks_per_min == pytest.approx(60.0 * 30 / summary.seconds)


def test_yawn_needs_min_duration_and_fires_once() -> None:
    settings = FatigueConfig(min_yawn_s=2.0)
    gape = BASELINE.mar_rest + settings.yawn_mar_rise + 0.1
    for seconds, expected in ((1.9, 0), (2.0, 1), (5.0, 1)):
        tracker = _tracker(settings)
        count = round(seconds / 0.1) + 1  # frames 0.1 s apart spanning `seconds`
        stamps = [0.1 * i for i in range(count + 3)]
        mars = [gape] * count + [BASELINE.mar_rest] * 3
        frames = [tracker.push(t, _m(mar=m)) for t, m in zip(stamps, mars, strict=True)]
        yawns = [i for i, f in enumerate(frames) if f is not None and f.yawn]
        summary = view_summary(zip(stamps, frames, strict=True))
        assert summary is not None
        assert len(yawns) == expected == summary.yawns
        if expected:
            assert yawns == [20]  # the frame at which the gape reached 2.0 s


def test_yawn_hysteresis_bridges_a_dip() -> None:
    settings = FatigueConfig(min_yawn_s=1.0)
    rest = BASELINE.mar_rest
    dip = rest + (settings.yawn_mar_rise + settings.yawn_release_rise) / 2
    gape = rest + settings.yawn_mar_rise + 0.05
    mars = [gape] * 6 + [dip] * 3 + [gape] * 6 + [rest] * 2
    frames = _feed(_tracker(settings), (_m(mar=m) for m in mars), dt=0.1)
    assert [i for i, f in enumerate(frames) if f.yawn] == [10]
    closed = [gape] * 6 + [rest] + [gape] * 6
    frames = _feed(_tracker(settings), (_m(mar=m) for m in closed), dt=0.1)
    assert not any(f.yawn for f in frames)  # two 0.5 s gapes, neither a yawn


def test_looking_away_hysteresis_and_neutral_pose() -> None:
    baseline = Baseline(EAR_OPEN, 0.05, yaw0=10.0, pitch0=-5.0, roll0=0.0)
    tracker = FatigueTracker(SETTINGS, baseline)
    yaws = [10.0, 34.0, 36.0, 32.0, 25.0, 14.0, -16.0]  # relative: 0, 24, 26, 22, 15, 4, -26
    frames = _feed(tracker, (_m(yaw=y, pitch=-5.0) for y in yaws))
    assert [f.looking_away for f in frames] == [False, False, True, True, False, False, True]
    frames = _feed(tracker, (_m(pitch=p) for p in (-5.0, 16.0, -26.0)), start=1.0)
    assert [f.looking_away for f in frames] == [False, True, True]


def test_eyes_are_not_judged_while_looking_away() -> None:
    tracker = _tracker()
    frames = _feed(tracker, [_m(), *[_m(0.3 * EAR_OPEN, yaw=40.0)] * 10, _m()])
    assert not any(f.eyes_closed or f.blink for f in frames)
    assert frames[-1].perclos == 0.0
    # The view weighs rows: 10 of 12 looked away (by time, 10 of the 11 intervals).
    summary = view_summary(_stamped(frames))
    assert summary is not None and summary.looking_away_share == pytest.approx(10 / 12)
    assert summary.perclos == 0.0


def test_calibration_switches_thresholds() -> None:
    """Before calibration the population open EAR (0.28) applies, so 0.24 reads open;
    after learning this person's 0.36, 0.24 is two thirds of it and reads closed."""
    settings = FatigueConfig(calibration_s=5.0)
    tracker = FatigueTracker(settings)
    learning = [_m(0.36, mar=0.02, yaw=8.0)] * round(5.0 * FPS)
    frames = _feed(tracker, learning)
    assert not any(f.calibrated for f in frames)
    probe = tracker.push(5.0, _m(0.24))
    assert probe is not None and probe.calibrated and probe.eyes_closed
    assert tracker.baseline == Baseline(0.36, 0.02, 8.0, 0.0, 0.0)
    before = FatigueTracker(settings).push(0.0, _m(0.24))
    assert before is not None and not before.calibrated and not before.eyes_closed


def test_calibration_restarts_when_eyes_were_mostly_closed() -> None:
    settings = FatigueConfig(calibration_s=2.0)
    tracker = FatigueTracker(settings)
    dozing = [_m(0.12)] * 50 + [_m(0.3)] * 11  # mostly closed by the population measure
    frames = _feed(tracker, dozing)
    assert not any(f.calibrated for f in frames)
    frames = _feed(tracker, [_m(0.3)] * 70, start=len(dozing) * DT)
    assert frames[-1].calibrated
    assert tracker.baseline.ear_open == pytest.approx(0.3)


def test_seeded_baseline_is_calibrated_from_the_first_frame() -> None:
    frame = FatigueTracker(SETTINGS, BASELINE).push(0.0, _m())
    assert frame is not None and frame.calibrated
    assert FatigueTracker(SETTINGS).baseline == population_baseline(SETTINGS)


def test_infinite_calibration_never_calibrates() -> None:
    tracker = FatigueTracker(FatigueConfig(calibration_s=math.inf))
    frames = _feed(tracker, [_m()] * 100, dt=1.0)
    assert not any(f.calibrated for f in frames)


def test_baseline_is_robust_to_blinks_talking_and_glances() -> None:
    frames = (
        [_m(0.30, mar=0.02)] * 60
        + [_m(0.10)] * 10  # blinks: ignored for the open EAR
        + [_m(0.30, mar=0.40)] * 25  # talking: the lower quartile stays at rest
        + [_m(0.30, yaw=40.0)] * 5  # a glance: the median pose stays put
    )
    baseline = baseline_from_measures(frames)
    assert baseline is not None
    assert baseline.ear_open == pytest.approx(0.30)
    assert baseline.mar_rest == pytest.approx(0.02)
    assert baseline.yaw0 == 0.0


def test_baseline_needs_enough_frames() -> None:
    assert baseline_from_measures([_m()] * 9) is None
    nan_eyes = [_m(math.nan)] * 50
    assert baseline_from_measures(nan_eyes) is None


def test_summary_of_a_session() -> None:
    tracker = _tracker(FatigueConfig(min_yawn_s=0.5))
    gape = _m(mar=0.6)
    blink = [_ratio(0.3)] * 3
    stream = [_m()] * 30 + blink + [_m()] * 30 + [gape] * 20 + [_m(yaw=50.0)] * 16 + [_m()]
    summary = view_summary(_stamped(_feed(tracker, stream)))
    assert summary is not None
    assert summary.blinks == 1
    assert summary.yawns == 1
    assert summary.seconds == pytest.approx((len(stream) - 1) * DT)
    assert summary.blinks_per_min == pytest.approx(60.0 / summary.seconds)
    # The view weighs rows, each once: the 3 closed rows and the 16 looking away among all
    # 100 (the tracker's window instead weighs time and leaves looking-away time unjudged).
    assert summary.perclos == pytest.approx(3 / len(stream))
    assert summary.looking_away_share == pytest.approx(16 / len(stream))


def test_empty_summary_is_null_not_zero() -> None:
    """A track stored without any cues (a face whose mesh never fitted): the product, which
    reads only tracks with cues, has no summary at all, and the view's row is NULL (read
    as None) where the tracker's totals were NaN; its counts are NULL too rather than 0
    (DuckDB's count_if over NULLs only), so nothing reads as "observed, none seen"."""
    con, session_id = stored_session([(0.0, None)])
    try:
        blinks, yawns, perclos, rate, away, _ = view_row(con, session_id) or ()
        assert session_fatigue(con, session_id) == []
    finally:
        con.close()
    assert blinks is None and yawns is None
    assert perclos is None and rate is None and away is None


def test_timestamps_must_not_go_back() -> None:
    tracker = _tracker()
    tracker.push(1.0, _m())
    with pytest.raises(ValueError, match="back"):
        tracker.push(0.5, _m())


@pytest.mark.parametrize(
    "changes",
    [
        {"closed_ratio": 0.8, "reopen_ratio": 0.8},
        {"yawn_release_rise": 0.4},
        {"window_s": 0.0},
        {"away_hysteresis_deg": 30.0},
        {"max_gap_s": math.inf},
        {"population_ear_open": -0.1},
    ],
)
def test_settings_reject_nonsense(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FatigueConfig(**changes)


def test_baseline_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Baseline(0.0, 0.05, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        Baseline(0.3, math.nan, 0.0, 0.0, 0.0)
