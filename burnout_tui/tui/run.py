"""`run_monitor`: the one entry point the CLI calls for `monitor` and for no arguments.

Heavy imports (the app, and the capture process's modules) happen only on the branch
that runs the app here, so `--serve`'s web server process stays small; the
app then runs in a child process the server starts for each browser tab.
"""

from __future__ import annotations

import sys

from burnout_tui.errors import UserError
from burnout_tui.sources import parse_source
from burnout_tui.tui.state.monitor_request import MonitorRequest


class FinaliseError(UserError):
    """The session could not be closed cleanly; its rows may be incomplete."""


def run_monitor(request: MonitorRequest) -> None:
    """Monitor `request.user` live from `request.source`, storing into `request.db`,
    until they quit.

    The capture (source, models, database) runs in a child process
    (`runtime.capture_process`); this one runs the UI and reaches the database through it.

    With `multi_user` every face is tracked and shown on a grid, each under its own user;
    with `record` the video (faces included) is also written to that file.

    With `serve`, start a local web server instead (textual-serve) on `host`:`port`
    (127.0.0.1:8000 by default), answering only the printed URL's token; each browser tab
    runs its own monitor process on the same database, so only one tab at a time can record.
    Raises UserError (with a message for the person) for a bad source, an unusable
    database, or a session that could not be finalised.

    SIGTERM and SIGHUP quit like `q` (the session is saved and complete, the terminal
    restored, exit 0); after a hangup the vanished terminal's streams read and write
    /dev/null (see `burnout_tui.interrupts`). The same holds for each `--serve` child,
    which runs this function too, with `request.for_child()`.
    """
    spec = parse_source(request.source)
    if request.serve:
        from burnout_tui.tui.serve import serve_monitor

        serve_monitor(request)
        return
    from burnout_tui.runtime.capture_messages import CaptureSettings
    from burnout_tui.runtime.capture_process import CaptureProcess

    capture = CaptureProcess(
        CaptureSettings(
            spec,
            request.config,
            request.db,
            request.user,
            fast=request.fast,
            multi_user=request.multi_user,
            record=request.record,
        )
    )
    try:
        # The child imports its modules and opens the database while this one loads Textual.
        from burnout_tui.tui.app import MonitorApp

        capture.wait_ready()
        app = MonitorApp(
            worker=capture,
            store=capture,
            config=request.config,
            multi_user=request.multi_user,
            quit_on_signals=True,
        )
        try:
            app.run()
        finally:
            app.mark_exited()
    finally:
        capture.stop()
    if app.finalise_error is not None:
        if capture.crash_details is not None:
            sys.stderr.write(capture.crash_details)
        raise FinaliseError(app.finalise_error)
