"""Past sessions of the monitored person, newest first, and the course of the selected one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from burnout_tui.config import Config
from burnout_tui.scoring import Level, score_bounds
from burnout_tui.tui.formatting import (
    NO_VALUE,
    format_clock,
    format_percent,
    level_content,
)
from burnout_tui.tui.screens.error_modal import StoreFailed, database_errors
from burnout_tui.tui.state.history_queries import (
    SessionDetail,
    SessionRow,
    list_sessions,
    local_time,
    session_detail,
)
from burnout_tui.tui.state.store_access import StoreAccess
from burnout_tui.tui.widgets import MeterRow

STARTED_FORMAT = "%Y-%m-%d %H:%M"
MARKERS_SHOWN = 3
"""Markers listed under the chart; the rest are counted, the detail stays a few lines."""

COLUMNS = ("id", "started", "length", "faces", "proxy", "level", "source")

LEVEL_COLORS: dict[Level, str] = {"low": "green", "moderate": "yellow", "high": "bold red"}
"""DataTable cells are Rich Text, which cannot use the theme's variables."""


INTERRUPTED_NOTE = (
    "interrupted: burnout-tui ended without closing this session (killed, crashed or out "
    "of power); the frames saved until then are kept"
)
"""The detail pane's explanation of an `interrupted` session (see store/recovery.py)."""


def session_length(row: SessionRow) -> Text:
    """A finished session shows its wall-clock length; an interrupted one its length up to
    the last saved frame, and says so; others (running, failed) show their status."""
    if row.status == "complete":
        return Text(format_clock(row.duration_s))
    if row.status == "interrupted":
        return Text.assemble(format_clock(row.duration_s), (" interrupted", "bold yellow"))
    return Text(row.status)


def session_cells(row: SessionRow) -> tuple[Text, ...]:
    """Cells as Text, never markup: a source named "clip[1].mp4" must show as it is."""
    return (
        Text(str(row.session_id)),
        Text(local_time(row.started_at).strftime(STARTED_FORMAT)),
        session_length(row),
        Text(str(row.valid_frames)),
        Text(format_percent(row.percent)),
        Text(NO_VALUE) if row.level is None else Text(row.level, style=LEVEL_COLORS[row.level]),
        Text(row.source),
    )


def format_score(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:+.2f}"


class HistoryScreen(Screen[None]):
    """Read-only: nothing here writes, so it is safe to open while a session records.

    The list and each session's detail are read by thread workers, each through the
    store (the capture process, which owns the database) on a cursor of its own, and
    arrive as messages, so a long history never stalls the live capture's redraws;
    a failed read is shown as a dialog (`error_modal`) and leaves the screen usable."""

    class SessionsLoaded(Message):
        def __init__(self, rows: list[SessionRow]) -> None:
            super().__init__()
            self.rows = rows

    class DetailLoaded(Message):
        def __init__(self, detail: SessionDetail) -> None:
            super().__init__()
            self.detail = detail

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("h", "close", "Back", show=False),
        Binding("q", "close", "Back", show=False),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, store: StoreAccess, config: Config, user: str) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.user = user
        self.sessions: dict[int, SessionRow] = {}
        self.wanted: int | None = None
        """The session whose detail was asked for last; older answers are dropped."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="history"):
            table: DataTable[Text] = DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
            table.border_title = Content(f"sessions of {self.user}, newest first")
            yield table
            lo, hi = score_bounds(self.config.scoring)
            with Vertical(id="session-detail") as detail:
                detail.border_title = "session"
                detail.border_subtitle = f"frame and rolling score, {lo:+g} to {hi:+g}"
                yield Static(id="detail-summary")
                yield MeterRow(
                    "rolling",
                    minimum=lo,
                    maximum=hi,
                    value_format=format_score,
                    id="detail-rolling",
                )
                yield MeterRow(
                    "frame", minimum=lo, maximum=hi, value_format=format_score, id="detail-frame"
                )
                yield Static(id="detail-surveys")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.add_columns(*COLUMNS)
        self.action_reload()
        table.focus()

    def action_reload(self) -> None:
        self.load_sessions()

    @work(thread=True, exclusive=True, group="history-list")
    def load_sessions(self) -> None:
        try:
            rows = self.store.run(list_sessions, self.user, self.config)
        except database_errors() as error:
            self.post_message(StoreFailed("history not loaded", error))
            return
        self.post_message(self.SessionsLoaded(rows))

    @on(SessionsLoaded)
    def show_sessions(self, event: SessionsLoaded) -> None:
        table: DataTable[Text] = self.query_one("#sessions", DataTable)
        table.clear()
        self.sessions = {row.session_id: row for row in event.rows}
        self.wanted = None
        for row in event.rows:
            table.add_row(*session_cells(row), key=str(row.session_id))
        if event.rows:
            self.show_session(event.rows[0].session_id)
        else:
            self.query_one("#detail-summary", Static).update("no sessions yet for this user")

    @on(DataTable.RowHighlighted, "#sessions")
    @on(DataTable.RowSelected, "#sessions")
    def row_chosen(self, event: DataTable.RowHighlighted | DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.show_session(int(event.row_key.value))

    def show_session(self, session_id: int) -> None:
        """Ask for a session's detail; `show_detail` fills the pane when it arrives."""
        if session_id == self.wanted:
            return
        self.wanted = session_id
        self.load_detail(session_id)

    @work(thread=True, exclusive=True, group="history-detail")
    def load_detail(self, session_id: int) -> None:
        try:
            detail = self.store.run(session_detail, session_id)
        except database_errors() as error:
            self.post_message(StoreFailed(f"session {session_id} not loaded", error))
            return
        self.post_message(self.DetailLoaded(detail))

    @on(StoreFailed)
    def forget_failed_detail(self) -> None:
        """Let the same row be asked for again after a failed read."""
        self.wanted = None

    @on(DetailLoaded)
    def show_detail(self, event: DetailLoaded) -> None:
        """Fill the detail pane: summary, the score over time, markers and surveys."""
        session_id = event.detail.session_id
        if session_id != self.wanted or session_id not in self.sessions:
            return
        row = self.sessions[session_id]
        trace, markers, surveys = event.detail.trace, event.detail.markers, event.detail.surveys
        self.query_one("#session-detail").border_title = Content(
            f"session {session_id} · {row.source}"
        )
        summary = Content.assemble(
            f"{row.valid_frames} face frames over {format_clock(trace.duration_s)} · proxy ",
            format_percent(row.percent),
            " ",
            level_content(row.level),
            f" · {len(markers)} marker{'s' if len(markers) != 1 else ''}",
            *(f"  [{format_clock(m.ts)}] {m.note or '(no note)'}" for m in markers[:MARKERS_SHOWN]),
            *((f"\n{INTERRUPTED_NOTE}",) if row.status == "interrupted" else ()),
        )
        self.query_one("#detail-summary", Static).update(summary)
        self.query_one("#detail-rolling", MeterRow).show(trace.rolling_scores, trace.rolling_mean)
        self.query_one("#detail-frame", MeterRow).show(trace.frame_scores, trace.frame_mean)
        if surveys:
            lines = [
                f"{local_time(s.taken_at).strftime(STARTED_FORMAT)}  {s.instrument}"
                f"  total {NO_VALUE if s.total is None else f'{s.total:g}'}"
                f"  burnout {NO_VALUE if s.burnout_01 is None else f'{s.burnout_01:.2f}'}"
                for s in surveys
            ]
            text = (
                "surveys: " + " · ".join(lines)
                if len(lines) == 1
                else "surveys:\n" + "\n".join(lines)
            )
        else:
            text = "surveys: none in this session"
        self.query_one("#detail-surveys", Static).update(Content(text))

    def action_close(self) -> None:
        self.dismiss()
