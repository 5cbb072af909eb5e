"""`burnout-tui survey` from a script: stored when valid, refused whole when not."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from burnout_tui.cli import survey
from burnout_tui.config import Config
from burnout_tui.store import surveys as store_surveys
from tests.command_line import assert_one_line_error, run_cli


def test_list_instruments_json() -> None:
    done = run_cli("survey", "--list", "--json")
    assert done.returncode == 0, done.stderr
    ids = {entry["id"] for entry in json.loads(done.stdout)}
    assert {"cbi", "pss10", "mbi", "checkin"} <= ids


def test_pss10_stored_with_scores(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    answers = "2,2,2,2,2,2,2,2,2,2"
    done = run_cli(
        "survey", "--instrument", "pss10", "--user", "ana", "--answers", answers,
        "--db", str(db), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total"] == 20
    assert report["burnout_01"] == 0.5
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute(
        "SELECT u.name, s.instrument, s.total, s.burnout_01, s.answers FROM surveys s"
        " JOIN users u USING (user_id)"
    ).fetchall()
    con.close()
    assert len(row) == 1
    name, instrument, total, burnout, raw = row[0]
    assert (name, instrument, total, burnout) == ("ana", "pss10", 20, 0.5)
    assert json.loads(raw)["q4"] == 2


def test_out_of_range_answer_saves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    done = run_cli("survey", "--instrument", "checkin", "--answers", "3,11,4", "--db", str(db))
    assert_one_line_error(done, "out of range")
    assert not db.exists()


def test_unknown_session_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert (
        run_cli(
            "survey", "--instrument", "checkin", "--answers", "3,3,3", "--db", str(db)
        ).returncode
        == 0
    )
    done = run_cli(
        "survey",
        "--instrument",
        "checkin",
        "--answers",
        "3,3,3",
        "--session",
        "99",
        "--db",
        str(db),
    )
    assert_one_line_error(done, "no session 99")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM surveys").fetchone() == (1,)
    con.close()


def test_a_broken_user_instrument_leaves_the_shipped_ones_working(tmp_path: Path) -> None:
    """`survey --list` and a sitting of a shipped instrument still work; the broken file
    (not UTF-8) is named in one warning line."""
    config_home = tmp_path / "config"
    folder = config_home / "burnout-tui" / "instruments"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_bytes(b'id = "mine"\nname = "Caf\xe9"\n')
    env = {"XDG_CONFIG_HOME": str(config_home)}
    listed = run_cli("survey", "--list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert {"cbi", "pss10", "mbi", "checkin"} <= {
        entry["id"] for entry in json.loads(listed.stdout)
    }
    [warning] = listed.stderr.splitlines()
    assert f"{folder / 'mine.toml'}: not UTF-8" in warning
    db = tmp_path / "s.duckdb"
    done = run_cli(
        "survey", "--instrument", "checkin", "--answers", "3,3,3", "--db", str(db), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "mine.toml" in done.stderr


def test_a_failed_first_sitting_removes_the_database_and_its_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails after writing (here: a write whose close cannot checkpoint, as after
    a fatal I/O error): the file this run created goes, and so does its `.wal`, which would
    otherwise be replayed into the next database created at that path."""

    def failing_record(con: duckdb.DuckDBPyConnection, *args: object, **kwargs: object) -> int:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("INSERT INTO users (name) VALUES ('half-written')")
        raise duckdb.IOException("No space left on device")

    # The command imports the store when it runs (so `--help` stays light): patch it there.
    monkeypatch.setattr(store_surveys, "record_survey", failing_record)
    db = tmp_path / "s.duckdb"
    with pytest.raises(duckdb.IOException):
        survey.survey_command(
            Config().store.encrypt, db, "checkin", "ana", "3,3,3", None, as_json=True
        )
    assert sorted(tmp_path.iterdir()) == []
