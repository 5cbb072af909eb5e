"""Session actions and status lines shared by the single-person monitor and the people grid.

Both screens drive the same capture worker, so a marker or a new session must behave the
same from either; keeping the behaviour here keeps their messages from drifting apart.
A marker is a database write, so it runs in a thread worker and its outcome comes back
as a message: `MarkerSaved`, or `StoreFailed`, which the app shows as a dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from burnout_tui.runtime.worker_status import NoSessionError, WorkerState, WorkerStatus
from burnout_tui.tui.formatting import BRIEF_NOTICE_S, NO_VALUE, format_clock
from burnout_tui.tui.screens.error_modal import StoreFailed, database_errors
from burnout_tui.tui.screens.marker_modal import MarkerModal
from burnout_tui.tui.state.capture_protocol import Capture, recording

STATE_STYLES: dict[WorkerState, str] = {
    WorkerState.STARTING: "$text-warning",
    WorkerState.RUNNING: "$text-success",
    WorkerState.PAUSED: "$text-warning",
    WorkerState.RECONNECTING: "bold $text-warning",
    WorkerState.ENDED: "dim",
    WorkerState.FAILED: "bold $text-error",
    WorkerState.STOPPED: "dim",
}

ALERT_SEVERITY: dict[WorkerState, SeverityLevel] = {
    WorkerState.RECONNECTING: "warning",
    WorkerState.ENDED: "information",
    WorkerState.FAILED: "error",
}
"""States announced with a notification when entered: the state line is one line and may
cut a long message, a notification shows all of it."""

RECORDING_STYLE = "bold $text-error"
"""The recording mark is loud on purpose: the file holds faces, which nothing else keeps."""

STATE_HINTS: dict[WorkerState, str] = {
    WorkerState.PAUSED: "space resumes",
    WorkerState.ENDED: "q saves and quits",
    WorkerState.FAILED: "q quits; nothing more will be recorded",
}


def state_content(status: WorkerStatus, user: str, recording_to: Path | None = None) -> Content:
    """State word, the worker's message when it adds something, then who and what is watched,
    and last where the video is being recorded to, while it is."""
    parts: list[Content | str] = [
        Content.styled(status.state.value.upper(), STATE_STYLES[status.state])
    ]
    if status.message and status.message != status.state.value:
        parts += ["  ", status.message]
    hint = STATE_HINTS.get(status.state)
    if hint:
        parts += ["  ", Content.styled(f"({hint})", "dim")]
    session = NO_VALUE if status.session_id is None else str(status.session_id)
    parts += ["  ·  session ", session, " · user ", user, " · source ", status.source]
    if recording_to is not None:
        parts += ["  ", Content.styled(f"● REC {recording_to}", RECORDING_STYLE)]
    return Content.assemble(*parts)


class SessionScreen(Screen[None]):
    """A screen over a live capture: markers and new sessions, the same from every view."""

    capture: Capture
    clock: Callable[[], float]
    _last_state: WorkerState | None
    _last_state_line: Content | None
    _last_stats: str

    def faces_text(self) -> str:
        """The stats line's first field: who is in view."""
        raise NotImplementedError

    def _draw_status(self, status: WorkerStatus) -> None:
        """Redraws the two status lines only when their text changes, as most ticks it does
        not; both have a fixed size (app.tcss), so no layout pass is needed."""
        if status.state is not self._last_state:
            self._last_state = status.state
            severity = ALERT_SEVERITY.get(status.state)
            if severity is not None and status.message:
                self.notify(
                    status.message, title=status.state.value, severity=severity, markup=False
                )
        state_line = state_content(status, self.capture.user, recording(self.capture))
        if state_line != self._last_state_line:
            self._last_state_line = state_line
            self.query_one("#state-line", Static).update(state_line, layout=False)
            self.query_one("#state-line").set_class(
                status.state in (WorkerState.RECONNECTING, WorkerState.FAILED), "-alert"
            )
        started = status.session_started
        elapsed = None if started is None else self.clock() - started
        stats = "  ·  ".join(
            (
                self.faces_text(),
                f"{status.processing_fps:.1f} frames/s",
                f"dropped {status.dropped}",
                f"session {format_clock(elapsed)}",
            )
        )
        if stats != self._last_stats:
            self._last_stats = stats
            self.query_one("#stats-line", Static).update(stats, layout=False)

    class MarkerSaved(Message):
        def __init__(self, at: float, note: str) -> None:
            super().__init__()
            self.at = at
            self.note = note

    def ask_for_marker(self) -> None:
        """Ask for an optional note, then store a marker at the current session time."""

        def save(note: str | None) -> None:
            if note is not None:
                self.save_marker(note)

        self.app.push_screen(MarkerModal(), save)

    @work(thread=True, group="marker")
    def save_marker(self, note: str) -> None:
        """Not exclusive: two markers set in quick succession are both kept."""
        # A marker also fails, as a dialog, when no session is open (before start, after stop).
        try:
            at = self.capture.add_marker(note)
        except database_errors(NoSessionError) as error:
            self.post_message(StoreFailed("marker not saved", error))
            return
        self.post_message(self.MarkerSaved(at, note))

    @on(MarkerSaved)
    def marker_saved(self, event: MarkerSaved) -> None:
        text = f"marker at {format_clock(event.at)}" + (f": {event.note}" if event.note else "")
        self.notify(text, timeout=BRIEF_NOTICE_S, markup=False)

    def start_new_session(self) -> None:
        self.capture.request_new_session()
        self.notify("the current session is saved; a new one starts with the next frame")
