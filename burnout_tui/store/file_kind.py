"""What an existing `--db` file is, read from its first bytes before DuckDB touches it.

DuckDB opens almost anything: a CSV or JSON path becomes an empty in-memory database
(so `survey` says "saved" and stores nothing), a SQLite file makes it try to install an
extension, and the chmod that follows a successful open would change the user's file.
So the file's kind is decided from its magic bytes first, and anything but a DuckDB file
is refused with a line saying what it is, before anything is written or chmodded.

A DuckDB file starts with its main header (DuckDB's storage docs): an 8-byte checksum,
the magic `DUCK`, the storage version (uint64, little-endian) and four uint64 flags, of
which bit 0 of the first marks an encrypted database. Two database headers follow, so a
shorter file is a truncated one.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from burnout_tui.store.errors import StoreError

DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8
DUCKDB_HEADER = struct.Struct("<8x4sQQ")
"""checksum (skipped), magic, storage version, first flags word."""
ENCRYPTED_FLAG = 1
DUCKDB_HEADER_BLOCK = 4096
DUCKDB_MIN_SIZE = 3 * DUCKDB_HEADER_BLOCK
"""The main header and two database headers, each one block."""

SNIFF_BYTES = 4096
"""Enough of a text file to tell JSON from CSV, and of a binary one for its magic."""

BINARY_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"SQLite format 3\x00", "a SQLite database"),
    (0, b"PAR1", "a Parquet file"),
    (0, b"PARE", "an encrypted Parquet file"),
    (0, b"\x1f\x8b", "a gzip file"),
    (0, b"PK\x03\x04", "a zip archive"),
    (0, b"%PDF", "a PDF document"),
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"RIFF", "a RIFF file (AVI video or WAV audio)"),
    (4, b"ftyp", "an MP4/QuickTime video"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
    (0, b"\x7fELF", "an executable"),
)
"""(offset, magic, what it is) of files someone might pass as --db by mistake."""

CSV_DELIMITERS = (",", ";", "\t")


class NotAStoreError(StoreError):
    """The --db path exists and is not a DuckDB database; nothing was changed."""


@dataclass(frozen=True, slots=True)
class StoreFile:
    """An existing DuckDB file's header, as far as opening it is concerned."""

    path: Path
    encrypted: bool
    storage_version: int


def inspect_store_file(path: Path) -> StoreFile | None:
    """None when `path` does not exist; its header when it is a DuckDB file; else raise.

    Reads at most SNIFF_BYTES and changes nothing (no chmod, no write, not even atime
    beyond the read).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise NotAStoreError(f"cannot inspect {path}: {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise NotAStoreError(f"{path} is a folder, not a DuckDB database file; pass --db FILE")
    if not stat.S_ISREG(info.st_mode):
        raise NotAStoreError(f"{path} is not a regular file, so not a DuckDB database")
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError as error:
        raise NotAStoreError(f"cannot read {path}: {error.strerror}") from None
    if head[DUCKDB_MAGIC_OFFSET : DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC)] == DUCKDB_MAGIC:
        if info.st_size < DUCKDB_MIN_SIZE:
            raise NotAStoreError(
                f"{path} is a truncated DuckDB database ({info.st_size} bytes, less than "
                f"its {DUCKDB_MIN_SIZE}-byte headers); restore it from a backup or pass "
                "--db to use another file"
            )
        _, version, flags = DUCKDB_HEADER.unpack_from(head)
        return StoreFile(path, encrypted=bool(flags & ENCRYPTED_FLAG), storage_version=version)
    raise NotAStoreError(
        f"{path} is {describe(head, info.st_size)}, not a DuckDB database; it was left "
        "unchanged; pass --db with a new file name or an existing burnout-tui database"
    )


def describe(head: bytes, size: int) -> str:
    """What the first bytes of a file that is not a DuckDB database look like."""
    if size == 0:
        return "an empty file"
    for offset, magic, what in BINARY_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return what
    text = _as_text(head)
    if text is None:
        return "a binary file of an unknown kind"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        return "a JSON file"
    first_line = stripped.split("\n", 1)[0]
    if any(delimiter in first_line for delimiter in CSV_DELIMITERS):
        return "a CSV (or other delimited text) file"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """`head` as UTF-8 text, allowing a character cut at the end of the sample."""
    if b"\x00" in head:
        return None
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None
