"""The `heart` table's row: one per face track per second of frame time.

Built from the pipeline's per-face result through the small protocols below, so the store
never imports the pulse code's types (nor, through the results, the vision models).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


class _Estimate(Protocol):
    @property
    def bpm(self) -> float | None: ...

    @property
    def snr_db(self) -> float | None: ...

    @property
    def coverage(self) -> float: ...

    @property
    def method(self) -> str: ...

    @property
    def rmssd_ms(self) -> float | None: ...

    @property
    def sdnn_ms(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class HeartRow:
    """Field names are the `heart` column names (migration in store/schema.py)."""

    TABLE: ClassVar[str] = "heart"

    session_id: int
    track_id: int
    frame_index: int
    ts: float
    bpm: float | None
    snr_db: float | None
    coverage: float
    rmssd_ms: float | None
    sdnn_ms: float | None
    method: str


def _finite(value: float | None) -> float | None:
    """A quality of ±inf (a spectrum with no noise, or no signal, at all) as NULL: SQL
    aggregates would otherwise turn a whole session's mean into infinity."""
    if value is None or value in (float("inf"), float("-inf")):
        return None
    return float(value)


def heart_rows(session_id: int, frame_index: int, ts: float, face: Any) -> Iterable[HeartRow]:
    """The face's heart-rate row when this frame completed a second, else none."""
    pulse = face.pulse
    estimate: _Estimate | None = None if pulse is None else pulse.estimate
    if estimate is None:
        return ()
    return (
        HeartRow(
            session_id=session_id,
            track_id=int(face.track_id),
            frame_index=frame_index,
            ts=float(ts),
            bpm=_finite(estimate.bpm),
            snr_db=_finite(estimate.snr_db),
            coverage=float(estimate.coverage),
            rmssd_ms=_finite(estimate.rmssd_ms),
            sdnn_ms=_finite(estimate.sdnn_ms),
            method=estimate.method,
        ),
    )
