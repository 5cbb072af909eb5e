"""Session actions shared by the single-person monitor and the people grid.

Both screens drive the same capture worker, so a marker or a new session must behave the
same from either; keeping the behaviour here keeps their messages from drifting apart.
"""

from __future__ import annotations

from typing import Any

import duckdb
from textual.screen import Screen

from burnout_tui.runner import NoSessionError
from burnout_tui.tui.capture_protocol import Capture
from burnout_tui.tui.formatting import BRIEF_NOTICE_S, format_clock
from burnout_tui.tui.marker_modal import MarkerModal


def ask_for_marker(screen: Screen[Any], capture: Capture) -> None:
    """Ask for an optional note, then store a marker at the current session time."""

    def save(note: str | None) -> None:
        if note is None:
            return
        try:
            at = capture.add_marker(note)
        except (duckdb.Error, NoSessionError) as error:
            screen.notify(f"marker not saved: {error}", severity="error", markup=False)
            return
        text = f"marker at {format_clock(at)}" + (f": {note}" if note else "")
        screen.notify(text, timeout=BRIEF_NOTICE_S, markup=False)

    screen.app.push_screen(MarkerModal(), save)


def start_new_session(screen: Screen[Any], capture: Capture) -> None:
    capture.request_new_session()
    screen.notify("the current session is saved; a new one starts with the next frame")
