"""From one track's EAR to windows of 30 normalised blinks, and what a level is.

`BlinkTrack` follows one person: it finds their blinks (`signals.blinks`), normalises each
by their baseline (`signals.blink_baseline`), and once 30 normalised blinks exist, hands
out the window ending at each new blink for the drowsiness model to read. The model itself
(ONNX, `runtime.drowsiness_model`) is not run here: these values travel to the monitor's UI
process, which must not load a model, so they are defined without one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from burnout_tui.config import DrowsinessConfig
from burnout_tui.signals.blink_baseline import BlinkBaseline, SessionBaseline
from burnout_tui.signals.blinks import Blink, BlinkDetector, Features

LEVELS: tuple[str, str, str] = ("alert", "low vigilant", "drowsy")
"""The dataset's three classes, in the order of the model's probabilities."""

LEVEL_VALUES: tuple[float, float, float] = (0.0, 5.0, 10.0)
"""The dataset's labels for the three classes (its drowsiness scale, 0-10)."""

MIDDLE_LEVEL = LEVEL_VALUES[1]
"""Expected levels below this are on the alert side, above it on the drowsy side."""

WINDOW_BLINKS = 30
"""Blinks in one model input: the dataset's sequences are 30 consecutive blinks."""


@dataclass(frozen=True, slots=True)
class DrowsinessLevel:
    """The model's reading of one window: a probability per level (`LEVELS` order)."""

    p_alert: float
    p_low_vigilant: float
    p_drowsy: float

    @property
    def probabilities(self) -> tuple[float, float, float]:
        return (self.p_alert, self.p_low_vigilant, self.p_drowsy)

    @property
    def level(self) -> str:
        """The most probable level's name."""
        return LEVELS[int(np.argmax(self.probabilities))]

    @property
    def probability(self) -> float:
        """The most probable level's probability."""
        return max(self.probabilities)

    @property
    def expected(self) -> float:
        """The expected level on the dataset's 0-10 scale."""
        return float(np.dot(self.probabilities, LEVEL_VALUES))


@dataclass(frozen=True, slots=True)
class BlinkRecord:
    """One blink as stored: raw features, normalised ones once a baseline exists, and the
    level of the window of 30 normalised blinks ending at it once there are 30."""

    blink: Blink
    normalised: Features | None = None
    level: DrowsinessLevel | None = None


TrackBlinks = tuple[int, tuple[BlinkRecord, ...]]
"""A track id and blinks of that track."""


@dataclass(frozen=True, slots=True)
class PendingBlink:
    """A blink this frame completed, with the window the model is to read (if any)."""

    blink: Blink
    normalised: Features | None
    window: npt.NDArray[np.float32] | None
    """(30, 4) normalised features of the 30 blinks ending at this one, oldest first."""


class BlinkTrack:
    """One person's blinks, baseline and window of the last 30 normalised blinks."""

    def __init__(
        self, settings: DrowsinessConfig, max_gap_s: float, baseline: BlinkBaseline | None
    ) -> None:
        self.detector = BlinkDetector(settings, max_gap_s)
        self.learner = (
            None
            if baseline is not None
            else SessionBaseline(settings.baseline_s, settings.min_baseline_blinks)
        )
        self.baseline = baseline
        self._window: deque[Features] = deque(maxlen=WINDOW_BLINKS)

    def push(self, ts: float, ear: float) -> list[PendingBlink]:
        """Fold in one EAR sample; the blinks it completed (usually none)."""
        return [self._pending(blink) for blink in self.detector.push(ts, ear)]

    def flush(self) -> list[PendingBlink]:
        """The end of the stream: the blink still waiting for its context, if its reopening
        was seen (`BlinkDetector.flush`)."""
        return [self._pending(blink) for blink in self.detector.flush()]

    def _pending(self, blink: Blink) -> PendingBlink:
        if self.baseline is None and self.learner is not None:
            self.baseline = self.learner.push(blink.end_ts, blink.features)
        if self.baseline is None:
            return PendingBlink(blink, None, None)
        normalised = self.baseline.normalise(blink.features)
        self._window.append(normalised)
        window = None
        if len(self._window) == WINDOW_BLINKS:
            window = np.asarray(self._window, dtype=np.float32)
        return PendingBlink(blink, normalised, window)
