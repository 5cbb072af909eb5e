"""What a capture worker reports about itself, in a module that loads no model.

The UI process reads these from the capture process (see `results` for why they live
apart from `capture`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from burnout_tui.errors import UserError


class WorkerState(str, Enum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    state: WorkerState
    message: str
    session_id: int | None
    frames: int
    face_frames: int
    dropped: int
    processing_fps: float
    source: str
    session_started: float | None
    """`time.monotonic()` when the current session started, for the session clock."""
    stage_ms: Mapping[str, float] = field(default_factory=dict)
    """Milliseconds per stage (`pipeline.STAGES`) in the current session so far."""


class NoSessionError(UserError):
    """A request that needs an open session (a marker) came while none was open."""


__all__ = ["NoSessionError", "WorkerState", "WorkerStatus"]
