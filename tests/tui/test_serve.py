"""`monitor --serve` answers the person at the keyboard only: token, Host, Origin, local page.

The in-process tests run the real `GuardedServer` on a loopback socket with textual-serve's
`AppService` (the thing that starts a monitor process per websocket) replaced by a recorder,
so "no monitor started" is an exact count rather than a wait. The browser test runs the real
command and a real headless Chromium, and counts the server's child processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import duckdb
import pytest
import textual_serve.server
from click.testing import CliRunner

from burnout_tui.cli import cli
from burnout_tui.tui.serve import TITLE
from burnout_tui.tui.serve_access import (
    ServeAccessError,
    access_for,
    check_bind_host,
    exposure_warning,
    new_token,
    token_matches,
)
from burnout_tui.tui.serve_server import GuardedServer, bind

FOREIGN_ORIGIN = "http://evil.example"
REBOUND_HOST = "evil.example"
"""A DNS-rebinding page: its own name, now resolving to 127.0.0.1, in Host."""

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DEADLINE_S = 40.0
"""Ample for the demo monitor's first screen; the whole browser test must stay under 60 s."""
STOP_S = 15.0
POLL_S = 0.1
"""How often to retry the read-only open while the finalising monitor holds the lock."""
MONITOR_TEXT = b"burnout / stress proxy"
"""The monitor's main panel title, as the monitor process writes it to the websocket."""

BURNOUT_TUI = (sys.executable, "-c", "from burnout_tui.cli import main; main()")
"""The CLI of the code under test (PYTHONPATH decides which), not an installed script."""

URL_PATTERN = re.compile(r"http://\S+/\?token=(\S+)")
ASSET_PATTERN = re.compile(r"""(?:src|href|action)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)""")


class RecordedService:
    """Stands in for textual-serve's AppService: records a start instead of spawning."""

    started: list[tuple[int, int]] = []  # noqa: RUF012 - one shared log per test, reset by the fixture

    def __init__(self, command: str, **_: Any) -> None:
        self.command = command

    async def start(self, width: int, height: int) -> None:
        RecordedService.started.append((width, height))

    async def stop(self) -> None:
        pass


class Running:
    def __init__(self, server: GuardedServer, port: int) -> None:
        self.server = server
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    @property
    def token(self) -> str:
        return self.server.access.token

    def ws(self, token: str | None = None) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{self.token if token is None else token}"

    @property
    def origin(self) -> str:
        return self.base


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    monkeypatch.setattr(textual_serve.server, "AppService", RecordedService)
    RecordedService.started = []
    return RecordedService.started


@contextlib.asynccontextmanager
async def running_server() -> AsyncIterator[Running]:
    listener = bind("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = GuardedServer("true", access_for("127.0.0.1", port, new_token()), TITLE)
    runner = await server.start(listener)
    try:
        yield Running(server, port)
    finally:
        await runner.cleanup()


async def status_of(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> int:
    async with session.get(url, headers=headers) as response:
        return response.status


async def ws_status(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> int:
    """The handshake's HTTP status: 101 for an open socket (closed again at once)."""
    try:
        async with session.ws_connect(url, headers=headers):
            return 101
    except aiohttp.WSServerHandshakeError as error:
        return error.status


def test_allow_lists_hold_loopback_names_and_the_explicit_host_on_the_bound_port() -> None:
    access = access_for("192.168.1.20", 8123, "t")
    for name in ("127.0.0.1", "localhost", "[::1]", "192.168.1.20", "LOCALHOST"):
        assert access.host_allowed(f"{name}:8123")
        assert access.origin_allowed(f"http://{name}:8123")
    for host in ("localhost", "localhost:8000", "evil.example:8123", "127.0.0.1.evil:8123", None):
        assert not access.host_allowed(host)
    for origin in ("null", "http://localhost:8000", "https://localhost:8123", FOREIGN_ORIGIN):
        assert not access.origin_allowed(origin)
    assert access_for("::1", 80, "t").host_allowed("[::1]")
    assert token_matches("abc", "abc") and not token_matches("abd", "abc")
    assert not token_matches(None, "abc") and not token_matches("é", "abc")
    assert len(new_token()) >= 43 and new_token() != new_token()
    assert "s3cret" not in repr(access_for("127.0.0.1", 8000, "s3cret"))


def test_wildcards_are_refused_and_only_non_loopback_hosts_warn() -> None:
    for wildcard in ("0.0.0.0", "::", "[::]", ""):
        with pytest.raises(ServeAccessError):
            check_bind_host(wildcard)
    for loopback in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        check_bind_host(loopback)
        assert exposure_warning(loopback) is None
    warning = exposure_warning("192.168.1.20")
    assert warning is not None and "health data" in warning and "token" in warning


def test_cli_host_and_port_need_serve_refuse_wildcards_and_warn_off_loopback(
    tmp_path: Path,
) -> None:
    db = ["--db", str(tmp_path / "s.duckdb"), "--source", "demo"]
    runner = CliRunner()
    result = runner.invoke(cli, ["monitor", *db, "--port", "0"])
    assert result.exit_code == 2 and "--host and --port need --serve" in result.output
    result = runner.invoke(cli, ["monitor", *db, "--serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "Error: --host 0.0.0.0 listens on every interface" in result.output
    # 192.0.2.1 is TEST-NET-1: never this machine's, so the bind fails after the warning.
    result = runner.invoke(cli, ["monitor", *db, "--serve", "--host", "192.0.2.1", "--port", "0"])
    assert result.exit_code == 1
    assert "Warning: --host 192.0.2.1 is not a loopback address" in result.stderr
    assert "Error: cannot listen on 192.0.2.1:0" in result.stderr
    assert not (tmp_path / "s.duckdb").exists()


def test_page_needs_the_token_and_loads_nothing_from_outside(
    recorded: list[tuple[int, int]], caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> tuple[str, dict[str, str], dict[str, int]]:
        async with running_server() as server, aiohttp.ClientSession() as session:
            statuses = {
                "none": await status_of(session, f"{server.base}/"),
                "wrong": await status_of(session, f"{server.base}/?token=x{server.token}"),
                "prefix": await status_of(session, f"{server.base}/?token={server.token[:-1]}"),
                "non-ascii": await status_of(session, f"{server.base}/?token=%C3%A9"),
                "listing": await status_of(session, f"{server.base}/static/"),
                "download": await status_of(session, f"{server.base}/download/x"),
            }
            async with session.get(f"{server.base}/?token={server.token}") as response:
                assert response.status == 200
                html = await response.text()
                headers = dict(response.headers)
            for asset in (
                "css/xterm.css",
                "js/textual.js",
                "fonts/RobotoMono-VariableFont_wght.ttf",
            ):
                statuses[asset] = await status_of(session, f"{server.base}/static/{asset}")
            token = server.token
        assert token not in caplog.text
        return html, headers, statuses

    with caplog.at_level(logging.INFO):
        html, headers, statuses = asyncio.run(scenario())
    assert statuses == {
        "none": 403,
        "wrong": 403,
        "prefix": 403,
        "non-ascii": 403,
        "listing": 403,
        "download": 404,
        "css/xterm.css": 200,
        "js/textual.js": 200,
        "fonts/RobotoMono-VariableFont_wght.ttf": 200,
    }
    assert recorded == []
    assert "refused a request for the page: missing or wrong token" in caplog.text
    references = [a or b for a, b in ASSET_PATTERN.findall(html)]
    assert "/static/js/textual.js" in references
    for reference in references:
        assert reference == "data:," or (
            reference.startswith("/") and not reference.startswith("//")
        ), reference
    assert "googleapis" not in html and "://" not in html.replace("ws://127.0.0.1", "")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert headers["Referrer-Policy"] == "no-referrer"


def test_foreign_host_is_refused_on_every_route(recorded: list[tuple[int, int]]) -> None:
    async def scenario() -> list[int]:
        async with running_server() as server, aiohttp.ClientSession() as session:
            rebound = {"Host": f"{REBOUND_HOST}:{server.port}"}
            return [
                await status_of(session, f"{server.base}/?token={server.token}", rebound),
                await status_of(session, f"{server.base}/static/js/textual.js", rebound),
                await ws_status(session, server.ws(), {**rebound, "Origin": server.origin}),
                # The right name on another port is another server: refused too.
                await status_of(
                    session,
                    f"{server.base}/?token={server.token}",
                    {"Host": f"localhost:{server.port + 1}"},
                ),
            ]

    assert asyncio.run(scenario()) == [403, 403, 403, 403]
    assert recorded == []


def test_websocket_needs_the_token_and_our_origin_before_a_monitor_starts(
    recorded: list[tuple[int, int]],
) -> None:
    async def scenario() -> tuple[list[int], list[tuple[int, int]]]:
        async with running_server() as server, aiohttp.ClientSession() as session:
            ours = {"Origin": server.origin}
            statuses = [
                await ws_status(session, server.ws(""), ours),
                await ws_status(session, server.ws("x" + server.token), ours),
                await ws_status(session, server.ws(), {"Origin": FOREIGN_ORIGIN}),
                await ws_status(session, server.ws(), {"Origin": "null"}),
                await ws_status(session, server.ws()),
            ]
            refused = list(recorded)
            localhost = {"Origin": f"http://localhost:{server.port}"}
            statuses.append(await ws_status(session, f"{server.ws()}?width=90&height=30", ours))
            statuses.append(await ws_status(session, server.ws(), localhost))
        return statuses, refused

    statuses, refused = asyncio.run(scenario())
    assert statuses == [404, 403, 403, 403, 403, 101, 101]
    assert refused == []
    assert recorded == [(90, 30), (80, 24)]


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), to see whether a monitor was started."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def read_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                return process.stdout.readline().decode()
            if process.poll() is not None:
                assert process.stderr is not None
                error = process.stderr.read().decode(errors="replace")
                raise AssertionError(f"the server exited ({process.returncode}): {error}")
    raise AssertionError("the server printed no URL in time")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The real `burnout-tui monitor --serve --source demo`, always stopped afterwards."""
    db = tmp_path / "served.duckdb"
    process = subprocess.Popen(
        [*BURNOUT_TUI, "monitor", "--serve", "--source", "demo", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield process, db
    finally:
        leftovers = descendants(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_browser_with_the_token_sees_the_monitor_and_forgeries_start_nothing(
    served: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    if sys.platform != "linux":
        pytest.skip("counts the server's children through /proc")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    process, db = served
    deadline = time.monotonic() + BROWSER_DEADLINE_S
    line = read_line(process, deadline)
    match = URL_PATTERN.search(line)
    assert match is not None, line
    url, token = match.group(0), match.group(1)
    base = url.split("/?", 1)[0]
    port = int(base.rsplit(":", 1)[1])
    ws = f"ws://127.0.0.1:{port}/ws/{token}"

    async def forgeries() -> list[int]:
        async with aiohttp.ClientSession() as session:
            ours = {"Origin": base}
            return [
                await status_of(session, f"{base}/"),
                await status_of(session, f"{base}/?token={token[::-1]}"),
                await status_of(session, url, {"Host": f"{REBOUND_HOST}:{port}"}),
                await ws_status(session, f"ws://127.0.0.1:{port}/ws/{token[::-1]}", ours),
                await ws_status(session, ws, {"Origin": FOREIGN_ORIGIN}),
                await ws_status(session, ws, {"Origin": base, "Host": f"{REBOUND_HOST}:{port}"}),
            ]

    assert asyncio.run(forgeries()) == [403] * 6
    assert descendants(process.pid) == [], "a refused request started a monitor"

    requests: list[str] = []
    frames: list[bytes] = []

    def on_websocket(socket_: Any) -> None:
        requests.append(socket_.url)
        socket_.on(
            "framereceived",
            lambda frame: frames.append(frame if isinstance(frame, bytes) else frame.encode()),
        )

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", on_websocket)
            page.goto(url)
            page.wait_for_selector("body.-first-byte", timeout=BROWSER_DEADLINE_S * 1000)
            while MONITOR_TEXT not in b"".join(frames):
                assert time.monotonic() < deadline, "the monitor's screen never arrived"
                page.wait_for_timeout(250)
            page.wait_for_timeout(1000)  # let xterm paint what arrived
            page.screenshot(path=str(tmp_path / "served-monitor.png"))
            assert page.locator(".intro-dialog").is_hidden()
            assert page.locator("#terminal canvas").count() > 0
            monitors = [
                pid
                for pid in descendants(process.pid)
                if b"burnout_tui.tui" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            assert monitors, "the page's websocket started no monitor"
            for pid in monitors:
                assert token.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        finally:
            browser.close()

    local = (f"{base}/", f"ws://127.0.0.1:{port}/")
    assert requests and all(request.startswith(local) for request in requests), requests
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=STOP_S)
    output = line.encode() + out + err
    assert output.count(token.encode()) == 1, "the token was written beyond the URL line"
    with released(db) as con:
        assert con.execute("SELECT status FROM sessions").fetchall() == [("complete",)]
    for path in db.parent.glob(f"{db.name}*"):
        assert token.encode() not in path.read_bytes()


@contextlib.contextmanager
def released(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The database once the tab's monitor, a grandchild that may outlive the server by
    the time it takes to finalise its session, has let go of DuckDB's lock."""
    deadline = time.monotonic() + STOP_S
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(POLL_S)
    try:
        yield con
    finally:
        con.close()


def test_bind_reports_a_port_in_use_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeAccessError, match=rf"cannot listen on 127\.0\.0\.1:{port}"):
            bind("127.0.0.1", port)
