"""The monitor's memory of the current session: what the charts and numbers are drawn from.

It is plain Python, fed with the FrameResults the UI drains on each tick, so what the
screen shows can be tested without a terminal. Scores come from `burnout_tui.scoring`
exactly as `analyze` computes them; nothing here has its own notion of the proxy.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from burnout_tui import EMOTIONS
from burnout_tui.config import LevelsConfig, ScoringConfig
from burnout_tui.runtime.results import FaceResult, FrameResult
from burnout_tui.scoring import RollingScore, SessionSummary, summarise
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.tui.state.heart_series import HeartSeries

HISTORY_FRAMES = 300
"""Face frames kept per chart: ten seconds at 30 frames/s, a window in which a change of
expression is still visible as a shape even on an 80-column terminal."""

INITIAL_CAPACITY = 1024
"""First size of the session's score buffer; it doubles as the session grows."""


class ScoreLog:
    """Every frame score of the session in one growing float64 array.

    The session figure is recomputed from all scores on each tick (as `summarise` does for
    `analyze`), so they are kept in an array that grows by doubling rather than a list that
    would be converted to one on every tick.
    """

    def __init__(self) -> None:
        self._values: npt.NDArray[np.float64] = np.empty(INITIAL_CAPACITY, dtype=np.float64)
        self._size = 0

    def extend(self, scores: list[float]) -> None:
        needed = self._size + len(scores)
        if needed > self._values.size:
            grown = np.empty(max(needed, 2 * self._values.size), dtype=np.float64)
            grown[: self._size] = self._values[: self._size]
            self._values = grown
        self._values[self._size : needed] = scores
        self._size = needed

    @property
    def values(self) -> npt.NDArray[np.float64]:
        return self._values[: self._size]

    def __len__(self) -> int:
        return self._size


class FatigueTally:
    """The session figures of `v_session_fatigue` the monitor shows, kept as it goes.

    The view is the one definition of a session's fatigue summary; the monitor cannot read
    it on every tick (the UI thread makes no database calls, rows reach the store up to a
    flush interval late, and `--no-record` stores nothing), so this folds the same
    aggregates over the same rows, one face row at a time: `yawns` is the view's
    `count_if(yawn)`, `looking_away_share` its `avg(looking_away)` over the rows with cues
    (a row without cues has NULL there, which avg skips). Nothing else is computed here;
    a test feeds one stream to both and compares. The tracker's own figures (blink rate,
    PERCLOS) cover only its last minute and are shown from the newest frame.
    """

    def __init__(self) -> None:
        self.cue_rows = 0
        self.yawns = 0
        self.away_rows = 0

    def add(self, fatigue: FatigueFrame | None) -> None:
        """Fold in one face row; None is a row without cues (no mesh fitted)."""
        if fatigue is None:
            return
        self.cue_rows += 1
        self.yawns += fatigue.yawn
        self.away_rows += fatigue.looking_away

    @property
    def looking_away_share(self) -> float | None:
        """None (the view's NULL) before any row had cues."""
        return self.away_rows / self.cue_rows if self.cue_rows else None


class LiveSeries:
    """Per-emotion and burnout histories, the rolling window and the session summary."""

    def __init__(
        self,
        scoring: ScoringConfig,
        levels: LevelsConfig,
        session_id: int | None = None,
        history: int = HISTORY_FRAMES,
    ) -> None:
        self.scoring = scoring
        self.levels = levels
        self.history = history
        self.reset(session_id)

    def reset(self, session_id: int | None) -> None:
        """Start over for a new session: the pipeline resets its rolling window then too."""
        self.session_id = session_id
        self.frames = 0
        self.face_frames = 0
        self.latest: FrameResult | None = None
        self.latest_face: FaceResult | None = None
        self._emotions: dict[str, deque[float]] = {
            name: deque(maxlen=self.history) for name in EMOTIONS
        }
        self._burnout: deque[float] = deque(maxlen=self.history)
        self._rolling = RollingScore(self.scoring)
        self._scores = ScoreLog()
        self._summary: SessionSummary | None = None
        self.fatigue = FatigueTally()
        self.heart = HeartSeries()

    def extend(self, results: Iterable[FrameResult]) -> bool:
        """Add drained results; returns whether any arrived."""
        scores: list[float] = []
        arrived = False
        for result in results:
            arrived = True
            self.frames += 1
            self.latest = result
            face = result.primary
            self.heart.add(result.ts, None if face is None else face.pulse)
            if face is None:
                continue
            self.face_frames += 1
            self.latest_face = face
            for name, probability in zip(EMOTIONS, face.probs.tolist(), strict=True):
                self._emotions[name].append(probability)
            self.fatigue.add(face.fatigue)
            self._rolling.push(face.frame_score)
            self._burnout.append(self._rolling.percent)
            scores.append(face.frame_score)
        if arrived:
            self._scores.extend(scores)
            self._summary = None
        return arrived

    def emotion_history(self, name: str) -> list[float]:
        return list(self._emotions[name])

    def burnout_history(self) -> list[float]:
        """Rolling proxy in percent, one value per face frame."""
        return list(self._burnout)

    @property
    def faces_now(self) -> int | None:
        """Faces in the newest frame, or None before the first frame arrives."""
        return None if self.latest is None else len(self.latest.faces)

    @property
    def current_face(self) -> FaceResult | None:
        """The followed face in the newest frame; None while it is lost."""
        return None if self.latest is None else self.latest.primary

    @property
    def rolling_percent(self) -> float | None:
        return self._rolling.percent if len(self._rolling) else None

    def forecast_percent(self, forecast: float | None) -> float | None:
        """A forecast of the rolling mean, on the rolling percent's scale."""
        if forecast is None or not len(self._rolling):
            return None
        return self._rolling.percent_with_mean(forecast)

    @property
    def summary(self) -> SessionSummary:
        if self._summary is None:
            self._summary = summarise(self._scores.values, self.frames, self.scoring, self.levels)
        return self._summary
