"""Pilot tests of the monitor screen, the marker dialog, pause, new session and quitting."""

from __future__ import annotations

import asyncio
import signal

import duckdb
import numpy as np
import pytest
from textual.widgets import Input, Static

from burnout_tui import EMOTIONS
from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.runtime.worker_status import WorkerState
from burnout_tui.scoring import RollingScore, summarise
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens.finalising_screen import FinalisingScreen
from burnout_tui.tui.screens.history_screen import HistoryScreen
from burnout_tui.tui.screens.marker_modal import MarkerModal
from burnout_tui.tui.screens.monitor_screen import CHART_TICKS, MonitorScreen
from burnout_tui.tui.state.live_series import HISTORY_FRAMES, LiveSeries
from burnout_tui.tui.widgets import FixedSparkline, MeterRow
from tests.tui.pilot import run_async, settle
from tests.tui.replay import ReplayCapture, frozen_clock

SIZE = (80, 24)
EXIT_WAIT_STEPS = 100
EXIT_WAIT_S = 0.05


def make_app(capture: ReplayCapture, con: duckdb.DuckDBPyConnection) -> MonitorApp:
    return MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)


def text_of(app: MonitorApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


@run_async
async def test_monitor_shows_state_scores_and_traces(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert capture.started
        assert isinstance(app.screen, MonitorScreen)
        state = text_of(app, "#state-line")
        assert "RUNNING" in state and "user tester" in state and "source replay" in state
        stats = text_of(app, "#stats-line")
        assert "face: found" in stats
        assert "29.7 frames/s" in stats and "dropped 2" in stats
        assert "session 0:01:23" in stats
        burnout = text_of(app, "#burnout-line")
        assert "rolling" in burnout and "session" in burnout
        assert "vs baseline" not in burnout, "no calibration, no z-score"
        panel = app.screen.query_one("#burnout-panel")
        forecast = results[-1].faces[0].forecast
        assert forecast is not None
        rolling = RollingScore(Config().scoring)
        for frame in results[-Config().scoring.window :]:
            rolling.push(frame.faces[0].frame_score)
        expected = rolling.percent_with_mean(forecast)
        assert expected > rolling.percent, "the replayed forecast runs ahead of a rising score"
        assert str(panel.border_subtitle) == f"forecast {expected:.0f} % (LSTM, 1 s ahead)"
        fatigue = text_of(app, "#fatigue-line")
        assert "blinks 20/min" in fatigue and "PERCLOS 7%" in fatigue and "yawns 1" in fatigue
        assert "away 0%" in fatigue and "calibrating" not in fatigue
        last = results[-1].primary
        assert last is not None
        happy = app.screen.query_one("#emotion-happy", MeterRow)
        assert str(happy.query_one(".meter-value", Static).content) == f"{last.probs[3]:.2f}"
        chart = happy.query_one(FixedSparkline)
        face_frames = [r for r in results if r.primary is not None]
        assert chart.data is not None and len(chart.data) == min(len(face_frames), HISTORY_FRAMES)
        assert (chart.minimum, chart.maximum) == (0.0, 1.0)


def test_session_score_matches_scoring_module(config: Config, results: list[FrameResult]) -> None:
    series = LiveSeries(config.scoring, config.levels, session_id=1)
    assert series.extend(results[:50])
    assert series.extend(results[50:])
    assert not series.extend([])
    scores = [r.primary.frame_score for r in results if r.primary is not None]
    expected = summarise(np.array(scores), len(results), config.scoring, config.levels)
    assert series.summary.final_percent == pytest.approx(expected.final_percent)
    assert series.summary.level == expected.level
    assert series.frames == len(results)
    series.reset(2)
    assert series.summary.final_percent is None and series.burnout_history() == []


@run_async
async def test_lost_face_is_reported(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    no_face = FrameResult(len(results), 99.0, (), True, {})
    capture = ReplayCapture(config, con, results=[*results, no_face])
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "face: lost" in text_of(app, "#stats-line")
        for name in EMOTIONS:
            row = app.screen.query_one(f"#emotion-{name}", MeterRow)
            assert str(row.query_one(".meter-value", Static).content) == "—"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (WorkerState.RECONNECTING, "camera 0 lost; reconnecting"),
        (WorkerState.FAILED, "no such file: models/mtcnn_pnet.onnx"),
    ],
)
@run_async
async def test_capture_trouble_is_on_screen(
    config: Config, con: duckdb.DuckDBPyConnection, state: WorkerState, message: str
) -> None:
    capture = ReplayCapture(config, con, state=state, message=message)
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        line = app.screen.query_one("#state-line", Static)
        assert state.value.upper() in str(line.content) and message in str(line.content)
        assert line.has_class("-alert")
        assert "face: waiting for frames" in text_of(app, "#stats-line")


@run_async
async def test_space_pauses_and_resumes(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert capture.paused
        assert "PAUSED" in text_of(app, "#state-line")
        await pilot.press("space")
        assert not capture.paused
        assert "RUNNING" in text_of(app, "#state-line")


@run_async
async def test_streaming_results_redraw_the_charts_every_third_tick(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    """While results stream the charts lag by at most CHART_TICKS - 1 ticks, the state and
    stats lines never, and nothing drained is lost from the charts."""
    capture = ReplayCapture(config, con, results=results[:10])
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        chart = screen.query_one("#emotion-happy", MeterRow).query_one(FixedSparkline)
        screen.refresh_live()
        shown = len(chart.data or [])
        drawn = []
        for frame in results[10 : 10 + 3 * CHART_TICKS]:
            capture.feed([frame])
            screen.refresh_live()
            drawn.append(len(chart.data or []))
        redraws = [
            now for before, now in zip([shown, *drawn], drawn, strict=False) if now != before
        ]
        assert 0 < len(redraws) <= len(drawn) // CHART_TICKS + 1
        for _ in range(CHART_TICKS):
            screen.refresh_live()
        face_frames = [r for r in results[: 10 + 3 * CHART_TICKS] if r.primary is not None]
        assert len(chart.data or []) == min(len(face_frames), HISTORY_FRAMES)


@run_async
async def test_marker_with_note_is_saved(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert isinstance(app.screen, MarkerModal)
        assert isinstance(app.focused, Input)
        await pilot.press(*"coffee", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
        assert capture.markers == ["coffee"]
        await pilot.press("m", "enter")
        await settle(pilot)
        assert capture.markers == ["coffee", ""]


@run_async
async def test_marker_escape_saves_nothing(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", *"oops", "escape")
        assert isinstance(app.screen, MonitorScreen)
        assert capture.markers == []


@run_async
async def test_new_session_is_requested(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert capture.new_sessions == 1


@run_async
async def test_quit_shows_finalising_and_stops_the_worker(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    capture.hold_stop()
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, FinalisingScreen)
        assert not capture.stopped.is_set()
        await pilot.press("q")
        capture.release_stop.set()
        for _ in range(EXIT_WAIT_STEPS):
            if app.return_code is not None:
                break
            await pilot.pause(EXIT_WAIT_S)
    assert capture.stopped.is_set()
    assert app.return_code == 0
    assert app.finalise_error is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_termination_signal_quits_like_q(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection, signum: signal.Signals
) -> None:
    """The real monitor's handler, in this process: the signal goes through `action_quit`."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}

    async def scenario() -> None:
        capture.hold_stop()
        app = MonitorApp(
            worker=capture, con=con, config=capture.config, clock=frozen_clock,
            quit_on_signals=True,
        )  # fmt: skip
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            signal.raise_signal(signum)
            await pilot.pause()
            assert isinstance(app.screen, FinalisingScreen)
            capture.release_stop.set()
            for _ in range(EXIT_WAIT_STEPS):
                if app.return_code is not None:
                    break
                await pilot.pause(EXIT_WAIT_S)
        assert capture.stopped.is_set()
        assert app.return_code == 0
        assert app.termination is not None and app.termination.signum == signum

    try:
        asyncio.run(scenario())
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@run_async
async def test_palette_lists_monitor_commands(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Pause / resume", "Add marker", "Survey", "New session", "History"} <= titles


@run_async
async def test_user_text_is_never_read_as_markup(
    config: Config, con: duckdb.DuckDBPyConnection
) -> None:
    capture = ReplayCapture(config, con, user="[b]ana[/b]")
    app = make_app(capture, con)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", *"[red]x", "enter")
        await settle(pilot)
        assert "user [b]ana[/b]" in text_of(app, "#state-line")
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        title = str(app.screen.query_one("#sessions").border_title)
        assert "\\[b]ana\\[/b]" in title, "the title's markup escapes the name"
    assert capture.markers == ["[red]x"]
