"""The one exception type the CLI turns into a single line on stderr and a non-zero exit.

Each stage raises its own subclass (SourceError, StoreError, ...) so callers can react to
the kind of failure; the CLI only needs to know the message is meant for a person.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure caused by input or environment, with a message a user can act on."""

    exit_code = 1
