"""Errors the command line turns into one line and exit status 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or a missing prerequisite the operator can fix; one line, exit 2."""
