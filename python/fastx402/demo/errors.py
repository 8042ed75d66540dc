"""The demo's one error: a step that failed, said in one line (the CLI prints it, no traceback)."""

from __future__ import annotations


class DemoError(Exception):
    """A demo step failed; the message says which and why."""
