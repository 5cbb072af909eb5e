"""`burnout-tui forget`: delete one person's data for good, after a confirmation.

Deleting is irreversible, so it never happens silently: on a terminal the person must
type the name back; without one (a script, a pipe) `--yes` is required. The store and the
runtime are imported inside the functions, so `forget --help` stays light.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option

if TYPE_CHECKING:
    from burnout_tui.store.erase import Erasure, Forgotten


@click.command()
@click.option("--user", required=True, help="Whose data to delete for good.")
@click.option("--yes", is_flag=True, help="Do not ask (required where there is no terminal).")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
def forget(state: CliState, user: str, yes: bool, db_path: Path | None, as_json: bool) -> None:
    """Delete every row of USER and their fine-tuned forecaster, then rewrite the file.

    Their sessions, frames (including their tracks in other people's multi-user
    sessions), markers, surveys, calibrations and name go; a multi-user session of
    theirs that holds other people's tracks is kept for those people. The database is
    rewritten so the deleted bytes are gone from it. Earlier exports are not touched.
    """
    config = state.config()
    forget_command(state.db_path(config, db_path), user, yes, as_json)


def forget_command(path: Path, user: str, yes: bool, as_json: bool) -> None:
    from burnout_tui.runtime.personal_models import personal_model_path
    from burnout_tui.store.erase import forget_user

    models = tuple(
        dict.fromkeys(
            (personal_model_path(path, user), personal_model_path(path.expanduser(), user))
        )
    )
    done = forget_user(path, user, lambda plan: _confirm(plan, yes), models)
    if as_json:
        sys.stdout.write(json.dumps(payload(path, done)) + "\n")
        return
    for line in summary(path, done):
        click.echo(line)


def _confirm(plan: Erasure, yes: bool) -> bool:
    from burnout_tui.store.erase import NotConfirmedError

    if yes:
        return True
    if not sys.stdin.isatty():
        raise NotConfirmedError(
            f"forget deletes everything of {plan.user!r} for good and needs a confirmation: "
            "run it on a terminal or pass --yes; nothing was deleted"
        )
    click.echo(f"This deletes for good: {_counts(plan)}.", err=True)
    for session in plan.reowned:
        click.echo(
            f"Session {session.session_id} holds other people's tracks: it is kept, "
            f"re-owned by {session.user}.",
            err=True,
        )
    typed = click.prompt(
        f"Type the name ({plan.user}) to confirm", default="", show_default=False, err=True
    )
    return bool(typed == plan.user)


def _counts(erasure: Erasure) -> str:
    return ", ".join(f"{count} {table}" for table, count in erasure.rows.items())


def summary(path: Path, done: Forgotten) -> list[str]:
    erasure = done.erasure
    lines = [f"forgot {erasure.user}: removed {_counts(erasure)}"]
    lines += [
        f"session {session.session_id} kept for the other people in it, re-owned by "
        f"{session.user} (its notes and markers were removed)"
        for session in erasure.reowned
    ]
    if erasure.surveys_unlinked:
        lines.append(
            f"{erasure.surveys_unlinked} survey(s) of other people no longer link to a "
            "deleted session"
        )
    lines += [f"deleted {file}" for file in done.files_removed]
    lines.append(f"rewrote {path} so the deleted rows' bytes are gone from it")
    lines.append(
        "not touched: Parquet exports, copies and backups made earlier "
        f"(remove */user={erasure.user} in each export)"
    )
    return lines


def payload(path: Path, done: Forgotten) -> dict[str, object]:
    erasure = done.erasure
    return {
        "user": erasure.user,
        "database": str(path),
        "removed": dict(erasure.rows),
        "surveys_unlinked": erasure.surveys_unlinked,
        "reowned_sessions": [
            {"session_id": session.session_id, "user": session.user} for session in erasure.reowned
        ],
        "files_removed": [str(file) for file in done.files_removed],
        "rewritten": True,
    }
