"""Multi-user tracking: which face in this frame is which person from earlier frames.

`assign` is a pure function of the previous `TrackerState`, this frame's faces and its
timestamp, so it can be tested on recorded detections without models or threads. Faces
are matched to tracks by an optimal one-to-one assignment (Hungarian method, scipy's
`linear_sum_assignment`) on a cost mixing box overlap and landmark distance: overlap
alone fails after a short occlusion, when the person has moved off their last box, and
landmarks alone confuse two similar-sized heads that are close together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from burnout_tui.config import TrackingConfig
from burnout_tui.vision.face import KEYPOINT_NAMES, Face

FIRST_TRACK_ID = 1
"""Multi-user ids start at 1 so they read naturally beside the auto names user001, …;
single-user mode keeps its one track at 0."""

INFEASIBLE = 1e6
"""Cost given to pairs outside the gates; far above any real cost (at most 1 + the
widened keypoint gate), so the solver only picks such a pair when nothing else is left, and it
is then rejected."""

DRIFT_WIDTHS_PER_S = 0.5
"""How much the keypoint gate widens per second a track has been unseen, in face widths.
A person hidden for a second has moved on: on the shared talking-head clip, a head
drifted 0.9 widths in one second; half a width per second on top of the gate covers
that while staying below the spacing of people sitting side by side."""

VELOCITY_SMOOTHING = 0.5
"""Weight of the newest motion in a track's velocity (exponential smoothing): one noisy
box does not throw the prediction off, yet a person who starts walking is followed within
two or three sightings."""

Box = tuple[int, int, int, int]
Velocity = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Track:
    """A person followed across frames: their id, last face, when it was last seen, and
    how fast their face was moving then (pixels per second), to predict where it is now."""

    track_id: int
    face: Face
    last_seen: float
    velocity: Velocity = (0.0, 0.0)

    def predicted(self, ts: float) -> Face:
        """The last face moved on at constant velocity to time `ts`.

        Between full detections a walking person can move two face widths; matching and
        refining around where they should be, rather than where they were, keeps their id.
        """
        dt = max(ts - self.last_seen, 0.0)
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        if dx == 0.0 and dy == 0.0:
            return self.face
        x, y, w, h = self.face.box
        return Face(
            (round(x + dx), round(y + dy), w, h),
            self.face.score,
            {name: (px + dx, py + dy) for name, (px, py) in self.face.keypoints.items()},
        )


@dataclass(frozen=True, slots=True)
class TrackerState:
    """Everything tracking carries from one frame to the next."""

    tracks: tuple[Track, ...] = ()
    next_id: int = FIRST_TRACK_ID

    def visible_at(self, ts: float) -> tuple[Track, ...]:
        """Tracks whose face was found in the frame at `ts` (not merely remembered)."""
        return tuple(track for track in self.tracks if track.last_seen == ts)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The result of one frame: the new state and a track id for every face, in order."""

    state: TrackerState
    track_ids: tuple[int, ...]
    new_ids: tuple[int, ...]


def box_iou(a: Box, b: Box) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def keypoint_distance(previous: Face, current: Face) -> float:
    """Mean landmark displacement in widths of the previous face (scale-free, so one gate
    fits a face filling the frame and one far away); inf when landmarks are missing."""
    if not all(name in previous.keypoints and name in current.keypoints for name in KEYPOINT_NAMES):
        return math.inf
    width = max(previous.box[2], 1)
    moved = [
        math.dist(previous.keypoints[name], current.keypoints[name]) for name in KEYPOINT_NAMES
    ]
    return sum(moved) / len(moved) / width


def cost_matrix(
    tracks: tuple[Track, ...], faces: list[Face], ts: float, config: TrackingConfig
) -> npt.NDArray[np.float64]:
    """Rows are tracks, columns faces; pairs outside both gates cost INFEASIBLE.

    A face is compared with both where the track was last seen and where its velocity
    says it should be now, and the closer counts: prediction follows a walking person
    across the frames between full detections, while a person who stopped behind an
    occluder is still found where they were.

    The keypoint gate widens with the time a track has been unseen (DRIFT_WIDTHS_PER_S),
    so a person reappearing after an occlusion a little off their old place is matched.
    """
    costs = np.full((len(tracks), len(faces)), INFEASIBLE, dtype=np.float64)
    for row, track in enumerate(tracks):
        gate = config.max_keypoint_distance + DRIFT_WIDTHS_PER_S * max(ts - track.last_seen, 0.0)
        expected = track.predicted(ts)
        candidates = (track.face,) if expected is track.face else (track.face, expected)
        for col, face in enumerate(faces):
            for where in candidates:
                overlap = box_iou(where.box, face.box)
                moved = keypoint_distance(where, face)
                if overlap >= config.min_iou or moved <= gate:
                    costs[row, col] = min(costs[row, col], (1.0 - overlap) + min(moved, gate))
    return costs


def assign(state: TrackerState, faces: list[Face], ts: float, config: TrackingConfig) -> Assignment:
    """Match `faces` (found at time `ts`) to live tracks; unmatched faces start new ones.

    Tracks not seen for more than `config.grace_s` are forgotten first, so their ids are
    never reused for someone else; a track missed in this frame but still within its
    grace period is kept with its last face, ready to be matched again.
    """
    live = tuple(track for track in state.tracks if ts - track.last_seen <= config.grace_s)
    ids: list[int | None] = [None] * len(faces)
    matched_tracks: set[int] = set()
    if live and faces:
        # Imported here: scipy.optimize is ~50 MB of resident memory that single-user
        # runs, which import this module through the pipeline, never need.
        from scipy.optimize import linear_sum_assignment

        costs = cost_matrix(live, faces, ts, config)
        rows, cols = linear_sum_assignment(costs)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            if costs[row, col] < INFEASIBLE:
                ids[col] = live[row].track_id
                matched_tracks.add(row)
    next_id = state.next_id
    new_ids: list[int] = []
    for index, track_id in enumerate(ids):
        if track_id is None:
            ids[index] = next_id
            new_ids.append(next_id)
            next_id += 1
    track_ids = tuple(track_id for track_id in ids if track_id is not None)
    previous = {track.track_id: track for track in live}
    seen = tuple(
        seen_at(previous.get(track_id), track_id, face, ts)
        for track_id, face in zip(track_ids, faces, strict=True)
    )
    kept = tuple(track for row, track in enumerate(live) if row not in matched_tracks)
    tracks = tuple(sorted((*seen, *kept), key=lambda track: track.track_id))
    return Assignment(TrackerState(tracks, next_id), track_ids, tuple(new_ids))


def seen_at(track: Track | None, track_id: int, face: Face, ts: float) -> Track:
    """Track `track_id` after seeing `face` at `ts`; `track` is how it stood before
    (None for a new track)."""
    return Track(track_id, face, ts, _velocity(track, face, ts))


def followed(state: TrackerState, before: TrackerState, faces: Mapping[int, Face]) -> TrackerState:
    """`state` with the face of each track in `faces` replaced by the one given, as if
    `assign` had seen it there instead, at the same time; velocities are measured from
    how each track stood in `before` (the state `assign` started from).

    The multi-user policy assigns a mesh-followed face before the mesh has run on the
    frame, under the box the last frame's mesh gave; once this frame's mesh has been
    fitted, its box is where the face is, and the track must hold that one, or its
    position and velocity lag a frame behind.
    """
    previous = {track.track_id: track for track in before.tracks}
    tracks = tuple(
        seen_at(
            previous.get(track.track_id), track.track_id, faces[track.track_id], track.last_seen
        )
        if track.track_id in faces
        else track
        for track in state.tracks
    )
    return replace(state, tracks=tracks)


def _centre(face: Face) -> tuple[float, float]:
    x, y, w, h = face.box
    return x + w / 2, y + h / 2


def _velocity(track: Track | None, face: Face, ts: float) -> Velocity:
    """Smoothed centre velocity after seeing `face` at `ts`; zero for a new track."""
    if track is None or ts <= track.last_seen:
        return track.velocity if track is not None else (0.0, 0.0)
    dt = ts - track.last_seen
    (x0, y0), (x1, y1) = _centre(track.face), _centre(face)
    measured = ((x1 - x0) / dt, (y1 - y0) / dt)
    return (
        VELOCITY_SMOOTHING * measured[0] + (1 - VELOCITY_SMOOTHING) * track.velocity[0],
        VELOCITY_SMOOTHING * measured[1] + (1 - VELOCITY_SMOOTHING) * track.velocity[1],
    )


__all__ = [
    "FIRST_TRACK_ID",
    "Assignment",
    "Track",
    "TrackerState",
    "assign",
    "box_iou",
    "cost_matrix",
    "followed",
    "keypoint_distance",
    "seen_at",
]
