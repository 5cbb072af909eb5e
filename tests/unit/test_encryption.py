"""Encryption at rest: a stolen database file (and its WAL) gives away nothing without the key.

A store is created with `--encrypt`, filled through the real commands (a survey, an
analysed demo session, all under the name `zzsecretname`) plus a crash that leaves rows
in the WAL only; its bytes are searched for everything a person typed. The same steps
without `--encrypt` find each of those strings, so the search itself is shown to work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from burnout_tui.store import keys
from burnout_tui.store.connect import attach_store
from burnout_tui.store.database import open_database
from burnout_tui.store.file_kind import inspect_store_file
from burnout_tui.store.keys import KEY_ENV, StoreKeyError, database_key
from tests.command_line import assert_one_line_error, run_cli

KEY = "correct horse battery staple"
NAME = "zzsecretname"
WAL_NAME = "zzsecretwal"
PSS10_ANSWERS = "4,0,3,1,4,0,2,3,1,4"
"""Distinctive enough that their stored JSON appears nowhere by chance."""

CRASH_AFTER_WRITE = (
    "import os, sys\n"
    "from burnout_tui.store import open_database, repository\n"
    "con = open_database(sys.argv[1])\n"
    "repository.get_or_create_user(con, sys.argv[2])\n"
    "os._exit(0)\n"
)
"""A write that only reaches the WAL: the process dies before any checkpoint."""


@dataclass(frozen=True)
class Built:
    db: Path
    database: bytes
    wal: bytes
    needles: tuple[bytes, ...]


def build(folder: Path, *extra: str) -> Built:
    """A store filled the way a person fills one, with its bytes taken before any reopen."""
    db = folder / "s.duckdb"
    answered = run_cli(
        "survey", "--instrument", "pss10", "--answers", PSS10_ANSWERS, "--user", NAME,
        "--db", str(db), *extra,
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    analysed = run_cli("analyze", "demo", "--user", NAME, "--db", str(db))
    assert analysed.returncode == 0, analysed.stderr
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_WRITE, str(db), WAL_NAME], capture_output=True
    )
    assert crashed.returncode == 0, crashed.stderr
    wal = db.with_name(db.name + ".wal")
    assert wal.is_file(), "the crash should leave a WAL"
    stored = run_cli("report", "sql", "SELECT answers FROM surveys", "--db", str(db), "--json")
    assert stored.returncode == 0, stored.stderr
    [[answers_json]] = json.loads(stored.stdout)["rows"]
    needles = (NAME.encode(), WAL_NAME.encode(), str(answers_json).encode(), b"pss10")
    return Built(db, db.read_bytes(), wal.read_bytes(), needles)


@pytest.fixture(scope="module")
def with_key() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        yield


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory, with_key: None) -> Built:
    return build(tmp_path_factory.mktemp("encrypted"), "--encrypt")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("plain"))


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.mark.slow
def test_the_search_finds_everything_in_a_plain_store(plain: Built) -> None:
    everything = plain.database + plain.wal
    for needle in plain.needles:
        assert needle in everything, needle
    assert WAL_NAME.encode() in plain.wal


@pytest.mark.slow
def test_encrypted_store_and_wal_hold_none_of_it(encrypted: Built) -> None:
    header = inspect_store_file(encrypted.db)
    assert header is not None and header.encrypted
    for needle in (*encrypted.needles, KEY.encode()):
        assert needle not in encrypted.database, needle
        assert needle not in encrypted.wal, needle


@pytest.mark.slow
def test_encrypted_store_opens_with_its_key(encrypted: Built, with_key: None) -> None:
    done = run_cli(
        "report", "sql", 'SELECT "user", count(*) FROM v_frames GROUP BY ALL',
        "--db", str(encrypted.db), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [[user, frames]] = json.loads(done.stdout)["rows"]
    assert user == NAME and frames > 0
    names = run_cli(
        "report", "sql", "SELECT name FROM users ORDER BY name", "--db", str(encrypted.db)
    )
    assert WAL_NAME in names.stdout, "the crashed write is replayed from the encrypted WAL"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["report", "survey"])
def test_missing_or_wrong_key_is_one_line_and_changes_nothing(
    encrypted: Built, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    args = {
        "report": ("report", "sql", "SELECT 1"),
        "survey": ("survey", "--instrument", "checkin", "--answers", "3,3,3"),
    }[command]
    wal = encrypted.db.with_name(encrypted.db.name + ".wal")
    before = (encrypted.db.read_bytes(), wal.read_bytes() if wal.exists() else b"")
    monkeypatch.delenv(KEY_ENV, raising=False)
    done = run_cli(*args, "--db", str(encrypted.db))
    assert_one_line_error(done, f"no key to open the encrypted database {encrypted.db}")
    monkeypatch.setenv(KEY_ENV, "not the key")
    done = run_cli(*args, "--db", str(encrypted.db))
    assert_one_line_error(done, f"wrong key for the encrypted database {encrypted.db}")
    assert (encrypted.db.read_bytes(), wal.read_bytes() if wal.exists() else b"") == before


@pytest.mark.slow
def test_encrypted_store_is_not_exported(encrypted: Built, with_key: None, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    done = run_cli("export", "--parquet", str(out), "--db", str(encrypted.db))
    assert_one_line_error(done, "is encrypted")
    assert not out.exists()


def test_encrypt_flag_on_a_plain_store_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    open_database(db).close()
    before = db.read_bytes()
    done = run_cli(
        "survey", "--instrument", "checkin", "--answers", "3,3,3", "--db", str(db), "--encrypt"
    )
    assert_one_line_error(done, "is not encrypted")
    assert db.read_bytes() == before


def test_config_creates_encrypted_and_needs_a_key(tmp_path: Path, no_key: None) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[store]\nencrypt = true\n")
    db = tmp_path / "s.duckdb"
    args = ("--config", str(config), "survey", "--instrument", "checkin", "--answers", "3,3,3")
    done = run_cli(*args, "--db", str(db))
    assert_one_line_error(done, f"no key to create the encrypted database {db}")
    assert not db.exists()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        done = run_cli(*args, "--db", str(db))
    assert done.returncode == 0, done.stderr
    header = inspect_store_file(db)
    assert header is not None and header.encrypted


def test_every_cursor_of_an_encrypted_store_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from burnout_tui.store import FrameWriter, store_cursor
    from tests.unit.test_store import count_frames, make_row, new_session

    monkeypatch.setenv(KEY_ENV, KEY)
    con = open_database(tmp_path / "s.duckdb", encrypt=True)
    session_id = new_session(con)
    with FrameWriter(con) as writer:
        writer.put_many(make_row(session_id, i) for i in range(50))
    assert count_frames(store_cursor(con)) == 50
    assert store_cursor(con).execute("SELECT count(*) FROM v_session_metrics").fetchone() == (1,)
    with pytest.raises(duckdb.CatalogException):
        con.cursor().execute("SELECT count(*) FROM frames")
    con.close()


def test_a_wrong_key_leaves_a_direct_attach_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    attach_store(str(db), key=KEY).close()
    before = db.read_bytes()
    with pytest.raises(duckdb.Error, match="Wrong encryption key"):
        attach_store(str(db), key="other")
    assert db.read_bytes() == before


# The key's sources, in order; the prompt and the keyring are stood in for (no terminal and
# no keyring service exist in CI), the database itself is real.


def install_fake_keyring(
    monkeypatch: pytest.MonkeyPatch, entries: dict[tuple[str, str], str]
) -> None:
    module = types.ModuleType("keyring")
    module.get_password = lambda service, user: entries.get((service, user))  # type: ignore[attr-defined]
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = type("KeyringError", (Exception,), {})  # type: ignore[attr-defined]
    module.errors = errors  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    monkeypatch.setenv(KEY_ENV, "from env")
    install_fake_keyring(monkeypatch, {("burnout-tui", str(db.resolve())): "from keyring"})
    assert database_key(db, creating=False) == "from env"


def test_the_keyring_is_read_under_the_absolute_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_key: None
) -> None:
    db = tmp_path / "s.duckdb"
    install_fake_keyring(monkeypatch, {("burnout-tui", str(db.resolve())): "from keyring"})
    assert database_key(db, creating=True) == "from keyring"


def test_a_new_key_is_asked_twice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_key: None
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    monkeypatch.setattr(keys, "_on_a_terminal", lambda: True)
    answers = iter(["typed", "typo"])
    monkeypatch.setattr(keys.getpass, "getpass", lambda prompt, stream: next(answers))
    with pytest.raises(StoreKeyError, match="the two keys differ"):
        database_key(tmp_path / "s.duckdb", creating=True)
    answers = iter(["typed"])
    assert database_key(tmp_path / "s.duckdb", creating=False) == "typed"


def test_no_terminal_no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_key: None) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    monkeypatch.setattr(keys, "_on_a_terminal", lambda: False)
    with pytest.raises(StoreKeyError, match=f"set {KEY_ENV}"):
        database_key(tmp_path / "s.duckdb", creating=False)


@pytest.mark.slow
def test_forget_rewrites_an_encrypted_store_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rewrite that removes a forgotten person's bytes must not decrypt everyone else."""
    monkeypatch.setenv(KEY_ENV, KEY)
    db = tmp_path / "s.duckdb"
    for user in (NAME, "zzstaysencrypted"):
        answered = run_cli(
            "survey", "--instrument", "pss10", "--answers", PSS10_ANSWERS, "--user", user,
            "--db", str(db), "--encrypt",
        )  # fmt: skip
        assert answered.returncode == 0, answered.stderr
    forgot = run_cli("forget", "--user", NAME, "--yes", "--db", str(db))
    assert forgot.returncode == 0, forgot.stderr
    header = inspect_store_file(db)
    assert header is not None and header.encrypted
    assert b"zzstaysencrypted" not in db.read_bytes()
    kept = run_cli("report", "sql", "SELECT name FROM users", "--db", str(db), "--json")
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["rows"] == [["zzstaysencrypted"]]
    monkeypatch.delenv(KEY_ENV)
    refused = run_cli("report", "sql", "SELECT 1", "--db", str(db))
    assert refused.returncode != 0 and "encrypted" in refused.stderr
