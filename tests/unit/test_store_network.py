"""DuckDB never fetches extensions, and report connections reach nothing but their data.

DuckDB's extension downloads happen in C++, out of reach of a Python socket guard; what
shows them is their trace: the download error in the message and the extension folder
DuckDB creates under $HOME before downloading. Both runs below start from an empty HOME.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from burnout_tui.export import export_parquet, open_for_export, open_parquet, open_read_only
from burnout_tui.store import open_database, repository, store_cursor
from burnout_tui.store.connect import connect_memory, httpfs_extension, sql_string
from tests.command_line import assert_one_line_error, run_cli

URL_QUERY = "SELECT * FROM 'https://example.com/x.csv'"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME, inherited by the CLI subprocesses."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


def assert_no_extension_folder(home: Path) -> None:
    assert not (home / ".duckdb").exists(), "DuckDB prepared an extension download"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("net") / "s.duckdb"
    con = open_database(path)
    user_id = repository.get_or_create_user(con, "ana")
    repository.start_session(con, user_id, "demo", "{}")
    con.close()
    return path


@pytest.fixture(scope="module")
def export(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("netexport") / "parquet"
    con = open_for_export(store)
    export_parquet(con, out)
    con.close()
    return out


def test_sqlite_file_is_named_not_downloaded_for(tmp_path: Path, home: Path) -> None:
    import sqlite3

    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.commit()
    done = run_cli("survey", "--instrument", "checkin", "--answers", "3,3,3", "--db", str(db))
    assert_one_line_error(done, "is a SQLite database")
    assert "download" not in done.stderr
    assert_no_extension_folder(home)


@pytest.mark.parametrize("source", ["--db", "--from"])
def test_url_query_is_refused_not_downloaded_for(
    store: Path, export: Path, home: Path, source: str
) -> None:
    target = store if source == "--db" else export
    done = run_cli("report", "sql", URL_QUERY, source, str(target))
    assert_one_line_error(done, "")
    assert "install" not in done.stderr and "download" not in done.stderr
    assert_no_extension_folder(home)


def test_plain_connections_do_not_autoinstall(home: Path) -> None:
    con = connect_memory()
    with pytest.raises(duckdb.Error, match="requires the extension httpfs to be loaded"):
        con.execute(URL_QUERY)
    con.close()
    assert_no_extension_folder(home)


Opener = Callable[[Path, Path], duckdb.DuckDBPyConnection]
OPENERS: dict[str, Opener] = {
    "open_database": lambda store, export: open_database(store),
    "open_database memory": lambda store, export: open_database(":memory:"),
    "open_read_only": lambda store, export: open_read_only(store),
    "open_for_export": lambda store, export: open_for_export(store),
    "open_parquet": lambda store, export: open_parquet(str(export)),
    "connect_memory": lambda store, export: connect_memory(),
}


@pytest.fixture(params=list(OPENERS))
def product_connection(
    request: pytest.FixtureRequest, store: Path, export: Path
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = OPENERS[request.param](store, export)
    yield con
    con.close()


def test_every_connection_has_autoloading_off(
    product_connection: duckdb.DuckDBPyConnection,
) -> None:
    for setting in ("autoinstall_known_extensions", "autoload_known_extensions"):
        row = product_connection.execute("SELECT current_setting(?)", [setting]).fetchone()
        assert row == (False,), setting


@pytest.fixture(params=["open_read_only", "open_parquet"])
def sealed(
    request: pytest.FixtureRequest, store: Path, export: Path
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = OPENERS[request.param](store, export)
    yield con
    con.close()


def test_report_connections_read_only_their_data(
    sealed: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    assert sealed.execute('SELECT "user" FROM v_sessions').fetchall() == [("ana",)]
    assert store_cursor(sealed).execute("SELECT count(*) FROM v_sessions").fetchone() == (1,)
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    for statement in (
        f"SELECT * FROM read_csv({sql_string(str(other))})",
        f"COPY (SELECT 1) TO {sql_string(str(tmp_path / 'out.csv'))}",
        f"LOAD {sql_string(str(httpfs_extension()))}",
        f"ATTACH {sql_string(str(tmp_path / 'new.duckdb'))} AS other",
    ):
        with pytest.raises(duckdb.PermissionException):
            sealed.execute(statement)
    with pytest.raises(duckdb.Error, match="locked"):
        sealed.execute("SET enable_external_access = true")
    assert sorted(os.listdir(tmp_path)) == ["other.csv"]
