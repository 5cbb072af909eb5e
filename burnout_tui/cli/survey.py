"""`burnout-tui survey`: list instruments, or score and store one sitting from the command line.

Scripted entry (`--answers`) exists for researchers transcribing paper forms and for
automation; people at a terminal usually answer inside the TUI (`s` in the monitor).
The instruments, the store and Rich are imported inside the functions, so `survey --help`
stays light.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option, user_option
from burnout_tui.errors import UserError

if TYPE_CHECKING:
    import duckdb
    from rich.table import Table

    from burnout_tui.surveys import Instrument


@click.command()
@click.option(
    "--instrument",
    "instrument_id",
    metavar="ID",
    help="Instrument id, e.g. cbi, pss10, mbi, checkin.",
)
@user_option("Who answered.")
@click.option(
    "--answers", "answers_text", metavar="N,N,...", help="One whole number per item, in order."
)
@click.option("--session", "session_id", type=int, default=None, help="Link to this session id.")
@click.option("--list", "list_only", is_flag=True, help="List the available instruments and exit.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def survey(
    state: CliState,
    instrument_id: str | None,
    user: str,
    answers_text: str | None,
    session_id: int | None,
    list_only: bool,
    db_path: Path | None,
    as_json: bool,
) -> None:
    """Score and store a survey (CBI, PSS-10, MBI totals, quick check-in).

    Give --answers to enter a sitting non-interactively; the monitor's `s` key asks the
    same questions in a keyboard form.
    """
    if list_only:
        list_command(as_json)
        return
    if instrument_id is None or answers_text is None:
        raise click.UsageError("give --instrument and --answers (or --list to see instruments)")
    config = state.config()
    survey_command(
        config.store.encrypt,
        state.db_path(config, db_path),
        instrument_id,
        user,
        answers_text,
        session_id,
        as_json,
    )


def instruments_table(instruments: dict[str, Instrument]) -> Table:
    from rich.table import Table

    table = Table(title="survey instruments")
    for column in ("id", "name", "items", "answers", "source"):
        table.add_column(column)
    for instrument in instruments.values():
        scales = sorted({item.scale.describe() for item in instrument.items})
        table.add_row(
            instrument.id,
            instrument.name,
            str(len(instrument.items)),
            "; ".join(scales),
            _origin(instrument),
        )
    return table


def _origin(instrument: Instrument) -> str:
    """Built-in instruments say so; a user's own file shows where it lives."""
    packaged = Path(__file__).resolve().parents[1] / "surveys" / "instruments"
    if instrument.source is None or instrument.source.resolve().parent == packaged:
        return "built-in"
    return str(instrument.source)


def list_command(as_json: bool) -> None:
    from rich.console import Console

    from burnout_tui.surveys import available_instruments

    instruments = available_instruments()
    if as_json:
        payload = [
            {"id": i.id, "name": i.name, "items": [item.text for item in i.items]}
            for i in instruments.values()
        ]
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    Console().print(instruments_table(instruments))


def _check_session(db: duckdb.DuckDBPyConnection, session_id: int) -> None:
    found = db.execute("SELECT 1 FROM sessions WHERE session_id = ?", [session_id]).fetchone()
    if found is None:
        raise UserError(f"no session {session_id} in this database")


def survey_command(
    encrypt: bool,
    db_path: Path,
    instrument_id: str,
    user: str,
    answers_text: str,
    session_id: int | None,
    as_json: bool,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from burnout_tui.store import open_database, repository
    from burnout_tui.store.database import remove_database_files
    from burnout_tui.store.surveys import record_survey
    from burnout_tui.surveys import find_instrument, parse_answers, score

    instrument = find_instrument(instrument_id)
    result = score(instrument, parse_answers(answers_text))
    created = not db_path.exists()
    con = open_database(db_path, encrypt=encrypt)
    try:
        if session_id is not None:
            _check_session(con, session_id)
        user_id = repository.get_or_create_user(con, user)
        survey_id = record_survey(con, user_id, instrument, result, session_id=session_id)
    except BaseException:
        con.close()
        if created:
            remove_database_files(db_path)
        raise
    con.close()
    if as_json:
        payload = {
            "survey_id": survey_id,
            "instrument": instrument.id,
            "user": user,
            "session_id": session_id,
            "answers": list(result.answers),
            "subscales": result.subscales,
            "total": result.total,
            "category": result.category,
            "burnout_01": result.burnout_01,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    table = Table(title=f"{instrument.name}: survey {survey_id} saved for {user}")
    table.add_column("score")
    table.add_column("value", justify="right")
    for name, value in result.subscales.items():
        table.add_row(name, f"{value:.1f}")
    if result.total is not None:
        table.add_row(
            "total", f"{result.total:.1f}" + (f" ({result.category})" if result.category else "")
        )
    table.add_row("burnout (0–1)", f"{result.burnout_01:.3f}")
    Console().print(table)
