"""``cdk-imds remediate``: plan, apply and revert fixes on a live account (dry run unless --apply)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cdk_imds.cli.arguments import ExamplesHelpFormatter, percentage
from cdk_imds.cli.exit_codes import EXIT_FINDINGS, EXIT_OK
from cdk_imds.cli.output import Progress, emit_text
from cdk_imds.cli.scope import (
    add_organization_arguments,
    add_scope_arguments,
    check_organization,
    check_scope,
    organization_settings,
    with_progress,
)
from cdk_imds.errors import CdkImdsError

if TYPE_CHECKING:
    from cdk_imds.aws.plan import Plan, PlanOptions
    from cdk_imds.aws.results import Run

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

  cdk-imds remediate --organization --all-regions --role-name cdk-imds-remediate
                                              every account's plan (dry run)
  cdk-imds remediate --organization --all-regions --role-name cdk-imds-remediate --apply --plan-dir plans
                                              apply it; plans/<account id>.json per account
  cdk-imds remediate --organization --role-name cdk-imds-remediate --revert plans/111122223333.json --apply
                                              undo one account's run, through its role

the IAM actions it needs are in cdk_imds/policies/remediate-policy.json; for --organization,
the member role and the caller's policy are in cdk_imds/policies/org-*.json.
exit codes: 0 done (or nothing to do), 1 groups held back, skipped or failed, or (--organization)
an account-region not read (rerun to finish), 2 bad input, plan file or credentials
"""


def add_remediate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    remediate = commands.add_parser(
        "remediate",
        help="fix Auto Scaling groups that allow IMDSv1 (dry run unless --apply)",
        description="Make what Auto Scaling groups launch require IMDSv2: a new launch template\n"
        "version with HttpTokens 'required' (every other field kept), the group pointing at it the\n"
        "way it did ($Latest and $Default stay, a pinned number becomes the new one); launch\n"
        "configuration groups move to an equivalent launch template. Groups whose instances called\n"
        "IMDSv1 in the usage window are held back unless --force. Without --apply, prints the plan.",
        epilog=_REMEDIATE_EXAMPLES,
        formatter_class=ExamplesHelpFormatter,
    )
    add_scope_arguments(remediate)
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
        type=percentage,
        metavar="N",
        help="with --refresh: instances kept in service during the refresh (default: 90)",
    )
    remediate.add_argument(
        "--revert", metavar="FILE", help="undo the run recorded in FILE (dry run unless --apply)"
    )
    organization = add_organization_arguments(remediate, "remediate")
    organization.add_argument(
        "--plan-dir",
        metavar="DIR",
        help="with --organization --apply: record each account's changes in DIR/<account id>.json",
    )
    remediate.set_defaults(handler=run_remediate, parser=remediate)


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


def run_remediate(arguments: argparse.Namespace) -> int:
    _check_remediate_flags(arguments)
    check_organization(arguments, arguments.parser)
    if arguments.organization:
        _check_organization_flags(arguments)
    if arguments.revert:
        return _run_revert(arguments)
    check_scope(arguments)
    if arguments.organization:
        return _run_organization(arguments)
    from cdk_imds.aws.account import read_account
    from cdk_imds.aws.apply import apply_plan, connect
    from cdk_imds.aws.plan import plan_account
    from cdk_imds.aws.plan_report import render_plan_json, render_plan_text
    from cdk_imds.aws.record import Recorder
    from cdk_imds.aws.results import Run

    options = _plan_options(arguments)
    scan = with_progress(read_account, arguments)
    plan = plan_account(scan, arguments.usage_days, options)
    if not arguments.apply:
        render = render_plan_json if arguments.format == "json" else render_plan_text
        emit_text(render(scan.account, plan), arguments, "plan")
        return EXIT_FINDINGS if plan.waiting() or plan.skipped else EXIT_OK
    recorder = Recorder(arguments.plan, scan.account) if arguments.plan else None
    if recorder is not None:
        # Before any change: a plan file that cannot be written stops the run here.
        recorder.start()
    clients = connect(arguments.profile, scan.regions)
    progress = Progress(sys.stderr, verb="remediate", unit="groups", done="remediated")
    try:
        results = apply_plan(plan, clients, recorder, progress.region_done)
    finally:
        progress.close()
        if recorder is not None:
            recorder.finish()
    run = Run(scan.account, "apply", results, _remediation_notes(plan), arguments.plan)
    _emit_run(run, arguments)
    return EXIT_OK if run.complete else EXIT_FINDINGS


def _plan_options(arguments: argparse.Namespace) -> PlanOptions:
    from cdk_imds.aws.plan import DEFAULT_MIN_HEALTHY_PERCENTAGE, InstanceAction, PlanOptions

    instances = (
        InstanceAction.REFRESH
        if arguments.refresh
        else InstanceAction.IN_PLACE
        if arguments.in_place
        else InstanceAction.NONE
    )
    return PlanOptions(
        force=arguments.force,
        instances=instances,
        min_healthy_percentage=arguments.min_healthy_percentage or DEFAULT_MIN_HEALTHY_PERCENTAGE,
    )


def _remediation_notes(plan: Plan) -> list[str]:
    waiting = plan.only_instances()
    if not waiting:
        return []
    names = ", ".join(group.group for group in waiting)
    return [
        f"running instances still allow IMDSv1 in {names}: --refresh replaces them, --in-place changes them"
    ]


def _check_organization_flags(arguments: argparse.Namespace) -> None:
    parser: argparse.ArgumentParser = arguments.parser
    if arguments.plan:
        parser.error("--organization writes one plan file per account: use --plan-dir DIR, not --plan")
    if arguments.apply and not arguments.revert and not arguments.plan_dir:
        parser.error("--organization --apply records each account's changes: add --plan-dir DIR")
    if arguments.revert and (arguments.accounts or arguments.exclude_accounts or arguments.plan_dir):
        parser.error(
            "--revert takes its account from the plan file: drop --accounts, --exclude-accounts, --plan-dir"
        )


def _run_organization(arguments: argparse.Namespace) -> int:
    from cdk_imds.aws.organization.remediate import AccountRemediation, remediate_organization
    from cdk_imds.aws.organization.remediate_report import render_json, render_text
    from cdk_imds.cli.audit import say

    options = _plan_options(arguments)
    progress = Progress(
        sys.stderr, verb="remediate", unit="accounts", done="remediated" if arguments.apply else "planned"
    )
    total = done = 0

    def started(caller: str, count: int) -> None:
        nonlocal total
        total = count

    def finished(remediation: AccountRemediation) -> None:
        nonlocal done
        for failure in remediation.failures:
            say(progress, f"cdk-imds: could not read {failure.line()}")
        done += 1
        progress.region_done(remediation.account.label, done, max(total, done))

    try:
        remediations = remediate_organization(
            organization_settings(arguments, "remediate"),
            options,
            arguments.apply,
            arguments.plan_dir,
            finished,
            started,
        )
    finally:
        progress.close()
    dry_run = not arguments.apply
    render = render_json if arguments.format == "json" else render_text
    emit_text(render(remediations, dry_run), arguments, "report" if arguments.apply else "plan")
    return EXIT_OK if all(remediation.complete for remediation in remediations) else EXIT_FINDINGS


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
        emit_text(render(record, steps), arguments, "revert plan")
        return EXIT_OK
    session = None
    if arguments.organization:
        from cdk_imds.aws.organization.member import Caller

        settings = organization_settings(arguments, "remediate")
        caller = Caller(arguments.profile, next(iter(sorted({s.region for s in steps})), None), settings.role)
        session = caller.assume(record.account)
    clients = connect(arguments.profile, {step.region for step in steps}, session)
    if clients and account_of(clients, arguments.profile, session) != record.account:
        raise CdkImdsError(
            f"{arguments.revert}: the plan file is for account {record.account}, "
            "the credentials are for another account"
        )
    progress = Progress(sys.stderr, verb="revert", unit="steps", done="reverted")
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
    emit_text(render(run), arguments, "report")
    # The summary also goes to stderr, so a report written to a file or piped away still says it.
    print(f"cdk-imds: {run.command}: {summary(run)}", file=sys.stderr)
