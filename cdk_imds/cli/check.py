"""``cdk-imds check``: judge cloud assemblies and CloudFormation templates."""

from __future__ import annotations

import argparse
import gc
import sys

from cdk_imds import __version__
from cdk_imds.cli.arguments import ExamplesHelpFormatter, positive_int
from cdk_imds.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from cdk_imds.cli.output import add_output_arguments, emit_report
from cdk_imds.formats import Report
from cdk_imds.policy import CheckResult, Options, Summary
from cdk_imds.policy.engine import check_units
from cdk_imds.sources.loader import collector_paused, iter_paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cdk_imds.errors import InputError

_CHECK_EXAMPLES = """\
examples:
  cdk-imds check cdk.out                      check every stack, stage and nested stack of an app
  cdk-imds check template.yaml other.json     check plain CloudFormation templates
  cdk-imds check cdk.out --format sarif -o imds.sarif
                                              write SARIF for code scanning
  cdk-imds check cdk.out --max-hop-limit 2    hop limits above 2 become errors

exit codes: 0 no errors, 1 errors found, 2 bad input (a path that is not a template or assembly)
"""


def add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="check a cloud assembly (cdk.out) or CloudFormation templates",
        description="Judge every launch template, launch configuration, instance and launcher in a "
        "cloud assembly or template files; references across stacks are followed.",
        epilog=_CHECK_EXAMPLES,
        formatter_class=ExamplesHelpFormatter,
    )
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="cdk.out directory, or template file (JSON/YAML)"
    )
    add_output_arguments(check)
    check.add_argument(
        "--max-hop-limit",
        type=positive_int,
        metavar="N",
        help="make HttpPutResponseHopLimit values above N errors (default: above 1 is a warning)",
    )
    check.add_argument(
        "--unverifiable-as-warning",
        action="store_true",
        help="report IMDSV2_UNVERIFIABLE (values only known at deploy time) as warnings, not errors",
    )
    # Templates are all that is left to free at the end: see cdk_imds.cli._exit_without_teardown.
    check.set_defaults(handler=run_check, exit_without_teardown=True)


def run_check(arguments: argparse.Namespace) -> int:
    options = Options(
        max_hop_limit=arguments.max_hop_limit, unverifiable_as_warning=arguments.unverifiable_as_warning
    )
    result, unreadable = check_without_collector(arguments.paths, options)
    problems = [str(problem) for problem in unreadable]
    report = Report(
        findings=result.findings,
        summary=Summary.of(result.findings, result.templates, result.resources),
        problems=problems,
        tool_version=__version__,
        command="check",
    )
    emit_report(report, arguments)
    for problem in problems:
        print(f"cdk-imds: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_BAD_INPUT
    return EXIT_FINDINGS if result.failed else EXIT_OK


def check_without_collector(paths: list[str], options: Options) -> tuple[CheckResult, list[InputError]]:
    """Each template is judged as it is read, and freed once nothing else can refer to it: a large
    assembly then needs a fraction of the memory, reused rather than asked of the system
    (bench/README.md). Parsed templates form no reference cycles (the engine breaks its own
    before freeing one), yet the collector would re-scan the growing heap hundreds of times, and
    once more at exit: a third of the run on large assemblies. This process is about to exit, so
    what is left is frozen too."""
    problems: list[InputError] = []
    with collector_paused():
        result = check_units(iter_paths(paths, problems), options)
        gc.freeze()
    return result, problems
