"""A person's baseline: what their scores and fatigue cues look like on an ordinary day.

`burnout-tui calibrate` records one session and keeps its statistics; later sessions of
the same person show each rolling score beside its z-score against that baseline, so a
habitually serious face is not read as stress, and the baseline's eye, mouth and head
figures seed the fatigue thresholds from the first frame instead of after the first
seconds. The newest calibration of a person is the one used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from burnout_tui.scoring.fatigue import Baseline


@dataclass(frozen=True, slots=True)
class Calibration:
    """Statistics of one baseline session (a `calibrations` row)."""

    calibration_id: int
    user: str
    session_id: int
    face_frames: int
    score_mean: float
    """Mean rolling score over the session, on the frame-score scale."""
    score_std: float
    """Spread of the rolling score over the session."""
    baseline: Baseline | None
    """Open-eye EAR, resting mouth and neutral head pose; None without face-mesh cues."""
    blink_rate: float | None
    perclos: float | None
    blink_count: int | None = None
    """Blinks of the session with the dataset's features (`blinks` rows); None before the
    drowsiness stage existed."""
    blink_means: tuple[float, float, float, float] | None = None
    """Mean frequency, amplitude, duration and velocity of those blinks; None with too few
    blinks for a baseline or a feature that never varied."""
    blink_stds: tuple[float, float, float, float] | None = None
    """Their spreads (population standard deviations), the drowsiness normalisation."""

    def normalize(self, rolling_score: float, min_std: float) -> float:
        """z-score of a rolling score against the baseline; `min_std` floors the spread so a
        very steady baseline does not turn small changes into huge numbers."""
        spread = max(self.score_std, min_std)
        if not math.isfinite(spread) or spread <= 0.0:
            raise ValueError("min_std must be a positive number")
        return (rolling_score - self.score_mean) / spread
