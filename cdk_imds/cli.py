"""The ``cdk-imds`` command. The one place that turns errors into messages and exit codes."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO, TypeVar

from cdk_imds import __version__
from cdk_imds.aws import DEFAULT_USAGE_DAYS
from cdk_imds.errors import CdkImdsError
from cdk_imds.formats import Format, Report, render
from cdk_imds.policy import Options, Summary, check_sources
from cdk_imds.sources import Loaded
from cdk_imds.sources.loader import load_paths

if TYPE_CHECKING:
    from cdk_imds.aws.plan import Plan
    from cdk_imds.aws.results import Run

_Read = TypeVar("_Read")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# GetMetricData keeps hourly data points for 455 days (15 months).
_MAX_USAGE_DAYS = 455
_BAR_WIDTH = 30

_CHECK_EXAMPLES = """\
examples:
  cdk-imds check cdk.out                      check every stack, stage and nested stack of an app
  cdk-imds check template.yaml other.json     check plain CloudFormation templates
  cdk-imds check cdk.out --format sarif -o imds.sarif
                                              write SARIF for code scanning
  cdk-imds check cdk.out --max-hop-limit 2    hop limits above 2 become errors

exit codes: 0 no errors, 1 errors found, 2 bad input (a path that is not a template or assembly)
"""

_AUDIT_EXAMPLES = """\
examples:
  cdk-imds audit                              audit the session's region (AWS_REGION / profile)
  cdk-imds audit --region eu-west-1 --region us-east-1 --profile prod
  cdk-imds audit --all-regions --format json -o audit.json
  cdk-imds audit --usage-days 30              readiness over 30 days of MetadataNoToken

read-only; the IAM actions it needs are in cdk_imds/policies/audit-policy.json.
exit codes: 0 no errors, 1 errors found, 2 bad input or unusable credentials
"""

_REMEDIATE_EXAMPLES = """\
examples:
  cdk-imds remediate --region eu-west-1       print the plan (dry run: nothing changes)
  cdk-imds remediate --region eu-west-1 --apply --plan run.json
                                              apply it, recording every change in run.json
  cdk-imds remediate --apply --refresh --min-healthy-percentage 100 --plan run.json
                                              also replace running instances (instance refresh)
  cdk-imds remediate --apply --in-place       also require tokens on running instances, no replacement
  cdk-imds remediate --apply --force          include groups still calling IMDSv1 (they may break)
  cdk-imds remediate --revert run.json        show what undoing run.json would do
  cdk-imds remediate --revert run.json --apply
                                              undo it

the IAM actions it needs are in cdk_imds/policies/remediate-policy.json.
exit codes: 0 done (or nothing to do), 1 groups held back, skipped or failed (rerun to finish),
2 bad input, plan file or credentials
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
        description="Keep EC2 capacity IMDSv2-only: check CDK apps and CloudFormation templates, "
        "audit live AWS accounts.",
        epilog="Run 'cdk-imds COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"cdk-imds {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_check(commands)
    _add_audit(commands)
    _add_remediate(commands)
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


def _add_audit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="audit a live AWS account's Auto Scaling groups, launch templates and instances (read-only)",
        description="Judge, read-only, the launch template versions Auto Scaling groups actually launch\n"
        "($Latest, $Default, pinned, mixed-instances overrides), launch configurations, templates'\n"
        "default versions and running instances. Each finding shows the CloudWatch MetadataNoToken\n"
        "sum (IMDSv1 calls) over the usage window: whether requiring tokens is safe yet.",
        epilog=_AUDIT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scope_arguments(audit)
    _add_output_arguments(audit)
    audit.set_defaults(handler=_run_audit)


def _add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """Which account and regions to read: shared by audit and remediate."""
    parser.add_argument(
        "--region",
        action="append",
        default=[],
        dest="regions",
        metavar="REGION",
        help="region to read; repeat for several (default: the session's region)",
    )
    parser.add_argument(
        "--all-regions", action="store_true", help="read every region enabled for the account"
    )
    parser.add_argument(
        "--profile", metavar="PROFILE", help="AWS profile (default: the usual credential chain)"
    )
    parser.add_argument(
        "--usage-days",
        type=_positive_int,
        default=DEFAULT_USAGE_DAYS,
        metavar="N",
        help=f"sum MetadataNoToken over the last N days (default: {DEFAULT_USAGE_DAYS})",
    )


def _add_remediate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    remediate = commands.add_parser(
        "remediate",
        help="fix Auto Scaling groups that allow IMDSv1 (dry run unless --apply)",
        description="Make what Auto Scaling groups launch require IMDSv2: a new launch template\n"
        "version with HttpTokens 'required' (every other field kept), the group pointing at it the\n"
        "way it did ($Latest and $Default stay, a pinned number becomes the new one); launch\n"
        "configuration groups move to an equivalent launch template. Groups whose instances called\n"
        "IMDSv1 in the usage window are held back unless --force. Without --apply, prints the plan.",
        epilog=_REMEDIATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scope_arguments(remediate)
    remediate.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default: text)"
    )
    remediate.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    remediate.add_argument("--apply", action="store_true", help="make the changes (default: dry run)")
    remediate.add_argument(
        "--plan",
        metavar="FILE",
        help="with --apply: record before and after of every change in FILE (for --revert)",
    )
    remediate.add_argument(
        "--force", action="store_true", help="change groups even if their instances still call IMDSv1"
    )
    instances = remediate.add_mutually_exclusive_group()
    instances.add_argument(
        "--refresh", action="store_true", help="start an instance refresh on every changed group"
    )
    instances.add_argument(
        "--in-place",
        action="store_true",
        help="require tokens on the running instances of changed groups (no replacement)",
    )
    remediate.add_argument(
        "--min-healthy-percentage",
        type=_percentage,
        metavar="N",
        help="with --refresh: instances kept in service during the refresh (default: 90)",
    )
    remediate.add_argument(
        "--revert", metavar="FILE", help="undo the run recorded in FILE (dry run unless --apply)"
    )
    remediate.set_defaults(handler=_run_remediate, parser=remediate)


def _check_remediate_flags(arguments: argparse.Namespace) -> None:
    """Flag combinations that make no sense are the parser's errors (exit 2, with usage)."""
    parser: argparse.ArgumentParser = arguments.parser
    if arguments.plan and not arguments.apply:
        parser.error("--plan records applied changes: add --apply (use -o to save a dry-run plan)")
    if arguments.min_healthy_percentage is not None and not arguments.refresh:
        parser.error("--min-healthy-percentage needs --refresh")
    if arguments.revert:
        extra = [
            flag
            for flag, given in (
                ("--plan", arguments.plan),
                ("--refresh", arguments.refresh),
                ("--in-place", arguments.in_place),
                ("--force", arguments.force),
                ("--region", arguments.regions),
                ("--all-regions", arguments.all_regions),
            )
            if given
        ]
        if extra:
            parser.error(f"--revert takes what to undo, and where, from its file: drop {', '.join(extra)}")


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


def _check_scope(arguments: argparse.Namespace) -> None:
    if arguments.all_regions and arguments.regions:
        raise CdkImdsError("--all-regions and --region exclude each other")
    if arguments.usage_days > _MAX_USAGE_DAYS:
        raise CdkImdsError(f"--usage-days: CloudWatch keeps hourly data for {_MAX_USAGE_DAYS} days at most")


def _with_progress(read: Callable[..., _Read], arguments: argparse.Namespace) -> _Read:
    """Read the account in the scope the arguments give, showing progress region by region."""
    progress = _Progress(sys.stderr)
    try:
        return read(
            arguments.profile,
            arguments.regions,
            arguments.all_regions,
            arguments.usage_days,
            progress=progress.region_done,
        )
    finally:
        progress.close()


def _run_remediate(arguments: argparse.Namespace) -> int:
    _check_remediate_flags(arguments)
    if arguments.revert:
        return _run_revert(arguments)
    _check_scope(arguments)
    from cdk_imds.aws.account import read_account
    from cdk_imds.aws.apply import apply_plan, connect
    from cdk_imds.aws.plan import (
        DEFAULT_MIN_HEALTHY_PERCENTAGE,
        InstanceAction,
        PlanOptions,
        plan_account,
        render_plan_json,
        render_plan_text,
    )
    from cdk_imds.aws.record import Recorder
    from cdk_imds.aws.results import Run

    instances = (
        InstanceAction.REFRESH
        if arguments.refresh
        else InstanceAction.IN_PLACE
        if arguments.in_place
        else InstanceAction.NONE
    )
    options = PlanOptions(
        force=arguments.force,
        instances=instances,
        min_healthy_percentage=arguments.min_healthy_percentage or DEFAULT_MIN_HEALTHY_PERCENTAGE,
    )
    scan = _with_progress(read_account, arguments)
    plan = plan_account(scan, arguments.usage_days, options)
    if not arguments.apply:
        render = render_plan_json if arguments.format == "json" else render_plan_text
        _emit_remediation(render(scan.account, plan), arguments, "plan")
        return EXIT_FINDINGS if plan.waiting() or plan.skipped else EXIT_OK
    recorder = Recorder(arguments.plan, scan.account) if arguments.plan else None
    if recorder is not None:
        # Before any change: a plan file that cannot be written stops the run here.
        recorder.start()
    clients = connect(arguments.profile, scan.regions)
    progress = _Progress(sys.stderr, verb="remediate", unit="groups", done="remediated")
    try:
        results = apply_plan(plan, clients, recorder, progress.region_done)
    finally:
        progress.close()
        if recorder is not None:
            recorder.finish()
    run = Run(scan.account, "apply", results, _remediation_notes(plan), arguments.plan)
    _emit_run(run, arguments)
    return EXIT_OK if run.complete else EXIT_FINDINGS


def _remediation_notes(plan: Plan) -> list[str]:
    waiting = plan.only_instances()
    if not waiting:
        return []
    names = ", ".join(group.group for group in waiting)
    return [
        f"running instances still allow IMDSv1 in {names}: --refresh replaces them, --in-place changes them"
    ]


def _run_revert(arguments: argparse.Namespace) -> int:
    from cdk_imds.aws.apply import account_of, connect
    from cdk_imds.aws.record import load_record
    from cdk_imds.aws.results import Run
    from cdk_imds.aws.revert import (
        apply_revert,
        kept_notes,
        render_revert_json,
        render_revert_text,
        revert_steps,
    )

    record = load_record(arguments.revert)
    steps = revert_steps(record)
    if not arguments.apply:
        render = render_revert_json if arguments.format == "json" else render_revert_text
        _emit_remediation(render(record, steps), arguments, "revert plan")
        return EXIT_OK
    clients = connect(arguments.profile, {step.region for step in steps})
    if clients and account_of(clients, arguments.profile) != record.account:
        raise CdkImdsError(
            f"{arguments.revert}: the plan file is for account {record.account}, "
            "the credentials are for another account"
        )
    progress = _Progress(sys.stderr, verb="revert", unit="steps", done="reverted")
    try:
        results = apply_revert(steps, clients, progress.region_done)
    finally:
        progress.close()
    run = Run(record.account, "revert", results, kept_notes(record))
    _emit_run(run, arguments)
    return EXIT_OK if run.complete else EXIT_FINDINGS


def _emit_run(run: Run, arguments: argparse.Namespace) -> None:
    from cdk_imds.aws.results import render_run_json, render_run_text, summary

    render = render_run_json if arguments.format == "json" else render_run_text
    _emit_remediation(render(run), arguments, "report")
    # The summary also goes to stderr, so a report written to a file or piped away still says it.
    print(f"cdk-imds: {run.command}: {summary(run)}", file=sys.stderr)


def _emit_remediation(text: str, arguments: argparse.Namespace, what: str) -> None:
    if arguments.output:
        _write_atomically(arguments.output, text)
        print(f"cdk-imds: wrote the {what} to {arguments.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _run_audit(arguments: argparse.Namespace) -> int:
    _check_scope(arguments)
    # boto3 takes a noticeable while to import; `check` never needs it.
    from cdk_imds.aws.audit import run_audit

    result = _with_progress(run_audit, arguments)
    report = Report(
        findings=result.findings,
        summary=Summary.of(result.findings, 0, result.resources),
        problems=[],
        tool_version=__version__,
        command="audit",
    )
    _emit(report, arguments)
    return EXIT_FINDINGS if report.summary.errors else EXIT_OK


class _Progress:
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
            filled = round(_BAR_WIDTH * done / total)
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            self.stream.write(f"\rcdk-imds: {self.verb} [{bar}] {done}/{total} {self.unit} ({region})\x1b[K")
            self.drawn = True
        else:
            self.stream.write(f"cdk-imds: {self.done} {region} ({done}/{total})\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


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


def _percentage(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be from 0 to 100")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
