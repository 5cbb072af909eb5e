"""The monitor's heart-rate lines: the per-second series, its wording, and the screen.

Synthetic `HeartEstimate`s stand in for the pulse stage here (the stage itself is tested
on a pulsing photo in tests/unit/test_heart.py, and live on a UBFC clip in
tests/integration/test_heart_monitor.py).
"""

from __future__ import annotations

import math
from dataclasses import replace

import duckdb
from textual.widgets import Label, Static

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.signals.heart import HeartEstimate, PulseFrame
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.screens.monitor_screen import MonitorScreen
from burnout_tui.tui.state.heart_series import STALE_S, HeartSeries
from burnout_tui.tui.widgets import FixedSparkline, MeterRow
from burnout_tui.tui.widgets.heart_rate import (
    NO_SIGNAL,
    HeartRatePanel,
    finite_mean,
    format_bpm,
    heart_detail,
    quality_word,
)
from tests.tui.pilot import run_async
from tests.tui.replay import ReplayCapture, frozen_clock
from tests.tui.test_widgets import render_text

FPS = 30
WITHHELD_SECOND = 3
GOOD_SNR = 2.3
WEAK_SNR = -5.0


def estimate(ts: float, bpm: float | None, hrv: bool = False) -> HeartEstimate:
    return HeartEstimate(
        ts=ts,
        bpm=bpm,
        snr_db=GOOD_SNR if bpm is not None else WEAK_SNR,
        coverage=0.95,
        method="pos",
        rmssd_ms=41.0 if hrv and bpm is not None else None,
        sdnn_ms=55.0 if hrv and bpm is not None else None,
    )


def replay_bpm(second: int) -> float | None:
    return None if second == WITHHELD_SECOND else 70.0 + 3 * second


def with_pulse(results: list[FrameResult], hrv: bool) -> list[FrameResult]:
    """The replay with an estimate on each face frame that starts a second; the face is
    lost in the replay's fourth second, whose estimate is withheld."""
    out = []
    for result in results:
        if result.faces and result.index % FPS == 0:
            second = result.index // FPS
            pulse = PulseFrame(0.1, estimate(result.ts, replay_bpm(second), hrv))
            result = replace(result, faces=(replace(result.faces[0], pulse=pulse),))
        out.append(result)
    return out


def test_series_has_one_value_a_second_with_gaps() -> None:
    series = HeartSeries()
    assert series.current is None and series.history() == []
    series.add(1.0, PulseFrame(0.1, estimate(1.0, 70.0)))
    series.add(1.5, PulseFrame(0.2))
    series.add(2.0, PulseFrame(0.1, estimate(2.0, None)))
    series.add(3.0, None)  # face lost: no estimate for seconds 3 and 4
    series.add(5.0, PulseFrame(0.1, estimate(5.0, 75.0)))
    history = series.history()
    assert history[0] == 70.0 and history[-1] == 75.0
    assert len(history) == 5 and all(math.isnan(value) for value in history[1:4])
    assert series.current is not None and series.current.bpm == 75.0
    version = series.version
    series.add(5.0 + STALE_S + 0.1, None)
    assert series.current is None, "an old rate is not the current one"
    assert series.version > version, "going stale is a change to draw"
    series.add(0.5, PulseFrame(0.1, estimate(0.5, 60.0)))
    assert series.history() == [60.0], "a restarted clock starts the chart afresh"


def test_series_keeps_its_window() -> None:
    series = HeartSeries(history_s=3)
    for second in range(6):
        series.add(float(second), PulseFrame(0.0, estimate(float(second), 60.0 + second)))
    assert series.history() == [63.0, 64.0, 65.0]
    series.add(100.0, PulseFrame(0.0, estimate(100.0, 80.0)))
    history = series.history()
    assert len(history) == 3 and history[-1] == 80.0 and math.isnan(history[0])


def test_wording_of_rate_quality_and_experimental_hrv() -> None:
    assert format_bpm(None) == "—" and format_bpm(estimate(1.0, None)) == "—"
    assert format_bpm(estimate(1.0, 71.6)) == "72 bpm"
    assert quality_word(estimate(1.0, 71.6)) == "good"
    assert quality_word(estimate(1.0, None)) == "weak"
    no_spectrum = replace(estimate(1.0, None), snr_db=None, coverage=0.0)
    assert quality_word(no_spectrum) == NO_SIGNAL == quality_word(None)
    assert heart_detail(estimate(1.0, 70.0)) == "quality good, SNR +2.3 dB"
    withheld = heart_detail(estimate(1.0, None))
    assert withheld == "quality weak, SNR -5.0 dB, 95% covered: rate withheld"
    with_hrv = heart_detail(estimate(1.0, 70.0, hrv=True))
    assert with_hrv.endswith("HRV experimental: RMSSD 41 SDNN 55 ms")
    assert "SNR —" in heart_detail(replace(estimate(1.0, 70.0), snr_db=math.inf))
    assert NO_SIGNAL in heart_detail(no_spectrum) and NO_SIGNAL in heart_detail(None)


def test_withheld_seconds_are_gaps_in_the_chart() -> None:
    assert render_text([1.0, math.nan, 1.0], 3) == "█ █"
    assert math.isnan(finite_mean([math.nan, math.nan]))
    assert finite_mean([60.0, math.nan, 80.0]) == 70.0, "a column averages its reported seconds"


def panel_text(app: MonitorApp) -> tuple[str, str, FixedSparkline]:
    panel = app.screen.query_one(HeartRatePanel)
    return (
        str(panel.query_one(".heart-bpm", Label).content),
        str(panel.query_one(".heart-detail", Static).content),
        panel.query_one(FixedSparkline),
    )


@run_async
async def test_monitor_shows_rate_quality_gaps_and_hrv_at_80x24(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    capture = ReplayCapture(config, con, results=with_pulse(results, hrv=True))
    app = MonitorApp(worker=capture, con=con, config=config, clock=frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)
        bpm, detail, chart = panel_text(app)
        last = replay_bpm((results[-1].index) // FPS)
        assert bpm == f"{last:.0f} bpm"
        assert detail == "quality good, SNR +2.3 dB · HRV experimental: RMSSD 41 SDNN 55 ms"
        assert chart.data is not None and math.isnan(chart.data[WITHHELD_SECOND])
        assert chart.data[0] == replay_bpm(0) and chart.data[-1] == last
        # Everything fits 80x24: the panel's two lines, and all seven emotion rows.
        panel = app.screen.query_one(HeartRatePanel)
        assert panel.region.height == HeartRatePanel.LINES
        rows = list(app.screen.query(MeterRow))
        assert len(rows) == 7 and all(row.region.height >= 1 for row in rows)
        assert max(row.region.bottom for row in rows) <= 23, "above the footer"
        assert panel.region.bottom <= min(row.region.y for row in rows)


@run_async
async def test_monitor_without_pulse_shows_no_rate(
    capture: ReplayCapture, con: duckdb.DuckDBPyConnection
) -> None:
    app = MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bpm, detail, chart = panel_text(app)
        assert bpm == "—" and NO_SIGNAL in detail and "experimental" not in detail
        assert not chart.data


@run_async
async def test_the_panel_redraws_only_on_a_change(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    capture = ReplayCapture(config, con, results=with_pulse(results, hrv=False))
    app = MonitorApp(worker=capture, con=con, config=config, clock=frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        panel = screen.query_one(HeartRatePanel)
        _, detail, chart = panel_text(app)
        assert "experimental" not in detail, "no HRV, no HRV label"
        drawn = chart.data
        panel.show(screen.series.heart)
        assert chart.data is drawn, "the same state is not drawn again"
        screen.series.heart.add(results[-1].ts + 1.0, PulseFrame(0.0, estimate(99.0, 99.0)))
        panel.show(screen.series.heart)
        assert chart.data is not drawn and panel_text(app)[0] == "99 bpm"
