"""Where frames come from: camera index or device, video file, stream URL, or the demo."""

from __future__ import annotations

from burnout_tui.sources.frame import Frame, FrameSource
from burnout_tui.sources.spec import SourceError, SourceKind, SourceSpec, parse_source


def open_source(spec: SourceSpec, loop_demo: bool = False) -> FrameSource:
    """Open a parsed source; raises SourceError with a one-line reason."""
    if spec.kind is SourceKind.DEMO:
        from burnout_tui.sources.demo import DemoSource

        return DemoSource(loop=loop_demo)
    from burnout_tui.sources.video import VideoSource

    return VideoSource(spec)


__all__ = [
    "Frame",
    "FrameSource",
    "SourceError",
    "SourceKind",
    "SourceSpec",
    "open_source",
    "parse_source",
]
