"""Which account and regions a live-account command reads: shared by audit and remediate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cdk_imds.aws import DEFAULT_USAGE_DAYS

# Constants only: cdk_imds.aws.organization's package module imports no boto3.
from cdk_imds.aws.organization import DEFAULT_MAX_WORKERS, DEFAULT_ROLE_NAME
from cdk_imds.cli.arguments import positive_int
from cdk_imds.cli.output import Progress
from cdk_imds.errors import CdkImdsError

if TYPE_CHECKING:
    from cdk_imds.aws.organization.common import OrgSettings

_Read = TypeVar("_Read")

# GetMetricData keeps hourly data points for 455 days (15 months).
MAX_USAGE_DAYS = 455


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
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
        type=positive_int,
        default=DEFAULT_USAGE_DAYS,
        metavar="N",
        help=f"sum MetadataNoToken over the last N days (default: {DEFAULT_USAGE_DAYS})",
    )


def check_scope(arguments: argparse.Namespace) -> None:
    if arguments.all_regions and arguments.regions:
        raise CdkImdsError("--all-regions and --region exclude each other")
    if arguments.usage_days > MAX_USAGE_DAYS:
        raise CdkImdsError(f"--usage-days: CloudWatch keeps hourly data for {MAX_USAGE_DAYS} days at most")


def with_progress(read: Callable[..., _Read], arguments: argparse.Namespace) -> _Read:
    """Read the account in the scope the arguments give, showing progress region by region."""
    progress = Progress(sys.stderr)
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


def account_ids(text: str) -> list[str]:
    """``--accounts 111122223333,444455556666``: comma-separated, each twelve digits."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    bad = [part for part in ids if not (len(part) == 12 and part.isdigit())]
    if bad or not ids:
        raise argparse.ArgumentTypeError(f"{', '.join(bad) or repr(text)}: an account id is twelve digits")
    return ids


def add_organization_arguments(parser: argparse.ArgumentParser, command: str) -> argparse._ArgumentGroup:
    """Which accounts of an organization to read, and how to get into them; returns the group for
    the command's own organization flags."""
    default_role, default_workers = DEFAULT_ROLE_NAME, DEFAULT_MAX_WORKERS
    group = parser.add_argument_group("organization")
    group.add_argument(
        "--organization",
        action="store_true",
        help=f"{command} every active account of the organization (run from the management account "
        "or a delegated administrator)",
    )
    group.add_argument(
        "--accounts",
        type=account_ids,
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="only these accounts (repeatable)",
    )
    group.add_argument(
        "--exclude-accounts",
        type=account_ids,
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="skip these accounts (repeatable)",
    )
    group.add_argument(
        "--role-name",
        metavar="NAME",
        help=f"role to assume in each account (default: {default_role})",
    )
    group.add_argument(
        "--external-id", metavar="ID", help="external id the member role's trust policy requires"
    )
    group.add_argument(
        "--max-workers",
        type=positive_int,
        metavar="N",
        help=f"account-regions read at once (default: {default_workers})",
    )
    return group


def check_organization(arguments: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Organization flags without --organization are the parser's errors (exit 2, with usage)."""
    from cdk_imds.aws.organization.member import check_role_settings

    if not arguments.organization:
        given = [
            flag
            for flag, value in (
                ("--accounts", arguments.accounts),
                ("--exclude-accounts", arguments.exclude_accounts),
                ("--role-name", arguments.role_name),
                ("--external-id", arguments.external_id),
                ("--max-workers", arguments.max_workers),
                ("--resume", getattr(arguments, "resume", False)),
                ("--plan-dir", getattr(arguments, "plan_dir", None)),
            )
            if value
        ]
        if given:
            parser.error(f"{', '.join(given)} {'needs' if len(given) == 1 else 'need'} --organization")
        return
    try:
        check_role_settings(arguments.role_name or DEFAULT_ROLE_NAME, arguments.external_id)
    except CdkImdsError as error:
        parser.error(str(error))


def organization_settings(arguments: argparse.Namespace, command: str) -> OrgSettings:
    """The ``OrgSettings`` the arguments give (imports the AWS code: call it once checked)."""
    from cdk_imds.aws.organization.common import OrgSettings
    from cdk_imds.aws.organization.member import RoleSettings

    return OrgSettings(
        profile=arguments.profile,
        regions=tuple(arguments.regions),
        all_regions=arguments.all_regions,
        usage_days=arguments.usage_days,
        role=RoleSettings(arguments.role_name or DEFAULT_ROLE_NAME, arguments.external_id, command),
        include=tuple(account for ids in arguments.accounts for account in ids),
        exclude=tuple(account for ids in arguments.exclude_accounts for account in ids),
        max_workers=arguments.max_workers or DEFAULT_MAX_WORKERS,
    )
