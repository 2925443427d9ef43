"""Output formats: turn a :class:`Report` into text for a terminal, JSON, or SARIF."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from cdk_imds.formats.json_format import render_json
from cdk_imds.formats.report import Report
from cdk_imds.formats.text import render_text

__all__ = ["Format", "Report", "render"]


class Format(StrEnum):
    """Output format names, as the CLI accepts them (a ``str`` enum: ``Format("json")`` works)."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def _text(report: Report, color: bool) -> str:
    return render_text(report, color=color)


def _json(report: Report, color: bool) -> str:
    return render_json(report)


def _sarif(report: Report, color: bool) -> str:
    # Imported when asked for: it brings hashlib and pathlib, about 13 ms a run of `check` that
    # writes text or JSON would otherwise pay (bench/README.md).
    from cdk_imds.formats.sarif import render_sarif

    return render_sarif(report)


# A table rather than an if-chain so that a new Format member without a formatter fails the
# test that walks every member, instead of silently falling through to some default.
_RENDERERS: dict[Format, Callable[[Report, bool], str]] = {
    Format.TEXT: _text,
    Format.JSON: _json,
    Format.SARIF: _sarif,
}


def render(fmt: Format, report: Report, *, color: bool = False) -> str:
    """Render ``report`` in ``fmt``; the text ends with a newline. ``color`` only affects text."""
    return _RENDERERS[Format(fmt)](report, color)
