"""What audit and remediate share on an organization: the settings, the caller, the accounts, and
opening one account (its role assumed, its regions decided)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cdk_imds.aws import DEFAULT_USAGE_DAYS
from cdk_imds.aws import session as aws_session
from cdk_imds.aws.account import RegionClients
from cdk_imds.aws.organization import DEFAULT_MAX_WORKERS, DEFAULT_ROLE_NAME
from cdk_imds.aws.organization.accounts import MemberAccount, list_active_accounts, select
from cdk_imds.aws.organization.member import Caller, RoleSettings

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True)
class OrgSettings:
    profile: str | None = None
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    usage_days: int = DEFAULT_USAGE_DAYS
    role: RoleSettings = field(default_factory=lambda: RoleSettings(DEFAULT_ROLE_NAME))
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_workers: int = DEFAULT_MAX_WORKERS
    # Accounts a resumed run already has (``--resume``): not opened again.
    skip: frozenset[str] = frozenset()


def prepare(settings: OrgSettings) -> tuple[Caller, list[MemberAccount]]:
    """The caller and the accounts to work on, in id order; errors here end the run (exit 2)."""
    caller = Caller(settings.profile, settings.regions[0] if settings.regions else None, settings.role)
    listed = list_active_accounts(caller.session, caller.region)
    chosen = select(listed, settings.include, settings.exclude)
    return caller, [account for account in chosen if account.id not in settings.skip]


class OpenAccount:
    """One member account's session, and the clients of a region made from it on demand.

    boto3 sessions are not thread-safe (clients are): the account's regions run in several
    threads, so client creation takes this account's lock. Clients are made when a region starts
    and closed when it ends, so the process holds clients for the regions being read, not for
    every region of every open account (a boto3 client weighs about a megabyte once used)."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self._lock = threading.Lock()

    @contextmanager
    def region(self, region: str) -> Iterator[RegionClients]:
        with self._lock:
            clients = RegionClients.of(self.session, region)
        try:
            yield clients
        finally:
            for client in (clients.autoscaling, clients.ec2, clients.cloudwatch):
                client.close()


def open_account(
    caller: Caller, settings: OrgSettings, account: MemberAccount
) -> tuple[OpenAccount, list[str]]:
    """Assume the role in ``account`` and decide the regions it is read in."""
    session = caller.assume(account.id)
    regions = list(dict.fromkeys(settings.regions)) or [caller.region]
    if settings.all_regions:
        # Without AllRegions, DescribeRegions lists the regions enabled for this account: an
        # opt-in region one account has not enabled is not read there.
        ec2 = aws_session.client(session, "ec2", caller.region)
        with aws_session.aws_errors("ec2:DescribeRegions"):
            answer = ec2.describe_regions()
        ec2.close()
        regions = sorted(str(region["RegionName"]) for region in answer["Regions"])
    return OpenAccount(session), regions
