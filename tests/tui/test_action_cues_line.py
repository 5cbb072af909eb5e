"""The monitor's action-cue line: its text, and when it is shown."""

from __future__ import annotations

from dataclasses import replace

import duckdb

from burnout_tui.config import Config
from burnout_tui.measures import BLENDSHAPE_NAMES, NUM_BLENDSHAPES
from burnout_tui.runtime.results import FrameResult
from burnout_tui.scoring.action_cues import ACTION_CUES
from burnout_tui.tui.app import MonitorApp
from burnout_tui.tui.widgets import ActionCuesLine
from burnout_tui.tui.widgets.action_cues_line import format_action_cues
from tests.tui.pilot import run_async
from tests.tui.replay import ReplayCapture, frozen_clock

SMALL = (80, 24)
TALL = (100, 40)


def test_text_lists_every_cue_in_order() -> None:
    values = [0.0] * NUM_BLENDSHAPES
    values[BLENDSHAPE_NAMES.index("jawOpen")] = 0.62
    values[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.2
    values[BLENDSHAPE_NAMES.index("eyeBlinkRight")] = 0.1
    text = format_action_cues(values)
    assert text.startswith("cues: ")
    positions = [text.index(cue.label) for cue in ACTION_CUES]
    assert positions == sorted(positions)
    assert "jaw .62" in text and "blink .15" in text and "brow .00" in text
    assert len(text) <= 78, "one line inside the 80-column monitor's panel"
    assert format_action_cues(None) == "cues: — (no face mesh)"


@run_async
async def test_shown_only_where_the_emotions_keep_two_lines(
    config: Config, con: duckdb.DuckDBPyConnection, results: list[FrameResult]
) -> None:
    values = tuple(0.5 for _ in range(NUM_BLENDSHAPES))
    with_cues = [
        replace(frame, faces=tuple(replace(face, blendshapes=values) for face in frame.faces))
        for frame in results
    ]
    capture = ReplayCapture(config, con, results=with_cues)
    app = MonitorApp(worker=capture, con=con, config=capture.config, clock=frozen_clock)
    async with app.run_test(size=TALL) as pilot:
        await pilot.pause(0.3)
        line = app.screen.query_one(ActionCuesLine)
        assert line.display
        assert "jaw .50" in str(line.content)
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.3)
        assert not app.screen.query_one(ActionCuesLine).display
