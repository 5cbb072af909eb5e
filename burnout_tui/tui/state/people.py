"""The multi-user monitor's memory: one `LiveSeries` per tracked person.

Each person's series is fed the session's frames narrowed to that person's face (or to no
face while the track is lost), so every number a person panel or the single-person view
shows is computed exactly as the single-user monitor computes it for one face.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from burnout_tui.config import LevelsConfig, ScoringConfig
from burnout_tui.runtime.results import FaceResult, FrameResult
from burnout_tui.tui.state.live_series import LiveSeries


def track_result(result: FrameResult, face: FaceResult | None) -> FrameResult:
    """`result` as the single-user pipeline would have given it for this one face."""
    return dataclasses.replace(result, faces=() if face is None else (face,))


def face_of(result: FrameResult, track_id: int) -> FaceResult | None:
    return next((face for face in result.faces if face.track_id == track_id), None)


def default_name(track_id: int) -> str:
    """What a track is called before anyone assigns it a user."""
    return f"person {track_id}"


class PeopleSeries:
    """Series per track, in the order people were first seen, for the current session."""

    def __init__(self, scoring: ScoringConfig, levels: LevelsConfig) -> None:
        self.scoring = scoring
        self.levels = levels
        self.reset(None)

    def reset(self, session_id: int | None) -> None:
        """Forget everyone: the pipeline starts its tracks and rolling windows over too."""
        self.session_id = session_id
        self._series: dict[int, LiveSeries] = {}
        self.latest: FrameResult | None = None

    def extend(self, results: Iterable[FrameResult]) -> bool:
        """Add drained results; returns whether any arrived.

        A track's series starts with the frame it first appears in, so its session figure
        covers the time that person was being watched, not the whole session.
        """
        batches: dict[int, list[FrameResult]] = {track: [] for track in self._series}
        for result in results:
            self.latest = result
            faces = {face.track_id: face for face in result.faces}
            for track in faces:
                if track not in batches:
                    self._series[track] = LiveSeries(self.scoring, self.levels, self.session_id)
                    batches[track] = []
            for track, batch in batches.items():
                batch.append(track_result(result, faces.get(track)))
        arrived = False
        for track, batch in batches.items():
            arrived = self._series[track].extend(batch) or arrived
        return arrived

    @property
    def tracks(self) -> list[int]:
        return list(self._series)

    def series(self, track_id: int) -> LiveSeries:
        return self._series[track_id]

    @property
    def in_view(self) -> frozenset[int]:
        """Tracks with a face in the newest frame; the others are shown as lost."""
        if self.latest is None:
            return frozenset()
        return frozenset(face.track_id for face in self.latest.faces)
