"""Rows for the background writer: a frozen dataclass per table, columns from its fields.

The writer inserts any row class whose `TABLE` names its table and whose field names are
the table's column names (inserted `BY NAME`, so column order never matters). The Arrow
schema of each batch is derived from the field types, so a new table needs no insert code:
int → INTEGER, float → DOUBLE, bool → BOOLEAN, str → VARCHAR, `tuple[float, ...]` →
FLOAT[] (e.g. a model's whole output vector), each nullable when declared `| None`.
"""

from __future__ import annotations

import functools
import types
from dataclasses import fields, is_dataclass
from typing import Any, ClassVar, Protocol, Union, get_args, get_origin, get_type_hints

import pyarrow as pa

_SCALAR_TYPES: dict[type, pa.DataType] = {
    bool: pa.bool_(),
    int: pa.int32(),
    float: pa.float64(),
    str: pa.string(),
}
"""bool before int: a bool is an int to Python, not to the table."""

_VECTOR_TYPE = pa.list_(pa.float32())
"""A per-face vector (a model's output) is stored at the model's own float32 precision."""


class TableRow(Protocol):
    """A row the writer can insert: a frozen dataclass with a `TABLE` class attribute."""

    TABLE: ClassVar[str]


def _arrow_type(owner: type, name: str, hint: Any) -> pa.DataType:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        kinds = [kind for kind in get_args(hint) if kind is not type(None)]
        if len(kinds) == 1:
            return _arrow_type(owner, name, kinds[0])
    elif origin is tuple and get_args(hint) == (float, Ellipsis):
        return _VECTOR_TYPE
    elif isinstance(hint, type) and hint in _SCALAR_TYPES:
        return _SCALAR_TYPES[hint]
    raise TypeError(f"{owner.__name__}.{name}: no column type for {hint!r}")


@functools.cache
def arrow_schema(row_type: type) -> pa.Schema:
    """The Arrow schema of a batch of `row_type`, one column per field, in field order."""
    if not is_dataclass(row_type) or not isinstance(getattr(row_type, "TABLE", None), str):
        raise TypeError(f"{row_type.__name__} is not a row class (a dataclass with TABLE)")
    hints = get_type_hints(row_type)
    return pa.schema(
        pa.field(field.name, _arrow_type(row_type, field.name, hints[field.name]))
        for field in fields(row_type)
    )


def rows_to_table(rows: list[Any]) -> pa.Table:
    """One Arrow table from rows that are all of one row class."""
    row_type: type = type(rows[0])
    schema = arrow_schema(row_type)
    columns = {name: [getattr(row, name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
