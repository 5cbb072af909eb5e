"""`monitor --multi-user`: a grid with one panel per tracked person.

Like the single-user monitor it polls the worker on a timer, and it is the only screen
that drains it: the single-person view opened from here gets its frames handed on, since
two drainers would each see only part of the frames. The grid's column count follows
the terminal width and the grid scrolls when more people are tracked than fit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.widgets import Footer, Header, Static

from burnout_tui.config import Config
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.tui.formatting import BRIEF_NOTICE_S
from burnout_tui.tui.screens.error_modal import StoreFailed, database_errors
from burnout_tui.tui.screens.history_screen import HistoryScreen
from burnout_tui.tui.screens.monitor_screen import TICK_S
from burnout_tui.tui.screens.person_screen import PersonScreen
from burnout_tui.tui.screens.rename_modal import RenameModal
from burnout_tui.tui.screens.session_actions import SessionScreen
from burnout_tui.tui.state.capture_protocol import (
    Capture,
    can_rename,
    rename_track,
    track_names,
)
from burnout_tui.tui.state.people import PeopleSeries, default_name
from burnout_tui.tui.state.store_access import StoreAccess
from burnout_tui.tui.state.track_capture import TrackCapture
from burnout_tui.tui.widgets import PersonPanel

PANEL_MIN_WIDTH = 50
"""Narrowest useful panel: label, a trace of a few seconds, and the value. At 80 columns
the grid has one column, at 120 two, from 150 three."""

MAX_COLUMNS = 3
"""Past three panels side by side the traces get no wider, the grid only sparser."""


def grid_columns(width: int) -> int:
    return min(max(width // PANEL_MIN_WIDTH, 1), MAX_COLUMNS)


def people_text(tracked: int, in_view: int) -> str:
    if tracked == 0:
        return "people: none found yet"
    return f"people: {tracked} tracked, {in_view} in view"


class PeopleScreen(SessionScreen):
    """Everyone the worker follows; Enter opens one person in the single-user layout.

    A rename writes the track's user to the store, so it runs in a thread worker and
    comes back as `Renamed`, or as `StoreFailed` (shown by the app as a dialog)."""

    class Renamed(Message):
        def __init__(self, track_id: int, name: str) -> None:
            super().__init__()
            self.track_id = track_id
            self.user_name = name

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("r", "rename", "Rename"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("m", "marker", "Marker"),
        Binding("n", "new_session", "New session"),
        Binding("h", "history", "History"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(
        self,
        capture: Capture,
        store: StoreAccess,
        config: Config,
        clock: Callable[[], float],
        tick_s: float = TICK_S,
    ) -> None:
        super().__init__()
        self.capture = capture
        self.store = store
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        self.people = PeopleSeries(config.scoring, config.levels)
        self.columns = 1
        self._names: dict[int, str] = {}
        self._followers: list[TrackCapture] = []
        self._last_state: WorkerState | None = None
        self._last_state_line: Content | None = None
        self._last_stats = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="state-line")
        yield Static(id="stats-line")
        with VerticalScroll(id="people-scroll", can_focus=False):
            yield Grid(id="people")
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        columns = grid_columns(event.size.width)
        if columns != self.columns:
            self.columns = columns
            self.query_one("#people", Grid).styles.grid_size_columns = columns

    async def on_mount(self) -> None:
        self.query_one("#people", Grid).styles.grid_size_columns = self.columns
        await self.refresh_live()
        self.set_interval(self.tick_s, self.refresh_live, name="drain")

    async def refresh_live(self) -> None:
        """One tick: drain, hand the frames to any open person view, redraw what changed."""
        results = self.capture.drain()
        status = self.capture.status()
        if status.session_id != self.people.session_id:
            self.people.reset(status.session_id)
            await self.query_one("#people", Grid).remove_children()
        for follower in self._followers:
            follower.feed(results)
        self._sync_names()
        if self.people.extend(results):
            await self._draw_people()
        self._draw_status(status)

    def name_of(self, track_id: int) -> str:
        return self._names.get(track_id, default_name(track_id))

    def panels(self) -> list[PersonPanel]:
        return list(self.query(PersonPanel))

    def _sync_names(self) -> None:
        names = track_names(self.capture)
        if names != self._names:
            self._names = names
            for panel in self.panels():
                panel.rename(self.name_of(panel.track_id))

    async def _draw_people(self) -> None:
        """New people get a panel (mounted before it is drawn); lost ones keep theirs."""
        grid = self.query_one("#people", Grid)
        shown = {panel.track_id: panel for panel in self.panels()}
        new = [
            PersonPanel(track, self.name_of(track), id=f"person-{track}")
            for track in self.people.tracks
            if track not in shown
        ]
        if new:
            await grid.mount_all(new)
            shown.update({panel.track_id: panel for panel in new})
            if self.focused is None:
                self.set_focus(self.panels()[0])
        in_view = self.people.in_view
        for track, panel in shown.items():
            panel.show(self.people.series(track), track in in_view, self.config.levels)

    def faces_text(self) -> str:
        return people_text(len(self.people.tracks), len(self.people.in_view))

    @property
    def selected(self) -> PersonPanel | None:
        return self.focused if isinstance(self.focused, PersonPanel) else None

    def action_select(self, dx: int, dy: int) -> None:
        """Arrows move the selection across the grid: sideways by one, up and down by a row."""
        panels = self.panels()
        if not panels:
            return
        current = self.selected
        index = 0 if current is None else panels.index(current)
        target = index + dx + dy * self.columns
        if 0 <= target < len(panels):
            self.set_focus(panels[target])

    def action_open(self) -> None:
        panel = self.selected
        if panel is None:
            return
        follower = TrackCapture(self.capture, panel.track_id)
        self._followers.append(follower)
        screen = PersonScreen(
            follower,
            self.store,
            self.config,
            self.clock,
            self.tick_s,
            series=copy.deepcopy(self.people.series(panel.track_id)),
        )
        self.app.push_screen(screen, lambda _: self._followers.remove(follower))

    def action_rename(self) -> None:
        panel = self.selected
        if panel is None:
            return
        if not can_rename(self.capture):
            self.notify("this capture cannot assign users to faces", severity="warning")
            return
        track_id = panel.track_id
        self.app.push_screen(
            RenameModal(self.name_of(track_id)), lambda name: self._rename(track_id, name)
        )

    def _rename(self, track_id: int, name: str | None) -> None:
        if name is not None:
            self.save_rename(track_id, name)

    @work(thread=True, group="rename")
    def save_rename(self, track_id: int, name: str) -> None:
        # The worker raises ValueError for a name it refuses.
        try:
            rename_track(self.capture, track_id, name)
        except database_errors(ValueError) as error:
            self.post_message(StoreFailed(f"{default_name(track_id)} not renamed", error))
            return
        self.post_message(self.Renamed(track_id, name))

    @on(Renamed)
    def renamed(self, event: Renamed) -> None:
        self._sync_names()
        self.notify(
            f"{default_name(event.track_id)} is now {event.user_name}",
            timeout=BRIEF_NOTICE_S,
            markup=False,
        )

    def action_toggle_pause(self) -> None:
        """As on the single-person screen: only the state line is redrawn for the key."""
        self.capture.toggle_pause()
        self._draw_status(self.capture.status())

    def action_marker(self) -> None:
        self.ask_for_marker()

    def action_new_session(self) -> None:
        self.start_new_session()

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.store, self.config, self.capture.user))
