"""Which mesh-followed faces multi-user tracking trusts, and what the tracker then holds
(`face_policy.trusted_guides`, `tracking.followed`): pure functions, no models."""

from __future__ import annotations

from dataclasses import replace

from burnout_tui.config import TrackingConfig
from burnout_tui.runtime.face_policy import (
    MAX_GUIDED_OVERLAP,
    MAX_GUIDED_SHIFT,
    MIN_GUIDING_PRESENCE,
    trusted_guides,
)
from burnout_tui.vision.face import KEYPOINT_NAMES, Face
from burnout_tui.vision.tracking import Track, TrackerState, assign, box_iou, followed

WIDTH = 100
FRAME_S = 0.04
"""25 frames/s, the crowd clip's rate."""


def face(x: float, y: float = 200.0, width: int = WIDTH) -> Face:
    keypoints = {name: (x + width / 2, y + width / 2) for name in KEYPOINT_NAMES}
    return Face((round(x), round(y), width, width), 0.99, keypoints)


def moving(track_id: int, x_before: float, x_now: float) -> tuple[Track, Track]:
    """A track seen one frame ago at `x_before` and in the last frame at `x_now`."""
    return Track(track_id, face(x_before), 0.0), Track(track_id, face(x_now), FRAME_S)


def trusted(*tracks: tuple[Track, Track], guides: dict[int, Face] | None = None) -> set[int]:
    before = TrackerState(tuple(pair[0] for pair in tracks))
    visible = [pair[1] for pair in tracks]
    if guides is None:
        guides = {track.track_id: track.face for track in visible}
    return set(trusted_guides(guides, visible, before, 2 * FRAME_S))


def test_a_slow_face_is_followed_by_its_mesh() -> None:
    assert trusted(moving(1, 0.0, MAX_GUIDED_SHIFT * WIDTH * 0.9)) == {1}


def test_a_face_moving_faster_than_the_mesh_follows_is_refined() -> None:
    assert trusted(moving(1, 0.0, MAX_GUIDED_SHIFT * WIDTH * 1.2)) == set()


def test_a_new_track_is_refined_until_it_has_a_step() -> None:
    new = Track(1, face(0.0), FRAME_S)
    guides = {1: new.face}
    assert trusted_guides(guides, [new], TrackerState(), 2 * FRAME_S) == {}


def test_a_track_without_a_mesh_is_not_guided() -> None:
    assert trusted(moving(1, 0.0, 1.0), guides={}) == set()


def test_a_mesh_unsure_of_its_face_does_not_guide() -> None:
    """A mesh-derived face's score is the mesh's presence (`mesh_face.face_from_mesh`)."""
    pair = moving(1, 0.0, 1.0)
    unsure = replace(pair[1].face, score=MIN_GUIDING_PRESENCE - 0.05)
    assert trusted(pair, guides={1: unsure}) == set()


def test_two_overlapping_faces_are_both_refined() -> None:
    near = WIDTH * 0.5
    assert box_iou(face(0.0).box, face(near).box) > MAX_GUIDED_OVERLAP
    far = 3.0 * WIDTH
    assert trusted(moving(1, 0.0, 0.0), moving(2, near, near), moving(3, far, far)) == {3}


def test_the_tracker_holds_this_frames_mesh_box_and_its_step() -> None:
    """Assigned under the last frame's mesh box, a followed track is moved to where this
    frame's mesh put it, with the velocity measured from where it stood before."""
    config = TrackingConfig()
    start = assign(TrackerState(), [face(0.0)], 0.0, config)
    stale = assign(start.state, [face(0.0)], FRAME_S, config)
    assert stale.state.tracks[0].velocity == (0.0, 0.0)
    now = followed(stale.state, start.state, {1: face(8.0)})
    (track,) = now.tracks
    assert track.face == face(8.0)
    assert track.last_seen == FRAME_S
    assert track.velocity[0] > 0.0 and track.velocity[1] == 0.0
    assert now.next_id == stale.state.next_id


def test_followed_leaves_other_tracks_alone() -> None:
    config = TrackingConfig()
    start = assign(TrackerState(), [face(0.0), face(400.0)], 0.0, config)
    seen = assign(start.state, [face(0.0), face(400.0)], FRAME_S, config)
    now = followed(seen.state, start.state, {1: face(5.0)})
    assert now.tracks[1] == seen.state.tracks[1]
