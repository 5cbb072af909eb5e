"""`FatigueFrame`, one frame's fatigue cues, and the names they are stored and read under.

The dataclass's fields are the one definition of the fatigue columns: the `frames` table's
columns (`store.schema.FATIGUE_COLUMNS`), the fields of `store.rows.FrameRow` and the
forecaster's inputs (`forecast.inputs.FATIGUE_INPUTS`) are all these names, checked
against them by tests. It lives apart from the tracker (`scoring.fatigue`) so the store
can read the names without importing the tracker, and through it the face mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from burnout_tui.measures import MeshMeasures

STORED = "stored"
"""Field metadata key: False for a field that describes the tracker, not the person, and
so has no column (`calibrated`)."""


@dataclass(frozen=True, slots=True)
class FatigueFrame(MeshMeasures):
    """The fatigue cues of one measured frame of one person: the frame's own six measures
    (the `MeshMeasures` fields, first; angles in degrees, not relative to the baseline)
    and what the tracker read from them. `eyes_closed`: both eyes read below
    `closed_ratio` of the open EAR on this frame (False while looking away, when the eyes
    are not judged). `blink`: a
    closure of at most `max_blink_s` ended on this frame (the eyes reopened). `yawn`: a
    gape reached `min_yawn_s` on this frame, the first frame it is known to be a yawn, once
    per gape. `looking_away`: the head is turned beyond the limits from the neutral pose.
    `blink_rate`: blinks per minute of observed time in the sliding window, NaN until it
    holds `min_rate_s`. `perclos`: share of the window's eye-judged time with the eyes
    closed, 0-1 (0 while the window holds no judged time). `calibrated`: thresholds come
    from the person's baseline rather than population defaults.
    """

    eyes_closed: bool
    blink: bool
    yawn: bool
    looking_away: bool
    blink_rate: float
    perclos: float
    calibrated: bool = field(metadata={STORED: False})


FATIGUE_COLUMNS: tuple[str, ...] = tuple(
    item.name for item in fields(FatigueFrame) if item.metadata.get(STORED, True)
)
"""Stored names of the per-frame fatigue cues, in field order: every `FatigueFrame` field
but those marked not stored. Adding a field adds a column here, which then needs its
migration (`store.schema`) and its `FrameRow` field; tests fail until both exist."""

__all__ = ["FATIGUE_COLUMNS", "STORED", "FatigueFrame"]
