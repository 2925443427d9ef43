"""``--help`` is wrapped to the terminal's width, read without shutil (cli.arguments.terminal_columns)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cdk_imds.cli.arguments import terminal_columns


def help_text(*command: str, columns: str) -> str:
    environment = {**os.environ, "COLUMNS": columns}
    return subprocess.run(
        [sys.executable, "-m", "cdk_imds", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=environment,
    ).stdout


@pytest.mark.parametrize("command", [(), ("check",)])
def test_help_wraps_its_prose_to_columns(command: tuple[str, ...]) -> None:
    narrow = help_text(*command, columns="50")
    wide = help_text(*command, columns="200")
    # The description, the paragraph after the usage: wrapped to two columns less than the
    # terminal, as argparse does. (Usage lines and the examples keep their own lines.)
    description = narrow.split("\n\n")[1].splitlines()
    assert len(description) > 1
    assert max(len(line) for line in description) <= 48
    assert len(wide.split("\n\n")[1].splitlines()) < len(description)


def test_terminal_columns_reads_columns_and_falls_back_to_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "123")
    assert terminal_columns() == 123
    monkeypatch.setenv("COLUMNS", "not a number")
    # Not a terminal under pytest (output captured): shutil's fallback.
    monkeypatch.setattr(sys, "__stdout__", None)
    assert terminal_columns() == 80
