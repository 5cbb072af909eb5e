"""Which faces of a frame the pipeline follows, and under which track id.

A face policy owns detection and its schedule. With the face mesh on, a followed face's
next box comes from its last mesh (`mesh_face.face_from_mesh`), as MediaPipe's
face_landmark_front tracks with landmarks instead of its detector, so full MTCNN runs only
to find faces: at the start, after the mesh loses a face (presence below
`mesh.min_presence`, or the face leaving the frame), and in `--multi-user` every
`detection.redetect_s` seconds of frame time for newcomers. The pipeline reports each
frame's meshes back through `observe` once the stages have run.

Without the mesh (or on frames its schedule skips), and in `--multi-user` with
`detection.mesh_guided_multi_user` off, R-Net and O-Net refine the faces of the last
frame (`FaceDetector.refine`) and full MTCNN runs every `detect_every` frames for one
person, every `redetect_s` seconds for several. `detect_every = 1` means full detection on
every frame, in either mode, mesh or not. docs/tracking.md compares the schedules with
full detection on every frame.

- `LargestFace` (single-user): the largest face, always under `PRIMARY_TRACK`. A lost
  face triggers a full detection on the very next frame.
- `TrackedFaces` (`--multi-user`): every face, each matched to a track by
  `tracking.assign`. A face whose mesh is ambiguous (`trusted_guides`) or lost is refined
  instead; a face refinement loses triggers a full detection on the next frame, so the
  tracker sees it again as early as possible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.config import DetectionConfig, MeshConfig, TrackingConfig
from burnout_tui.runtime.results import PRIMARY_TRACK
from burnout_tui.vision.detector import FaceDetector
from burnout_tui.vision.face import Face
from burnout_tui.vision.mesh import Mesh
from burnout_tui.vision.mesh_face import face_from_mesh
from burnout_tui.vision.tracking import Track, TrackerState, assign, box_iou, followed


@dataclass(frozen=True, slots=True)
class Located:
    """One frame's faces as the policy follows them, in the order the stages see them."""

    faces: tuple[tuple[int, Face], ...]
    """(track id, face) pairs."""
    full_detection: bool
    forgotten: frozenset[int] = field(default_factory=frozenset)
    """Tracks the policy stopped following at this frame: stages drop their state."""
    guided: frozenset[int] = field(default_factory=frozenset)
    """Tracks whose face comes from the last frame's mesh rather than the detector: the
    mesh stage replaces it by this frame's mesh, or drops it when the mesh lost it."""


class FacePolicy(Protocol):
    def reset(self) -> None:
        """Forget every face and track, e.g. when a new session starts."""

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located: ...

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        """The meshes fitted in the frame `locate` just returned, by track id (a track
        whose mesh was not fitted is absent); `frame_size` is (width, height)."""


def _area(face: Face) -> int:
    return face.box[2] * face.box[3]


def _centre(face: Face) -> tuple[float, float]:
    x, y, w, h = face.box
    return x + w / 2, y + h / 2


@dataclass(frozen=True, slots=True)
class MeshGuide:
    """Turns the meshes of one frame into the faces the policy follows in the next."""

    min_presence: float
    """`mesh.min_presence`: below it the mesh says the face is gone."""

    def face(self, frame_size: tuple[int, int], mesh: Mesh) -> Face | None:
        """The face `mesh` follows, or None when it lost it (low presence, out of frame)."""
        if mesh.presence < self.min_presence:
            return None
        return face_from_mesh(mesh, frame_size)

    def next_faces(
        self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh], guided: frozenset[int]
    ) -> tuple[dict[int, Face], bool]:
        """The next frame's face per track, and whether a face followed by its mesh
        (`guided`) was lost. A detector's face whose mesh is doubtful is not lost: the
        detector found it, and the refine schedule follows it instead."""
        guides: dict[int, Face] = {}
        for track_id, mesh in meshes.items():
            face = self.face(frame_size, mesh)
            if face is not None:
                guides[track_id] = face
        return guides, not guided <= guides.keys()


def mesh_guide(detection: DetectionConfig, mesh: MeshConfig) -> MeshGuide | None:
    """The guide a policy tracks with, or None where the refine schedule alone applies:
    without the mesh, with a mesh that skips frames (`mesh.every` > 1: a followed face
    must be confirmed on every frame), or with `detect_every = 1` (full detection on every
    frame, the reference the schedules are compared with)."""
    if not mesh.enabled or mesh.every > 1 or detection.detect_every <= 1:
        return None
    return MeshGuide(mesh.min_presence)


class LargestFace:
    """Single-user: follow the largest face, by its mesh where there is one."""

    def __init__(
        self, detector: FaceDetector, settings: DetectionConfig, guide: MeshGuide | None = None
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.guide = guide
        self._last_faces: list[Face] = []
        self._guided: Face | None = None
        self._guiding = False
        self._since_full = 0

    def reset(self) -> None:
        self._last_faces = []
        self._guided = None
        self._guiding = False
        self._since_full = 0

    def _detect(self, image: npt.NDArray[np.uint8]) -> tuple[list[Face], bool]:
        if self._guided is not None:
            return [self._guided], False
        if self._last_faces and self._since_full < self.settings.detect_every:
            refined = self.detector.refine(image, self._last_faces)
            if refined:
                self._since_full += 1
                return refined, False
        self._since_full = 1
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        self._guiding = self._guided is not None
        faces, full = self._detect(image)
        self._guided = None
        primary = max(faces, key=_area, default=None)
        if primary is None:
            self._last_faces = []
            return Located((), full)
        self._last_faces = [primary]
        guided = frozenset({PRIMARY_TRACK}) if self._guiding else frozenset()
        return Located(((PRIMARY_TRACK, primary),), full, guided=guided)

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        if self.guide is None:
            return
        guided = frozenset({PRIMARY_TRACK}) if self._guiding else frozenset()
        guides, lost = self.guide.next_faces(frame_size, meshes, guided)
        self._guided = guides.get(PRIMARY_TRACK)
        if lost:
            self._last_faces = []


MAX_GUIDED_SHIFT = 0.2
"""Largest move between two frames, in face widths, that a track's velocity may predict for
its face to be followed by its mesh; a faster face is refined by R-Net and O-Net instead.
The mesh is fitted in a crop around the last frame's face and does not re-centre on a face
that left it: on the crowd clip a woman crossing the frame at 0.35 widths a frame kept
the last frame's box (35 px behind), lost presence a frame later and came back under a
new id at every full detection; the others walk at 0.1 widths a frame or less
(docs/tracking.md)."""

MAX_GUIDED_OVERLAP = 0.1
"""Largest box overlap (IoU) between two mesh-followed faces: above it, both are refined
by R-Net and O-Net for that frame instead. Two meshes fitted in overlapping crops can
both settle on the nearer face, and the tracker would then hold one face under two ids."""


def trusted_guides(
    guides: Mapping[int, Face], visible: Sequence[Track], before: TrackerState, ts: float
) -> dict[int, Face]:
    """The faces of `guides` (the last frame's meshes, by track id) that may stand for
    this frame's at `ts`: those of `visible` tracks (seen in the last frame) whose last
    step, from how they stood in `before`, predicts a move of at most `MAX_GUIDED_SHIFT`
    face widths, and that overlap no other such face by more than `MAX_GUIDED_OVERLAP`.
    A track with no earlier sighting in `before` (new at the last frame) has no step yet
    and is refined instead."""
    previous = {track.track_id: track for track in before.tracks}
    steady: dict[int, Face] = {}
    for track in visible:
        face, last = guides.get(track.track_id), previous.get(track.track_id)
        if face is None or last is None or last.last_seen >= track.last_seen:
            continue
        if face.score < MIN_GUIDING_PRESENCE:
            continue
        # The last step, not the smoothed velocity: a face that just started moving fast
        # must not be followed by its mesh on the strength of older, slower steps.
        step = math.dist(_centre(last.face), _centre(track.face))
        shift = step * max(ts - track.last_seen, 0.0) / (track.last_seen - last.last_seen)
        if shift <= MAX_GUIDED_SHIFT * max(face.box[2], 1):
            steady[track.track_id] = face
    crowded = {
        track_id
        for track_id, face in steady.items()
        for other_id, other in steady.items()
        if other_id != track_id and box_iou(face.box, other.box) > MAX_GUIDED_OVERLAP
    }
    return {track_id: face for track_id, face in steady.items() if track_id not in crowded}


MIN_GUIDING_PRESENCE = 0.9
"""Smallest mesh presence at which a face is followed by that mesh into the next frame; a
face whose mesh is less sure is refined instead. `mesh.min_presence` (0.5) decides whether
a mesh's landmarks are used at all; a guide just above it is the one most likely to fall
below it on the next frame, where the mesh stage drops the face for that frame. On the
Hamilton group the seated faces' presence wavers between 0.5 and 1.0, and after a scene
cut the last scene's mesh stays above 0.5 on whatever lies under its box (0.76-0.89 for
three frames) (docs/tracking.md)."""


class TrackedFaces:
    """Multi-user: every face gets a track id from the tracker.

    Followed faces come from their last mesh unless that is ambiguous (the track is new,
    moves faster than `MAX_GUIDED_SHIFT`, or overlaps another followed face by more than
    `MAX_GUIDED_OVERLAP`); the other tracks seen in the last frame are refined where
    their velocity says they are now (`Track.predicted`). Once a frame's meshes are
    fitted (`observe`), each mesh-followed track holds this frame's mesh box, so its
    position and velocity are current when the next full detection re-associates faces.
    Newcomers are looked for by a full detection every `redetect_s` seconds of frame time,
    with or without mesh guidance, and on the frame after a face was lost.
    """

    def __init__(
        self,
        detector: FaceDetector,
        settings: DetectionConfig,
        tracking: TrackingConfig,
        guide: MeshGuide | None = None,
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.tracking = tracking
        self.guide = guide
        self.reset()

    def reset(self) -> None:
        self.tracker = TrackerState()
        self._before = TrackerState()
        self._refine_lost = False
        self._last_ts: float | None = None
        self._last_full_ts: float | None = None
        self._guided: dict[int, Face] = {}
        self._guiding: frozenset[int] = frozenset()

    def _redetect_due(self, ts: float) -> bool:
        last = self._last_full_ts
        # A clock that went back (a camera reconnected) restarts the cadence.
        return last is None or ts < last or ts - last >= self.settings.redetect_s

    def _visible(self) -> tuple[Track, ...]:
        return () if self._last_ts is None else self.tracker.visible_at(self._last_ts)

    def _detect(self, image: npt.NDArray[np.uint8], ts: float) -> tuple[list[Face], bool]:
        visible = self._visible()
        if (
            visible
            and self.settings.detect_every > 1
            and not self._refine_lost
            and not self._redetect_due(ts)
        ):
            # Faces the mesh follows come from it; the rest (a face the mesh lost or does
            # not trust, or every face without mesh guidance) are refined where they
            # should be now.
            self._guided = (
                trusted_guides(self._guided, visible, self._before, ts)
                if self.guide is not None
                else {}
            )
            unguided = [
                track.predicted(ts) for track in visible if track.track_id not in self._guided
            ]
            refined = self.detector.refine(image, unguided) if unguided else []
            # A face refinement lost is looked for again by a full detection next frame.
            self._refine_lost = len(refined) < len(unguided)
            faces = [*self._guided.values(), *refined]
            if faces:
                return faces, False
        self._guided = {}
        self._refine_lost = False
        self._last_full_ts = ts
        return self.detector.detect(image), True

    def locate(self, image: npt.NDArray[np.uint8], ts: float) -> Located:
        faces, full = self._detect(image, ts)
        guides = self._guided
        self._guided = {}
        self._before = self.tracker
        before = {track.track_id for track in self.tracker.tracks}
        assignment = assign(self.tracker, faces, ts, self.tracking)
        self.tracker = assignment.state
        self._last_ts = ts
        live = {track.track_id for track in self.tracker.tracks}
        pairs = tuple(zip(assignment.track_ids, faces, strict=True))
        # A face counts as followed by its mesh only if the tracker gave it back to the
        # track it was followed under.
        self._guiding = frozenset(
            track_id for track_id, face in pairs if guides.get(track_id) is face
        )
        return Located(pairs, full, frozenset(before - live), guided=self._guiding)

    def observe(self, frame_size: tuple[int, int], meshes: Mapping[int, Mesh]) -> None:
        if self.guide is None:
            return
        self._guided, _ = self.guide.next_faces(frame_size, meshes, self._guiding)
        now = {track_id: self._guided[track_id] for track_id in self._guiding & self._guided.keys()}
        self.tracker = followed(self.tracker, self._before, now)


__all__ = [
    "MAX_GUIDED_OVERLAP",
    "MAX_GUIDED_SHIFT",
    "PRIMARY_TRACK",
    "FacePolicy",
    "LargestFace",
    "Located",
    "MeshGuide",
    "TrackedFaces",
    "mesh_guide",
    "trusted_guides",
]
