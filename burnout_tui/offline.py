"""Switch off the telemetry of the libraries this package runs, before any of them loads.

ONNX Runtime's Python wheel starts a telemetry provider when it is imported: it writes a
device id and an event database under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`
and resolves Microsoft's event collector host. Its `disable_telemetry_events()` comes too
late for that (the files are written at import), but the `ORT_DISABLE_TELEMETRY`
environment variable, read at import, stops all of it. The variable is forced, not
defaulted: the promise is that nothing leaves the machine, whatever the environment says.

`burnout_tui/__init__.py` calls `keep_offline()`, so every way into the models (the CLI,
the tests, the tools, a plugin importing the public API) passes here before ONNX
Runtime is imported. DuckDB's network access is closed per connection instead
(`burnout_tui.store.connect`).
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT: dict[str, str] = {"ORT_DISABLE_TELEMETRY": "1"}
"""Variables that keep imported libraries from phoning home, with the value that does it."""


def keep_offline() -> None:
    os.environ.update(OFFLINE_ENVIRONMENT)
