"""``cdk-imds audit``: judge a live account, read-only."""

from __future__ import annotations

import argparse

from cdk_imds import __version__
from cdk_imds.cli.exit_codes import EXIT_FINDINGS, EXIT_OK
from cdk_imds.cli.output import add_output_arguments, emit_report
from cdk_imds.cli.scope import add_scope_arguments, check_scope, with_progress
from cdk_imds.formats import Report
from cdk_imds.policy import Summary

_AUDIT_EXAMPLES = """\
examples:
  cdk-imds audit                              audit the session's region (AWS_REGION / profile)
  cdk-imds audit --region eu-west-1 --region us-east-1 --profile prod
  cdk-imds audit --all-regions --format json -o audit.json
  cdk-imds audit --usage-days 30              readiness over 30 days of MetadataNoToken

read-only; the IAM actions it needs are in cdk_imds/policies/audit-policy.json.
exit codes: 0 no errors, 1 errors found, 2 bad input or unusable credentials
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_scope_arguments(audit)
    add_output_arguments(audit)
    audit.set_defaults(handler=run_audit)


def run_audit(arguments: argparse.Namespace) -> int:
    check_scope(arguments)
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
