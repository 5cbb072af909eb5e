"""What the UI needs from a capture worker, so tests can hand it a deterministic stand-in.

`burnout_tui.capture.CaptureWorker` satisfies this protocol; the UI never depends on the
class itself, only on these calls, which are all cheap and non-blocking except `stop`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from burnout_tui.capture import WorkerStatus
    from burnout_tui.config import Config
    from burnout_tui.pipeline import FrameResult


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
