"""Turn what a user typed after `--source` into a description of where frames come from.

Parsing is separate from opening so the CLI can reject a bad value with one clear line
before it opens a database or loads a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from burnout_tui.errors import UserError


class SourceKind(str, Enum):
    CAMERA = "camera"
    FILE = "file"
    STREAM = "stream"
    DEMO = "demo"


class SourceError(UserError):
    """A source could not be parsed or opened; the message is one line for the user."""


_STREAM_SCHEMES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
_V4L_DEVICE = re.compile(r"^/dev/video(\d+)$")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    value: str
    camera_index: int | None = None

    @property
    def label(self) -> str:
        """Short text for the screen and the `sessions.source` column."""
        if self.kind is SourceKind.CAMERA:
            return f"camera {self.camera_index}"
        if self.kind is SourceKind.FILE:
            return Path(self.value).name
        return self.value


def parse_source(text: str) -> SourceSpec:
    value = text.strip()
    if not value:
        raise SourceError("empty --source: give a camera index, /dev/videoN, a file, a URL or demo")
    if value.lower() == "demo":
        return SourceSpec(SourceKind.DEMO, "demo")
    if value.isdigit():
        return SourceSpec(SourceKind.CAMERA, value, camera_index=int(value))
    device = _V4L_DEVICE.match(value)
    if device:
        return SourceSpec(SourceKind.CAMERA, value, camera_index=int(device.group(1)))
    if value.lower().startswith(_STREAM_SCHEMES):
        return SourceSpec(SourceKind.STREAM, value)
    path = Path(value).expanduser()
    if not path.exists():
        raise SourceError(f"no such file: {value}")
    if not path.is_file():
        raise SourceError(f"not a file: {value}")
    return SourceSpec(SourceKind.FILE, str(path))
