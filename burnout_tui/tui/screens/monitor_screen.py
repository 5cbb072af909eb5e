"""The live view: one fixed-scale trace per emotion, the burnout proxy, and the capture state.

The screen polls the worker on a timer instead of being sent a message per frame: the
capture thread only appends to a ring buffer, so however fast frames arrive the UI does a
bounded amount of work per tick and keys stay responsive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Footer, Header, Static

from burnout_tui import EMOTIONS
from burnout_tui.config import PERCENT_MAX, Config
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.scoring import level
from burnout_tui.surveys import InstrumentError, available_instruments
from burnout_tui.tui.formatting import (
    face_text,
    format_fatigue,
    format_forecast,
    format_normalized,
    format_percent,
    level_content,
)
from burnout_tui.tui.screens.history_screen import HistoryScreen
from burnout_tui.tui.screens.session_actions import SessionScreen
from burnout_tui.tui.screens.survey_screen import InstrumentPicker
from burnout_tui.tui.state.capture_protocol import Capture, forecaster_label
from burnout_tui.tui.state.live_series import LiveSeries
from burnout_tui.tui.state.store_access import StoreAccess
from burnout_tui.tui.widgets import ActionCuesLine, DrowsinessLine, EmotionPanel, FixedSparkline
from burnout_tui.tui.widgets.heart_rate import HeartRatePanel

FIXED_LINES = 10 + HeartRatePanel.LINES
"""Lines of the monitor that are not emotion rows when the burnout chart is at its minimum:
header, state, stats, the burnout panel (borders, its two lines, one chart line), the
heart-rate lines, the emotions title and the footer. At 80x24 that leaves one line for
each emotion (the burnout chart takes the rest); traces grow on taller terminals. The
optional lines (drowsiness, action cues) come on top of these when shown."""

MIN_EMOTION_LINES = 2
"""Lines per emotion row the monitor keeps before it adds optional lines."""

TICK_S = 1 / 15
"""How often the ring buffer is drained: smooth to the eye, a few ms of work per second."""

CHART_TICKS = 3
"""While results keep coming, the charts are redrawn at most every third tick (5 times a
second) and the state and stats lines every tick: a chart redraw is most of a tick's
rendering, and a key press that lands during one waits for it (docs/performance.md)."""


class MonitorScreen(SessionScreen):
    """Monitors one person live; every other screen is opened from here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("m", "marker", "Marker"),
        Binding("s", "survey", "Survey"),
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
        series: LiveSeries | None = None,
    ) -> None:
        """`series` carries on from what was already seen (the person view opened from the
        grid); without it the screen starts from the worker's next frames."""
        super().__init__()
        self.capture = capture
        self.store = store
        self.config = config
        self.clock = clock
        self.tick_s = tick_s
        self.series = series if series is not None else LiveSeries(config.scoring, config.levels)
        self._last_state: WorkerState | None = None
        self._last_state_line: Content | None = None
        self._last_stats = ""
        self._charts_stale = False
        self._ticks_since_charts = CHART_TICKS

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="monitor"):
            yield Static(id="state-line")
            yield Static(id="stats-line")
            with Vertical(id="burnout-panel") as panel:
                panel.border_title = "burnout / stress proxy (0-100 %)"
                yield Static(id="burnout-line")
                yield Static(id="fatigue-line")
                yield DrowsinessLine(id="drowsiness-line")
                yield ActionCuesLine(id="action-cues-line")
                yield FixedSparkline([], minimum=0.0, maximum=PERCENT_MAX, id="burnout-chart")
            yield HeartRatePanel(id="heart-rate")
            emotions = EmotionPanel(id="emotions")
            emotions.border_title = "emotions (probability, 0-1)"
            yield emotions
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        """Share `height` between the emotion rows and the optional lines: the drowsiness
        line once there is a level, the action-cue line only where it leaves every emotion
        two lines (not at 80x24, which keeps its layout)."""
        drowsiness = self.query_one(DrowsinessLine)
        lines = height - FIXED_LINES - (DrowsinessLine.LINES if drowsiness.display else 0)
        cues = self.query_one(ActionCuesLine)
        cues.display = lines - ActionCuesLine.LINES >= MIN_EMOTION_LINES * len(EMOTIONS)
        self.query_one(EmotionPanel).fit_rows(lines - (ActionCuesLine.LINES if cues.display else 0))

    def on_mount(self) -> None:
        if self.series.frames:
            self._draw_series()
        self.refresh_live()
        self.set_interval(self.tick_s, self.refresh_live, name="drain")

    def refresh_live(self) -> None:
        """One tick: drain the ring buffer, then redraw only what new results changed."""
        results = self.capture.drain()
        status = self.capture.status()
        new_session = status.session_id != self.series.session_id
        if new_session:
            self.series.reset(status.session_id)
        if self.series.extend(results) or new_session:
            self._charts_stale = True
        self._ticks_since_charts += 1
        if self._charts_stale and (new_session or self._ticks_since_charts >= CHART_TICKS):
            self._draw_series()
        self._draw_status(status)

    def _draw_series(self) -> None:
        self._charts_stale = False
        self._ticks_since_charts = 0
        series = self.series
        face = series.current_face
        self.query_one(EmotionPanel).show(
            {name: series.emotion_history(name) for name in EMOTIONS},
            None if face is None else dict(zip(EMOTIONS, face.probs.tolist(), strict=True)),
        )
        self.query_one("#burnout-chart", FixedSparkline).data = series.burnout_history()
        self.query_one(HeartRatePanel).show(series.heart)
        rolling = series.rolling_percent
        summary = series.summary
        line = Content.assemble(
            "rolling ",
            format_percent(rolling),
            " ",
            level_content(None if rolling is None else level(rolling, self.config.levels)),
            "   session ",
            format_percent(summary.final_percent),
            " ",
            level_content(summary.level),
            "   ",
            format_normalized(None if face is None else face.normalized_score),
        )
        self.query_one("#burnout-line", Static).update(line, layout=False)
        fatigue = series.fatigue
        self.query_one("#fatigue-line", Static).update(
            format_fatigue(
                None if face is None else face.fatigue, fatigue.yawns, fatigue.looking_away_share
            ),
            layout=False,
        )
        drowsiness = self.query_one(DrowsinessLine)
        shown = drowsiness.display
        drowsiness.show(None if face is None else face.drowsiness)
        if drowsiness.display != shown:
            self._fit(self.size.height)
        self.query_one(ActionCuesLine).show(None if face is None else face.blendshapes)
        self.query_one("#burnout-panel").border_subtitle = format_forecast(
            series.forecast_percent(None if face is None else face.forecast),
            forecaster_label(self.capture),
        )

    def faces_text(self) -> str:
        return face_text(self.series.faces_now, self.series.face_frames)

    def action_toggle_pause(self) -> None:
        """Only the state line is redrawn for the key: the charts wait for the next tick, and
        no toast is shown (the state line already says PAUSED or RUNNING), so the frame the
        key causes is one line of output rather than a full redraw with a layout pass
        (docs/performance.md, "Key presses")."""
        self.capture.toggle_pause()
        self._draw_status(self.capture.status())

    def action_marker(self) -> None:
        self.ask_for_marker()

    def action_new_session(self) -> None:
        self.start_new_session()

    def action_survey(self) -> None:
        """A broken instrument file (the user may add their own) is reported, not fatal."""

        def skipped(message: str) -> None:
            self.notify(message, title="instrument skipped", severity="warning", markup=False)

        try:
            instruments = available_instruments(skipped)
        except InstrumentError as error:
            self.notify(str(error), title="surveys unavailable", severity="error", markup=False)
            return
        self.app.push_screen(InstrumentPicker(instruments, self.capture, self.store))

    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.store, self.config, self.capture.user))
