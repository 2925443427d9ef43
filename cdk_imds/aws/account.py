"""Reading an account: which regions, one client set per region, regions read in parallel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdk_imds.aws import session as aws_session
from cdk_imds.aws.inventory import (
    RegionInventory,
    read_groups,
    read_launch_configurations,
    read_no_token_calls,
    read_running_instances,
    read_template_versions,
)
from cdk_imds.errors import CdkImdsError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_sts import STSClient

# Regions are I/O bound; more threads than this mostly buys throttling.
_MAX_WORKERS = 8

# Called once per region as it finishes: (region, regions done, regions in all).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RegionClients:
    region: str
    autoscaling: AutoScalingClient
    ec2: EC2Client
    cloudwatch: CloudWatchClient

    @classmethod
    def of(cls, session: boto3.Session, region: str) -> RegionClients:
        return cls(
            region,
            aws_session.client(session, "autoscaling", region),
            aws_session.client(session, "ec2", region),
            aws_session.client(session, "cloudwatch", region),
        )


@dataclass(frozen=True)
class AccountScan:
    account: str
    regions: list[str]
    inventories: list[RegionInventory]


def read_account(
    profile: str | None,
    regions: Sequence[str],
    all_regions: bool,
    usage_days: int,
    progress: Progress | None = None,
) -> AccountScan:
    session = aws_session.new_session(profile)
    home = regions[0] if regions else session.region_name
    if not home:
        raise CdkImdsError("no AWS region: pass --region or --all-regions, or set AWS_REGION")
    sts: STSClient = aws_session.client(session, "sts", home)
    with aws_session.aws_errors("sts:GetCallerIdentity"):
        account = sts.get_caller_identity()["Account"]
    targets = list(dict.fromkeys(regions)) or [home]
    if all_regions:
        ec2: EC2Client = aws_session.client(session, "ec2", home)
        with aws_session.aws_errors("ec2:DescribeRegions"):
            answer = ec2.describe_regions()
        targets = sorted(region["RegionName"] for region in answer["Regions"])
    # boto3 sessions are not thread-safe but clients are: the clients of every region are made
    # here, from one session (whose loaded service models they share), and used by one thread each.
    clients = {region: RegionClients.of(session, region) for region in targets}
    inventories: list[RegionInventory] = []
    pool = ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(targets)))
    try:
        futures = {pool.submit(read_region, clients[region], usage_days): region for region in targets}
        for done, future in enumerate(as_completed(futures), start=1):
            inventories.append(future.result())
            if progress is not None:
                progress(futures[future], done, len(targets))
    finally:
        # On an error or Ctrl-C, regions not started yet are dropped instead of waited for.
        pool.shutdown(wait=True, cancel_futures=True)
    inventories.sort(key=lambda inventory: inventory.region)
    return AccountScan(account, targets, inventories)


def read_region(clients: RegionClients, usage_days: int) -> RegionInventory:
    """Everything the audit and the plan need from one region."""
    inventory = RegionInventory(region=clients.region)
    inventory.groups = read_groups(clients.autoscaling)
    refs = (ref for group in inventory.groups for ref in group.launch_refs)
    inventory.templates = read_template_versions(clients.ec2, refs)
    names = [g.launch_configuration for g in inventory.groups if g.launch_configuration]
    inventory.launch_configurations = read_launch_configurations(
        clients.autoscaling, names, inventory.launch_configuration_data
    )
    inventory.instances = read_running_instances(clients.ec2)
    measured = set(inventory.instances) | {i for g in inventory.groups for i in g.instance_ids}
    inventory.no_token_calls = read_no_token_calls(clients.cloudwatch, measured, usage_days)
    return inventory
