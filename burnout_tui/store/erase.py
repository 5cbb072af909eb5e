"""Forgetting a person: delete every row that is theirs, then rewrite the file without them.

Whose a row is follows the views: a frame belongs to `coalesce(track user, session user)`
(as in `v_track_frames`), markers and sessions to the session's user, surveys and
calibrations to their user, a `track_users` row to the person the track is.

A multi-user session owned by the person but holding tracks of other people is not
deleted: its owner's own rows go (their unmapped frames, every marker, the session's
notes), and the session row stays, re-owned by the person of its lowest remaining track,
so the other people's frames keep their session, start time and mapping. The erasure
lists every such session, so nothing changes hands unannounced.

DELETE alone does not remove bytes: DuckDB 1.5.5 keeps deleted strings in the freed
blocks of the file after CHECKPOINT, VACUUM and FORCE CHECKPOINT
(docs/measurements.md#store-erase). `compact` therefore rebuilds
the file from the live rows into a new file beside it and atomically replaces the old
one, which is the only place in the product that writes a database file besides
`open_database`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from burnout_tui.file_modes import PRIVATE_FILE_MODE, PRIVATE_UMASK
from burnout_tui.store.connect import sql_string
from burnout_tui.store.database import (
    StoreError,
    first_line,
    open_database,
    remove_database_files,
    wal_path,
)
from burnout_tui.store.file_kind import inspect_store_file
from burnout_tui.store.keys import database_key
from burnout_tui.store.track_tables import TRACK_TABLES


class UnknownUserError(StoreError):
    """The name to forget has no row in the database."""


class NotConfirmedError(StoreError):
    """The person running `forget` did not confirm; nothing was deleted."""


@dataclass(frozen=True, slots=True)
class ReownedSession:
    """A multi-user session of the forgotten person kept for the other people in it."""

    session_id: int
    user: str


@dataclass(frozen=True, slots=True)
class Erasure:
    """What forgetting `user` removes (a plan) or removed (the result), per table."""

    user: str
    user_id: int
    rows: Mapping[str, int]
    """Rows deleted per table, in deletion order."""
    surveys_unlinked: int
    """Other people's surveys that pointed at a deleted session and now point at none."""
    reowned: tuple[ReownedSession, ...]


def _track_owner(table: str) -> str:
    """The person a per-face row of `table` belongs to, as `v_track_frames` names it."""
    return (
        "coalesce("
        "(SELECT t.user_id FROM track_users AS t"
        f" WHERE t.session_id = {table}.session_id AND t.track_id = {table}.track_id),"
        f" (SELECT s.user_id FROM sessions AS s WHERE s.session_id = {table}.session_id))"
    )


_OWNED = "list_contains(CAST($owned AS INTEGER[]), session_id)"
_DROPPED = "list_contains(CAST($dropped AS INTEGER[]), session_id)"

_ROW_DELETIONS: tuple[tuple[str, str], ...] = (
    *((table, f"{_track_owner(table)} = $uid") for table in TRACK_TABLES),
    ("markers", _OWNED),
    ("calibrations", f"user_id = $uid OR {_DROPPED}"),
    ("track_users", f"user_id = $uid OR {_DROPPED}"),
    ("surveys", "user_id = $uid"),
)
"""Each table and which of its rows are the person's. The per-face tables come first,
while the mappings and sessions that say whose they are still exist."""

_SESSION_DELETION = ("sessions", _DROPPED)
"""Deleted after the shared sessions are re-owned."""

_USER_DELETION = ("users", "user_id = $uid")
"""Last, in a transaction of its own: DuckDB refuses to delete a row that rows deleted
in the same transaction referenced ("still referenced by a foreign key"). Should the
process die between the two, the person's name is all that is left, and running
`forget` again removes it."""

_DELETIONS = (*_ROW_DELETIONS, _SESSION_DELETION, _USER_DELETION)

_UNLINK = f"UPDATE surveys SET session_id = NULL WHERE {_DROPPED}"
_REOWN = "UPDATE sessions SET user_id = ?, notes = NULL WHERE session_id = ?"


@dataclass(frozen=True, slots=True)
class _Scope:
    user_id: int
    owned: list[int]
    """Every session whose `sessions.user_id` is the person."""
    reowned: dict[int, tuple[int, str]]
    """Owned sessions with other people's tracks: session id → (new owner id, name)."""

    @property
    def dropped(self) -> list[int]:
        return [session_id for session_id in self.owned if session_id not in self.reowned]

    def params(self) -> dict[str, Any]:
        return {"uid": self.user_id, "owned": self.owned, "dropped": self.dropped}


def _scope(con: duckdb.DuckDBPyConnection, name: str) -> _Scope:
    row = con.execute("SELECT user_id FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        raise UnknownUserError(f"no user named {name!r} in the database; nothing was deleted")
    user_id = int(row[0])
    owned = [
        int(session_id)
        for (session_id,) in con.execute(
            "SELECT session_id FROM sessions WHERE user_id = ? ORDER BY session_id", [user_id]
        ).fetchall()
    ]
    heirs = con.execute(
        "SELECT t.session_id, arg_min(t.user_id, t.track_id), arg_min(u.name, t.track_id)"
        " FROM track_users AS t JOIN sessions AS s USING (session_id)"
        " JOIN users AS u ON u.user_id = t.user_id"
        " WHERE s.user_id = $uid AND t.user_id <> $uid GROUP BY t.session_id",
        {"uid": user_id},
    ).fetchall()
    reowned = {
        int(session_id): (int(heir), str(heir_name)) for session_id, heir, heir_name in heirs
    }
    return _Scope(user_id, owned, reowned)


def _erasure(name: str, scope: _Scope, rows: dict[str, int], unlinked: int) -> Erasure:
    reowned = tuple(
        ReownedSession(session_id, heir_name)
        for session_id, (_, heir_name) in sorted(scope.reowned.items())
    )
    return Erasure(name, scope.user_id, rows, unlinked, reowned)


def _count(con: duckdb.DuckDBPyConnection, table: str, where: str, scope: _Scope) -> int:
    return _changed(con, f"SELECT count(*) FROM {table} WHERE {where}", scope.params())


def plan_erasure(con: duckdb.DuckDBPyConnection, name: str) -> Erasure:
    """What `erase_user` would remove, changing nothing (for the confirmation prompt)."""
    scope = _scope(con, name)
    rows = {table: _count(con, table, where, scope) for table, where in _DELETIONS}
    unlinked = _count(con, "surveys", f"user_id <> $uid AND {_DROPPED}", scope)
    return _erasure(name, scope, rows, unlinked)


def erase_user(con: duckdb.DuckDBPyConnection, name: str) -> Erasure:
    """Delete every row of `name` in one transaction; returns what was deleted.

    The bytes stay in the file's freed blocks until `compact` rewrites it.
    """
    scope = _scope(con, name)
    params = scope.params()
    rows: dict[str, int] = {}
    with _transaction(con, name):
        for table, where in _ROW_DELETIONS:
            rows[table] = _changed(con, f"DELETE FROM {table} WHERE {where}", params)
        unlinked = _changed(con, _UNLINK, params)
        for session_id, (heir, _) in scope.reowned.items():
            con.execute(_REOWN, [heir, session_id])
        table, where = _SESSION_DELETION
        rows[table] = _changed(con, f"DELETE FROM {table} WHERE {where}", params)
    with _transaction(con, name):
        table, where = _USER_DELETION
        rows[table] = _changed(con, f"DELETE FROM {table} WHERE {where}", params)
    return _erasure(name, scope, rows, unlinked)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, name: str) -> Iterator[None]:
    con.begin()
    try:
        yield
        con.commit()
    except duckdb.Error as error:
        con.rollback()
        raise StoreError(f"cannot erase {name!r}: {first_line(error)}") from None


def _changed(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any]) -> int:
    """The single number a count, DELETE or UPDATE returns (DuckDB refuses named
    parameters the statement does not use, so only those it names are passed)."""
    needed = {key: value for key, value in params.items() if f"${key}" in sql}
    row = con.execute(sql, needed).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class Forgotten:
    """The outcome of `forget_user`: the rows erased and the derived files deleted."""

    erasure: Erasure
    files_removed: tuple[Path, ...]


def forget_user(
    path: Path,
    name: str,
    confirm: Callable[[Erasure], bool],
    derived_files: tuple[Path, ...] = (),
) -> Forgotten:
    """Erase `name` from the database at `path` and rewrite the file without their bytes.

    `confirm` sees the plan and returns True, or False (NotConfirmedError: nothing is
    deleted). `derived_files` (the person's fine-tuned forecaster) are deleted right
    after confirmation, before the rows, so a crash part-way never leaves a file named
    after someone the database no longer knows. The database stays open, and so locked
    against a monitor, from the plan to the rewrite.
    """
    path = path.expanduser()
    con, key = _open_existing(path)
    try:
        try:
            plan = plan_erasure(con, name)
        except UnknownUserError:
            raise UnknownUserError(
                f"no user named {name!r} in {path}; nothing was deleted"
            ) from None
        if not confirm(plan):
            raise NotConfirmedError(f"not confirmed; nothing of {name!r} was deleted")
        _check_room(path)
        removed = tuple(file for file in derived_files if _unlink(file))
        erasure = erase_user(con, name)
        try:
            _rebuild(con, path, key)
        except StoreError as error:
            raise StoreError(
                f"{name!r}'s rows are deleted but their bytes may remain in the file's free "
                f"blocks: {error}"
            ) from None
    finally:
        con.close()
    return Forgotten(erasure, removed)


def _unlink(file: Path) -> bool:
    try:
        file.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StoreError(f"cannot delete {file}: {error.strerror}; nothing was deleted") from None
    return True


def compact(path: Path) -> None:
    """Rewrite the database at `path` from its live rows, dropping every freed block."""
    con, key = _open_existing(path.expanduser())
    try:
        _check_room(path)
        _rebuild(con, path, key)
    finally:
        con.close()


def _open_existing(path: Path) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """The open store and, when it is encrypted, its key: the rebuilt file must be
    encrypted with the same key, or erasing one person would write everyone else's rows
    to disk in the clear."""
    if not path.is_file():
        raise StoreError(f"no database at {path}; pass --db")
    kind = inspect_store_file(path)
    key = database_key(path, creating=False) if kind is not None and kind.encrypted else None
    return open_database(path, key=key), key


REBUILD_ALIAS = "burnout_rebuild"
REBUILD_SUFFIX = ".rebuild"


def rebuild_path(path: Path) -> Path:
    """The new file, hidden beside the old one so `os.replace` stays on one filesystem."""
    return path.with_name(f".{path.name}{REBUILD_SUFFIX}")


def _check_room(path: Path) -> None:
    """The rewrite needs at most the current file's size again; refuse before deleting
    anything rather than fail half-way with the rows gone and the bytes still there."""
    needed = path.stat().st_size
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise StoreError(
            f"rewriting {path} needs {needed // 2**20 + 1} MiB free beside it, "
            f"{free // 2**20} MiB are; nothing was deleted"
        )


def _rebuild(con: duckdb.DuckDBPyConnection, path: Path, key: str | None) -> None:
    """Copy the schema and live rows of `con`'s database (open on `path`) into a new file,
    encrypted with `key` when there is one, then atomically replace `path` with it.

    `COPY FROM DATABASE` cannot be used: it copies `sessions` before `users` and fails on
    the foreign key. Sequences are recreated from their `sql`, which DuckDB writes with
    the next value to hand out, so ids of erased rows are never reused. `con` keeps the
    old file locked until the caller closes it, and must not be used for anything else.
    """
    target = rebuild_path(path)
    source = _current_database(con)
    con.execute("CHECKPOINT")
    remove_database_files(target)
    previous = os.umask(PRIVATE_UMASK)
    try:
        encryption = "" if key is None else f" (ENCRYPTION_KEY {sql_string(key)})"
        con.execute(f"ATTACH {sql_string(str(target))} AS {REBUILD_ALIAS}{encryption}")
        try:
            con.execute(f"USE {REBUILD_ALIAS}")
            _copy_catalog(con, source)
        finally:
            con.execute(f"USE {_identifier(source)}")
            con.execute(f"DETACH {REBUILD_ALIAS}")
        os.chmod(target, PRIVATE_FILE_MODE)
        _fsync(target)
        if wal_path(target).exists():
            raise StoreError(f"{wal_path(target)} was left behind by DuckDB")
        os.replace(target, path)
        _fsync(path.parent)
    except duckdb.Error as error:
        remove_database_files(target)
        raise StoreError(f"cannot rewrite {path}: {first_line(error)}") from None
    except OSError as error:
        remove_database_files(target)
        raise StoreError(f"cannot rewrite {path}: {error.strerror}") from None
    except StoreError:
        remove_database_files(target)
        raise
    finally:
        os.umask(previous)


def _copy_catalog(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Sequences, tables (referenced ones first), their rows, indexes and views of the
    `main` schema of `source`, created in the current database."""
    where = [source]
    for (sql,) in con.execute(
        "SELECT sql FROM duckdb_sequences() WHERE database_name = ? AND NOT temporary", where
    ).fetchall():
        con.execute(sql)
    tables = dict(
        con.execute(
            "SELECT table_name, sql FROM duckdb_tables()"
            " WHERE database_name = ? AND NOT temporary ORDER BY table_name",
            where,
        ).fetchall()
    )
    for table in _referenced_first(con, source, list(tables)):
        con.execute(tables[table])
        con.execute(
            f"INSERT INTO {REBUILD_ALIAS}.main.{_identifier(table)} "
            f"SELECT * FROM {_identifier(source)}.main.{_identifier(table)}"
        )
    for (sql,) in con.execute(
        "SELECT sql FROM duckdb_indexes() WHERE database_name = ? AND sql IS NOT NULL", where
    ).fetchall():
        con.execute(sql)
    views = [
        str(sql)
        for (sql,) in con.execute(
            "SELECT sql FROM duckdb_views() WHERE database_name = ? AND NOT internal"
            " AND NOT temporary ORDER BY view_oid",
            where,
        ).fetchall()
    ]
    _create_views(con, views)


def _referenced_first(con: duckdb.DuckDBPyConnection, source: str, tables: list[str]) -> list[str]:
    """Tables ordered so that each comes after every table its foreign keys point at."""
    edges = con.execute(
        "SELECT table_name, referenced_table FROM duckdb_constraints()"
        " WHERE database_name = ? AND constraint_type = 'FOREIGN KEY'",
        [source],
    ).fetchall()
    needs = {table: {str(ref) for child, ref in edges if child == table} for table in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and needs[t] <= set(ordered)]
        if not ready:
            raise StoreError(
                f"foreign keys form a cycle among {sorted(set(tables) - set(ordered))}"
            )
        ordered.extend(ready)
    return ordered


def _create_views(con: duckdb.DuckDBPyConnection, views: list[str]) -> None:
    """A view binds the views it reads when created; retry until every one resolves."""
    pending = views
    while pending:
        failed: list[str] = []
        last: duckdb.Error | None = None
        for sql in pending:
            try:
                con.execute(sql)
            except duckdb.CatalogException as error:
                failed.append(sql)
                last = error
        if len(failed) == len(pending) and last is not None:
            raise last
        pending = failed


def _current_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    assert row is not None, "current_database() always returns a row"
    return str(row[0])


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to the disk before relying on it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
