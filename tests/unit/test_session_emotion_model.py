"""Each session records the emotion model that scored it (`v_sessions.emotion_model`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from burnout_tui.config import Config, EmotionConfig
from burnout_tui.emotion_models import EMOTION_MODEL_NAMES, LEGACY_EMOTION_MODEL
from burnout_tui.runtime.pipeline import make_pipeline
from burnout_tui.runtime.runner import SessionRunner
from burnout_tui.sources.demo import DemoSource
from burnout_tui.store import database as database_module
from burnout_tui.store import open_database, repository
from burnout_tui.store.schema import MIGRATIONS

EMOTION_MODEL_MIGRATION = next(
    index for index, sql in enumerate(MIGRATIONS) if "ADD COLUMN emotion_model" in sql
)
"""Position of the migration that adds the column (the lead renumbers on merge)."""


def test_sessions_before_the_column_ran_the_minixception(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "MIGRATIONS", MIGRATIONS[:EMOTION_MODEL_MIGRATION])
    old = open_database(db)
    row = old.execute(
        "INSERT INTO sessions (user_id, source) VALUES (?, 'demo') RETURNING session_id",
        [repository.get_or_create_user(old, "ana")],
    ).fetchone()
    assert row is not None
    old_session = int(row[0])
    old.close()
    monkeypatch.undo()
    con = open_database(db)
    try:
        new_session = repository.start_session(
            con, repository.get_or_create_user(con, "ana"), "demo", "{}", emotion_model="ours-v1"
        )
        rows = con.execute(
            "SELECT session_id, emotion_model FROM v_sessions ORDER BY session_id"
        ).fetchall()
        assert rows == [(old_session, LEGACY_EMOTION_MODEL), (new_session, "ours-v1")]
        columns = [row[0] for row in con.execute("DESCRIBE v_sessions").fetchall()]
        assert columns[-1] == "emotion_model"
    finally:
        con.close()


@pytest.mark.parametrize("model", EMOTION_MODEL_NAMES)
def test_the_runner_writes_the_configured_model(con: duckdb.DuckDBPyConnection, model: str) -> None:
    config = replace(Config(), emotion=EmotionConfig(model=model))
    config = replace(config, mesh=replace(config.mesh, enabled=False))
    pipeline = make_pipeline(config, multi_user=False)
    source = DemoSource(loop=False, seconds=0.2)
    with SessionRunner(con, config, "ana", source.label, pipeline) as runner:
        session = runner.begin()
        frame = runner.read(source.read)
        assert frame is not None
        assert runner.process(frame).faces
        runner.finish("complete")
    assert con.execute(
        "SELECT emotion_model FROM v_sessions WHERE session_id = ?", [session]
    ).fetchall() == [(model,)]
