"""What the UI needs from a capture worker, so tests can hand it a deterministic stand-in.

`burnout_tui.runtime.capture.CaptureWorker` satisfies `Capture`; the UI never depends on the
class itself, only on these calls, which are all cheap and non-blocking except `stop`.

Multi-user tracking and recording are optional capabilities: a single-user worker need
not have them, so they are separate protocols checked at run time, and the helpers below
give the UI one answer (no names, no recording) for a worker without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pathlib import Path

    from burnout_tui.config import Config
    from burnout_tui.runtime.results import FrameResult
    from burnout_tui.runtime.worker_status import WorkerStatus


class Capture(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def user(self) -> str: ...

    @property
    def user_id(self) -> int: ...

    @property
    def session_id(self) -> int | None: ...

    def start(self) -> None: ...

    def drain(self) -> list[FrameResult]: ...

    def status(self) -> WorkerStatus: ...

    def toggle_pause(self) -> bool: ...

    def add_marker(self, note: str) -> float: ...

    def request_new_session(self) -> None: ...

    def stop(self) -> None:
        """Flush and finalise the session; may block for a moment, so never on the UI thread."""


@runtime_checkable
class TrackedCapture(Protocol):
    """A worker following several people, each under a stable track id with a user name."""

    def track_names(self) -> dict[int, str]: ...

    def rename_track(self, track_id: int, name: str) -> None: ...


@runtime_checkable
class RecordingCapture(Protocol):
    """A worker that may be writing the video (faces included) to a file."""

    @property
    def recording(self) -> Path | None: ...


@runtime_checkable
class ModelledCapture(Protocol):
    """A worker that can say which forecaster fills its forecasts."""

    @property
    def forecaster_label(self) -> str | None: ...


def forecaster_label(capture: Capture) -> str | None:
    return capture.forecaster_label if isinstance(capture, ModelledCapture) else None


def track_names(capture: Capture) -> dict[int, str]:
    """The worker's names for its tracks; none from a worker that does not track people."""
    return capture.track_names() if isinstance(capture, TrackedCapture) else {}


def can_rename(capture: Capture) -> bool:
    return isinstance(capture, TrackedCapture)


def rename_track(capture: Capture, track_id: int, name: str) -> None:
    """Assign `name` to a track; only called when `can_rename` said the worker can."""
    if not isinstance(capture, TrackedCapture):
        raise TypeError(f"{type(capture).__name__} does not track people")
    capture.rename_track(track_id, name)


def recording(capture: Capture) -> Path | None:
    """Where the worker is recording to, or None (also for a worker that cannot record)."""
    return capture.recording if isinstance(capture, RecordingCapture) else None
