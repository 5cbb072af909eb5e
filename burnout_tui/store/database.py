"""Opening the DuckDB file: private permissions, schema migrations, readable failures.

The file holds health-related data about named people, so it is readable by its owner
only. DuckDB creates the file itself (an empty pre-created file is rejected as "not a
valid DuckDB database"), hence a private umask around the connect and the first writes,
followed by an explicit chmod that also repairs files created by older versions. The
umask is process-wide, so files other threads create meanwhile are private too, which
errs on the safe side.

Before DuckDB sees an existing path, its first bytes must say it is a DuckDB file
(`file_kind`), so nothing else is opened, written or chmodded; its header also says
whether it is encrypted, and then the key is looked up (`keys`). Failures DuckDB reports
later, from a damaged block, become one line through `storage_failure`.

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

from burnout_tui.file_modes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, PRIVATE_UMASK
from burnout_tui.store.connect import IN_MEMORY, attach_store
from burnout_tui.store.errors import StoreError as StoreError
from burnout_tui.store.errors import StoreLockedError
from burnout_tui.store.file_kind import inspect_store_file
from burnout_tui.store.keys import StoreKeyError, database_key
from burnout_tui.store.recovery import recover_interrupted
from burnout_tui.store.schema import MIGRATIONS

WAL_SUFFIX = ".wal"

_LOCKED = "Could not set lock on file"
_NOT_DUCKDB = "not a valid DuckDB database file"
_WRONG_KEY = "Wrong encryption key"
_NO_KEY = "without a key"
_CORRUPT = "Corrupt database file"
_SHORT = "Could not read enough bytes"
_TRUNCATED_DETAIL = "truncated: it ends before a block DuckDB needs"
_LOCK_HOLDER = re.compile(r"PID (\d+)")


def open_database(
    path: Path | str, *, encrypt: bool = False, key: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the sessions database, migrated to the current schema.

    An existing file must be a DuckDB database (see `file_kind`); anything else is
    refused before it is touched. A new file is encrypted when `encrypt` is true; an
    existing one is opened encrypted or not as its header says, with `key` or the key
    from `keys.database_key`, and `encrypt` on an unencrypted file is refused rather than
    writing health data in the clear (there is no silent conversion).

    DuckDB allows one read-write process per file; a second one fails with a StoreError
    that says so. Within this process, share the returned connection by giving each
    thread its own `store_cursor(con)` (not `con.cursor()`, which misses the store).
    """
    if str(path) == IN_MEMORY:
        con = attach_store(IN_MEMORY)
        migrate(con)
        return con
    path = Path(path).expanduser()
    existing = inspect_store_file(path)
    if existing is not None and encrypt and not existing.encrypted:
        raise StoreError(
            f"{path} is not encrypted, and --encrypt (or store.encrypt) only applies when "
            "a database is created; pass --db with a new file to start an encrypted one"
        )
    encrypted = existing.encrypted if existing is not None else encrypt
    if encrypted and key is None:
        key = database_key(path, creating=existing is None)
    try:
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the folder for {path}: {error.strerror}") from None
    previous = os.umask(PRIVATE_UMASK)
    try:
        con = connect_file(path, key=key if encrypted else None)
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
            os.chmod(file, PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise StoreError(f"cannot make {file} private: {error.strerror}") from None


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + WAL_SUFFIX)


def remove_database_files(path: Path) -> None:
    """Delete a database file and its write-ahead log, whichever exist.

    The one way a command discards a database it created and then failed to fill: a close
    that could not checkpoint (a fatal error, an interrupted write) leaves rows in the
    `.wal`, which would otherwise be replayed into the next database created at `path`.
    The connection must be closed first."""
    for file in (path, wal_path(path)):
        file.unlink(missing_ok=True)


def connect_file(
    path: Path, *, key: str | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Attach the DuckDB file at `path`, turning DuckDB's failures into one StoreError line."""
    try:
        return attach_store(str(path), read_only=read_only, key=key)
    except duckdb.Error as error:
        message = str(error)
        if _LOCKED in message:
            holder = _LOCK_HOLDER.search(message)
            pid = f" (PID {holder.group(1)})" if holder else ""
            if read_only:
                raise StoreLockedError(
                    f"{path} is open for writing by another process{pid}, e.g. a running "
                    "monitor, and DuckDB lets no other process read it meanwhile; stop that "
                    "process and retry (or export it to Parquet while stopped and use --from)"
                ) from None
            raise StoreError(
                f"{path} is in use by another burnout-tui process{pid} (e.g. a running "
                "monitor); stop it or pass --db to use another file"
            ) from None
        if _WRONG_KEY in message:
            raise StoreKeyError(f"wrong key for the encrypted database {path}") from None
        if _NO_KEY in message:
            raise StoreKeyError(f"{path} is encrypted and no key was given") from None
        if _NOT_DUCKDB in message:
            raise StoreError(
                f"{path} is not a DuckDB database; pass --db to use another file"
            ) from None
        damaged = _damage(path, message)
        if damaged is not None:
            raise damaged from None
        raise StoreError(f"cannot open {path}: {first_line(error)}") from None


def _damage(path: Path | None, message: str) -> StoreError | None:
    """The damaged-file line when DuckDB's message says so (checksum or short read)."""
    if _CORRUPT in message:
        detail = next(line for line in message.splitlines() if _CORRUPT in line)
        detail = detail[detail.index(_CORRUPT) :]
    elif _SHORT in message:
        detail = _TRUNCATED_DETAIL
    else:
        return None
    where = str(path) if path is not None else "the database"
    return StoreError(
        f"{where} is damaged ({detail}); restore it from a backup or pass --db to use another file"
    )


def storage_failure(error: BaseException, path: Path | None) -> StoreError | None:
    """The one line for a DuckDB error that means the file itself failed, else None.

    A damaged file often opens fine and fails later, on the first read of a broken block
    (IOException, or a FatalException / TransactionException wrapping it), anywhere a
    query runs; the command line turns such errors into this line instead of a traceback.
    Other DuckDB errors are bugs and keep their traceback.
    """
    if not isinstance(error, duckdb.Error):
        return None
    damaged = _damage(path, str(error))
    if damaged is not None:
        return damaged
    where = str(path) if path is not None else "the database"
    if isinstance(error, duckdb.IOException | duckdb.FatalException):
        return StoreError(f"cannot read or write {where}: {first_line(error)}")
    return None


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def migrate(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction.

    Returns the versions applied now (empty when the schema is current). DuckDB's DDL is
    transactional, so a failing migration leaves neither tables nor a version row behind;
    applied ones are checkpointed into the file at once (see below).
    """
    where = str(path) if path is not None else "the database"
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
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
