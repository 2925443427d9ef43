"""Writing reports: to stdout or atomically to a file, colour when it helps, progress on stderr."""

from __future__ import annotations

import argparse
import os
import sys

from cdk_imds.errors import CdkImdsError
from cdk_imds.formats import Format, Report, render
from cdk_imds.wording import counted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

BAR_WIDTH = 30


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        type=Format,
        choices=list(Format),
        default=Format.TEXT,
        help="report format (default: text)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour text output (default: auto, when stdout is a terminal and NO_COLOR is unset)",
    )


def emit_report(report: Report, arguments: argparse.Namespace) -> None:
    if arguments.output:
        text = render(arguments.format, report, color=False)
        write_atomically(arguments.output, text)
        summary = report.summary
        print(
            f"cdk-imds: wrote {arguments.format.value} report to {arguments.output}: "
            f"{counted(summary.errors, 'error')}, {counted(summary.warnings, 'warning')}, "
            f"{summary.suppressed} suppressed",
            file=sys.stderr,
        )
        return
    color = use_color(arguments.color, sys.stdout) and arguments.format is Format.TEXT
    sys.stdout.write(render(arguments.format, report, color=color))
    sys.stdout.flush()


def emit_text(text: str, arguments: argparse.Namespace, what: str) -> None:
    if arguments.output:
        write_atomically(arguments.output, text)
        print(f"cdk-imds: wrote the {what} to {arguments.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def write_atomically(path: str, text: str) -> None:
    """A report file is either the old one or the whole new one, never half written.

    A target that exists but is not a regular file (/dev/stdout, a pipe) is written to directly:
    renaming over it would replace the device or pipe with a file.
    """
    if os.path.exists(path) and not os.path.isfile(path):
        try:
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as error:
            raise CdkImdsError(f"{path}: cannot write the report ({error.strerror})") from None
        return
    temporary = f"{path}.tmp-{os.getpid()}"
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise CdkImdsError(f"{path}: cannot write the report ({error.strerror})") from None


def use_color(mode: str, stream: TextIO) -> bool:
    if mode != "auto":
        return mode == "always"
    return stream.isatty() and "NO_COLOR" not in os.environ


class Progress:
    """Regions done, on stderr (the report owns stdout): a bar redrawn in place on a terminal,
    one plain line per region otherwise, so logs and tests read the same every time."""

    def __init__(
        self, stream: TextIO, verb: str = "audit", unit: str = "regions", done: str = "audited"
    ) -> None:
        self.stream = stream
        self.bar = stream.isatty()
        self.drawn = False
        # The same bar counts regions audited, groups remediated and revert steps.
        self.verb, self.unit, self.done = verb, unit, done

    def region_done(self, region: str, done: int, total: int) -> None:
        if self.bar:
            filled = round(BAR_WIDTH * done / total)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stream.write(f"\rcdk-imds: {self.verb} [{bar}] {done}/{total} {self.unit} ({region})\x1b[K")
            self.drawn = True
        else:
            self.stream.write(f"cdk-imds: {self.done} {region} ({done}/{total})\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
