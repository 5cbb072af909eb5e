"""Widgets shared by the screens."""

from __future__ import annotations

from burnout_tui.tui.widgets.action_cues_line import ActionCuesLine
from burnout_tui.tui.widgets.choice_row import ChoiceRow
from burnout_tui.tui.widgets.drowsiness_line import DrowsinessLine
from burnout_tui.tui.widgets.emotion_panel import EmotionPanel
from burnout_tui.tui.widgets.fixed_sparkline import FixedSparkline
from burnout_tui.tui.widgets.meter_row import MeterRow
from burnout_tui.tui.widgets.person_panel import PersonPanel

__all__ = [
    "ActionCuesLine",
    "ChoiceRow",
    "DrowsinessLine",
    "EmotionPanel",
    "FixedSparkline",
    "MeterRow",
    "PersonPanel",
]
