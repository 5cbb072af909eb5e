"""The fixed-scale sparkline, the choice row's digit entry, and the --serve hand-over."""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
from rich.color import Color
from rich.console import Console

from burnout_tui.config import Config, LevelsConfig, config_from_table
from burnout_tui.errors import UserError
from burnout_tui.tui.formatting import (
    face_text,
    format_clock,
    format_fatigue,
    format_forecast,
    format_normalized,
)
from burnout_tui.tui.serve import SERVE_ENV, child_command, child_payload
from burnout_tui.tui.serve_child import run_child
from burnout_tui.tui.state.monitor_request import MonitorRequest
from burnout_tui.tui.widgets.choice_row import ChoiceRow
from burnout_tui.tui.widgets.fixed_sparkline import PinnedSparklineRenderable, chart_columns
from tests.tui.replay import replay_fatigue

WHITE = Color.from_rgb(255, 255, 255)


def render_text(data: list[float], width: int, height: int = 1, top: float = 1.0) -> str:
    chart = PinnedSparklineRenderable(
        data,
        minimum=0.0,
        maximum=top,
        width=width,
        height=height,
        min_color=WHITE,
        max_color=WHITE,
        summary_function=max,
    )
    console = Console(width=width, record=True, color_system=None)
    console.print(chart)
    return console.export_text().rstrip("\n")


def test_sparkline_scale_is_pinned_not_stretched_to_the_data() -> None:
    assert render_text([0.1, 0.1, 0.12], 3) == "▁▁▁", "low values stay low"
    assert render_text([0.0, 1.0], 2) == "▁█"
    assert render_text([50.0], 1, top=100.0) == "▄"
    assert render_text([2.0, -1.0], 2) == "█▁", "out-of-range values are clipped"


def test_sparkline_fills_from_the_right_and_summarises_long_data() -> None:
    assert render_text([1.0, 1.0], 4) == "  ██"
    assert render_text([], 3).strip() == ""
    assert chart_columns([0.0, 1.0, 0.0, 1.0], 2, max) == [1.0, 1.0]
    assert render_text([0.0, 1.0], 2, height=2) == " █\n▁█"


@pytest.mark.parametrize(
    ("scale", "digits", "value"),
    [
        ((1, 10), [1, 0], 10),
        ((1, 10), [7, 3], 3),
        ((0, 4), [2, 3], 3),
        ((0, 54), [5, 4, 6], 6),
        ((10, 50), [2, 5], 25),
        ((1, 5), [0], None),
    ],
)
def test_digits_build_numbers_within_the_scale(
    scale: tuple[int, int], digits: list[int], value: int | None
) -> None:
    row = ChoiceRow("q", 1, "question", scale[0], scale[1], {})
    for digit in digits:
        row.type_digit(digit)
    assert row.value == value


def test_serve_child_gets_the_parents_config_and_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(levels=LevelsConfig(moderate=30.0, high=70.0))
    request = MonitorRequest(config, "demo", "alice", tmp_path / "s.duckdb", fast=True)
    payload = json.loads(child_payload(request))
    assert config_from_table(payload["config"], "test") == config
    assert payload["db"] == str((tmp_path / "s.duckdb").resolve())
    assert (payload["source"], payload["user"], payload["fast"]) == ("demo", "alice", True)
    assert shlex.split(child_command())[-2:] == ["-m", "burnout_tui.tui"]
    monkeypatch.delenv(SERVE_ENV, raising=False)
    with pytest.raises(UserError, match=SERVE_ENV):
        run_child()


def test_clock_and_face_wording() -> None:
    assert format_clock(3 * 3600 + 62.9) == "3:01:02"
    assert format_clock(None) == "—"
    assert face_text(None, 0) == "face: waiting for frames"
    assert face_text(0, 0) == "face: not found yet"
    assert face_text(0, 5) == "face: lost"
    assert face_text(1, 5) == "face: found"
    assert face_text(2, 5) == "faces: 2 (following the largest)"


def test_fatigue_line_reads_the_cues_and_says_what_is_missing() -> None:
    assert format_fatigue(None, 0, None) == "fatigue: — (no face mesh)"
    early = replay_fatigue(5, 0.0)
    assert math.isnan(early.blink_rate) and not early.calibrated
    line = format_fatigue(early, 0, 0.25)
    assert line.startswith("blinks —/min · PERCLOS 3% · yawns 0 · away 25%")
    assert line.endswith("head -3°/+2° · calibrating")


def test_forecast_and_baseline_labels() -> None:
    assert format_forecast(None) == "forecast —"
    assert format_forecast(61.4, "LSTM, 1 s ahead, experimental") == (
        "forecast 61 % (LSTM, 1 s ahead, experimental)"
    )
    assert format_normalized(None) == ""
    assert format_normalized(-1.26) == "z -1.3 vs baseline"


def test_monitor_request_round_trips_for_the_served_child(tmp_path: Path) -> None:
    """Every field reaches the child, paths absolute, as the terminal app (not a second
    server); a field added to MonitorRequest travels without another signature."""
    config = Config(levels=LevelsConfig(moderate=30.0, high=70.0))
    request = MonitorRequest(
        config,
        "demo",
        "alice",
        Path("s.duckdb"),
        fast=True,
        multi_user=True,
        record=tmp_path / "out.mp4",
        serve=True,
        host="127.0.0.1",
        port=0,
    )
    child = MonitorRequest.from_json(child_payload(request), "test")
    assert child == request.for_child()
    assert child.db == Path("s.duckdb").resolve() and child.record == tmp_path / "out.mp4"
    assert (child.serve, child.host, child.port) == (False, None, None)
    assert (child.config, child.source, child.user, child.fast, child.multi_user) == (
        config,
        "demo",
        "alice",
        True,
        True,
    )


def test_monitor_request_carries_no_token() -> None:
    """The serve token stays in the server: no field can hold it."""
    names = {item.name for item in fields(MonitorRequest)}
    assert not any("token" in name for name in names)
    payload = json.loads(child_payload(MonitorRequest(Config(), "demo", "ana", Path("x"))))
    assert set(payload) == names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "JSON object"),
        ("{", "not JSON"),
        ('{"token": "x"}', "unknown fields token"),
        ('{"source": 3}', "source has the wrong type"),
        ('{"source": "demo", "user": "ana", "db": "x"}', "config"),
    ],
)
def test_unreadable_monitor_request_is_one_line(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        MonitorRequest.from_json(text, "$BURNOUT_TUI_SERVE")


def test_drowsiness_line_appears_with_the_first_level() -> None:
    from textual.app import App, ComposeResult

    from burnout_tui.signals.drowsiness import DrowsinessLevel
    from burnout_tui.tui.widgets.drowsiness_line import DrowsinessLine, drowsiness_content
    from tests.tui.pilot import run_async

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield DrowsinessLine(id="drowsiness")

    @run_async
    async def scenario() -> None:
        async with Host().run_test() as pilot:
            line = pilot.app.query_one(DrowsinessLine)
            assert not line.display
            line.show(None)
            assert not line.display
            level = DrowsinessLevel(0.1, 0.2, 0.7)
            line.show(level)
            await pilot.pause()
            assert line.display and line.level == level
            line.show(None)
            assert line.level == level, "a lost face keeps the last level"

    scenario()
    text = drowsiness_content(DrowsinessLevel(0.1, 0.2, 0.7)).plain
    assert text.startswith("drowsiness (last 30 blinks): drowsy 70%")
    assert "alert 10% · low vigilant 20% · drowsy 70%" in text
