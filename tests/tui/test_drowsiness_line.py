"""The monitor's drowsiness line: hidden until there is a level, and when it appears the
layout makes room for it: at 80x24, and at 80x26, where the emotion rows (two lines each)
would otherwise leave the burnout chart no line."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from burnout_tui.config import Config
from burnout_tui.runtime.results import FrameResult
from burnout_tui.signals.drowsiness import DrowsinessLevel
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.widgets import DrowsinessLine, EmotionPanel, FixedSparkline, MeterRow
from tests.tui.pilot import run_async
from tests.tui.replay import ReplayCapture, frozen_clock

SIZES = ((80, 24), (80, 26))


def with_level(results: list[FrameResult], level: DrowsinessLevel) -> list[FrameResult]:
    """Every face from the second half of the replay on has a drowsiness level."""
    half = len(results) // 2
    return [
        replace(frame, faces=tuple(replace(face, drowsiness=level) for face in frame.faces))
        if position >= half
        else frame
        for position, frame in enumerate(results)
    ]


@pytest.mark.parametrize("size", SIZES)
@run_async
async def test_the_line_appears_with_a_level_and_everything_still_fits(
    config: Config,
    con: duckdb.DuckDBPyConnection,
    results: list[FrameResult],
    size: tuple[int, int],
) -> None:
    level = DrowsinessLevel(0.1, 0.2, 0.7)
    capture = ReplayCapture(config, con, results=with_level(results, level))
    app = MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        line = app.screen.query_one(DrowsinessLine)
        assert line.display and "drowsy 70 %" in str(line.content).replace("70%", "70 %")
        assert line.region.height == 1
        chart = app.screen.query_one("#burnout-chart", FixedSparkline)
        panel = app.screen.query_one("#burnout-panel")
        assert chart.region.height >= 1, "the burnout chart keeps its line"
        assert chart.region.bottom <= panel.region.bottom - 1, "inside the panel's border"
        rows = list(app.screen.query_one(EmotionPanel).query(MeterRow))
        assert len(rows) == 7 and all(row.region.height >= 1 for row in rows)
        assert max(row.region.bottom for row in rows) <= size[1] - 1, "above the footer"
