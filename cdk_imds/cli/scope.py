"""Which account and regions a live-account command reads: shared by audit and remediate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from cdk_imds.aws import DEFAULT_USAGE_DAYS
from cdk_imds.cli.arguments import positive_int
from cdk_imds.cli.output import Progress
from cdk_imds.errors import CdkImdsError

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
