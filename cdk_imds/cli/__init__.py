"""The ``cdk-imds`` command: one module per command; this one maps errors to messages and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cdk_imds import __version__
from cdk_imds.cli.arguments import HelpFormatter
from cdk_imds.cli.check import add_check
from cdk_imds.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK
from cdk_imds.errors import CdkImdsError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_OK", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; ``argv`` None means this process's own command line (the console script)."""
    whole_process = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(only_check=bool(argv) and argv[0] == "check")
    arguments = parser.parse_args(argv)
    try:
        code: int = arguments.handler(arguments)
        if whole_process and getattr(arguments, "exit_without_teardown", False):
            _exit_without_teardown(code)
        return code
    except CdkImdsError as error:
        print(f"cdk-imds: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("cdk-imds: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser(*, only_check: bool = False) -> argparse.ArgumentParser:
    """The command's parser; for ``check`` alone, without the live-account commands, whose modules
    (and the AWS code behind them) a check in a pipeline never needs to import."""
    parser = argparse.ArgumentParser(
        prog="cdk-imds",
        description="Keep EC2 capacity IMDSv2-only: check CDK apps and CloudFormation templates, "
        "audit and fix live AWS accounts.",
        epilog="Run 'cdk-imds COMMAND --help' for a command's options and examples.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cdk-imds {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add_check(commands)
    if not only_check:
        from cdk_imds.cli.audit import add_audit
        from cdk_imds.cli.remediate import add_remediate

        add_audit(commands)
        add_remediate(commands)
    return parser


def _exit_without_teardown(code: int) -> None:
    """End the process at once, once everything is written: freeing the millions of objects of a
    large assembly's templates one by one at exit took about a tenth of ``check`` (bench/README.md).
    Only for the whole process: a caller of ``main`` in Python gets its return value as usual."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # let the normal exit report what went wrong
    os._exit(code)
