"""An example burnout-tui plugin: how many sessions each person has.

It is deliberately small and imports only `burnout_tui.plugin`, the public API, so it
keeps working when burnout-tui's internals change. Copy it to start a plugin of your own.
"""

from __future__ import annotations

from burnout_tui.plugin import Option, Report, ReportContext, ReportResult

ANY_STATUS = "any"
STATUSES: tuple[str, ...] = (ANY_STATUS, "complete", "running", "failed")


def session_count(context: ReportContext) -> ReportResult:
    """Sessions per user, optionally only those with one status."""
    status = context.options["status"]
    rows = context.con.execute(
        'SELECT "user", count(*) AS sessions, sum(frames_total) AS frames '
        "FROM v_sessions WHERE ? = ? OR status = ? "
        'GROUP BY "user" ORDER BY "user"',
        [status, ANY_STATUS, status],
    ).fetchall()
    notes = () if rows else ("no sessions match",)
    return ReportResult(columns=("user", "sessions", "frames"), rows=rows, notes=notes)


def reports() -> list[Report]:
    return [
        Report(
            name="session-count",
            help="Number of sessions (and frames) per user.",
            run=session_count,
            options=(
                Option(
                    "status",
                    "Count only sessions with this status.",
                    type="choice",
                    choices=STATUSES,
                    default=ANY_STATUS,
                ),
            ),
        )
    ]
