"""Scoring: pure functions from emotion probabilities to the burnout / stress proxy."""

from __future__ import annotations

from burnout_tui.scoring.valence import (
    Level,
    RollingScore,
    SessionSummary,
    final_percent,
    final_score,
    frame_scores,
    level,
    score_bounds,
    session_score,
    summarise,
    volatility,
)

__all__ = [
    "Level",
    "RollingScore",
    "SessionSummary",
    "final_percent",
    "final_score",
    "frame_scores",
    "level",
    "score_bounds",
    "session_score",
    "summarise",
    "volatility",
]
