"""Whether a `report sql` query only reads, decided on DuckDB's own parse of it.

A keyword check is not enough: `EXPLAIN ANALYZE COPY (SELECT 1) TO 'f'` starts with
EXPLAIN and writes `f`, from a read-only database as well as from an in-memory one over
Parquet (`--from`). So the query is parsed by the same DuckDB that will run it, and:

- it must be exactly one statement, a SELECT (DuckDB parses DESCRIBE, SHOW, SUMMARIZE,
  PIVOT, UNPIVOT, VALUES and FROM-first queries as SELECTs), or EXPLAIN [ANALYZE] of one:
  the statement under EXPLAIN is checked like any other, because ANALYZE runs it;
- the SELECT's whole tree (`json_serialize_sql`: CTEs, subqueries, set operations, lambda
  bodies, PIVOT sources) is walked, and every function call in it is checked: a table
  function must be on `PURE_TABLE_FUNCTIONS`, and no call, wherever it stands, may be one
  of `REFUSED_FUNCTIONS`;
- a table named like a file (`FROM 'x.csv'`) is refused: DuckDB reads such a name as the
  file (a replacement scan);
- a SELECT that DuckDB cannot serialise (`PRAGMA version`, which it rewrites into a
  call of `pragma_version()`) is refused rather than trusted.

Parsing itself runs nothing, with one exception DuckDB makes: `IMPORT DATABASE 'dir'` reads
`dir/schema.sql` while it is parsed (then is refused like any other write).

A PIVOT whose values come from the data (no `IN (...)` list) is the one read that DuckDB
expands into several statements: a hidden `CREATE TEMPORARY TYPE ... AS ENUM (SELECT
DISTINCT ...)` per such column, then the SELECT. These generated statements carry no text
of their own and cannot be serialised, so that query is checked on its tokens instead,
more strictly: every `name(` must be a known, permitted function and no string may name
a file. What this cannot tell apart (a column alias list `t(a, b)`, a string with a dot)
is refused with a hint to list the PIVOT's values.

The check lives in the store because two callers apply it: `report sql`, and the
monitor's live-query server (`live_server`), which runs other processes' queries.

Definitions stored in the database (the store's own `v_*` views) are not the query's and
are not checked. The connection is used to parse (and, for the token check, to list the
functions it knows); nothing in the query is run here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from burnout_tui.errors import UserError

PREFIX = "report sql is read-only"
ALLOWED_TYPES = "give one SELECT (DESCRIBE, SHOW, SUMMARIZE, PIVOT are SELECTs) or EXPLAIN of one"
NOT_PURE = "a table function not known to only read"

PURE_TABLE_FUNCTIONS: frozenset[str] = frozenset(
    {
        # Generate rows from their arguments alone.
        "range",
        "generate_series",
        "unnest",
        "repeat",
        "repeat_row",
        "json_each",
        "json_tree",
        "test_all_types",
        "test_vector_types",
        "pg_timezone_names",
        "icu_calendar_names",
        # Read DuckDB's in-memory catalog and settings of this connection.
        "duckdb_columns",
        "duckdb_constraints",
        "duckdb_databases",
        "duckdb_dependencies",
        "duckdb_functions",
        "duckdb_indexes",
        "duckdb_keywords",
        "duckdb_schemas",
        "duckdb_sequences",
        "duckdb_settings",
        "duckdb_tables",
        "duckdb_types",
        "duckdb_views",
        "duckdb_memory",
        "duckdb_optimizers",
        "pragma_collations",
        "pragma_database_size",
        "pragma_metadata_info",
        "pragma_platform",
        "pragma_show",
        "pragma_storage_info",
        "pragma_table_info",
        "pragma_user_agent",
        "pragma_version",
    }
)
"""Table functions a query may call: an allowlist, so a table function DuckDB gains later
(or an extension adds) is refused until someone decides it only reads. Left out of DuckDB
1.5.5's list on purpose, besides `REFUSED_FUNCTIONS`: the table macros `histogram`,
`histogram_values` and `duckdb_logs_parsed` (they run `query_table` on a name given as
text), `summary`, `seq_scan`, `duckdb_extensions` (lists files under ~/.duckdb),
`duckdb_secrets`/`which_secret` (the secret manager reads ~/.duckdb), the log, profiling,
prepared-statement, file-cache and sample listings (not needed to read the store)."""

_WRITES_DATABASE = "writes the database file"
_CHANGES_LOGGING = "changes DuckDB's logging, which can write files"
_CHANGES_PROFILING = "changes DuckDB's profiling, which can write files"
_RUNS_TEXT = "runs SQL given as text, which cannot be checked before it runs"
_READS_FILES = "reads files or URLs outside the store"
_SCANS_MEMORY = "scans Python memory by address"
REFUSED_FUNCTIONS: Mapping[str, str] = {
    "checkpoint": _WRITES_DATABASE,
    "force_checkpoint": _WRITES_DATABASE,
    "nextval": "advances a sequence, a write to the database",
    "write_log": "writes to DuckDB's log",
    "enable_logging": _CHANGES_LOGGING,
    "disable_logging": _CHANGES_LOGGING,
    "truncate_duckdb_logs": _CHANGES_LOGGING,
    "enable_profiling": _CHANGES_PROFILING,
    "disable_profiling": _CHANGES_PROFILING,
    "query": _RUNS_TEXT,
    "query_table": _RUNS_TEXT,
    "json_execute_serialized_sql": _RUNS_TEXT,
    **dict.fromkeys(
        (
            "read_csv",
            "read_csv_auto",
            "sniff_csv",
            "read_parquet",
            "parquet_scan",
            "parquet_metadata",
            "parquet_schema",
            "parquet_file_metadata",
            "parquet_kv_metadata",
            "parquet_full_metadata",
            "parquet_bloom_probe",
            "read_json",
            "read_json_auto",
            "read_json_objects",
            "read_json_objects_auto",
            "read_ndjson",
            "read_ndjson_auto",
            "read_ndjson_objects",
            "read_text",
            "read_blob",
            "read_duckdb",
            "glob",
        ),
        _READS_FILES,
    ),
    **dict.fromkeys(
        ("arrow_scan", "arrow_scan_dumb", "pandas_scan", "python_map_function"), _SCANS_MEMORY
    ),
}
"""Calls refused wherever they stand, with the reason the refusal gives. DuckDB 1.5.5's
scalar functions with side effects are `nextval` and `write_log` (refused) and `setseed`,
`random`, the uuid functions, `sleep_ms` and `error`, which change nothing outside the
query and are allowed (`setseed` makes `random()` repeatable). Reading functions are
refused too: a report reads the store, and this check does not count on the connection
being locked down as well."""

FILE_LIKE = re.compile(r"[./\\:]")
"""A table name with one of these is a path or URL to DuckDB (a replacement scan reads it);
the store's tables and views have none (a schema is a separate part of the name)."""
_NAME = re.compile(r'"(?:[^"]|"")*"|[^\W\d]\w*')
_STRING = re.compile(r"[eE]'(?:\\.|[^'\\])*'|'(?:[^']|'')*'|\$(\w*)\$.*?\$\1\$", re.DOTALL)
_EXPLAIN_MODIFIERS = frozenset({"analyze", "analyse", "verbose"})
_NAME_TOKENS = (duckdb.token_type.identifier, duckdb.token_type.keyword)
PIVOT_HINT = "list the PIVOT's values (PIVOT ... ON col IN ('a', 'b')) to have it checked in full"


class RefusedQuery(UserError):
    """The query is not (provably) a pure read, or cannot be parsed."""


@dataclass(frozen=True, slots=True)
class _Main:
    """The one statement the query is, and whether DuckDB generated statements around it."""

    kind: str
    generated: bool


def check_read_only(query: str, con: duckdb.DuckDBPyConnection) -> None:
    """Raise `RefusedQuery`, naming what was refused, unless `query` only reads."""
    _check(query, con, under="")


def _check(query: str, con: duckdb.DuckDBPyConnection, under: str) -> None:
    main = _main_statement(query, con)
    if main.kind == "EXPLAIN":
        _check_explained(query, con)
    elif main.kind != "SELECT":
        raise RefusedQuery(f"{PREFIX}: refused {main.kind}{under}; {ALLOWED_TYPES}")
    elif main.generated:
        _check_tokens(query, con)
    else:
        _check_tree(query, con)


def _main_statement(query: str, con: duckdb.DuckDBPyConnection) -> _Main:
    """What the query is, from DuckDB's split of it into statements.

    The check then reads the whole query text, which is what runs, never a statement's own
    `query`: DuckDB rewrites some (PRAGMA into a SELECT) and cuts the generated ones of a
    PIVOT at odd places when another statement follows.
    """
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as error:
        raise RefusedQuery(f"cannot parse the query: {_first_line(error)}") from None
    written = [statement for statement in statements if statement.query]
    generated = [statement for statement in statements if not statement.query]
    count = len(written) + bool(generated)
    if count != 1:
        raise RefusedQuery(f"{PREFIX}: give exactly one statement (got {count})")
    if written:
        return _Main(written[0].type.name, generated=False)
    kinds = [statement.type.name for statement in generated]
    if kinds[-1] != "SELECT" or set(kinds[:-1]) != {"CREATE"}:
        raise RefusedQuery(
            f"{PREFIX}: refused {' + '.join(kinds)} (what DuckDB makes of a PIVOT without IN "
            f"under anything but a SELECT); {PIVOT_HINT}"
        )
    return _Main("SELECT", generated=True)


def _check_explained(text: str, con: duckdb.DuckDBPyConnection) -> None:
    """Check the statement under EXPLAIN [ANALYZE] [VERBOSE] [(options)].

    Where the options group could also be the start of the statement (`EXPLAIN (SELECT
    1)`), both readings are checked, so the one DuckDB takes has passed.
    """
    tokens = _tokens(text)
    index = 1
    modifiers = ["EXPLAIN"]
    while index < len(tokens) and tokens[index][1].lower() in _EXPLAIN_MODIFIERS:
        modifiers.append(tokens[index][1].upper())
        index += 1
    under = f" under {' '.join(modifiers)}"
    starts = [index]
    if index < len(tokens) and tokens[index][1] == "(":
        starts.append(_after_group(tokens, index))
    readings = [text[tokens[start][0] :] for start in starts if start < len(tokens)]
    parsed = 0
    for reading in readings:
        try:
            con.extract_statements(reading)
        except duckdb.Error:
            continue
        parsed += 1
        _check(reading, con, under)
    if parsed == 0:
        raise RefusedQuery(f"{PREFIX}: cannot find the statement{under}")


def _after_group(tokens: list[tuple[int, str]], opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[index][1], 0)
        if depth == 0:
            return index + 1
    return len(tokens)


def _check_tree(text: str, con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    tree: dict[str, Any] = json.loads(row[0]) if row is not None else {"error": True}
    if tree.get("error"):
        detail = tree.get("error_message", "no tree")
        raise RefusedQuery(f"{PREFIX}: cannot check this statement ({detail}); {ALLOWED_TYPES}")
    refusals = dict.fromkeys(_tree_refusals(tree))
    if refusals:
        raise RefusedQuery(f"{PREFIX}: refused {'; '.join(refusals)}")


def _tree_refusals(tree: Any) -> Iterator[str]:
    """What the tree does that a pure read must not, in the order met (iterative: a long
    expression nests deeper than Python's recursion limit)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            table_function = str(node.get("function", {}).get("function_name", "")).lower()
            if table_function not in PURE_TABLE_FUNCTIONS | REFUSED_FUNCTIONS.keys():
                yield f"{table_function}() ({NOT_PURE})"
        elif kind in ("BASE_TABLE", "SHOW_REF") and FILE_LIKE.search(
            str(node.get("table_name", ""))
        ):
            yield f"table {node['table_name']!r} (DuckDB would read it as a file)"
        called = node.get("function_name")
        if isinstance(called, str) and called.lower() in REFUSED_FUNCTIONS:
            yield f"{called.lower()}() ({REFUSED_FUNCTIONS[called.lower()]})"
        stack.extend(reversed(list(node.values())))


def _check_tokens(text: str, con: duckdb.DuckDBPyConnection) -> None:
    """The strict check for a PIVOT without IN lists, which has no tree to walk."""
    kinds = dict(
        con.execute(
            "SELECT function_name, bool_or(function_type IN ('table', 'table_macro')) "
            "FROM duckdb_functions() GROUP BY ALL"
        ).fetchall()
    )
    tokens = _tokens(text)
    for index, (_, word, kind) in enumerate(_typed_tokens(text)):
        if kind == duckdb.token_type.string_const or word.startswith('"'):
            if FILE_LIKE.search(word):
                raise RefusedQuery(f"{PREFIX}: refused {word} in a PIVOT without IN; {PIVOT_HINT}")
            if kind == duckdb.token_type.string_const:
                continue
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if following != "(" or kind not in _NAME_TOKENS:
            continue
        name = _identifier(word)
        if name in REFUSED_FUNCTIONS:
            raise RefusedQuery(f"{PREFIX}: refused {name}() ({REFUSED_FUNCTIONS[name]})")
        if kinds.get(name) and name not in PURE_TABLE_FUNCTIONS:
            raise RefusedQuery(f"{PREFIX}: refused {name}() ({NOT_PURE})")
        if name not in kinds and kind == duckdb.token_type.identifier:
            raise RefusedQuery(
                f"{PREFIX}: cannot check {name}( in a PIVOT without IN; {PIVOT_HINT}"
            )


def _identifier(word: str) -> str:
    if word.startswith('"'):
        return word[1:-1].replace('""', '"').lower()
    return word.lower()


def _typed_tokens(text: str) -> list[tuple[int, str, Any]]:
    """DuckDB's tokens with their text: (offset, text, token type)."""
    spans = duckdb.tokenize(text)
    result = []
    for index, (start, kind) in enumerate(spans):
        end = spans[index + 1][0] if index + 1 < len(spans) else len(text)
        chunk = text[start:end]
        if kind in _NAME_TOKENS:
            match = _NAME.match(chunk)
            word = match.group(0) if match else chunk.strip()
        elif kind == duckdb.token_type.string_const:
            match = _STRING.match(chunk)
            word = match.group(0) if match else chunk.strip()
        else:
            word = chunk.strip()
        result.append((start, word, kind))
    return result


def _tokens(text: str) -> list[tuple[int, str]]:
    return [(start, word) for start, word, _ in _typed_tokens(text)]


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__
