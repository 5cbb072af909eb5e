"""Per-track heart-rate state: skin colour with true timestamps in, a rate every second out.

`HeartTracker.push` takes one frame's mean skin colour (or None: no mesh, a doubted mesh,
large motion; the frame is a gap, never a zero) and returns the frame's raw pulse value
and, on the first frame of each new second of frame time, an estimate over the last
`window_s` seconds: the window is cut at gaps longer than `max_gap_s`, each piece
resampled onto an even grid from the frames' own times, turned into a pulse by POS or
CHROM and band-passed, and the pieces' spectra summed (`heart_rate.spectral_rate`). The
rate is withheld (None) when under `min_coverage` of the window holds samples or its SNR
is below `min_snr_db`. RMSSD and SDNN come with an estimate only once every second of the
last `hrv_window_s` was reported.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from burnout_tui.config import HeartConfig
from burnout_tui.signals import timebase
from burnout_tui.signals.heart_rate import spectral_rate
from burnout_tui.signals.pulse import METHODS, WINDOW_S, band_pass, newest_value, window_length
from burnout_tui.signals.variability import beat_times, variability

Array = npt.NDArray[np.float64]

MIN_PIECE_WINDOWS = 2
"""Shortest piece analysed, in POS/CHROM windows (3.2 s): a shorter piece holds a beat or
two, whose spectrum is too broad to add anything but noise."""
PRIOR_MEMORY_S = 3.0
"""How long a reported rate steers the next peak search (`heart_rate` PRIOR_*): after a
longer silence the rate may have moved anywhere, and the search starts afresh."""


@dataclass(frozen=True, slots=True)
class HeartEstimate:
    """One second's estimate. `bpm` None: withheld (too little signal, or quality below
    the threshold); `snr_db` None: no spectrum at all (no samples). HRV fields None unless
    the whole HRV window was reported."""

    ts: float
    bpm: float | None
    snr_db: float | None
    coverage: float
    method: str
    rmssd_ms: float | None = None
    sdnn_ms: float | None = None


@dataclass(frozen=True, slots=True)
class PulseFrame:
    """One frame's pulse: `value`, the causal raw pulse (None on a gap or while the short
    window fills), and `estimate` on the frame that completed a second."""

    value: float | None
    estimate: HeartEstimate | None = None


class HeartTracker:
    """The buffer and schedule of one face track; see the module docstring."""

    def __init__(self, settings: HeartConfig) -> None:
        self.settings = settings
        self._method = METHODS[settings.method]
        self._keep_s = max(settings.window_s, settings.hrv_window_s) + 1.0
        self._samples: deque[tuple[float, float, float, float]] = deque()
        self._next_second: float | None = None
        self._last_bpm: float | None = None
        self._last_bpm_ts = -math.inf
        self._reported: deque[float] = deque()
        """Times of the reported seconds within the HRV window."""

    def push(self, ts: float, rgb: tuple[float, float, float] | None) -> PulseFrame:
        if self._samples and ts < self._samples[-1][0]:
            self.__init__(self.settings)  # type: ignore[misc]  # the clock restarted
        value = None
        if rgb is not None and (not self._samples or ts > self._samples[-1][0]):
            self._samples.append((ts, *rgb))
            value = self._raw_value(ts)
        while self._samples and self._samples[0][0] < ts - self._keep_s:
            self._samples.popleft()
        if self._next_second is None:
            self._next_second = math.floor(ts) + 1.0
            return PulseFrame(value)
        if ts < self._next_second:
            return PulseFrame(value)
        self._next_second = math.floor(ts) + 1.0
        return PulseFrame(value, self._estimate(ts))

    def _raw_value(self, ts: float) -> float | None:
        recent = list(
            itertools.takewhile(lambda sample: sample[0] > ts - WINDOW_S, reversed(self._samples))
        )[::-1]
        if len(recent) < window_length(timebase.RATE_HZ) // 2:
            return None
        return newest_value(np.asarray(recent)[:, 1:])

    def _pieces(self, start: float, end: float) -> tuple[list[tuple[Array, Array]], float]:
        """Evenly spaced band-passed pulse pieces of [start, end] with their grid times,
        and the share of the window they cover."""
        data = np.asarray([s for s in self._samples if start <= s[0] <= end])
        if data.size == 0:
            return [], 0.0
        rate = timebase.RATE_HZ
        shortest = MIN_PIECE_WINDOWS * WINDOW_S
        pieces = []
        covered = 0.0
        for run in timebase.runs(data[:, 0], self.settings.max_gap_s):
            ts = data[run, 0]
            if ts[-1] - ts[0] < shortest:
                continue
            grid, rgb = timebase.resample(ts, data[run, 1:], rate)
            pieces.append((grid, band_pass(self._method(rgb, rate), rate)))
            covered += ts[-1] - ts[0]
        return pieces, covered / (end - start)

    def _estimate(self, ts: float) -> HeartEstimate:
        settings = self.settings
        pieces, coverage = self._pieces(ts - settings.window_s, ts)
        prior = self._last_bpm if ts - self._last_bpm_ts <= PRIOR_MEMORY_S else None
        found = spectral_rate([pulse for _, pulse in pieces], timebase.RATE_HZ, prior)
        snr = None if found is None else found.snr_db
        bpm = None
        enough = coverage >= settings.min_coverage
        if found is not None and enough and found.snr_db >= settings.min_snr_db:
            bpm = found.bpm
        if bpm is None:
            self._reported.clear()
            return HeartEstimate(ts, None, snr, coverage, settings.method)
        self._last_bpm, self._last_bpm_ts = bpm, ts
        self._reported.append(ts)
        while self._reported and self._reported[0] < ts - settings.hrv_window_s:
            self._reported.popleft()
        rmssd = sdnn = None
        if self._reported[0] <= ts - settings.hrv_window_s + 1.0:
            hrv = self._variability(ts, bpm)
            if hrv is not None:
                rmssd, sdnn = hrv
        return HeartEstimate(ts, bpm, snr, coverage, settings.method, rmssd, sdnn)

    def _variability(self, ts: float, bpm: float) -> tuple[float, float] | None:
        pieces, _ = self._pieces(ts - self.settings.hrv_window_s, ts)
        rate = timebase.RATE_HZ
        beats = [beat_times(pulse, rate, bpm, float(grid[0])) for grid, pulse in pieces]
        found = variability(beats)
        return None if found is None else (found.rmssd_ms, found.sdnn_ms)
