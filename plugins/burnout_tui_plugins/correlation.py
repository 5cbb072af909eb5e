"""`report correlation`: does the camera proxy agree with what people say in surveys?

Each complete session's system score is paired with one survey's `burnout_01`, both on
0-1. The system score is `final_percent(mean_score, volatility, scoring) / 100`: the
same percentage the monitor shows at the end of a session, recomputed from the stored
frame statistics with the current scoring configuration.

Pairing rule, per session:

1. a survey linked to the session (its `session_id`) wins, whatever its time;
2. otherwise the same user's survey whose `taken_at` is nearest to the session's start,
   if it lies within `--max-gap-hours` (before or after); otherwise the session is
   unpaired and left out.

Only surveys with a `burnout_01` count, restricted to `--instrument` when given. When
several surveys qualify, a linked one beats an unlinked one, then the nearer in time,
then the lower survey id (so reruns are deterministic). Sessions are paired
independently: one unlinked survey may serve several sessions, which the notes report
because those pairs are not independent.

The statistics: Pearson r with its two-sided p-value and a Fisher-z 95 % interval,
Spearman rho (robust to a monotone but non-linear relation) with its p-value, mean
absolute error, and Bland-Altman agreement of system minus survey. `--csv` analyses pairs
produced elsewhere (columns participant,system,survey on 0-1) instead of the database.

A second line, when the database holds camera heart rates (`v_heart`): the same pairs'
session mean heart rate (its reported seconds only, at least `MIN_REPORTED_SECONDS`, of
the person the survey is about) against the survey score, by Pearson and Spearman only:
bpm and a 0-1 score share no scale, so an absolute error or Bland-Altman limits would mean
nothing. Without heart rates the report says nothing about them.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

if TYPE_CHECKING:
    import duckdb

    from burnout_tui.plugin import ScoringConfig
    from burnout_tui_plugins._heart import SessionHeart
    from burnout_tui_plugins._stats import Association, CorrelationStats

DEFAULT_MAX_GAP_HOURS = 24.0
SMALL_SAMPLE_N = 10
"""Below this many pairs a correlation's interval is so wide the point value misleads."""

CSV_COLUMNS: tuple[str, ...] = ("participant", "system", "survey")
PLOT_SUFFIX = ".png"
SECONDS_PER_HOUR = 3600.0

PAIRING_RULE = (
    "Pairing: a survey linked to the session wins; otherwise the same user's survey nearest"
    " in time to the session start within --max-gap-hours; ties prefer linked, then nearer,"
    " then the lower survey id. System score = final_percent(mean, volatility) / 100."
)

OPTIONS: tuple[Option, ...] = (
    Option(
        "max-gap-hours",
        "An unlinked survey pairs with a session only if taken within this many hours of"
        " its start.",
        type="float",
        default=DEFAULT_MAX_GAP_HOURS,
    ),
    Option("instrument", "Only surveys of this instrument id (e.g. cbi); default: any."),
    Option(
        "csv",
        "Analyse pairs from this CSV (columns participant,system,survey, scores on 0-1)"
        " instead of the database.",
        type="path",
    ),
    Option("plot", "Write a scatter and Bland-Altman plot to this PNG file.", type="path"),
)


@dataclass(frozen=True, slots=True)
class SessionScore:
    session_id: int
    user: str
    started_at: datetime
    system: float


@dataclass(frozen=True, slots=True)
class SurveyScore:
    survey_id: int
    user: str
    session_id: int | None
    instrument: str
    taken_at: datetime
    burnout_01: float


@dataclass(frozen=True, slots=True)
class Pair:
    """One (system, survey) observation; the provenance fields are None for CSV input."""

    participant: str
    system: float
    survey: float
    session_id: int | None = None
    survey_id: int | None = None
    instrument: str | None = None
    linked: bool | None = None
    gap_hours: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "system": self.system,
            "survey": self.survey,
            "session_id": self.session_id,
            "survey_id": self.survey_id,
            "instrument": self.instrument,
            "linked": self.linked,
            "gap_hours": self.gap_hours,
        }


def _gap_hours(session: SessionScore, survey: SurveyScore) -> float:
    return abs((survey.taken_at - session.started_at).total_seconds()) / SECONDS_PER_HOUR


def pair_sessions(
    sessions: Sequence[SessionScore],
    surveys: Sequence[SurveyScore],
    max_gap_hours: float,
) -> tuple[list[Pair], list[SessionScore]]:
    """Apply the pairing rule of the module docstring; returns (pairs, unpaired sessions).

    Pure, so the rule is tested without a database and the SQL only has to fetch rows.
    """
    by_user: dict[str, list[SurveyScore]] = {}
    for survey in surveys:
        by_user.setdefault(survey.user, []).append(survey)
    pairs: list[Pair] = []
    unpaired: list[SessionScore] = []
    for session in sessions:
        candidates = [
            survey
            for survey in by_user.get(session.user, [])
            if survey.session_id == session.session_id
            or _gap_hours(session, survey) <= max_gap_hours
        ]
        if not candidates:
            unpaired.append(session)
            continue
        best = min(
            candidates,
            key=lambda s: (s.session_id != session.session_id, _gap_hours(session, s), s.survey_id),
        )
        pairs.append(
            Pair(
                participant=session.user,
                system=session.system,
                survey=best.burnout_01,
                session_id=session.session_id,
                survey_id=best.survey_id,
                instrument=best.instrument,
                linked=best.session_id == session.session_id,
                gap_hours=_gap_hours(session, best),
            )
        )
    return pairs, unpaired


def _score_cell(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReportError(
            f"{path} line {line}: {column} {text.strip()!r} is not a number"
        ) from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ReportError(f"{path} line {line}: {column} {text.strip()} is outside 0-1")
    return value


def read_pairs_csv(path: Path) -> list[Pair]:
    """Pairs from a CSV with the header participant,system,survey; errors name the line."""
    try:
        with path.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
    except OSError as error:
        raise ReportError(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ReportError(f"{path} is not a readable CSV file: {error}") from None
    if not rows:
        raise ReportError(f"{path} is empty; expected the header {','.join(CSV_COLUMNS)}")
    header = tuple(cell.strip().lower() for cell in rows[0])
    if header != CSV_COLUMNS:
        raise ReportError(
            f"{path} line 1: header must be {','.join(CSV_COLUMNS)}, got {','.join(rows[0])}"
        )
    pairs = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_COLUMNS):
            raise ReportError(
                f"{path} line {line}: expected {len(CSV_COLUMNS)} columns, got {len(row)}"
            )
        participant = row[0].strip()
        if not participant:
            raise ReportError(f"{path} line {line}: participant is empty")
        system = _score_cell(path, line, "system", row[1])
        survey = _score_cell(path, line, "survey", row[2])
        pairs.append(Pair(participant, system, survey))
    return pairs


def _session_scores(con: duckdb.DuckDBPyConnection, scoring: ScoringConfig) -> list[SessionScore]:
    rows = con.execute(
        "SELECT session_id, user_name, started_at, mean_score, volatility"
        " FROM v_session_metrics"
        " WHERE status = 'complete' AND mean_score IS NOT NULL"
        " ORDER BY started_at, session_id"
    ).fetchall()
    return [
        SessionScore(
            session_id=int(session_id),
            user=str(user),
            started_at=started_at,
            system=final_percent(float(mean), float(volatility), scoring) / 100.0,
        )
        for session_id, user, started_at, mean, volatility in rows
    ]


def _survey_scores(con: duckdb.DuckDBPyConnection, instrument: str | None) -> list[SurveyScore]:
    sql = (
        'SELECT survey_id, "user", session_id, instrument, taken_at, burnout_01'
        " FROM v_surveys WHERE burnout_01 IS NOT NULL"
    )
    params: list[Any] = []
    if instrument is not None:
        sql += " AND lower(instrument) = lower(?)"
        params.append(instrument)
    return [
        SurveyScore(
            survey_id=int(survey_id),
            user=str(user),
            session_id=None if session_id is None else int(session_id),
            instrument=str(name),
            taken_at=taken_at,
            burnout_01=float(burnout),
        )
        for survey_id, user, session_id, name, taken_at, burnout in con.execute(
            sql, params
        ).fetchall()
    ]


def _plot(path: Path, pairs: Sequence[Pair], result: CorrelationStats) -> None:
    """Scatter with its least-squares line beside the Bland-Altman plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from burnout_tui_plugins._stats import least_squares_line

    system = [pair.system for pair in pairs]
    survey = [pair.survey for pair in pairs]
    slope, intercept = least_squares_line(survey, system)
    figure, (scatter, agreement) = plt.subplots(1, 2, figsize=(11, 4.8))
    try:
        scatter.scatter(survey, system, alpha=0.7)
        scatter.plot([0.0, 1.0], [intercept, slope + intercept], color="C1", label="least squares")
        scatter.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle=":", label="identity")
        scatter.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="survey burnout (0-1)",
            ylabel="system score (0-1)",
            title=f"r = {result.pearson_r:.2f}, rho = {result.spearman_rho:.2f}, n = {result.n}",
        )
        scatter.legend(loc="upper left")
        means = [(a + b) / 2.0 for a, b in zip(system, survey, strict=True)]
        diffs = [a - b for a, b in zip(system, survey, strict=True)]
        agreement.scatter(means, diffs, alpha=0.7)
        agreement.axhline(result.ba_mean_diff, color="C1", label="mean difference")
        for limit in (result.ba_loa_low, result.ba_loa_high):
            agreement.axhline(limit, color="C1", linestyle="--")
        agreement.set(
            xlabel="mean of system and survey",
            ylabel="system - survey",
            title="Bland-Altman (95 % limits of agreement)",
        )
        agreement.legend(loc="upper left")
        figure.tight_layout()
        figure.savefig(path, format="png")
    except OSError as error:
        raise ReportError(f"cannot write {path}: {error.strerror}") from None
    finally:
        plt.close(figure)


@dataclass(frozen=True, slots=True)
class HeartPair:
    """A paired session's mean heart rate beside the survey it was paired with."""

    participant: str
    session_id: int
    mean_bpm: float
    reported_seconds: int
    survey: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "session_id": self.session_id,
            "mean_bpm": self.mean_bpm,
            "reported_seconds": self.reported_seconds,
            "survey": self.survey,
        }


def heart_pairs(
    pairs: Sequence[Pair], rates: Mapping[tuple[int, str], SessionHeart]
) -> list[HeartPair]:
    """The pairs whose session has a heart rate of the pair's participant."""
    found = []
    for pair in pairs:
        rate = None if pair.session_id is None else rates.get((pair.session_id, pair.participant))
        if rate is not None and pair.session_id is not None:
            found.append(
                HeartPair(
                    pair.participant,
                    pair.session_id,
                    rate.mean_bpm,
                    rate.reported_seconds,
                    pair.survey,
                )
            )
    return found


def _heart_line(
    pairs: Sequence[HeartPair],
) -> tuple[Association | None, list[str]]:
    """The heart-rate association and what the notes say about it; nothing at all when no
    paired session has a heart rate."""
    from burnout_tui_plugins._heart import MIN_REPORTED_SECONDS
    from burnout_tui_plugins._stats import association_stats

    if not pairs:
        return None, []
    try:
        found = association_stats([p.mean_bpm for p in pairs], [p.survey for p in pairs])
    except ValueError as error:
        return None, [
            f"Heart rate vs survey: {len(pairs)} paired session(s), no correlation: {error}."
        ]
    return found, [
        f"Heart rate vs survey: the mean camera heart rate of {found.n} paired session(s)"
        f" (reported seconds only, at least {MIN_REPORTED_SECONDS}) against the survey"
        " score; r and rho only, as bpm and a 0-1 score share no scale."
    ]


def _heart_rows(found: Association) -> list[tuple[str, float | int]]:
    return [
        ("heart_n", found.n),
        ("heart_pearson_r", found.pearson_r),
        ("heart_pearson_p", found.pearson_p),
        ("heart_pearson_r_ci95_low", found.pearson_ci_low),
        ("heart_pearson_r_ci95_high", found.pearson_ci_high),
        ("heart_spearman_rho", found.spearman_rho),
        ("heart_spearman_p", found.spearman_p),
    ]


def _metric_rows(result: CorrelationStats) -> list[tuple[str, float | int]]:
    return [
        ("n", result.n),
        ("pearson_r", result.pearson_r),
        ("pearson_p", result.pearson_p),
        ("pearson_r_ci95_low", result.pearson_ci_low),
        ("pearson_r_ci95_high", result.pearson_ci_high),
        ("spearman_rho", result.spearman_rho),
        ("spearman_p", result.spearman_p),
        ("mae", result.mae),
        ("bland_altman_mean_diff", result.ba_mean_diff),
        ("bland_altman_sd_diff", result.ba_sd_diff),
        ("bland_altman_loa_low", result.ba_loa_low),
        ("bland_altman_loa_high", result.ba_loa_high),
    ]


def _option_path(options: Mapping[str, Any], key: str) -> Path | None:
    value = options.get(key)
    return None if value is None or value == "" else Path(value)


def run(ctx: ReportContext) -> ReportResult:
    from burnout_tui_plugins._heart import session_heart_rates
    from burnout_tui_plugins._models import mixed_models_note, model_counts, session_models
    from burnout_tui_plugins._stats import MIN_CORRELATION_N, correlation_stats

    options = ctx.options
    csv_path = _option_path(options, "csv")
    plot_path = _option_path(options, "plot")
    if plot_path is not None:
        if plot_path.suffix.lower() != PLOT_SUFFIX:
            raise ReportError(f"--plot must name a {PLOT_SUFFIX} file, got {plot_path}")
        plot_path = ctx.out_dir / plot_path
    max_gap = options.get("max_gap_hours")
    max_gap = DEFAULT_MAX_GAP_HOURS if max_gap is None else float(max_gap)
    if not math.isfinite(max_gap) or max_gap < 0.0:
        raise ReportError(f"--max-gap-hours must be a number >= 0, got {max_gap}")
    instrument = options.get("instrument") or None

    notes: list[str] = []
    hearts: list[HeartPair] = []
    if csv_path is not None:
        source = "csv"
        pairs = read_pairs_csv(csv_path)
    else:
        source = "database"
        sessions = _session_scores(ctx.con, ctx.scoring)
        pairs, unpaired = pair_sessions(sessions, _survey_scores(ctx.con, instrument), max_gap)
        hearts = heart_pairs(pairs, session_heart_rates(ctx.con))
        if unpaired:
            notes.append(
                f"{len(unpaired)} of {len(sessions)} complete sessions had no survey to pair"
                " with and are left out."
            )
        reused = sum(1 for count in Counter(p.survey_id for p in pairs).values() if count > 1)
        if reused:
            notes.append(
                f"{reused} survey(s) paired with more than one session; those pairs are not"
                " independent."
            )

    if len(pairs) < MIN_CORRELATION_N:
        raise ReportError(
            f"only {len(pairs)} pair(s) found; a correlation needs at least {MIN_CORRELATION_N}"
        )
    try:
        result = correlation_stats([p.system for p in pairs], [p.survey for p in pairs])
    except ValueError as error:
        raise ReportError(str(error)) from None
    if result.n < SMALL_SAMPLE_N:
        notes.append(
            f"only {result.n} pairs (fewer than {SMALL_SAMPLE_N}); r and rho are very"
            " uncertain, read the confidence interval rather than the point value."
        )
    if math.isnan(result.pearson_ci_low):
        notes.append("The 95 % interval of r needs at least 4 pairs and is left empty.")

    models = session_models(ctx.con, (p.session_id for p in pairs if p.session_id is not None))
    counts = model_counts(models)
    mixed = mixed_models_note(counts)
    if mixed is not None:
        notes.insert(0, mixed)
    heart, heart_notes = _heart_line(hearts)
    notes += heart_notes

    files: list[Path] = []
    if plot_path is not None:
        plot_path = ctx.output_path(plot_path)
        _plot(plot_path, pairs, result)
        files.append(plot_path)

    data: dict[str, Any] = {
        "source": source,
        "max_gap_hours": max_gap if source == "database" else None,
        "instrument": instrument,
        "pairing_rule": PAIRING_RULE if source == "database" else None,
        "emotion_models": counts if source == "database" else None,
        "stats": result.as_dict(),
        "pairs": [pair.as_dict() for pair in pairs],
    }
    if hearts:
        data["heart_rate"] = {
            "stats": None if heart is None else heart.as_dict(),
            "pairs": [pair.as_dict() for pair in hearts],
        }
    return ReportResult(
        columns=("metric", "value"),
        rows=_metric_rows(result) + ([] if heart is None else _heart_rows(heart)),
        files=files,
        notes=notes,
        data=data,
    )


def reports() -> list[Report]:
    return [
        Report(
            name="correlation",
            help="Agreement of the session score with survey burnout (r, rho, MAE,"
            " Bland-Altman). " + PAIRING_RULE,
            run=run,
            options=OPTIONS,
            replaces_database=("csv",),
        )
    ]
