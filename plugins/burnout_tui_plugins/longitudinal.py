"""`report longitudinal`: how each user's score moves across sessions, beside their surveys.

Per complete session (with at least one face frame): the frame score's mean, min, max and
population standard deviation, and the system score on 0-1,
`final_percent(mean_score, volatility, scoring) / 100`, the figure the monitor shows.

Negative-valence share: the share of a session's face frames whose most probable
emotion is angry, disgust, fear or sad, i.e. whose largest negative probability exceeds
each of happy, surprise and neutral (exact ties count as not negative). The arg-max
reading was chosen over "negative mass > 0.5" because it is the label the classifier
would print for the frame, so the share can be checked by eye against a recording.

Per user: the rolling mean of the system score over the last `--window` sessions (fewer
at the start), and a least-squares trend of the system score against time in score
units per week, with a 95 % interval from the t distribution (n - 2 degrees of
freedom); it needs at least 3 sessions. Surveys (`burnout_01`) are shown on the same
time axis but not fitted: they measure something else, which `report correlation`
compares.

Heart rate, when the database holds camera heart rates (`v_heart`): each session's mean
over its reported seconds (at least `MIN_REPORTED_SECONDS`, the user's own tracks), as a
`mean_heart_bpm` column, a JSON field and "HR n" on the chart's session lines. Without
any, the report's columns and text are as they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from burnout_tui.plugin import (
    Option,
    Report,
    ReportContext,
    ReportError,
    ReportResult,
    final_percent,
)
from burnout_tui_plugins._models import mixed_models_note, model_counts, session_models

if TYPE_CHECKING:
    import duckdb

    from burnout_tui.plugin import ScoringConfig
    from burnout_tui_plugins._stats import Trend

DEFAULT_WINDOW = 3
SECONDS_PER_WEEK = 7 * 24 * 3600.0
PLOT_SUFFIX = ".png"
BAR_WIDTH = 30
BLOCKS = " ▏▎▍▌▋▊▉█"
"""Eighth blocks: a bar of BAR_WIDTH cells resolves the 0-1 score to 1/240."""
SURVEY_MARK = "◆"
TIME_FORMAT = "%Y-%m-%d %H:%M"

DEFINITIONS = (
    "system_score = final_percent(mean_score, volatility) / 100; negative_share = share of"
    " face frames whose most probable emotion is angry, disgust, fear or sad; trend slope in"
    " system score per week with a t-based 95 % CI."
)

OPTIONS: tuple[Option, ...] = (
    Option("user", "Only this user (default: every user with complete sessions)."),
    Option(
        "window",
        "Sessions in the rolling mean of the system score.",
        type="int",
        default=DEFAULT_WINDOW,
    ),
    Option(
        "plot",
        "Write sessions, rolling mean, trend and surveys over time to this PNG file.",
        type="path",
    ),
)

_NEGATIVE_SHARE_SQL = """
    SELECT session_id,
        avg(CASE WHEN greatest(p_angry, p_disgust, p_fear, p_sad)
                > greatest(p_happy, p_surprise, p_neutral) THEN 1.0 ELSE 0.0 END)
            AS negative_share
    FROM v_frames
    GROUP BY session_id
"""


@dataclass(frozen=True, slots=True)
class SessionPoint:
    session_id: int
    started_at: datetime
    valid_frames: int
    mean_score: float
    min_score: float
    max_score: float
    std_score: float
    system: float
    negative_share: float
    rolling: float = math.nan
    mean_bpm: float | None = None
    """The session's mean camera heart rate; None without enough reported seconds."""


@dataclass(frozen=True, slots=True)
class SurveyPoint:
    instrument: str
    taken_at: datetime
    burnout_01: float


@dataclass(slots=True)
class UserSeries:
    user: str
    sessions: list[SessionPoint] = field(default_factory=list)
    surveys: list[SurveyPoint] = field(default_factory=list)
    trend: Trend | None = None
    trend_note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "sessions": [
                {
                    "session_id": s.session_id,
                    "started_at": s.started_at.isoformat(),
                    "valid_frames": s.valid_frames,
                    "mean_score": s.mean_score,
                    "min_score": s.min_score,
                    "max_score": s.max_score,
                    "std_score": s.std_score,
                    "system": s.system,
                    "rolling_system": s.rolling,
                    "negative_share": s.negative_share,
                    **({} if s.mean_bpm is None else {"mean_heart_bpm": s.mean_bpm}),
                }
                for s in self.sessions
            ],
            "surveys": [
                {
                    "instrument": s.instrument,
                    "taken_at": s.taken_at.isoformat(),
                    "burnout_01": s.burnout_01,
                }
                for s in self.surveys
            ],
            "trend": None if self.trend is None else self.trend.as_dict(),
            "trend_note": self.trend_note,
        }


def weeks_since_first(times: Sequence[datetime]) -> list[float]:
    """Time axis of the trend: weeks after the first session, so the slope is per week."""
    if not times:
        return []
    first = times[0]
    return [(t - first).total_seconds() / SECONDS_PER_WEEK for t in times]


def add_statistics(series: UserSeries, window: int) -> UserSeries:
    """Fill in the rolling mean and the trend; pure given the sessions."""
    from burnout_tui_plugins._stats import MIN_TREND_N, linear_trend, rolling_mean

    systems = [s.system for s in series.sessions]
    rolled = rolling_mean(systems, window)
    series.sessions = [
        replace(s, rolling=rolling) for s, rolling in zip(series.sessions, rolled, strict=True)
    ]
    if len(systems) < MIN_TREND_N:
        series.trend_note = (
            f"{series.user}: {len(systems)} session(s); a trend needs at least {MIN_TREND_N}."
        )
        return series
    try:
        series.trend = linear_trend(
            weeks_since_first([s.started_at for s in series.sessions]), systems
        )
    except ValueError as error:
        series.trend_note = f"{series.user}: no trend, {error}."
    return series


def bar(value: float, width: int = BAR_WIDTH) -> str:
    """A left-aligned bar of `width` cells for a value on 0-1, in eighth-block steps."""
    eighths = round(min(max(value, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    text = BLOCKS[-1] * full + (BLOCKS[part] if part else "")
    return text.ljust(width)


def _trend_text(trend: Trend) -> str:
    return (
        f"trend {trend.slope_per_week:+.3f}/week"
        f" (95 % CI {trend.ci_low:+.3f} to {trend.ci_high:+.3f}, n = {trend.n})"
    )


def chart(series: UserSeries, window: int) -> str:
    """One line per session (bar, score, rolling mean) and per survey (a marker at its
    value on the same scale), in time order: readable in any terminal, no dependencies."""
    header = f"{series.user}: {len(series.sessions)} session(s), {len(series.surveys)} survey(s)"
    if series.trend is not None:
        header += f"; {_trend_text(series.trend)}"
    lines = [header]
    events: list[tuple[datetime, int, str]] = []
    for s in series.sessions:
        text = f"{bar(s.system)} {s.system:.2f}  avg{window} {s.rolling:.2f}"
        if s.mean_bpm is not None:
            text += f"  HR {s.mean_bpm:.0f}"
        events.append((s.started_at, 0, text))
    for v in series.surveys:
        position = min(round(v.burnout_01 * BAR_WIDTH), BAR_WIDTH - 1)
        marker = (" " * position + SURVEY_MARK).ljust(BAR_WIDTH)
        events.append((v.taken_at, 1, f"{marker} {v.burnout_01:.2f}  survey {v.instrument}"))
    for when, _, text in sorted(events, key=lambda event: (event[0], event[1])):
        lines.append(f"  {when.strftime(TIME_FORMAT)}  {text}")
    return "\n".join(lines)


def _load(
    con: duckdb.DuckDBPyConnection, user: str | None, scoring: ScoringConfig
) -> list[UserSeries]:
    user_filter = "" if user is None else " AND m.user_name = ?"
    params: list[Any] = [] if user is None else [user]
    rows = con.execute(
        "SELECT m.session_id, m.user_name, m.started_at, m.valid_frames, m.mean_score,"
        " m.min_score, m.max_score, m.std_score, m.volatility, n.negative_share"
        f" FROM v_session_metrics AS m LEFT JOIN ({_NEGATIVE_SHARE_SQL}) AS n USING (session_id)"
        " WHERE m.status = 'complete' AND m.mean_score IS NOT NULL"
        f"{user_filter} ORDER BY m.user_name, m.started_at, m.session_id",
        params,
    ).fetchall()
    from burnout_tui_plugins._heart import session_heart_rates

    rates = session_heart_rates(con)
    series: dict[str, UserSeries] = {}
    for row in rows:
        session_id, name, started, frames, mean, low, high, std, variance, negative = row
        series.setdefault(name, UserSeries(name)).sessions.append(
            SessionPoint(
                session_id=int(session_id),
                started_at=started,
                valid_frames=int(frames),
                mean_score=float(mean),
                min_score=float(low),
                max_score=float(high),
                std_score=float(std),
                system=final_percent(float(mean), float(variance), scoring) / 100.0,
                negative_share=math.nan if negative is None else float(negative),
                mean_bpm=rate.mean_bpm if (rate := rates.get((session_id, name))) else None,
            )
        )
    survey_filter = "" if user is None else ' AND "user" = ?'
    for name, instrument, taken_at, burnout in con.execute(
        'SELECT "user", instrument, taken_at, burnout_01 FROM v_surveys'
        f" WHERE burnout_01 IS NOT NULL{survey_filter} ORDER BY taken_at, survey_id",
        params,
    ).fetchall():
        if name in series:
            series[name].surveys.append(SurveyPoint(str(instrument), taken_at, float(burnout)))
    return list(series.values())


def _plot(path: Path, all_series: Sequence[UserSeries]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        len(all_series), 1, figsize=(10, 3.6 * len(all_series)), squeeze=False
    )
    try:
        for ax, series in zip(axes[:, 0], all_series, strict=True):
            times = [s.started_at for s in series.sessions]
            ax.plot(times, [s.system for s in series.sessions], "o-", label="session score")
            ax.plot(times, [s.rolling for s in series.sessions], "-", label="rolling mean")
            if series.trend is not None:
                weeks = weeks_since_first(times)
                ax.plot(
                    [times[0], times[-1]],
                    [
                        series.trend.intercept + series.trend.slope_per_week * weeks[0],
                        series.trend.intercept + series.trend.slope_per_week * weeks[-1],
                    ],
                    "--",
                    label=f"trend {series.trend.slope_per_week:+.3f}/week",
                )
            if series.surveys:
                ax.plot(
                    [v.taken_at for v in series.surveys],
                    [v.burnout_01 for v in series.surveys],
                    "D",
                    label="survey burnout",
                )
            ax.set(ylim=(0, 1), ylabel="score (0-1)", title=series.user)
            ax.legend(loc="upper left", fontsize="small")
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(path, format="png")
    except OSError as error:
        raise ReportError(f"cannot write {path}: {error.strerror}") from None
    finally:
        plt.close(figure)


COLUMNS: tuple[str, ...] = (
    "user",
    "session_id",
    "started_at",
    "valid_frames",
    "mean_score",
    "min_score",
    "max_score",
    "std_score",
    "system_score",
    "rolling_system",
    "negative_share",
)
HEART_COLUMN = "mean_heart_bpm"
"""Appended to `COLUMNS` only when some session has a heart rate."""


def run(ctx: ReportContext) -> ReportResult:
    user = ctx.options.get("user") or None
    window_option = ctx.options.get("window")
    window = DEFAULT_WINDOW if window_option is None else int(window_option)
    if window < 1:
        raise ReportError(f"--window must be at least 1, got {window}")
    plot_value = ctx.options.get("plot")
    plot_path = None if not plot_value else ctx.out_dir / Path(plot_value)
    if plot_path is not None and plot_path.suffix.lower() != PLOT_SUFFIX:
        raise ReportError(f"--plot must name a {PLOT_SUFFIX} file, got {plot_value}")

    all_series = [add_statistics(series, window) for series in _load(ctx.con, user, ctx.scoring)]
    if not all_series:
        who = "any user" if user is None else f"user {user!r}"
        raise ReportError(f"no complete sessions with face frames for {who}")

    files: list[Path] = []
    if plot_path is not None:
        plot_path = ctx.output_path(plot_path)
        _plot(plot_path, all_series)
        files.append(plot_path)
    with_heart = any(s.mean_bpm is not None for series in all_series for s in series.sessions)
    rows = [
        (
            series.user,
            s.session_id,
            s.started_at.strftime(TIME_FORMAT),
            s.valid_frames,
            s.mean_score,
            s.min_score,
            s.max_score,
            s.std_score,
            s.system,
            s.rolling,
            s.negative_share,
            *((s.mean_bpm,) if with_heart else ()),
        )
        for series in all_series
        for s in series.sessions
    ]
    notes = [series.trend_note for series in all_series if series.trend_note is not None]
    counts = model_counts(
        session_models(ctx.con, (s.session_id for series in all_series for s in series.sessions))
    )
    mixed = mixed_models_note(counts)
    if mixed is not None:
        notes.insert(0, mixed)
    return ReportResult(
        columns=(*COLUMNS, HEART_COLUMN) if with_heart else COLUMNS,
        rows=rows,
        files=files,
        notes=notes,
        text="\n\n".join(chart(series, window) for series in all_series),
        data={
            "window": window,
            "emotion_models": counts,
            "definitions": DEFINITIONS,
            "users": [series.as_dict() for series in all_series],
        },
    )


def reports() -> list[Report]:
    return [
        Report(
            name="longitudinal",
            help="Per-user session scores over time: statistics, rolling mean, weekly trend"
            " with 95 % CI, negative-valence share and surveys on the same axis.",
            run=run,
            options=OPTIONS,
        )
    ]
