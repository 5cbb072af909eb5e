"""Run one burnout-tui command (or the monitor under a Pilot) with every network use logged.

Used by tests/unit/test_offline.py as `python -m tests.network_guard LOG -- ARGS…` in a child
process. A Python audit hook records every socket connect, send, bind and name lookup
that goes through Python's `socket` module; native code (ONNX Runtime's telemetry, DuckDB's
extension downloads) bypasses that, so the test also runs the child under `strace` where
it exists. `monitor` is driven by a Pilot on the demo source until a face is found, then
quit with `q`, exactly as a person would end it.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import Any

NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.bind",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
    }
)
FACE_TIMEOUT_S = 60.0
POLL_S = 0.1


def install_hook(log: Path) -> None:
    handle = log.open("a", encoding="utf-8")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in NETWORK_EVENTS and not _unix_domain(args):
            handle.write(f"{event} {args!r}\n")
            handle.flush()

    sys.addaudithook(hook)


def _unix_domain(args: tuple[Any, ...]) -> bool:
    """A Unix-domain socket (the monitor's live-query socket) stays on this machine."""
    return bool(args) and isinstance(args[0], socket.socket) and args[0].family == socket.AF_UNIX


async def pilot_monitor(db: str) -> None:
    from burnout_tui.config import load_config
    from burnout_tui.runtime.capture import CaptureWorker
    from burnout_tui.sources import parse_source
    from burnout_tui.store import open_database
    from burnout_tui.tui.app import MonitorApp

    config = load_config(None)
    con = open_database(Path(db))
    worker = CaptureWorker(parse_source("demo"), config, con, "guarded")
    app = MonitorApp(worker=worker, con=con, config=config)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + FACE_TIMEOUT_S
            while worker.status().face_frames == 0:
                if time.monotonic() > deadline:
                    raise SystemExit("no face within the time limit")
                await pilot.pause(POLL_S)
            await pilot.press("q")
            while app.return_code is None:
                await pilot.pause(POLL_S)
    finally:
        worker.stop()
        con.close()


def main(argv: list[str]) -> None:
    log, separator, *args = argv
    if separator != "--":
        raise SystemExit("usage: python -m tests.network_guard LOG -- ARGS…")
    install_hook(Path(log))
    if args[:1] == ["pilot-monitor"]:
        asyncio.run(pilot_monitor(args[1]))
        return
    from burnout_tui.cli import main as cli_main

    sys.argv = ["burnout-tui", *args]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
