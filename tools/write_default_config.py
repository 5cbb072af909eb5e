"""Rewrite `burnout_tui/default_config.toml` from the settings' dataclasses.

Run after changing a default or its reason in `burnout_tui/config.py`:

    python -m tools.write_default_config

tests/unit/test_config.py fails while the committed file differs from what this writes.
"""

from __future__ import annotations

from pathlib import Path

from burnout_tui.config_file import render_default_config

TARGET = Path(__file__).resolve().parent.parent / "burnout_tui" / "default_config.toml"


def main() -> None:
    TARGET.write_text(render_default_config(), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
