"""Opening the DuckDB file: private permissions, schema migrations, readable failures.

The file holds health-related data about named people, so it is readable by its owner
only. DuckDB creates the file itself (an empty pre-created file is rejected as "not a
valid DuckDB database"), hence a private umask around the connect and the first writes,
followed by an explicit chmod that also repairs files created by older versions. The
umask is process-wide, so files other threads create meanwhile are private too, which
errs on the safe side.

Limitation: DuckDB deletes the `.wal` file at every checkpoint and recreates it on the
next write with the process umask. Only a process-wide `os.umask(0o077)`, set once at
start-up, keeps every later WAL private; a library function must not change that for
the whole process, so that is left to the command-line entry point.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from burnout_tui.errors import UserError
from burnout_tui.store.recovery import recover_interrupted
from burnout_tui.store.schema import MIGRATIONS

IN_MEMORY = ":memory:"
PRIVATE_UMASK = 0o077
PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
WAL_SUFFIX = ".wal"

_LOCKED = "Could not set lock on file"
_NOT_DUCKDB = "not a valid DuckDB database file"
_LOCK_HOLDER = re.compile(r"PID (\d+)")


class StoreError(UserError):
    """The database cannot be opened or written; the message names the file and a fix."""


def open_database(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the sessions database, migrated to the current schema.

    DuckDB allows one read-write process per file; a second one fails with a StoreError
    that says so. Within this process, share the returned connection by giving each
    thread its own `con.cursor()`.
    """
    if str(path) == IN_MEMORY:
        con = duckdb.connect(IN_MEMORY)
        migrate(con)
        return con
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for {path}: {error.strerror}") from None
    previous = os.umask(PRIVATE_UMASK)
    try:
        con = _connect(path)
        try:
            migrate(con, path)
            recover_interrupted(con)
        except duckdb.Error as error:
            con.close()
            raise StoreError(f"cannot prepare {path}: {first_line(error)}") from None
        except StoreError:
            con.close()
            raise
    finally:
        os.umask(previous)
    try:
        restrict_permissions(path)
    except StoreError:
        con.close()
        raise
    return con


def restrict_permissions(path: Path) -> None:
    """chmod 0600 the database and its WAL, where they exist."""
    for file in (path, wal_path(path)):
        try:
            os.chmod(file, PRIVATE_MODE)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise StoreError(f"cannot make {file} private: {error.strerror}") from None


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + WAL_SUFFIX)


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as error:
        message = str(error)
        if _LOCKED in message:
            holder = _LOCK_HOLDER.search(message)
            pid = f" (PID {holder.group(1)})" if holder else ""
            raise StoreError(
                f"{path} is in use by another burnout-tui process{pid} (e.g. a running "
                "monitor); stop it or pass --db to use another file"
            ) from None
        if _NOT_DUCKDB in message:
            raise StoreError(
                f"{path} is not a DuckDB database; pass --db to use another file"
            ) from None
        raise StoreError(f"cannot open {path}: {first_line(error)}") from None


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def migrate(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction.

    Returns the versions applied now (empty when the schema is current). DuckDB's DDL is
    transactional, so a failing migration leaves neither tables nor a version row behind;
    applied ones are checkpointed into the file at once (see below).
    """
    where = str(path) if path is not None else "the database"
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if tables and "schema_migrations" not in tables:
        raise StoreError(
            f"{where} is a DuckDB database of another program (it has tables but no "
            "schema_migrations); pass --db to use another file"
        )
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " applied_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'))"
    )
    applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    newest_known = len(MIGRATIONS)
    if applied and max(applied) > newest_known:
        raise StoreError(
            f"{where} has schema version {max(applied)}, newer than this burnout-tui "
            f"understands ({newest_known}); upgrade burnout-tui"
        )
    done: list[int] = []
    for version, sql in enumerate(MIGRATIONS, start=1):
        if version in applied:
            continue
        con.begin()
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version) VALUES (?)", [version])
            con.commit()
        except duckdb.Error:
            con.rollback()
            raise
        done.append(version)
    if done:
        # DuckDB 1.5.5 cannot replay a WAL holding a DROP of a table with a foreign key
        # (migration 5 rebuilds `sessions`): a process killed before its first checkpoint
        # would leave a file no one can open (duckdb/duckdb#25022, #19712). Checkpointing
        # here moves the schema change into the file before any session can start.
        con.execute("CHECKPOINT")
    return done


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
