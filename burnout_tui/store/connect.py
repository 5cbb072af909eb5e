"""The one place the product opens DuckDB connections, so none of them can reach the network.

DuckDB installs and loads "known" extensions on demand by default: a `--db` that names a
SQLite file makes it download `sqlite_scanner`, a query that reads an `https://` URL
downloads `httpfs`, both over plain http. `NO_NETWORK` turns that off at connect time,
before any statement runs. `seal` then goes further for connections that must read
nothing but what they were opened on (reports): no file, URL or extension outside the
given paths, and a locked configuration so a query cannot turn it back on.

Every store is ATTACHed (as `STORE_CATALOG`) to an in-memory connection, encrypted or
not, because DuckDB 1.5 can open an encrypted file only through ATTACH: one open path
for both kinds, so the unencrypted tests exercise what the encrypted store relies on.
Its price is that `con.cursor()` starts on the in-memory default catalog (`USE` is per
connection and no setting changes the default of new ones), hence `store_cursor`, which
every thread uses instead of `con.cursor()`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from burnout_tui.errors import UserError

NO_NETWORK: Mapping[str, bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
"""Connect-time settings of every connection: never fetch or load an extension unasked."""

IN_MEMORY = ":memory:"
STORE_CATALOG = "store"
"""The name the store is attached under, in every connection the product opens."""

HTTPFS_PACKAGE = "duckdb_extension_httpfs"
HTTPFS_FILE = "httpfs.duckdb_extension"
"""DuckDB writes encrypted files only with httpfs's crypto (its built-in one can only read),
so the extension is loaded by path from the `duckdb-extension-httpfs` wheel: never
downloaded, and pinned to the same version as DuckDB itself."""


class ExtensionError(UserError):
    """An extension the store needs is not installed; the message says which package."""


def connect_memory() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with extension auto-install and auto-load off."""
    return duckdb.connect(IN_MEMORY, config=dict(NO_NETWORK))  # noqa: TID251 (the one place)


def attach_store(
    database: str, *, read_only: bool = False, key: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with `database` (a path or `:memory:`) attached and in use.

    With `key` the file is (or becomes) encrypted: httpfs is loaded for its crypto and
    DuckDB's temporary files are encrypted too. DuckDB's own errors (lock held, wrong key,
    damaged file) propagate for the caller to word.
    """
    con = connect_memory()
    try:
        options: list[str] = []
        if key is not None:
            con.execute(f"LOAD {sql_string(str(httpfs_extension()))}")
            con.execute("SET temp_file_encryption = true")
            options.append(f"ENCRYPTION_KEY {sql_string(key)}")
        if read_only:
            options.append("READ_ONLY")
        suffix = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH {sql_string(database)} AS {STORE_CATALOG}{suffix}")
        con.execute(f"USE {STORE_CATALOG}")
    except BaseException:
        con.close()
        raise
    return con


def store_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`con.cursor()` on the store's catalog: what every thread must use to reach the store.

    A bare `con.cursor()` starts on the in-memory default catalog, where the store's
    tables do not exist ("Table with name frames does not exist").
    """
    cursor = con.cursor()
    cursor.execute(f"USE {STORE_CATALOG}")
    return cursor


def seal(con: duckdb.DuckDBPyConnection, allowed_paths: Iterable[str] = ()) -> None:
    """Forbid files, URLs and extensions beyond `allowed_paths`, for good.

    What is already attached stays readable. `allowed_paths` must be spelled exactly as
    the queries spell them (DuckDB compares the strings); a COPY onto one of them is
    still refused, because DuckDB writes a `tmp_` file beside it first.
    """
    paths = list(allowed_paths)
    if paths:
        con.execute(f"SET allowed_paths = [{', '.join(sql_string(path) for path in paths)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def httpfs_extension() -> Path:
    """The httpfs extension file shipped by the wheel for this DuckDB version."""
    version = duckdb.__version__
    install = f"pip install duckdb-extension-httpfs=={version}"
    spec = importlib.util.find_spec(HTTPFS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(f"encrypted databases need the httpfs extension: {install}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "extensions" / f"v{version}" / HTTPFS_FILE
        if path.is_file():
            return path
    raise ExtensionError(
        f"the installed duckdb-extension-httpfs does not match DuckDB {version}: {install}"
    )


def sql_string(text: str) -> str:
    """A SQL string literal; for statements that take no parameters (ATTACH, SET, LOAD)."""
    return "'" + text.replace("'", "''") + "'"
