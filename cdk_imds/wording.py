"""Words for people: one way to count things in every report and message."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """``1 error``, ``2 errors``: the noun in the plural unless there is exactly one."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
