"""Getting data out of the store without getting in the way of the monitor.

Three ways out, all read-only towards the database file:

- `open_read_only` opens the file with DuckDB's `read_only=True`, for reports, sealed:
  no other file, URL or extension can be reached from it (`store.connect.seal`). DuckDB
  lets no other process open a file, even to read, while one process has it open for
  writing, so a running monitor makes this fail; the error says so and what to do.
- `export_parquet` copies every table to hive-partitioned Parquet
  (`DIR/<table>/user=<name>/date=<YYYY-MM-DD>/*.parquet`), which Spark, pandas, Polars
  and DuckDB read directly, and which can be analysed while a monitor keeps writing.
- `open_parquet` turns such an export back into an in-memory database whose tables and
  `v_*` views look exactly like the store's, so every report runs on it unchanged.

An encrypted store is not exported (`open_for_export` refuses it): DuckDB 1.5 can write
encrypted Parquet (`ENCRYPTION_CONFIG`, measured to read back with the key), but the
hive folder names (`user=ana/date=…`) would still name every person and day in the clear.

Partition values are URL-encoded by DuckDB (`user=ana%20b`) and decoded again on read.
`date` is the UTC date the session started (for surveys: the date it was taken), so a
session that runs past midnight stays in one folder.

Each row lies in the folder of the person it belongs to, so that deleting
`DIR/*/user=NAME` removes every row of NAME and no one else's frames: a frame under
the person its track is mapped to (`coalesce(track user, session user)`, as in
`v_track_frames`), so a named face in someone else's multi-user session is filed under
its own name; `track_users` under the person the track is; sessions and markers (notes
typed during a session) under the session's user; surveys and calibrations under theirs;
`users` by name only.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from burnout_tui.errors import UserError
from burnout_tui.store import StoreError, open_database
from burnout_tui.store.connect import IN_MEMORY, attach_store, seal
from burnout_tui.store.database import connect_file, first_line, migrate
from burnout_tui.store.file_kind import inspect_store_file
from burnout_tui.store.keys import database_key
from burnout_tui.store.track_tables import TRACK_TABLES

PARQUET_SUFFIX = ".parquet"
PARTIAL_SUFFIX = ".partial"
PARTITION_TYPES: dict[str, str] = {"user": "VARCHAR", "date": "DATE"}
"""Hive partition columns and their types; given explicitly, or a user named `123` or a
folder of one user would make DuckDB guess INTEGER."""


@dataclass(frozen=True, slots=True)
class ExportedTable:
    name: str
    query: str
    """Rows to write, with the partition columns `user` (and `date`) added."""
    partitions: tuple[str, ...]


def _track_table(table: str) -> ExportedTable:
    """A per-face table, partitioned by the person each row belongs to (its track's, else
    its session's, as `v_track_frames` says) and the session's date."""
    return ExportedTable(
        table,
        'SELECT f.*, coalesce(tu.name, su.name) AS "user", CAST(s.started_at AS DATE) AS "date" '
        f"FROM {table} AS f JOIN sessions AS s USING (session_id) "
        "JOIN users AS su ON su.user_id = s.user_id "
        "LEFT JOIN track_users AS t ON t.session_id = f.session_id AND t.track_id = f.track_id "
        "LEFT JOIN users AS tu ON tu.user_id = t.user_id",
        ("user", "date"),
    )


EXPORTED_TABLES: tuple[ExportedTable, ...] = (
    ExportedTable("users", 'SELECT *, name AS "user" FROM users', ("user",)),
    ExportedTable(
        "sessions",
        'SELECT s.*, u.name AS "user", CAST(s.started_at AS DATE) AS "date" '
        "FROM sessions AS s JOIN users AS u USING (user_id)",
        ("user", "date"),
    ),
    *(_track_table(table) for table in TRACK_TABLES),
    ExportedTable(
        "markers",
        'SELECT m.*, u.name AS "user", CAST(s.started_at AS DATE) AS "date" '
        "FROM markers AS m JOIN sessions AS s USING (session_id) JOIN users AS u USING (user_id)",
        ("user", "date"),
    ),
    ExportedTable(
        "surveys",
        'SELECT v.*, u.name AS "user", CAST(v.taken_at AS DATE) AS "date" '
        "FROM surveys AS v JOIN users AS u USING (user_id)",
        ("user", "date"),
    ),
    ExportedTable(
        "track_users",
        'SELECT t.*, u.name AS "user", CAST(s.started_at AS DATE) AS "date" '
        "FROM track_users AS t JOIN sessions AS s USING (session_id) "
        "JOIN users AS u ON u.user_id = t.user_id",
        ("user", "date"),
    ),
    ExportedTable(
        "calibrations",
        'SELECT c.*, u.name AS "user", CAST(c.created_at AS DATE) AS "date" '
        "FROM calibrations AS c JOIN users AS u USING (user_id)",
        ("user", "date"),
    ),
)
TABLE_NAMES: tuple[str, ...] = tuple(table.name for table in EXPORTED_TABLES)
DROP_ORDER: tuple[str, ...] = (
    *TRACK_TABLES,
    "markers",
    "surveys",
    "track_users",
    "calibrations",
    "sessions",
    "users",
)
"""Children before `users`, which the others reference by foreign key."""


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the store for reading, sealed (see `store.connect.seal`), for reports.

    Nothing but the database itself can be read through the connection, so a report or
    a `report sql` query cannot reach another file, a URL or an extension.
    """
    con = _open_current(path)
    try:
        seal(con)
    except BaseException:
        con.close()
        raise
    return con


def open_for_export(path: Path, *, encrypt: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store read-only for `export_parquet`, which writes files, so unsealed.

    An encrypted store is refused, its export would be names and rows in the clear; so is
    any store when `encrypt` (--encrypt, store.encrypt) asks for encryption, which the
    export could not honour.
    """
    if encrypt:
        raise StoreError(
            "export writes unencrypted Parquet, so it does not run with --encrypt or "
            "store.encrypt = true"
        )
    existing = inspect_store_file(path.expanduser())
    if existing is not None and existing.encrypted:
        raise StoreError(
            f"{path} is encrypted and export writes unencrypted Parquet whose folder names "
            "name each person; query it with `report` instead, which reads it in place"
        )
    return _open_current(path)


def _open_current(path: Path) -> duckdb.DuckDBPyConnection:
    """The store opened read-only; a database from an older version is migrated first.

    A read-only connection cannot migrate, and reports rely on the `v_*` views of the
    current schema, so an outdated file is opened read-write once (exactly what any
    other command would do to it) and then reopened read-only.
    """
    path = path.expanduser()
    existing = inspect_store_file(path)
    if existing is None:
        raise StoreError(f"no database at {path}; pass --db (or --from an export)")
    key = database_key(path, creating=False) if existing.encrypted else None
    con = connect_file(path, key=key, read_only=True)
    if not _is_current(con):
        con.close()
        open_database(path, key=key).close()
        con = connect_file(path, key=key, read_only=True)
    return con


def _is_current(con: duckdb.DuckDBPyConnection) -> bool:
    from burnout_tui.store import MIGRATIONS

    tracked = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE table_name = 'schema_migrations' AND database_name = current_database()"
    ).fetchone()
    if not tracked or not tracked[0]:
        return False
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return row is not None and int(row[0]) == len(MIGRATIONS)


def export_parquet(con: duckdb.DuckDBPyConnection, dest: Path) -> dict[str, int]:
    """Write every table under `dest`, returning the number of rows written per table.

    Everything is written to a private temporary folder beside `dest` and renamed into
    place at the end, so an interrupted export never leaves a half-written `dest` that
    a later `--from` would silently read as complete.
    """
    dest = dest.expanduser()
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise UserError(f"{dest} already exists; choose a new folder or remove it first")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=PARTIAL_SUFFIX, dir=dest.parent)
        )
    except OSError as error:
        raise UserError(f"cannot write beside {dest}: {error.strerror}") from None
    try:
        counts = {table.name: _copy_table(con, table, staging) for table in EXPORTED_TABLES}
        if dest.exists():
            dest.rmdir()
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def _copy_table(con: duckdb.DuckDBPyConnection, table: ExportedTable, staging: Path) -> int:
    row = con.execute(f"SELECT count(*) FROM ({table.query})").fetchone()
    count = int(row[0]) if row else 0
    if count:
        partitions = ", ".join(f'"{name}"' for name in table.partitions)
        target = _sql_string(str(staging / table.name))
        con.execute(
            f"COPY ({table.query}) TO {target} (FORMAT PARQUET, PARTITION_BY ({partitions}))"
        )
    return count


def open_parquet(pattern: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database over a Parquet export, shaped like the store.

    `pattern` is the export folder or a glob inside it (`DIR/**/*.parquet`, or
    `DIR/**/user=ana/**/*.parquet` for one person). Each file belongs to the table named
    by its nearest enclosing folder named for a table (`TABLE_NAMES`: `users`,
    `sessions`, `frames`, `markers`, …); other files are ignored. Each table
    becomes a view with the store's columns and types (a column missing from an older
    export reads as NULL), and a table with no files stays empty, so the `v_*` views and
    every report work as on the database. The connection is sealed to exactly these
    files (DuckDB's `allowed_paths`), so a query reads nothing else.
    """
    files = _expand(pattern)
    by_table: dict[str, list[str]] = {}
    for file in files:
        owner = _table_of(Path(file))
        if owner is not None:
            by_table.setdefault(owner, []).append(file)
    if not by_table:
        folders = ", ".join(f"{name}/" for name in TABLE_NAMES)
        raise UserError(f"no Parquet files under {folders} match {pattern}")
    con = attach_store(IN_MEMORY)
    try:
        migrate(con)
        columns = {name: _columns(con, name) for name in TABLE_NAMES}
        for name in DROP_ORDER:
            con.execute(f"DROP TABLE {name}")
        for table in EXPORTED_TABLES:
            con.execute(
                f"CREATE VIEW {table.name} AS "
                + _view_query(
                    con, columns[table.name], by_table.get(table.name, []), table.partitions
                )
            )
        seal(con, allowed_paths=[file for files in by_table.values() for file in files])
    except BaseException:
        con.close()
        raise
    return con


def _expand(pattern: str) -> list[str]:
    root = Path(pattern).expanduser()
    if root.is_dir():
        return sorted(glob.glob(str(root / "**" / f"*{PARQUET_SUFFIX}"), recursive=True))
    files = sorted(glob.glob(str(root), recursive=True))
    if not files:
        raise UserError(f"no files match {pattern}")
    return [file for file in files if file.endswith(PARQUET_SUFFIX)]


def _table_of(file: Path) -> str | None:
    for folder in reversed(file.parent.parts):
        if folder in TABLE_NAMES:
            return folder
    return None


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(data_type))
        for name, data_type in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE table_name = ? AND database_name = current_database() ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _view_query(
    con: duckdb.DuckDBPyConnection,
    columns: list[tuple[str, str]],
    files: list[str],
    partitions: tuple[str, ...],
) -> str:
    if not files:
        nulls = ", ".join(f'CAST(NULL AS {data_type}) AS "{name}"' for name, data_type in columns)
        return f"SELECT {nulls} WHERE false"
    hive_types = ", ".join(f"'{name}': '{PARTITION_TYPES[name]}'" for name in partitions)
    source = (
        f"read_parquet([{', '.join(_sql_string(file) for file in files)}], "
        f"hive_partitioning = true, hive_types = {{{hive_types}}})"
    )
    present = _parquet_columns(con, source)
    selected = ", ".join(
        f'CAST("{name}" AS {data_type}) AS "{name}"'
        if name in present
        else f'CAST(NULL AS {data_type}) AS "{name}"'
        for name, data_type in columns
    )
    return f"SELECT {selected} FROM {source}"


def _parquet_columns(con: duckdb.DuckDBPyConnection, source: str) -> set[str]:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as error:
        raise UserError(f"cannot read the Parquet export: {first_line(error)}") from None
    return {str(row[0]) for row in described}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
