"""Numbers and states as the screens print them, kept apart so they read the same everywhere.

Everything returns plain strings or `Content`; user-supplied text (names, sources, notes)
is never parsed as markup, so a user called "[b]x" cannot restyle the screen.
"""

from __future__ import annotations

import math

from textual.content import Content

from burnout_tui.scoring import Level
from burnout_tui.scoring.fatigue import FatigueFrame

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600

NO_VALUE = "—"

BRIEF_NOTICE_S = 3.0
"""Confirmations (paused, marker saved, survey cancelled) need a glance, not Textual's
default five seconds over the charts."""

LEVEL_STYLES: dict[Level, str] = {
    "low": "$text-success",
    "moderate": "$text-warning",
    "high": "bold $text-error",
}


def format_clock(seconds: float | None) -> str:
    """H:MM:SS, so an hours-long session keeps a fixed width."""
    if seconds is None:
        return NO_VALUE
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_percent(percent: float | None) -> str:
    return NO_VALUE if percent is None else f"{percent:3.0f} %"


def format_probability(probability: float | None) -> str:
    return NO_VALUE if probability is None else f"{probability:.2f}"


def format_forecast(percent: float | None, label: str | None = None) -> str:
    """The forecast rolling proxy, when there is one, and which model made it (its
    horizon, and "experimental" when it does not beat repeating the current score)."""
    value = format_percent(percent).strip()
    return f"forecast {value}" if label is None else f"forecast {value} ({label})"


def format_normalized(normalized: float | None) -> str:
    """The rolling score as a z-score against the person's calibration baseline."""
    return "" if normalized is None else f"z {normalized:+.1f} vs baseline"


def format_fatigue(fatigue: FatigueFrame | None, yawns: int, away_share: float | None) -> str:
    """The face-mesh cues in one line: the tracker's last-minute figures, session counts."""
    if fatigue is None:
        return f"fatigue: {NO_VALUE} (no face mesh)"
    away = NO_VALUE if away_share is None else f"{away_share:.0%}"
    rate = NO_VALUE if math.isnan(fatigue.blink_rate) else f"{fatigue.blink_rate:.0f}"
    warming = "" if fatigue.calibrated else " · calibrating"
    return (
        f"blinks {rate}/min · PERCLOS {fatigue.perclos:.0%} · yawns {yawns} · away {away}"
        f" · head {fatigue.head_yaw:+.0f}°/{fatigue.head_pitch:+.0f}°{warming}"
    )


def level_content(level: Level | None) -> Content:
    """The level word in its colour; nothing before there is a score (the percent shows "—")."""
    if level is None:
        return Content("")
    return Content.styled(level, LEVEL_STYLES[level])


def face_text(faces_now: int | None, face_frames: int) -> str:
    """Face status as the person in front of the camera needs it: found, lost, or how many."""
    if faces_now is None:
        return "face: waiting for frames"
    if faces_now == 0:
        return "face: lost" if face_frames else "face: not found yet"
    if faces_now == 1:
        return "face: found"
    return f"faces: {faces_now} (following the largest)"
