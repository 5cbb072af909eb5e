"""`burnout-tui export --parquet` and reading the export back with `report ... --from`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from burnout_tui.emotion_models import DEFAULT_EMOTION_MODEL
from burnout_tui.store import open_database, repository
from burnout_tui.store.track_tables import TRACK_TABLES
from tests.command_line import assert_one_line_error, run_cli
from tests.plugins.test_report_sql import build_demo_db

PRIVATE_DIR_MODE = 0o700
ROUND_TRIP_QUERIES = (
    "SELECT * FROM v_sessions ORDER BY session_id",
    "SELECT * FROM v_frames ORDER BY session_id, frame_index, track_id",
    "SELECT * FROM v_surveys ORDER BY survey_id",
    "SELECT * FROM v_markers ORDER BY session_id, ts",
    "SELECT * FROM v_session_metrics ORDER BY session_id",
    "SELECT * FROM users ORDER BY user_id",
    "SELECT * FROM track_users ORDER BY session_id, track_id",
    "SELECT * FROM v_track_frames ORDER BY session_id, frame_index, track_id",
    "SELECT * FROM v_heart ORDER BY session_id, track_id, ts",
    "SELECT * FROM v_action_cues ORDER BY session_id, frame_index, track_id",
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("export")
    db = build_demo_db(folder / "s.duckdb")
    done = run_cli("analyze", "demo", "--db", str(db), "--user", "bo")
    assert done.returncode == 0, done.stderr
    done = run_cli("analyze", "demo", "--db", str(db), "--user", "bo", "--multi-user")
    assert done.returncode == 0, done.stderr
    out = folder / "parquet"
    done = run_cli("export", "--parquet", str(out), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db, out


def rows(*args: str) -> object:
    done = run_cli("report", "sql", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_layout_is_hive_partitioned_and_private(exported: tuple[Path, Path]) -> None:
    db, out = exported
    with duckdb.connect(str(db), read_only=True) as con:
        filled = [
            table
            for table in TRACK_TABLES
            if (row := con.execute(f"SELECT count(*) FROM {table}").fetchone()) and row[0]
        ]
    assert "frames" in filled
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*filled, "sessions", "surveys", "track_users", "users"]
    )
    assert list((out / "track_users").glob("user=user001/date=*/*.parquet"))
    frame_files = list((out / "frames").glob("user=*/date=*/*.parquet"))
    assert {f.parts[-3] for f in frame_files} == {"user=ana", "user=bo", "user=user001"}
    assert list((out / "surveys").glob("user=ana/date=*/*.parquet"))
    assert out.stat().st_mode & 0o777 == PRIVATE_DIR_MODE
    for file in out.rglob("*.parquet"):
        assert file.stat().st_mode & 0o077 == 0, file
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


def test_heart_rows_are_exported(exported: tuple[Path, Path]) -> None:
    """The demo's heart-rate seconds (withheld: the demo face has no pulse) go out and
    come back with their person, so the v_heart round trip above compares real rows."""
    db, out = exported
    counted = 'SELECT "user", count(*) AS seconds FROM v_heart GROUP BY ALL ORDER BY ALL'
    stored = rows(counted, "--db", str(db))
    assert isinstance(stored, dict) and stored["rows"], "the demo sessions have heart rows"
    assert rows(counted, "--from", str(out)) == stored
    assert list((out / "heart").glob("user=*/date=*/*.parquet"))


@pytest.mark.parametrize("query", ROUND_TRIP_QUERIES)
def test_from_matches_database(exported: tuple[Path, Path], query: str) -> None:
    db, out = exported
    expected = rows(query, "--db", str(db))
    assert rows(query, "--from", str(out)) == expected
    assert rows(query, "--from", f"{out}/**/*.parquet") == expected


def test_from_glob_selects_one_user(exported: tuple[Path, Path]) -> None:
    _, out = exported
    payload = rows(
        'SELECT DISTINCT "user" FROM v_frames', "--from", f"{out}/*/user=bo/**/*.parquet"
    )
    assert payload["rows"] == [["bo"]]  # type: ignore[index]


def test_blendshapes_come_back_as_a_float_array(exported: tuple[Path, Path]) -> None:
    """The demo's faces have a mesh, so `frames.blendshapes` is filled and exported."""
    _, out = exported
    payload = rows(
        "SELECT count(*), min(len(blendshapes)), any_value(typeof(blendshapes)) FROM v_action_cues",
        "--from",
        str(out),
    )
    ((count, length, kind),) = payload["rows"]  # type: ignore[index]
    assert count > 0 and length == 52 and kind == "FLOAT[]"


def test_from_names_multi_user_tracks(exported: tuple[Path, Path]) -> None:
    """`v_track_frames` needs `track_users` in the in-memory database: without it every
    multi-user row would fall back to the session's user."""
    _, out = exported
    payload = rows(
        'SELECT DISTINCT "user" FROM v_track_frames WHERE "user" LIKE \'user%\'',
        "--from",
        str(out),
    )
    assert payload["rows"]  # type: ignore[index]


def test_from_refuses_writes(exported: tuple[Path, Path]) -> None:
    _, out = exported
    done = run_cli("report", "sql", "DELETE FROM markers", "--from", str(out))
    assert_one_line_error(done, "read-only")


def test_from_nothing_matches(tmp_path: Path) -> None:
    done = run_cli("report", "sql", "SELECT 1", "--from", f"{tmp_path}/**/*.parquet")
    assert_one_line_error(done, "no files match")


def test_export_refuses_an_existing_folder(exported: tuple[Path, Path]) -> None:
    db, out = exported
    done = run_cli("export", "--parquet", str(out), "--db", str(db))
    assert_one_line_error(done, "already exists")


def test_export_into_an_empty_folder(exported: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = exported
    target = tmp_path / "empty"
    target.mkdir()
    done = run_cli("export", "--parquet", str(target), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert list(target.rglob("*.parquet"))


def test_frames_are_filed_under_the_person_their_track_is(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    """A named face in bo's multi-user session is ana's: deleting `*/user=ana` must take
    its frames, and `user=bo` must hold none of them."""
    db, _ = exported
    copy = tmp_path / "s.duckdb"
    copy.write_bytes(db.read_bytes())
    con = open_database(copy)
    try:
        [(session_id,)] = con.execute(
            "SELECT DISTINCT session_id FROM track_users ORDER BY session_id"
        ).fetchall()
        [track_id] = repository.track_users(con, session_id)
        repository.assign_track_user(con, session_id, track_id, "ana")
        expected = con.execute(
            "SELECT count(*) FROM frames WHERE session_id = ? AND track_id = ?",
            [session_id, track_id],
        ).fetchall()
    finally:
        con.close()
    out = tmp_path / "parquet"
    done = run_cli("export", "--parquet", str(out), "--db", str(copy))
    assert done.returncode == 0, done.stderr

    def frames_in(user: str) -> list[tuple[object, ...]]:
        return duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{out}/frames/user={user}/**/*.parquet') "
            f"WHERE session_id = {session_id} AND track_id = {track_id}"
        ).fetchall()

    assert expected[0][0] > 0
    assert frames_in("ana") == expected
    assert frames_in("bo") == [(0,)]


def test_export_keeps_each_sessions_emotion_model(exported: tuple[Path, Path]) -> None:
    db, out = exported
    query = "SELECT DISTINCT emotion_model FROM v_sessions WHERE source = 'demo'"
    from_export = rows(query, "--from", str(out))
    assert from_export == rows(query, "--db", str(db))
    assert DEFAULT_EMOTION_MODEL in json.dumps(from_export)
