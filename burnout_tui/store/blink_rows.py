"""The `blinks` side table: one row per blink a face completed (`DrowsinessStage`).

Each row holds the blink's four raw features (the UTA-RLDD dataset's frequency, amplitude,
duration and eye-opening velocity, in blinks a minute, EAR units, seconds and EAR units a
second: `signals.blinks`), the same four as z-scores against the person's blink baseline
once it exists, and, once 30 normalised blinks exist, the drowsiness level of the window
of 30 blinks ending at this one with its three probabilities.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from burnout_tui.signals.drowsiness import BlinkRecord, TrackBlinks

BLINKS_TABLE = "blinks"


@dataclass(frozen=True, slots=True)
class BlinkRow:
    """Field names are the `blinks` column names; the writer relies on that."""

    TABLE: ClassVar[str] = BLINKS_TABLE

    session_id: int
    track_id: int
    frame_index: int
    """The frame on which the blink was completed (its reopening plus 0.4 s of context)."""
    ts: float
    """That frame's time, seconds since the session started."""
    start_ts: float
    end_ts: float
    frequency: float
    amplitude: float
    duration: float
    velocity: float
    z_frequency: float | None
    z_amplitude: float | None
    z_duration: float | None
    z_velocity: float | None
    level: str | None
    p_alert: float | None
    p_low_vigilant: float | None
    p_drowsy: float | None

    @classmethod
    def from_record(
        cls, session_id: int, frame_index: int, ts: float, track_id: int, record: BlinkRecord
    ) -> BlinkRow:
        blink, normalised, level = record.blink, record.normalised, record.level
        z = (None,) * 4 if normalised is None else tuple(float(v) for v in normalised)
        p = (None,) * 3 if level is None else tuple(float(v) for v in level.probabilities)
        return cls(
            session_id=session_id,
            track_id=track_id,
            frame_index=frame_index,
            ts=float(ts),
            start_ts=blink.start_ts,
            end_ts=blink.end_ts,
            frequency=blink.frequency,
            amplitude=blink.amplitude,
            duration=blink.duration,
            velocity=blink.velocity,
            z_frequency=z[0],
            z_amplitude=z[1],
            z_duration=z[2],
            z_velocity=z[3],
            level=None if level is None else level.level,
            p_alert=p[0],
            p_low_vigilant=p[1],
            p_drowsy=p[2],
        )


def blink_rows(session_id: int, frame_index: int, ts: float, face: Any) -> Iterable[BlinkRow]:
    """The `blinks` rows of one face of one frame: one per blink completed on it."""
    records: tuple[BlinkRecord, ...] = getattr(face, "blinks", ())
    return track_blink_rows(session_id, frame_index, ts, [(int(face.track_id), records)])


def track_blink_rows(
    session_id: int, frame_index: int, ts: float, per_track: Iterable[TrackBlinks]
) -> list[BlinkRow]:
    """The `blinks` rows of blinks stored on one frame, per track: a face's own, or those of
    a track that ended there or that the session's end completed (no face of that frame)."""
    return [
        BlinkRow.from_record(session_id, frame_index, ts, track_id, record)
        for track_id, records in per_track
        for record in records
    ]
