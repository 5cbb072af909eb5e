"""Blinks and their four features, as the UTA-RLDD drowsiness dataset defines them, from EAR.

The dataset (Ghoddoosian, Galib & Athitsos, CVPRW 2019) describes every blink by four
numbers, read off the eye aspect ratio (EAR, the mean of both eyes) around the blink:

- amplitude: how far the lids travel, ½(EAR_start − EAR_peak) + ½(EAR_end − EAR_peak), where
  *start* is the last open-eye maximum before the lids fall, *peak* the first low extremum
  and *end* the first maximum after the eye has reopened;
- duration: from start to end, inclusive of both samples;
- eye-opening velocity: (EAR_end − EAR_bottom) / (time from the last low extremum, where the
  lids start to rise, to end, inclusive), the mean speed of reopening;
- frequency: blinks so far over the time observed so far.

The dataset counts in frames of 30 fps video (duration in frames, velocity in EAR per
frame, frequency in blinks per 100 frames). Here time is the frames' own timestamps:
duration in seconds, velocity in EAR per second, frequency in blinks per minute, and
"inclusive of both samples" adds one sampling interval (the stream's median interval)
where the dataset adds one frame. At 30 fps each of our features is the dataset's times a
constant (1/30, 30, 18), and the model only ever sees them divided by the same person's
own spread after subtracting their own mean (`signals.blink_baseline`), where any
constant factor cancels: the normalised features mean the same at any frame rate.

How a blink is found follows the reference code's steps, with a relative threshold where
it used a trained per-frame classifier: a stretch where the EAR falls below `blink_ratio`
of the person's recent open-eye EAR is a candidate; candidates closer than the dataset's
merge gap are one; the EAR around the candidate (±`BLINK_CONTEXT_S`), smoothed over
0.1 s (three frames at 30 fps), is split at its extrema into high (open) and low (closed)
ones, the high-to-low-to-high cycles are blinks, and a cycle counts only if its lids fall
and rise by comparable amounts and its amplitude reaches `min_amplitude_ratio` of the
open-eye EAR (the reference's balance and noise checks). docs/drowsiness.md has the measurements.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from burnout_tui.config import DrowsinessConfig

BLINK_FEATURES: tuple[str, str, str, str] = ("frequency", "amplitude", "duration", "velocity")
"""The dataset's feature order, which the model's input follows."""

Features = tuple[float, float, float, float]

DATASET_FPS = 30.0
"""The frame rate the dataset's frame counts refer to; its gaps below are converted with it."""

MERGE_GAP_S = 1.0 / DATASET_FPS
"""Candidates with at most this much open eye between their closed stretches are one blink:
the reference merges closures with one open frame between them."""

LONG_BLINK_S = 15.0 / DATASET_FPS
"""After a blink longer than 15 frames, the reference allows a longer merge gap."""

LONG_MERGE_GAP_S = 8.0 / DATASET_FPS
"""The merge gap after a long blink: 8 open frames in the reference."""

TIME_EPSILON_S = 1e-6
"""Timestamps a sampling interval apart differ from it by rounding error; comparisons of
gaps allow this much."""

BLINK_CONTEXT_S = 0.4
"""EAR kept on both sides of a candidate's closed stretch for its shape. 0.4: more than
the longest merge gap (0.27 s) plus a sampling interval, so a blink is analysed only once
no later closure can join it, and more than the 0.1-0.3 s the lids take to fall or to
rise, so the open-eye maxima before and after the closure are inside."""

SMOOTHING_HALF_S = 1.0 / DATASET_FPS
"""Half the span of the smoothing average: one frame either side at the dataset's rate."""

LOW_SHARE = 0.4
"""Extrema below 0.4 · min + 0.6 · max of the stretch are low (closed), others high: the
reference's split."""

PLATEAU_SHARE = 0.05
"""Samples within 5 % of a blink's fall (or rise) of the open-eye extremum count as that
extremum's plateau (`_tightened`): less than the mesh's frame-to-frame jitter of an open
eye, so on real video the extremum itself is nearly always the edge."""

BALANCE = 0.25
"""A cycle counts only if the fall and the rise each exceed this share of the other: the
reference's check against one-sided dips (a head movement, a landmark jump)."""

REFERENCE_PERCENTILE = 75.0
"""The open-eye EAR is this percentile of the last `reference_s` seconds, not the median:
blinks and, when drowsy, longer closures pull the lower part of the distribution down,
while the upper quartile stays on open eyes."""

REFERENCE_REFRESH_S = 0.5
"""The open-eye percentile is recomputed at most twice a second while the eye reads open,
and afresh for the frame a candidate starts on: recomputing it every frame was most of the
detector's cost (about 0.1 ms a frame), and only a candidate's start needs it exact."""

MIN_REFERENCE_S = 1.0
"""No candidate before this much observed time: a shorter stretch has too few samples (30
at 30 fps) for an open-eye percentile. 1 s, not more: on the shared clips, blinks 1.2 and
1.7 s into a clip are real ones (docs/drowsiness.md)."""

FREQUENCY_BIN_S = 1.0
"""Observed time for the frequency is kept in bins of a second, so a 10-minute window
costs 600 numbers per track rather than one per frame."""


@dataclass(frozen=True, slots=True)
class Blink:
    """One blink: its times (seconds, the stream's clock) and its four raw features."""

    start_ts: float
    """The last open-eye maximum before the lids fall."""
    peak_ts: float
    """The first low extremum: the eye (nearly) closed."""
    end_ts: float
    """The first maximum after the eye reopened."""
    frequency: float
    """Blinks a minute over the observed time so far (at most `frequency_window_s`)."""
    amplitude: float
    """EAR units."""
    duration: float
    """Seconds."""
    velocity: float
    """Eye-opening velocity, EAR units a second."""

    @property
    def features(self) -> Features:
        """The four features in `BLINK_FEATURES` order."""
        return (self.frequency, self.amplitude, self.duration, self.velocity)


@dataclass(frozen=True, slots=True)
class BlinkShape:
    """Indices into an EAR stretch of one blink's four landmarks (see the module docs)."""

    start: int
    peak: int
    bottom_end: int
    end: int


def smooth(ts: npt.ArrayLike, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Each sample averaged with those within `SMOOTHING_HALF_S` of it.

    The reference averages three frames of 30 fps video before its blink check; a fixed
    time span rather than a fixed count keeps that the same at other frame rates (three
    samples at 30 fps, five at 60, the sample alone at 15)."""
    times = np.asarray(ts, dtype=np.float64)
    array = np.asarray(values, dtype=np.float64)
    low = np.searchsorted(times, times - SMOOTHING_HALF_S - TIME_EPSILON_S, side="left")
    high = np.searchsorted(times, times + SMOOTHING_HALF_S + TIME_EPSILON_S, side="right")
    sums = np.concatenate(([0.0], np.cumsum(array)))
    return np.asarray((sums[high] - sums[low]) / (high - low), dtype=np.float64)


def blink_shapes(values: npt.ArrayLike) -> list[BlinkShape]:
    """Every high-low-high cycle of an EAR stretch, in order.

    Extrema are where the slope changes sign (a flat step keeps the sign of the step
    before it, so a plateau is not an extremum); both ends of the stretch count as high.
    A cycle runs from the last high extremum before a low one to the first high one after
    the last low one.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size < 3:
        return []
    threshold = LOW_SHARE * float(array.min()) + (1.0 - LOW_SHARE) * float(array.max())
    signs = np.sign(np.diff(array))
    for i, sign in enumerate(signs):
        if sign == 0.0:
            signs[i] = -1.0 if i == 0 else signs[i - 1]
    turns = np.flatnonzero(signs[1:] * signs[:-1] < 0) + 1
    index = np.concatenate(([0], turns, [array.size - 1]))
    high = array[index] >= threshold
    high[0] = high[-1] = True
    changes = np.flatnonzero(high[1:] != high[:-1])
    return [
        _tightened(
            array,
            BlinkShape(
                start=int(index[fall]),
                peak=int(index[fall + 1]),
                bottom_end=int(index[rise]),
                end=int(index[rise + 1]),
            ),
        )
        for fall, rise in zip(changes[0::2], changes[1::2], strict=True)
    ]


def _tightened(values: npt.NDArray[np.float64], shape: BlinkShape) -> BlinkShape:
    """Start and end moved to the edges of the open-eye plateaus around the blink.

    A plateau has no extremum of its own, so an open eye held perfectly still (a frozen
    landmark, a repeated frame) would put the start at the stretch's first sample and the
    end at its last; the lids start to fall where the EAR first leaves the plateau, and
    have reopened where it first reaches the one after.
    """
    peak = values[shape.peak]
    if not (values[shape.start] > peak and values[shape.end] > peak):
        return shape  # not a dip at all: `measure_blink` rejects it
    before = values[shape.start : shape.peak + 1]
    after = values[shape.bottom_end : shape.end + 1]
    near_start = before >= values[shape.start] - PLATEAU_SHARE * (values[shape.start] - peak)
    near_end = after >= values[shape.end] - PLATEAU_SHARE * (values[shape.end] - peak)
    start = shape.start + int(np.flatnonzero(near_start)[-1])
    end = shape.bottom_end + int(np.flatnonzero(near_end)[0])
    return BlinkShape(start=start, peak=shape.peak, bottom_end=shape.bottom_end, end=end)


@dataclass(frozen=True, slots=True)
class _Measured:
    start_ts: float
    peak_ts: float
    end_ts: float
    amplitude: float
    duration: float
    velocity: float


def measure_blink(
    ts: npt.NDArray[np.float64],
    smoothed: npt.NDArray[np.float64],
    shape: BlinkShape,
    interval: float,
    min_amplitude: float,
) -> _Measured | None:
    """A cycle's amplitude, duration and velocity; None when it fails the reference's
    checks (a dip deeper on one side than the other, too shallow, not reopening)."""
    start, peak, bottom, end = (
        smoothed[shape.start],
        smoothed[shape.peak],
        smoothed[shape.bottom_end],
        smoothed[shape.end],
    )
    fall, rise = start - peak, end - peak
    amplitude = 0.5 * fall + 0.5 * rise
    if not (fall > 0.0 and rise > 0.0 and amplitude >= min_amplitude):
        return None
    if not (fall > BALANCE * rise and BALANCE * fall < rise):
        return None
    duration = float(ts[shape.end] - ts[shape.start]) + interval
    velocity = float(end - bottom) / (float(ts[shape.end] - ts[shape.bottom_end]) + interval)
    if not velocity > 0.0:
        return None
    return _Measured(
        start_ts=float(ts[shape.start]),
        peak_ts=float(ts[shape.peak]),
        end_ts=float(ts[shape.end]),
        amplitude=float(amplitude),
        duration=duration,
        velocity=velocity,
    )


@dataclass(slots=True)
class _Candidate:
    first_closed: float
    last_closed: float
    reference: float


class BlinkDetector:
    """Blinks of one track from its EAR samples, pushed in time order.

    A blink is reported `BLINK_CONTEXT_S` after its eye stopped reading closed (once no
    later closure can still merge with it), by the `push` of that frame. A gap in the
    samples longer than `max_gap_s` (face lost, mesh doubted) abandons a blink in progress,
    as the fatigue tracker does, and does not count as observed time.
    """

    def __init__(self, settings: DrowsinessConfig, max_gap_s: float) -> None:
        self.settings = settings
        self.max_gap_s = max_gap_s
        self._samples: deque[tuple[float, float]] = deque()
        self._intervals: deque[float] = deque(maxlen=REFERENCE_INTERVALS)
        self._candidate: _Candidate | None = None
        self._last_ts: float | None = None
        self._last_blink_duration = 0.0
        self._since_gap = 0.0
        self._bins: deque[list[float]] = deque()
        self._observed = 0.0
        self._blink_times: deque[float] = deque()
        self._reference_value = math.nan
        self._reference_at: float | None = None

    def push(self, ts: float, ear: float) -> list[Blink]:
        """Fold in one sample (NaN EAR: skipped); the blinks that completed with it."""
        if not math.isfinite(ts):
            raise ValueError(f"timestamp must be finite, got {ts}")
        if not math.isfinite(ear):
            return []
        if self._last_ts is not None and ts < self._last_ts:
            raise ValueError(f"timestamps must not go back: {ts} after {self._last_ts}")
        found: list[Blink] = []
        if self._last_ts is not None:
            interval = ts - self._last_ts
            if interval > self.max_gap_s:
                self._restart()
            else:
                self._observe(ts, interval)
        self._last_ts = ts
        self._samples.append((ts, ear))
        self._trim(ts)
        candidate = self._candidate
        if candidate is not None and ts - candidate.last_closed >= BLINK_CONTEXT_S:
            found += self._finish(candidate)
            candidate = self._candidate = None
        if self._since_gap < MIN_REFERENCE_S:
            return found
        reference = candidate.reference if candidate is not None else self._reference()
        if candidate is None and ear < self.settings.blink_ratio * reference:
            reference = self._reference(fresh=True)  # a candidate starts against today's eye
        if ear < self.settings.blink_ratio * reference:
            gap = LONG_MERGE_GAP_S if self._last_blink_duration > LONG_BLINK_S else MERGE_GAP_S
            open_time = ts - candidate.last_closed - self._interval() if candidate else 0.0
            if candidate is not None and open_time <= gap + TIME_EPSILON_S:
                candidate.last_closed = ts
            else:
                if candidate is not None:
                    found += self._finish(candidate)
                self._candidate = _Candidate(ts, ts, reference)
        return found

    def flush(self) -> list[Blink]:
        """The end of the stream: a blink whose reopening was seen is still reported."""
        candidate, self._candidate = self._candidate, None
        return [] if candidate is None else self._finish(candidate)

    def _restart(self) -> None:
        self._samples.clear()
        self._reference_at = None
        self._candidate = None
        self._since_gap = 0.0

    def _observe(self, ts: float, interval: float) -> None:
        self._intervals.append(interval)
        self._since_gap += interval
        self._observed += interval
        start = math.floor(ts / FREQUENCY_BIN_S) * FREQUENCY_BIN_S
        if self._bins and self._bins[-1][0] == start:
            self._bins[-1][1] += interval
        else:
            self._bins.append([start, interval])
        horizon = ts - self.settings.frequency_window_s
        while self._bins and self._bins[0][0] + FREQUENCY_BIN_S <= horizon:
            self._observed -= self._bins.popleft()[1]
        while self._blink_times and self._blink_times[0] <= horizon:
            self._blink_times.popleft()

    def _trim(self, ts: float) -> None:
        keep_from = ts - self.settings.reference_s
        if self._candidate is not None:
            keep_from = min(keep_from, self._candidate.first_closed - BLINK_CONTEXT_S)
        while self._samples and self._samples[0][0] < keep_from:
            self._samples.popleft()

    def _reference(self, fresh: bool = False) -> float:
        ts = self._samples[-1][0]
        stale = self._reference_at is None or ts - self._reference_at >= REFERENCE_REFRESH_S
        if fresh or stale:
            values = np.fromiter((ear for _, ear in self._samples), dtype=np.float64)
            self._reference_value = float(np.percentile(values, REFERENCE_PERCENTILE))
            self._reference_at = ts
        return self._reference_value

    def _interval(self) -> float:
        return float(np.median(self._intervals)) if self._intervals else 1.0 / DATASET_FPS

    def _finish(self, candidate: _Candidate) -> list[Blink]:
        first = candidate.first_closed - BLINK_CONTEXT_S
        last = candidate.last_closed + BLINK_CONTEXT_S
        stretch = [(ts, ear) for ts, ear in self._samples if first <= ts <= last]
        if len(stretch) < 3:
            return []
        ts = np.array([ts for ts, _ in stretch], dtype=np.float64)
        smoothed = smooth(ts, [ear for _, ear in stretch])
        min_amplitude = self.settings.min_amplitude_ratio * candidate.reference
        blinks = []
        for shape in blink_shapes(smoothed):
            low_from, low_to = ts[shape.peak], ts[shape.bottom_end]
            if low_to < candidate.first_closed or low_from > candidate.last_closed:
                continue  # a neighbouring closure inside the context: its own candidate
            measured = measure_blink(ts, smoothed, shape, self._interval(), min_amplitude)
            if measured is None:
                continue
            self._blink_times.append(measured.end_ts)
            self._last_blink_duration = measured.duration
            rate = 60.0 * len(self._blink_times) / max(self._observed, self._interval())
            blinks.append(
                Blink(
                    start_ts=measured.start_ts,
                    peak_ts=measured.peak_ts,
                    end_ts=measured.end_ts,
                    frequency=rate,
                    amplitude=measured.amplitude,
                    duration=measured.duration,
                    velocity=measured.velocity,
                )
            )
        return blinks


REFERENCE_INTERVALS = 64
"""Sampling intervals the "one interval" of duration and velocity is the median of: a
couple of seconds, so a dropped frame does not change it."""


def detect_blinks(
    ts: Sequence[float] | npt.ArrayLike,
    ear: Sequence[float] | npt.ArrayLike,
    settings: DrowsinessConfig | None = None,
    max_gap_s: float = 0.5,
) -> list[Blink]:
    """Every blink of a whole EAR series (e.g. a stored session's), as the live detector
    finds them."""
    detector = BlinkDetector(settings or DrowsinessConfig(), max_gap_s)
    blinks: list[Blink] = []
    for t, e in zip(np.asarray(ts, dtype=float), np.asarray(ear, dtype=float), strict=True):
        blinks += detector.push(float(t), float(e))
    return blinks + detector.flush()


def feature_matrix(blinks: Iterable[Blink]) -> npt.NDArray[np.float64]:
    """(N, 4) raw features in `BLINK_FEATURES` order."""
    return np.array([blink.features for blink in blinks], dtype=np.float64).reshape(-1, 4)
