"""Which faces of a frame the pipeline follows, and under which track id.

A face policy owns detection and its schedule: full MTCNN runs every `detect_every`
frames, and in between only R-Net and O-Net refine the faces of the last frame, which is
several times cheaper and, on the shared talking-head clips, gives nearly the same boxes
(README: "Detection scheduling"). The two policies differ in what they follow:

- `LargestFace` (single-user): the largest face, always under `PRIMARY_TRACK`. A lost
  face triggers a full detection on the very next frame.
- `TrackedFaces` (`--multi-user`): every face, each matched to a track by
  `tracking.assign`. A full detection also runs on the next frame whenever refinement
  loses a face, so the tracker sees a lost face again as early as possible, and a
  newcomer is found within `detect_every` frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.config import DetectionConfig, TrackingConfig
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.tracking import TrackerState, assign

PRIMARY_TRACK = 0
"""Single-user mode follows one person: the largest face, stored under this track id."""


@dataclass(frozen=True, slots=True)
class Located:
    """One frame's faces as the policy follows them, in the order the stages see them."""

    faces: tuple[tuple[int, Face], ...]
    """(track id, face) pairs."""
    full_detection: bool
    forgotten: frozenset[int] = field(default_factory=frozenset)
    """Tracks the policy stopped following at this frame: stages drop their state."""


class FacePolicy(Protocol):
    def reset(self) -> None:
        """Forget every face and track, e.g. when a new session starts."""

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located: ...


def _area(face: Face) -> int:
    return face.box[2] * face.box[3]


class LargestFace:
    """Single-user: detect on the schedule, follow the largest face."""

    def __init__(self, detector: FaceDetector, settings: DetectionConfig) -> None:
        self.detector = detector
        self.settings = settings
        self._last_faces: list[Face] = []
        self._since_full = 0

    def reset(self) -> None:
        self._last_faces = []
        self._since_full = 0

    def _detect(self, image: npt.NDArray[np.uint8]) -> tuple[list[Face], bool]:
        if self._last_faces and self._since_full < self.settings.detect_every:
            refined = self.detector.refine(image, self._last_faces)
            if refined:
                self._since_full += 1
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        faces, full = self._detect(image)
        primary = max(faces, key=_area, default=None)
        if primary is None:
            self._last_faces = []
            return Located((), full)
        self._last_faces = [primary]
        return Located(((PRIMARY_TRACK, primary),), full)


class TrackedFaces:
    """Multi-user: every face gets a track id from the tracker.

    Between full detections the tracks seen in the last frame are refined where their
    velocity says they are now (`Track.predicted`).
    """

    def __init__(
        self, detector: FaceDetector, settings: DetectionConfig, tracking: TrackingConfig
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.tracking = tracking
        self.tracker = TrackerState()
        self._since_full = 0
        self._last_ts: float | None = None

    def reset(self) -> None:
        self.tracker = TrackerState()
        self._since_full = 0
        self._last_ts = None

    def _detect(self, image: npt.NDArray[np.uint8], ts: float) -> tuple[list[Face], bool]:
        every = self.settings.detect_every
        visible = [] if self._last_ts is None else self.tracker.visible_at(self._last_ts)
        if visible and self._since_full < every:
            refined = self.detector.refine(image, [track.predicted(ts) for track in visible])
            self._since_full = every if len(refined) < len(visible) else self._since_full + 1
            if refined:
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        faces, full = self._detect(image, ts)
        before = {track.track_id for track in self.tracker.tracks}
        assignment = assign(self.tracker, faces, ts, self.tracking)
        self.tracker = assignment.state
        self._last_ts = ts
        live = {track.track_id for track in self.tracker.tracks}
        pairs = tuple(zip(assignment.track_ids, faces, strict=True))
        return Located(pairs, full, frozenset(before - live))


__all__ = ["PRIMARY_TRACK", "FacePolicy", "LargestFace", "Located", "TrackedFaces"]
