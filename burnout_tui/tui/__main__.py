"""The process textual-serve starts per browser tab (see `burnout_tui.tui.serve`)."""

from __future__ import annotations

import sys

from burnout_tui.errors import UserError
from burnout_tui.tui.serve_child import run_child

if __name__ == "__main__":
    try:
        run_child()
    except UserError as error:
        sys.stderr.write(f"Error: {error}\n")
        sys.exit(error.exit_code)
