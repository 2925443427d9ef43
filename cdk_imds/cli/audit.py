"""``cdk-imds audit``: judge a live account, read-only."""

from __future__ import annotations

import argparse
import sys

from cdk_imds import __version__
from cdk_imds.cli.arguments import ExamplesHelpFormatter
from cdk_imds.cli.exit_codes import EXIT_FINDINGS, EXIT_OK
from cdk_imds.cli.output import Progress, add_output_arguments, emit_report
from cdk_imds.cli.scope import (
    add_organization_arguments,
    add_scope_arguments,
    check_organization,
    check_scope,
    organization_settings,
    with_progress,
)
from cdk_imds.formats import Report
from cdk_imds.policy import Summary

_AUDIT_EXAMPLES = """\
examples:
  cdk-imds audit                              audit the session's region (AWS_REGION / profile)
  cdk-imds audit --region eu-west-1 --region us-east-1 --profile prod
  cdk-imds audit --all-regions --format json -o audit.json
  cdk-imds audit --usage-days 30              readiness over 30 days of MetadataNoToken

  cdk-imds audit --organization --region eu-west-1 --region us-east-1
                                              every active account of the organization
  cdk-imds audit --organization --all-regions --role-name cdk-imds-audit -o audit-dir
                                              one file per account in audit-dir, plus a summary
  cdk-imds audit --organization --all-regions --role-name cdk-imds-audit -o audit-dir --resume
                                              continue an interrupted run
  cdk-imds audit --organization --accounts 111122223333,444455556666 --format sarif

read-only; the IAM actions it needs are in cdk_imds/policies/audit-policy.json; for
--organization, the member role and the caller's policy are in cdk_imds/policies/org-*.json.
exit codes: 0 no errors, 1 errors found (or, with --organization, an account-region could not
be read), 2 bad input or unusable credentials
"""


def add_audit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="audit a live AWS account's Auto Scaling groups, launch templates and instances (read-only)",
        description="Judge, read-only, the launch template versions Auto Scaling groups actually launch\n"
        "($Latest, $Default, pinned, mixed-instances overrides), launch configurations, templates'\n"
        "default versions and running instances. Each finding shows the CloudWatch MetadataNoToken\n"
        "sum (IMDSv1 calls) over the usage window: whether requiring tokens is safe yet.",
        epilog=_AUDIT_EXAMPLES,
        formatter_class=ExamplesHelpFormatter,
    )
    add_scope_arguments(audit)
    add_output_arguments(audit)
    for action in audit._actions:
        if action.dest == "output":
            action.help = "write the report to FILE instead of stdout (--organization: a directory)"
            action.metavar = "FILE|DIR"
    organization = add_organization_arguments(audit, "audit")
    organization.add_argument(
        "--resume",
        action="store_true",
        help="with --organization -o DIR: skip the accounts DIR already holds complete reports of",
    )
    audit.set_defaults(handler=run_audit, parser=audit)


def run_audit(arguments: argparse.Namespace) -> int:
    check_organization(arguments, arguments.parser)
    check_scope(arguments)
    if arguments.organization:
        return _run_organization_audit(arguments)
    # boto3 takes a noticeable while to import; `check` never needs it.
    from cdk_imds.aws.audit import run_audit

    result = with_progress(run_audit, arguments)
    report = Report(
        findings=result.findings,
        summary=Summary.of(result.findings, 0, result.resources),
        problems=[],
        tool_version=__version__,
        command="audit",
    )
    emit_report(report, arguments)
    return EXIT_FINDINGS if report.summary.errors else EXIT_OK


def _run_organization_audit(arguments: argparse.Namespace) -> int:
    if arguments.resume and not arguments.output:
        arguments.parser.error("--resume continues a run written with -o DIR: add -o DIR")
    from dataclasses import replace

    from cdk_imds.aws.organization.audit import AccountAudit, audit_organization
    from cdk_imds.aws.organization.report import OrgFormat, OrgReport, render, summary_table
    from cdk_imds.aws.organization.report_dir import ReportDir

    fmt = OrgFormat(arguments.format.value)
    directory = ReportDir(arguments.output, fmt, __version__, arguments.resume) if arguments.output else None
    settings = organization_settings(arguments, "audit")
    if directory is not None:
        settings = replace(settings, skip=frozenset(directory.earlier))
    progress = Progress(sys.stderr, verb="audit", unit="accounts", done="audited")
    total = done = 0

    def started(caller: str, count: int) -> None:
        nonlocal total
        total = count
        if directory is not None:
            directory.caller = caller

    def finished(audit: AccountAudit) -> None:
        nonlocal done
        if directory is not None:
            directory.write_account(audit)
        for failure in audit.failures:
            # Each failing account-region on its own line, as it happens, whatever the format.
            say(progress, f"cdk-imds: could not read {failure.line()}")
        done += 1
        progress.region_done(audit.account.label, done, max(total, done))

    try:
        result = audit_organization(settings, finished, started)
    finally:
        progress.close()
    if directory is not None:
        report = directory.finish()
        if fmt is OrgFormat.TEXT:
            sys.stdout.write("\n".join(summary_table(report)) + "\n")
        print(
            f"cdk-imds: wrote {len(result.accounts)} account reports and the summary to {arguments.output}"
            + (f" ({report.resumed} accounts kept from the earlier run)" if report.resumed else ""),
            file=sys.stderr,
        )
    else:
        report = OrgReport.of(result)
        sys.stdout.write(render(fmt, report, __version__))
    errors = sum(row.errors for row in report.rows)
    return EXIT_FINDINGS if errors or report.failures else EXIT_OK


def say(progress: Progress, line: str) -> None:
    """A line on stderr that a progress bar being redrawn in place does not overwrite."""
    prefix = "\r\x1b[K" if progress.bar and progress.drawn else ""
    progress.stream.write(f"{prefix}{line}\n")
    progress.stream.flush()
