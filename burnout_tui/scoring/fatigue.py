"""Blinks, PERCLOS, yawns and looking away from a stream of per-frame mesh measures.

`FatigueTracker` follows one person (one track). Each frame's `MeshMeasures`
(`burnout_tui.vision.fatigue`) are read against that person's `Baseline`: their open-eye
EAR, resting mouth and neutral head pose. A stored baseline (`burnout-tui calibrate`)
seeds the tracker; without one, the first `calibration_s` seconds of the track are used to
learn it, and population defaults stand in until then (`FatigueFrame.calibrated` says
which applies). Relative thresholds matter here: on the face mesh the open and the closed
EAR both vary from person to person, so much that no single absolute threshold separates
the two for everyone (docs/measurements.md#scoring-fatigue).

Time is the frames' own timestamps (seconds; media time for files, wall-clock time for
cameras), never a frame count, so dropped or irregular frames, and a mesh that runs on
only some frames, change no duration or rate. Each measured frame stands for the time
since the previous measured frame, capped at `max_gap_s`; the rest of a longer gap
(face lost, capture stalled) counts as unobserved, and a closure or open mouth that
spans such a gap is dropped rather than guessed.

The cues are heuristics from the drowsiness literature (PERCLOS: Wierwille et al., 1994;
EAR blinks: Soukupová & Čech, 2016), not validated fatigue measures; see docs/fatigue.md
for what they mean and how they were checked on the shared clips.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from burnout_tui.config import FatigueConfig
from burnout_tui.measures import MeshMeasures
from burnout_tui.scoring.fatigue_frame import FatigueFrame as FatigueFrame

MAR_REST_PERCENTILE = 25.0
"""The resting mouth is the lower quartile of the calibration frames' MAR, not the median.

Rest means closed lips. A person who talks during calibration has the mouth open much of
the time, so the median lands between closed and speaking; speech still closes the lips
often (b, p, m, pauses), so the lower quartile is a closed or nearly closed mouth for
talkers and silent people alike (docs/measurements.md#scoring-fatigue)."""

MIN_BASELINE_FRAMES = 10
"""Fewest usable frames a baseline is computed from; below this a median is noise."""

MIN_OPEN_SHARE = 0.5
"""Share of calibration frames whose eyes must look open for the open-eye EAR to be
trusted. Eyes are open about 95 % of the time while blinking normally; a calibration in
which they were closed half the time (dozing, reading far below the camera) would learn a
half-closed eye as "open", so the tracker keeps population defaults and tries again."""

SUM_EPSILON_S = 1e-9
"""The window's running sums add and later subtract the same floats, which can leave a
residue of rounding error instead of 0; sums below this count as empty."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """One person's reference values, learned by calibration or stored from an earlier one.

    `ear_open` is the more open eye's EAR with the eyes open, `mar_rest` the MAR of the
    resting mouth, `yaw0`/`pitch0`/`roll0` the head pose (degrees) the person holds while
    looking at the screen. The camera need not face them: looking away is measured from
    this pose, not from the camera's axis.
    """

    ear_open: float
    mar_rest: float
    yaw0: float
    pitch0: float
    roll0: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.ear_open) and self.ear_open > 0.0):
            raise ValueError(f"ear_open must be a finite number > 0, got {self.ear_open}")
        for name in ("mar_rest", "yaw0", "pitch0", "roll0"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")


def population_baseline(settings: FatigueConfig) -> Baseline:
    """The stand-in before calibration: population eye and mouth, head facing the camera."""
    return Baseline(settings.population_ear_open, settings.population_mar_rest, 0.0, 0.0, 0.0)


def _finite(*values: float) -> bool:
    return all(math.isfinite(value) for value in values)


def baseline_from_measures(
    measures: Iterable[MeshMeasures], settings: FatigueConfig | None = None
) -> Baseline | None:
    """A person's baseline from a stretch of their frames, or None if it cannot be trusted.

    Robust to what a calibration stretch contains besides the resting face: the open-eye
    EAR is the median of the frames whose eyes do not read closed against the population
    value (so blinks do not pull it down), the resting mouth is a low percentile
    (MAR_REST_PERCENTILE: talking does not raise it), and the pose is the median (a glance
    away does not move it). None when fewer than MIN_BASELINE_FRAMES frames give a value,
    or when the eyes looked closed in more than 1 - MIN_OPEN_SHARE of the frames.
    """
    settings = settings or FatigueConfig()
    eyes: list[float] = []
    mouths: list[float] = []
    poses: list[tuple[float, float, float]] = []
    for frame in measures:
        if _finite(frame.ear_left, frame.ear_right):
            eyes.append(max(frame.ear_left, frame.ear_right))
        if _finite(frame.mar):
            mouths.append(frame.mar)
        if _finite(frame.head_yaw, frame.head_pitch, frame.head_roll):
            poses.append((frame.head_yaw, frame.head_pitch, frame.head_roll))
    closed_below = settings.closed_ratio * settings.population_ear_open
    open_eyes = [ear for ear in eyes if ear >= closed_below]
    if (
        len(open_eyes) < max(MIN_BASELINE_FRAMES, MIN_OPEN_SHARE * len(eyes))
        or len(mouths) < MIN_BASELINE_FRAMES
        or len(poses) < MIN_BASELINE_FRAMES
    ):
        return None
    yaw0, pitch0, roll0 = (float(value) for value in np.median(np.array(poses), axis=0))
    return Baseline(
        ear_open=float(np.median(open_eyes)),
        mar_rest=float(np.percentile(mouths, MAR_REST_PERCENTILE)),
        yaw0=yaw0,
        pitch0=pitch0,
        roll0=roll0,
    )


@dataclass(frozen=True, slots=True)
class _Sample:
    """One frame's contribution to the sliding window, in seconds."""

    ts: float
    observed: float
    eyes_judged: float
    eyes_closed: float


class _EyeState:
    """Closure hysteresis: closes below `closed_ratio`, reopens above `reopen_ratio`."""

    def __init__(self) -> None:
        self.closed = False
        self.first_closed = 0.0
        self.last_closed = 0.0

    def abandon(self) -> None:
        self.closed = False

    def update(self, ts: float, openness: float, settings: FatigueConfig) -> bool:
        """Feed one judged frame; True when a blink ends on it."""
        if openness < settings.closed_ratio:
            if not self.closed:
                self.closed, self.first_closed = True, ts
            self.last_closed = ts
            return False
        if self.closed and openness > settings.reopen_ratio:
            self.closed = False
            return self.last_closed - self.first_closed <= settings.max_blink_s
        return False


HIDDEN_RISE = 0.05
"""A mouth the face mesh draws shut: MAR within this of rest. Under the test clip's hand the
mesh reads 0.02-0.04 against a resting 0.01-0.02 (docs/action-cues.md)."""
FULL_SHARE = 0.8
"""A gape is "still full" at this share of its largest rise; the time from the last full
frame to a shut one is how fast it closed."""


class _MouthState:
    """Gape hysteresis and the once-per-gape yawn event, including gapes hidden in the middle.

    A hand raised to a yawn covers the mouth for most of it. The face mesh keeps the face
    (on the test clip its presence stays 1.0) and draws a closed mouth under the hand, or
    it doubts the face and the frames carry no measures. Either way the gape seems to stop
    at once (full to shut within `covered_yawn_snap_s`), where a real jaw takes a third of
    a second or more. Such a gape, seen for `covered_yawn_min_open_s`, becomes *pending*;
    if the mouth then reappears wide just as abruptly after between
    `covered_yawn_min_cover_s` and `covered_yawn_max_cover_s`, the two open phases are one
    gape that started before the hand, and it is a yawn once it is `min_yawn_s` long and
    seen open `covered_yawn_min_open_s` again. Anything else (a slow close, the mouth seen
    half-open behind the hand, a slow reopening) drops the pending gape.
    """

    def __init__(self) -> None:
        self.gaping = False
        self.since = 0.0
        self.reported = False
        self.last_wide = 0.0
        self.peak = 0.0
        self.last_full = 0.0
        self.reopened: float | None = None
        self.hidden_since: float | None = None
        self.shut_seen = False
        self.last_shut: float | None = None
        self.pending_since = 0.0

    def abandon(self) -> None:
        self.gaping = False
        self.hidden_since = None

    def interrupt(self, last_ts: float, settings: FatigueConfig) -> None:
        """Frames without measures since `last_ts` (the face mesh doubted or lost the face):
        a wide gape seen up to then may be going on behind a hand."""
        gaping = self.gaping and self.last_wide == last_ts
        self.abandon()
        if gaping:
            self._hide(last_ts, settings)
            self.shut_seen, self.last_shut = True, None

    def _hide(self, ts: float, settings: FatigueConfig) -> None:
        seen_open = self.last_wide - (self.since if self.reopened is None else self.reopened)
        if (
            settings.covered_yawn_max_cover_s > 0
            and not self.reported
            and seen_open >= settings.covered_yawn_min_open_s
        ):
            self.hidden_since, self.pending_since = ts, self.since
            self.shut_seen, self.last_shut = False, None

    def _reappear(self, ts: float, rise: float, settings: FatigueConfig) -> bool:
        """Follow a pending gape; True when it goes on after the hand.

        Between the last full frame and the first shut one, and between the last shut
        (or unmeasured) frame and the first wide one, at most `covered_yawn_snap_s` may pass:
        the mesh may show a half-open mouth for a frame or two as the hand comes and goes.
        """
        hidden_since = self.hidden_since
        if hidden_since is None:
            return False
        snap = settings.covered_yawn_snap_s
        if not self.shut_seen:
            if rise < HIDDEN_RISE and ts - hidden_since <= snap:
                self.shut_seen, self.last_shut = True, ts
            elif ts - hidden_since > snap or rise >= settings.yawn_mar_rise:
                self.hidden_since = None
            return False
        if self.last_shut is None:  # the first measured frame after frames without
            self.last_shut = ts
        hidden = ts - hidden_since
        if rise < HIDDEN_RISE and hidden <= settings.covered_yawn_max_cover_s:
            self.last_shut = ts
        elif rise >= settings.yawn_mar_rise:
            self.hidden_since = None
            if ts - self.last_shut <= snap and hidden >= settings.covered_yawn_min_cover_s:
                self.gaping, self.since, self.reported = True, self.pending_since, False
                self.reopened = self.last_wide = self.last_full = ts
                self.peak = rise
                return True
        elif rise < HIDDEN_RISE or ts - self.last_shut > snap:
            self.hidden_since = None  # hidden too long, or seen half-open
        return False

    def update(self, ts: float, rise: float, settings: FatigueConfig) -> bool:
        """Feed one frame's MAR rise over rest; True when a yawn is recognised on it."""
        wide = rise >= settings.yawn_mar_rise
        if self._reappear(ts, rise, settings) or self.hidden_since is not None:
            pass
        elif not self.gaping and wide:
            self.gaping, self.since, self.reported = True, ts, False
            self.last_wide = self.last_full = ts
            self.peak, self.reopened = rise, None
        elif self.gaping and rise < settings.yawn_release_rise:
            self.gaping = False
            self._hide(self.last_full, settings)
            self._reappear(ts, rise, settings)
        elif self.gaping:
            if wide:
                self.last_wide = ts
            self.peak = max(self.peak, rise)
            if rise >= FULL_SHARE * self.peak:
                self.last_full = ts
        seen_again = self.reopened is None or ts - self.reopened >= settings.covered_yawn_min_open_s
        if (
            self.gaping
            and not self.reported
            and seen_again
            and ts - self.since >= settings.min_yawn_s
        ):
            self.reported = True
            return True
        return False


class FatigueTracker:
    """Per-person fatigue state: calibration, event hysteresis, sliding windows.

    It keeps no session totals: a session's summary is `v_session_fatigue` over the stored
    frames (`store.fatigue.session_fatigue`), its one definition.

    Feed every frame of the track in time order with `push`; a frame without measures
    (no face, mesh skipped or doubted) may be pushed as None and changes nothing.
    """

    def __init__(self, settings: FatigueConfig, baseline: Baseline | None = None) -> None:
        self.settings = settings
        self._baseline = baseline
        self._calibrated = baseline is not None
        self._calibration: list[MeshMeasures] = []
        self._calibration_start: float | None = None
        self._last_ts: float | None = None
        self._eyes = _EyeState()
        self._mouth = _MouthState()
        self._away = False
        self._window: deque[_Sample] = deque()
        self._window_blinks: deque[float] = deque()
        self._observed = self._judged = self._closed = 0.0

    @property
    def baseline(self) -> Baseline:
        """The baseline in use: the person's if known, else the population stand-in."""
        return self._baseline or population_baseline(self.settings)

    @property
    def calibrated(self) -> bool:
        return self._calibrated

    def _calibrate(self, ts: float, measures: MeshMeasures) -> None:
        if self._calibration_start is None:
            self._calibration_start = ts
        self._calibration.append(measures)
        if ts - self._calibration_start < self.settings.calibration_s:
            return
        baseline = baseline_from_measures(self._calibration, self.settings)
        if baseline is None:  # an untrustworthy stretch: start over from this frame
            self._calibration, self._calibration_start = [measures], ts
            return
        self._baseline, self._calibrated = baseline, True
        self._calibration = []

    def _looking_away(self, measures: MeshMeasures, baseline: Baseline) -> bool:
        if not _finite(measures.head_yaw, measures.head_pitch):
            return self._away
        yaw = abs(measures.head_yaw - baseline.yaw0)
        pitch = abs(measures.head_pitch - baseline.pitch0)
        settings = self.settings
        if not self._away:
            return yaw > settings.yaw_away_deg or pitch > settings.pitch_away_deg
        margin = settings.away_hysteresis_deg
        return not (
            yaw < settings.yaw_away_deg - margin and pitch < settings.pitch_away_deg - margin
        )

    def push(self, ts: float, measures: MeshMeasures | None) -> FatigueFrame | None:
        """Fold in one frame at `ts` seconds; None when it has no measures."""
        if measures is None:
            return None
        if not math.isfinite(ts):
            raise ValueError(f"timestamp must be finite, got {ts}")
        if self._last_ts is not None and ts < self._last_ts:
            raise ValueError(f"timestamps must not go back: {ts} after {self._last_ts}")
        settings = self.settings
        previous = self._last_ts
        interval = 0.0 if previous is None else ts - previous
        self._last_ts = ts
        if previous is not None and interval > settings.max_gap_s:
            self._eyes.abandon()
            self._mouth.interrupt(previous, settings)
        weight = min(interval, settings.max_gap_s)
        if not self._calibrated and math.isfinite(settings.calibration_s):
            self._calibrate(ts, measures)
        baseline = self.baseline

        self._away = away = self._looking_away(measures, baseline)
        judged = _finite(measures.ear_left, measures.ear_right) and not away
        eyes_closed = blink = False
        if judged:
            openness = max(measures.ear_left, measures.ear_right) / baseline.ear_open
            eyes_closed = openness < settings.closed_ratio
            blink = self._eyes.update(ts, openness, settings)
        yawn = _finite(measures.mar) and self._mouth.update(
            ts, measures.mar - baseline.mar_rest, settings
        )

        self._add(
            _Sample(ts, weight, weight if judged else 0.0, weight if eyes_closed else 0.0),
            blink,
        )
        return FatigueFrame(
            **{item.name: getattr(measures, item.name) for item in fields(MeshMeasures)},
            eyes_closed=eyes_closed,
            blink=blink,
            yawn=yawn,
            looking_away=away,
            blink_rate=self._blink_rate(),
            perclos=self._perclos(),
            calibrated=self._calibrated,
        )

    def _add(self, sample: _Sample, blink: bool) -> None:
        """Slide the window to end at `sample`."""
        self._window.append(sample)
        self._observed += sample.observed
        self._judged += sample.eyes_judged
        self._closed += sample.eyes_closed
        if blink:
            self._window_blinks.append(sample.ts)
        start = sample.ts - self.settings.window_s
        while self._window and self._window[0].ts <= start:
            old = self._window.popleft()
            self._observed -= old.observed
            self._judged -= old.eyes_judged
            self._closed -= old.eyes_closed
        while self._window_blinks and self._window_blinks[0] <= start:
            self._window_blinks.popleft()

    def _perclos(self) -> float:
        if self._judged <= SUM_EPSILON_S:
            return 0.0
        return min(max(self._closed / self._judged, 0.0), 1.0)

    def _blink_rate(self) -> float:
        if self._observed < max(self.settings.min_rate_s, SUM_EPSILON_S):
            return math.nan
        return 60.0 * len(self._window_blinks) / self._observed
