"""`MonitorRequest`: everything one monitor run was asked for, as one frozen value.

The CLI's `monitor` (and the bare `burnout-tui`) builds it, `run_monitor` runs it, and
`--serve` hands it to each browser tab's child process as JSON in one environment
variable. The JSON is made from the dataclass's own fields, so a new monitor option is
one field here and nothing in between can forget to pass it on.

The serve access token is deliberately not a field: it stays in the server process and
the one printed URL, and never reaches a child's environment (see `tui.serve`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from burnout_tui.config import Config, config_from_table
from burnout_tui.errors import UserError


class RequestError(UserError):
    """A serialised request that this version cannot read (not one it wrote)."""


@dataclass(frozen=True, slots=True)
class MonitorRequest:
    """What to monitor, where to store it, and how to show it.

    `db` is the database, `fast` runs without real-time pacing, `multi_user` tracks every
    face under its own user, `record` also writes the video to that file, and `serve`
    runs the web server on `host`:`port` (None: the defaults) instead of the terminal app.
    """

    config: Config
    source: str
    user: str
    db: Path
    fast: bool = False
    multi_user: bool = False
    record: Path | None = None
    serve: bool = False
    host: str | None = None
    port: int | None = None

    def for_child(self) -> MonitorRequest:
        """The request a served tab's process runs: the terminal app on the same files,
        with paths made absolute (the child may start in another folder)."""
        return replace(
            self,
            db=self.db.expanduser().resolve(),
            record=None if self.record is None else self.record.expanduser().resolve(),
            serve=False,
            host=None,
            port=None,
        )

    def to_json(self) -> str:
        """Every field under its own name: the config as its table, paths as strings."""
        return json.dumps({item.name: _encode(getattr(self, item.name)) for item in fields(self)})

    @classmethod
    def from_json(cls, text: str, label: str) -> MonitorRequest:
        """Read `to_json`'s output back; `label` names the source in error messages."""
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise RequestError(f"{label}: not JSON ({error.msg})") from None
        if not isinstance(payload, dict):
            raise RequestError(f"{label}: expected a JSON object")
        hints = get_type_hints(cls)
        names = {item.name for item in fields(cls)}
        unknown = sorted(set(payload) - names)
        if unknown:
            raise RequestError(f"{label}: unknown fields {', '.join(unknown)}")
        values = {name: _decode(value, hints[name], name, label) for name, value in payload.items()}
        try:
            return cls(**values)
        except TypeError as error:
            raise RequestError(f"{label}: {error}") from None


def _encode(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, Path):
        return str(value)
    return value


_SCALARS: dict[Any, type | tuple[type, ...]] = {
    str: str,
    bool: bool,
    int: int,
    str | None: (str, type(None)),
    int | None: (int, type(None)),
}


def _decode(value: Any, hint: Any, name: str, label: str) -> Any:
    if hint is Config:
        if not isinstance(value, dict):
            raise RequestError(f"{label}: {name} must be a table")
        return config_from_table(value, f"{label} {name}")
    if hint in (Path, Path | None):
        if value is None and hint != Path:
            return None
        if not isinstance(value, str):
            raise RequestError(f"{label}: {name} must be a path")
        return Path(value)
    kinds = _SCALARS[hint]
    if not isinstance(value, kinds) or (hint in (int, int | None) and isinstance(value, bool)):
        raise RequestError(f"{label}: {name} has the wrong type")
    return value


__all__ = ["MonitorRequest", "RequestError"]
