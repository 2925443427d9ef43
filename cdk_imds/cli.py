"""The ``cdk-imds`` command. The one place that turns errors into messages and exit codes."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from cdk_imds import __version__
from cdk_imds.errors import CdkImdsError
from cdk_imds.formats import Format, Report, render
from cdk_imds.policy import Options, Summary, check_sources
from cdk_imds.sources import Loaded
from cdk_imds.sources.loader import load_paths

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

_CHECK_EXAMPLES = """\
examples:
  cdk-imds check cdk.out                      check every stack, stage and nested stack of an app
  cdk-imds check template.yaml other.json     check plain CloudFormation templates
  cdk-imds check cdk.out --format sarif -o imds.sarif
                                              write SARIF for code scanning
  cdk-imds check cdk.out --max-hop-limit 2    hop limits above 2 become errors

exit codes: 0 no errors, 1 errors found, 2 bad input (a path that is not a template or assembly)
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        code: int = arguments.handler(arguments)
        return code
    except CdkImdsError as error:
        print(f"cdk-imds: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("cdk-imds: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdk-imds",
        description="Keep EC2 capacity IMDSv2-only: check CDK apps and CloudFormation templates.",
        epilog="Run 'cdk-imds COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"cdk-imds {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_check(commands)
    return parser


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="check a cloud assembly (cdk.out) or CloudFormation templates",
        description="Judge every launch template, launch configuration, instance and launcher in a "
        "cloud assembly or template files; references across stacks are followed.",
        epilog=_CHECK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="cdk.out directory, or template file (JSON/YAML)"
    )
    _add_output_arguments(check)
    check.add_argument(
        "--max-hop-limit",
        type=_positive_int,
        metavar="N",
        help="make HttpPutResponseHopLimit values above N errors (default: above 1 is a warning)",
    )
    check.add_argument(
        "--unverifiable-as-warning",
        action="store_true",
        help="report IMDSV2_UNVERIFIABLE (values only known at deploy time) as warnings, not errors",
    )
    check.set_defaults(handler=_run_check)


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
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


def _run_check(arguments: argparse.Namespace) -> int:
    loaded = _load_without_collector(arguments.paths)
    options = Options(
        max_hop_limit=arguments.max_hop_limit, unverifiable_as_warning=arguments.unverifiable_as_warning
    )
    result = check_sources(loaded.sources, options)
    problems = [str(problem) for problem in loaded.problems]
    report = Report(
        findings=result.findings,
        summary=Summary.of(result.findings, result.templates, result.resources),
        problems=problems,
        tool_version=__version__,
        command="check",
    )
    _emit(report, arguments)
    for problem in problems:
        print(f"cdk-imds: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_BAD_INPUT
    return EXIT_FINDINGS if result.failed else EXIT_OK


def _load_without_collector(paths: list[str]) -> Loaded:
    """Parsed templates form no reference cycles, yet the collector would re-scan the growing heap
    hundreds of times while they load, and once more at exit: a third of the run on large
    assemblies (bench/README.md). This process is about to exit, so the objects are frozen instead."""
    gc.disable()
    try:
        return load_paths(paths)
    finally:
        gc.freeze()
        gc.enable()


def _emit(report: Report, arguments: argparse.Namespace) -> None:
    if arguments.output:
        text = render(arguments.format, report, color=False)
        _write_atomically(arguments.output, text)
        summary = report.summary
        print(
            f"cdk-imds: wrote {arguments.format.value} report to {arguments.output}: "
            f"{summary.errors} errors, {summary.warnings} warnings, {summary.suppressed} suppressed",
            file=sys.stderr,
        )
        return
    color = _use_color(arguments.color, sys.stdout) and arguments.format is Format.TEXT
    sys.stdout.write(render(arguments.format, report, color=color))
    sys.stdout.flush()


def _write_atomically(path: str, text: str) -> None:
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


def _use_color(mode: str, stream: TextIO) -> bool:
    if mode != "auto":
        return mode == "always"
    return stream.isatty() and "NO_COLOR" not in os.environ


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
