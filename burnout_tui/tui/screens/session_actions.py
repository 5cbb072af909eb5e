"""Session actions shared by the single-person monitor and the people grid.

Both screens drive the same capture worker, so a marker or a new session must behave the
same from either; keeping the behaviour here keeps their messages from drifting apart.
A marker is a database write, so it runs in a thread worker and its outcome comes back
as a message: `MarkerSaved`, or `StoreFailed`, which the app shows as a dialog.
"""

from __future__ import annotations

from textual import on, work
from textual.message import Message
from textual.screen import Screen

from burnout_tui.runtime.worker_status import NoSessionError
from burnout_tui.tui.formatting import BRIEF_NOTICE_S, format_clock
from burnout_tui.tui.screens.error_modal import DATABASE_ERRORS, StoreFailed
from burnout_tui.tui.screens.marker_modal import MarkerModal
from burnout_tui.tui.state.capture_protocol import Capture

MARKER_ERRORS: tuple[type[Exception], ...] = (*DATABASE_ERRORS, NoSessionError)
"""A marker also fails, as a dialog, when no session is open (before start, after stop)."""


class SessionScreen(Screen[None]):
    """A screen over a live capture: markers and new sessions, the same from every view."""

    capture: Capture

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
        try:
            at = self.capture.add_marker(note)
        except MARKER_ERRORS as error:
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
