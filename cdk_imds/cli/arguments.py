"""Argument types shared by the commands: argparse turns their errors into usage errors."""

from __future__ import annotations

import argparse
import os
import sys


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def percentage(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be from 0 to 100")
    return value


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil.

    argparse builds a help formatter for every ``add_argument`` call, even when no help is printed,
    and its formatter imports shutil (with zlib, bz2 and lzma) to ask the terminal's width: about
    3 ms of every ``cdk-imds check``. This is what shutil does: $COLUMNS, else the terminal, else 80.
    """
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, sized by ``terminal_columns``."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        width = terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class ExamplesHelpFormatter(HelpFormatter):
    """Keeps the lines of a command's examples (its epilog, written with line breaks) as they are,
    and wraps its one-paragraph description to the terminal like any other help text."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)
