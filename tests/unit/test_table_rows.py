"""Side tables: any row class goes through the one writer, columns from its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import duckdb
import pyarrow as pa
import pytest

from burnout_tui.store import FrameWriter, StoreError
from burnout_tui.store.table_rows import arrow_schema, rows_to_table
from tests.unit.test_store import count_frames, make_row, new_session


@dataclass(frozen=True, slots=True)
class BeatRow:
    TABLE: ClassVar[str] = "beats"

    session_id: int
    track_id: int
    ts: float
    rate: float | None
    good: bool
    method: str
    shape: tuple[float, ...]


BEATS_TABLE = (
    "CREATE TABLE beats (session_id INTEGER, track_id INTEGER, ts DOUBLE, rate DOUBLE, "
    "good BOOLEAN, method VARCHAR, shape FLOAT[])"
)


def test_schema_follows_the_field_types() -> None:
    schema = arrow_schema(BeatRow)
    assert schema.names == ["session_id", "track_id", "ts", "rate", "good", "method", "shape"]
    assert [field.type for field in schema] == [
        pa.int32(),
        pa.int32(),
        pa.float64(),
        pa.float64(),
        pa.bool_(),
        pa.string(),
        pa.list_(pa.float32()),
    ]
    table = rows_to_table([BeatRow(1, 0, 0.5, None, True, "pos", (0.25, 0.5))])
    assert table.column("rate").null_count == 1


def test_a_class_without_a_table_is_refused() -> None:
    @dataclass(frozen=True)
    class Loose:
        value: float

    with pytest.raises(TypeError, match="not a row class"):
        arrow_schema(Loose)


def test_a_field_type_without_a_column_type_is_refused() -> None:
    @dataclass(frozen=True)
    class Odd:
        TABLE: ClassVar[str] = "odd"
        value: list[int]

    with pytest.raises(TypeError, match=r"Odd\.value"):
        arrow_schema(Odd)


def test_writer_inserts_frames_and_side_rows_in_one_batch(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(BEATS_TABLE)
    session_id = new_session(con)
    with FrameWriter(con) as writer:
        for index in range(3):
            writer.put(make_row(session_id, index))
            writer.put(BeatRow(session_id, 0, index / 30, 60.0 + index, True, "pos", (0.5,)))
        writer.flush()
        assert writer.rows_written == 3
        assert writer.rows_by_table == {"frames": 3, "beats": 3}
    assert count_frames(con) == 3
    rows = con.execute("SELECT rate, good, method, shape FROM beats ORDER BY ts").fetchall()
    assert rows == [
        (60.0, True, "pos", [0.5]),
        (61.0, True, "pos", [0.5]),
        (62.0, True, "pos", [0.5]),
    ]


def test_a_failing_side_table_keeps_the_whole_batch_out(con: duckdb.DuckDBPyConnection) -> None:
    """One transaction per batch: a frame's side rows never appear without its frames rows,
    nor its frames rows without its side rows."""
    session_id = new_session(con)
    writer = FrameWriter(con, flush_interval_s=0.1)
    writer.put(make_row(session_id, 0))
    writer.put(BeatRow(session_id, 0, 0.0, 60.0, True, "pos", ()))
    with pytest.raises(StoreError, match="beats"):
        writer.flush()
    writer.close()
    assert count_frames(con) == 0
