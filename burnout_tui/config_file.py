"""`default_config.toml` as rendered from the settings' dataclasses.

The file is generated, not written: each section's comment is its dataclass's docstring,
each key's comment its field's reason (`config.setting`), each value its default. So a
default and its reason are written once, in `burnout_tui.config`, and the shipped file
cannot drift from them; `python -m tools.write_default_config` rewrites it, and a test
fails while the committed copy differs. Generating this way (rather than reading the
defaults from the TOML) keeps `Config()` free of file access and the defaults visible to
mypy and to readers of the code, next to the validation they must pass.
"""

from __future__ import annotations

import inspect
import json
import math
import textwrap
from dataclasses import fields
from typing import Any, get_type_hints

from burnout_tui.config import REASON, Config

HEADER = """\
burnout-tui default configuration.

This file is the reference for every setting: copy it to ./burnout-tui.toml (or to
config.toml in the user config directory, or under [tool.burnout-tui] in pyproject.toml)
and keep only the keys you change. Missing keys take the values below; an unknown key or
a value of the wrong type is an error, so a typo can never be silently ignored.

The scoring weights are heuristic choices carried over from the original thesis design.
They are NOT validated against clinical outcomes: the survey comparison (`surveys` table)
exists precisely to check how well this proxy tracks validated burnout instruments.
"""
"""The file's own introduction: what it is for and how its values are to be read."""

COMMENT_WIDTH = 90
"""Comment lines wrap here, as the hand-written file did: within ruff's 100 after `# `."""


def render_default_config() -> str:
    """The text of `default_config.toml` for the current defaults and reasons."""
    parts = [_comment_lines(HEADER.splitlines())]
    for name, cls in get_type_hints(Config).items():
        parts.append(f"[{name}]\n" + _comment_lines(_docstring_lines(cls)))
        for item in fields(cls):
            reason = item.metadata.get(REASON)
            if not reason:
                raise ValueError(f"{name}.{item.name} has no reason: use setting()")
            wrapped = textwrap.wrap(reason, COMMENT_WIDTH - 2)
            parts.append(_comment_lines(wrapped) + f"{item.name} = {toml_value(item.default)}\n")
    return "\n".join(parts)


def toml_value(value: Any) -> str:
    """A default as TOML: booleans lower-case, strings quoted, tuples as arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _docstring_lines(cls: type) -> list[str]:
    doc = inspect.getdoc(cls)
    if not doc:
        raise ValueError(f"{cls.__name__} has no docstring to introduce its section")
    return doc.splitlines()


def _comment_lines(lines: list[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


__all__ = ["COMMENT_WIDTH", "HEADER", "render_default_config", "toml_value"]
