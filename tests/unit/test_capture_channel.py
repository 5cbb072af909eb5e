"""What crosses the pipes between the monitor's UI and its capture process, without one."""

from __future__ import annotations

import pickle
from pathlib import Path

import duckdb
import pytest

from burnout_tui.config import Config
from burnout_tui.errors import UserError
from burnout_tui.runtime.capture_child import CRASH_ENV, crash_hook, one_line, portable
from burnout_tui.runtime.capture_messages import CaptureSettings, Query, Request
from burnout_tui.sources import parse_source
from burnout_tui.store import StoreError


class NeedsTwo(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_a_request_for_a_query_pickles_its_function_by_name() -> None:
    request = Request(7, Query(one_line, (ValueError("x"),)))
    back = pickle.loads(pickle.dumps(request))
    assert isinstance(back.command, Query) and back.command.function is one_line
    assert back.command.function(*back.command.args) == "ValueError: x"


def test_errors_go_back_as_themselves_or_as_their_one_line() -> None:
    stored = StoreError("disk full")
    assert portable(stored) is stored
    unpicklable = portable(NeedsTwo("rename", "blank"))
    assert type(unpicklable) is RuntimeError and str(unpicklable) == "NeedsTwo: rename: blank"


def test_the_crash_hook_is_off_unless_asked_and_refuses_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = CaptureSettings(parse_source("demo"), Config(), tmp_path / "s.duckdb", "ana")
    con = duckdb.connect()
    try:
        monkeypatch.delenv(CRASH_ENV, raising=False)
        assert crash_hook(settings, con, None) is None
        monkeypatch.setenv(CRASH_ENV, "soon")
        with pytest.raises(UserError, match="after:N"):
            crash_hook(settings, con, None)
    finally:
        con.close()
