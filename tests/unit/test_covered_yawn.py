"""A yawn behind a hand: the gape seen before and after the hand is one gape.

Synthetic MAR series at 30 frames/s against the fatigue tracker's default settings
(`FatigueConfig.covered_yawn_*`); the same rule on a made clip with a hand pasted over a
real gape is tests/integration/test_covered_yawn.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from burnout_tui.config import FatigueConfig
from tests.unit.test_fatigue import BASELINE, _m, _tracker

FPS = 30.0
DT = 1.0 / FPS
REST = BASELINE.mar_rest
WIDE = REST + FatigueConfig().yawn_mar_rise + 0.2
"""A wide gape: well above the gape threshold, as a yawn reads (MAR 0.5-0.6)."""
SHUT = REST
"""What the face mesh draws under a hand: a closed mouth."""
HALF = REST + (FatigueConfig().yawn_mar_rise + FatigueConfig().yawn_release_rise) / 2
"""Between the release and gape thresholds: a half-open mouth."""


def frames(seconds: float, mar: float | None) -> list[float | None]:
    return [mar] * round(seconds * FPS)


def ramp(seconds: float, start: float, end: float) -> list[float | None]:
    count = round(seconds * FPS)
    return [start + (end - start) * (i + 1) / count for i in range(count)]


def yawns(mars: Sequence[float | None], settings: FatigueConfig | None = None) -> list[int]:
    """Frames with a yawn event; None is a frame without measures (mesh doubted)."""
    tracker = _tracker(settings or FatigueConfig())
    found = []
    for i, mar in enumerate(mars):
        frame = tracker.push(i * DT, None if mar is None else _m(mar=mar))
        if frame is not None and frame.yawn:
            found.append(i)
    return found


BEFORE, HIDDEN, AFTER = 1.0, 3.0, 1.0
COVERED = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(HIDDEN, SHUT) + frames(AFTER, WIDE)
REOPEN = round((1.0 + BEFORE + HIDDEN) * FPS)
"""The first frame the mouth is seen again."""


def test_a_gape_hidden_in_the_middle_is_a_yawn_once_seen_open_again() -> None:
    seen_again = FatigueConfig().covered_yawn_min_open_s
    assert yawns(COVERED + frames(1.0, REST)) == [REOPEN + round(seen_again * FPS)]


def test_frames_without_measures_hide_the_mouth_too() -> None:
    """The mesh may doubt a face behind a hand: no measures, a gap in the frames."""
    mars = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(HIDDEN, None) + frames(AFTER, WIDE)
    assert len(yawns(mars)) == 1


def test_a_frame_or_two_half_open_as_the_hand_leaves_is_allowed() -> None:
    mars = (
        frames(1.0, REST)
        + frames(BEFORE, WIDE)
        + frames(HIDDEN, SHUT)
        + [HALF, HALF]
        + frames(AFTER, WIDE)
    )
    assert len(yawns(mars)) == 1


def test_the_rule_can_be_turned_off() -> None:
    assert yawns(COVERED, FatigueConfig(covered_yawn_max_cover_s=0.0)) == []


def test_a_mouth_that_closes_or_opens_slowly_is_not_hidden() -> None:
    """A jaw takes a third of a second or more to close from a wide gape (0.33 s on the
    test clip's own closing): two gapes with a real closure between them are not joined."""
    slow_close = (
        frames(1.0, REST) + frames(BEFORE, WIDE) + ramp(0.5, WIDE, SHUT) + frames(HIDDEN, SHUT)
    )
    assert yawns(slow_close + frames(AFTER, WIDE)) == []
    slow_open = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(HIDDEN, SHUT)
    assert yawns(slow_open + ramp(0.5, SHUT, WIDE) + frames(AFTER, WIDE)) == []


def test_short_glimpses_and_short_covers_are_not_joined() -> None:
    """Speech: brief wide openings, brief closures (b, p, m)."""
    short_before = frames(1.0, REST) + frames(0.3, WIDE) + frames(HIDDEN, SHUT)
    assert yawns(short_before + frames(AFTER, WIDE)) == []
    short_cover = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(0.2, SHUT)
    assert yawns(short_cover + frames(AFTER, WIDE) + frames(1.0, REST)) == []
    short_after = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(HIDDEN, SHUT)
    assert yawns(short_after + frames(0.3, WIDE) + frames(1.0, REST)) == []


def test_a_mouth_that_never_reopens_or_stays_hidden_too_long_is_no_yawn() -> None:
    never = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(5.0, SHUT)
    assert yawns(never) == []
    too_long = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(9.0, SHUT) + frames(AFTER, WIDE)
    assert yawns(too_long) == []
    half_open_behind = frames(1.0, REST) + frames(BEFORE, WIDE) + frames(1.0, SHUT)
    assert yawns(half_open_behind + frames(0.5, HALF) + frames(AFTER, WIDE)) == []
