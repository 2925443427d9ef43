"""What audit and remediate share on an organization: the settings, the caller, the accounts, and
opening one account (its role assumed, its regions decided, their clients made)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdk_imds.aws import DEFAULT_USAGE_DAYS
from cdk_imds.aws import session as aws_session
from cdk_imds.aws.account import RegionClients
from cdk_imds.aws.organization import DEFAULT_MAX_WORKERS, DEFAULT_ROLE_NAME
from cdk_imds.aws.organization.accounts import MemberAccount, list_active_accounts, select
from cdk_imds.aws.organization.member import Caller, RoleSettings


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


def open_account(
    caller: Caller, settings: OrgSettings, account: MemberAccount
) -> tuple[dict[str, RegionClients], list[str]]:
    """Assume the role in ``account`` and make the clients of every region it is read in.

    The clients are made here, in one thread, from the account's one session (sessions are not
    thread-safe, clients are); each region's task then uses its own."""
    session = caller.assume(account.id)
    regions = list(dict.fromkeys(settings.regions)) or [caller.region]
    if settings.all_regions:
        # Without AllRegions, DescribeRegions lists the regions enabled for this account: an
        # opt-in region one account has not enabled is not read there.
        ec2 = aws_session.client(session, "ec2", caller.region)
        with aws_session.aws_errors("ec2:DescribeRegions"):
            answer = ec2.describe_regions()
        regions = sorted(str(region["RegionName"]) for region in answer["Regions"])
    return {region: RegionClients.of(session, region) for region in regions}, regions
