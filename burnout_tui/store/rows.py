"""One row of the `frames` table, and how a scored face becomes its rows.

The store depends on the pipeline's results only through the small protocols below, so
importing the store never loads the vision models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from burnout_tui.scoring.action_cues import NUM_BLENDSHAPES
from burnout_tui.store.blink_rows import blink_rows
from burnout_tui.store.heart_rows import heart_rows
from burnout_tui.store.schema import FATIGUE_COLUMNS, FEATURE_COLUMNS, PROBABILITY_COLUMNS
from burnout_tui.store.table_rows import TableRow


class DetectedFace(Protocol):
    @property
    def box(self) -> tuple[int, int, int, int]: ...

    @property
    def score(self) -> float: ...


class ScoredFace(Protocol):
    """What `FrameRow.from_result` reads from the pipeline's per-face result."""

    @property
    def track_id(self) -> int: ...

    @property
    def face(self) -> DetectedFace: ...

    @property
    def probs(self) -> npt.NDArray[Any]: ...

    @property
    def features(self) -> npt.NDArray[Any]: ...

    @property
    def frame_score(self) -> float: ...

    @property
    def rolling_score(self) -> float: ...

    @property
    def forecast(self) -> float | None: ...

    @property
    def fatigue(self) -> Any: ...

    @property
    def normalized_score(self) -> float | None: ...

    @property
    def pulse(self) -> Any: ...

    @property
    def blendshapes(self) -> tuple[float, ...] | None: ...


@dataclass(frozen=True, slots=True)
class FrameRow:
    """Field names are the `frames` column names; the writer relies on that."""

    TABLE: ClassVar[str] = "frames"

    session_id: int
    frame_index: int
    ts: float
    track_id: int
    box_x: int
    box_y: int
    box_w: int
    box_h: int
    det_score: float
    p_angry: float
    p_disgust: float
    p_fear: float
    p_happy: float
    p_sad: float
    p_surprise: float
    p_neutral: float
    roll_deg: float | None
    yaw: float | None
    mouth_width: float | None
    eye_mouth: float | None
    eye_open: float | None
    mouth_open: float | None
    frame_score: float
    rolling_score: float
    forecast: float | None = None
    ear_left: float | None = None
    ear_right: float | None = None
    mar: float | None = None
    head_yaw: float | None = None
    head_pitch: float | None = None
    head_roll: float | None = None
    eyes_closed: bool | None = None
    blink: bool | None = None
    yawn: bool | None = None
    looking_away: bool | None = None
    blink_rate: float | None = None
    perclos: float | None = None
    normalized_score: float | None = None
    pulse: float | None = None
    blendshapes: tuple[float, ...] | None = None
    """The 52 blendshape coefficients (`scoring.action_cues.BLENDSHAPE_NAMES` order),
    FLOAT[]; NULL where none were computed."""

    @classmethod
    def from_result(
        cls, session_id: int, frame_index: int, ts: float, result: ScoredFace
    ) -> FrameRow:
        """Build a row from a pipeline FaceResult.

        The feature vector is matched to FEATURE_COLUMNS by position; a length mismatch
        means a feature was added without its migration, and fails loudly here rather
        than storing values under the wrong names.
        """
        probs = np.asarray(result.probs, dtype=np.float64).ravel()
        features = np.asarray(result.features, dtype=np.float64).ravel()
        if probs.size != len(PROBABILITY_COLUMNS):
            raise ValueError(f"expected {len(PROBABILITY_COLUMNS)} probabilities, got {probs.size}")
        if features.size != len(FEATURE_COLUMNS):
            raise ValueError(
                f"expected {len(FEATURE_COLUMNS)} features {FEATURE_COLUMNS}, got {features.size}"
            )
        x, y, w, h = (int(v) for v in result.face.box)
        values: dict[str, Any] = {
            **dict(zip(PROBABILITY_COLUMNS, probs.tolist(), strict=True)),
            **dict(zip(FEATURE_COLUMNS, features.tolist(), strict=True)),
            **_fatigue_values(result.fatigue),
        }
        return cls(
            session_id=session_id,
            frame_index=frame_index,
            ts=float(ts),
            track_id=int(result.track_id),
            box_x=x,
            box_y=y,
            box_w=w,
            box_h=h,
            det_score=float(result.face.score),
            frame_score=float(result.frame_score),
            rolling_score=float(result.rolling_score),
            forecast=None if result.forecast is None else float(result.forecast),
            normalized_score=(
                None if result.normalized_score is None else float(result.normalized_score)
            ),
            pulse=None if result.pulse is None else result.pulse.value,
            blendshapes=_blendshapes(result.blendshapes),
            **values,
        )


def _blendshapes(values: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """The coefficients as plain floats; a vector of another length fails loudly here."""
    if values is None:
        return None
    if len(values) != NUM_BLENDSHAPES:
        raise ValueError(f"expected {NUM_BLENDSHAPES} blendshapes, got {len(values)}")
    return tuple(float(value) for value in values)


def _fatigue_values(fatigue: Any) -> dict[str, Any]:
    """The FatigueFrame's fields under their column names; nothing when no mesh was fitted.

    Read by name, so a field added to FatigueFrame without its column is simply not stored
    rather than misplaced."""
    if fatigue is None:
        return {}
    return {name: _null_if_nan(getattr(fatigue, name)) for name in FATIGUE_COLUMNS}


def _null_if_nan(value: Any) -> Any:
    """NaN (e.g. the blink rate before 10 s were observed) is stored as SQL NULL, which
    aggregates skip, rather than as a NaN that would poison every avg() over the column."""
    return None if isinstance(value, float) and math.isnan(value) else value


SideRows = Callable[[int, int, float, Any], Iterable[TableRow]]
"""A per-face side table's rows for one face of one frame: (session id, frame index, ts,
the pipeline's face result) → rows, usually none or one (a heart-rate estimate or a blink
a stage completed on this frame)."""

SIDE_ROWS: tuple[SideRows, ...] = (heart_rows, blink_rows)
"""Every side table's row builder; a stage that stores rows outside `frames` adds its
function here (and its table to `track_tables.TRACK_TABLES`)."""


def stored_rows(
    session_id: int, frame_index: int, ts: float, faces: Iterable[ScoredFace]
) -> list[TableRow]:
    """Everything a frame stores: its `frames` rows, then each side table's rows."""
    rows: list[TableRow] = []
    for face in faces:
        rows.append(FrameRow.from_result(session_id, frame_index, ts, face))
        for side_rows in SIDE_ROWS:
            rows.extend(side_rows(session_id, frame_index, ts, face))
    return rows
