"""``cdk-imds audit --organization``: every selected account x region, judged as one account is."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdk_imds.aws.account import read_region
from cdk_imds.aws.audit import judge_region
from cdk_imds.aws.organization.accounts import ACCOUNT_ID, MemberAccount
from cdk_imds.aws.organization.common import OpenAccount, OrgSettings, open_account, prepare
from cdk_imds.aws.organization.runner import AccountRun, Failure, run_accounts
from cdk_imds.policy.model import Finding, Severity


@dataclass
class AccountAudit:
    account: MemberAccount
    regions: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    resources: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures

    def row(self) -> AccountRow:
        return AccountRow.of(self)


@dataclass(frozen=True)
class AccountRow:
    """An account's line in the summary table; also what ``--resume`` reads back."""

    account: str
    name: str
    regions: tuple[str, ...]
    resources: int
    errors: int
    warnings: int
    # Error findings by readiness: MetadataNoToken 0 (ready), above 0 (not ready), not measured.
    ready: int
    not_ready: int
    unknown: int
    failed: tuple[str, ...]  # the regions that failed ("all regions": the account itself)

    @classmethod
    def of(cls, audit: AccountAudit) -> AccountRow:
        errors = [f for f in audit.findings if f.severity is Severity.ERROR]
        calls = [f.extra.get("metadata_no_token") for f in errors]
        return cls(
            account=audit.account.id,
            name=audit.account.name,
            regions=tuple(audit.regions),
            resources=audit.resources,
            errors=len(errors),
            warnings=sum(1 for f in audit.findings if f.severity is Severity.WARNING),
            ready=sum(1 for value in calls if value == 0),
            not_ready=sum(1 for value in calls if isinstance(value, int | float) and value > 0),
            unknown=sum(1 for value in calls if value is None),
            failed=tuple(failure.region or "all regions" for failure in audit.failures),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["regions"], data["failed"] = list(self.regions), list(self.failed)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountRow:
        if not ACCOUNT_ID.fullmatch(str(data["account"])):
            raise ValueError(f"{str(data['account'])[:40]!r} is not an account id")
        return cls(
            account=str(data["account"]),
            name=str(data["name"]),
            regions=tuple(str(region) for region in data["regions"]),
            resources=int(data["resources"]),
            errors=int(data["errors"]),
            warnings=int(data["warnings"]),
            ready=int(data["ready"]),
            not_ready=int(data["not_ready"]),
            unknown=int(data["unknown"]),
            failed=tuple(str(region) for region in data["failed"]),
        )


@dataclass
class OrgAudit:
    caller: str
    accounts: list[AccountAudit] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for audit in self.accounts for finding in audit.findings]

    @property
    def failures(self) -> list[Failure]:
        return [failure for audit in self.accounts for failure in audit.failures]


def audit_organization(
    settings: OrgSettings,
    on_account: Callable[[AccountAudit], None] | None = None,
    on_start: Callable[[str, int], None] | None = None,
) -> OrgAudit:
    """Audit every selected account; ``on_account`` gets each account as it finishes (to write
    its file, move the progress bar), ``on_start`` the caller's account and the number of
    accounts about to be read."""
    caller, accounts = prepare(settings)
    if on_start is not None:
        on_start(caller.account, len(accounts))
    result = OrgAudit(caller.account)

    def open_one(account: MemberAccount) -> tuple[OpenAccount, list[str]]:
        return open_account(caller, settings, account)

    def audit_region(opened: OpenAccount, account: MemberAccount, region: str) -> tuple[list[Finding], int]:
        # Judged as soon as it is read: only the findings are kept, not the inventory (which holds
        # every launch template's data).
        with opened.region(region) as clients:
            inventory = read_region(clients, settings.usage_days)
        findings, resources = judge_region(inventory, account.id, settings.usage_days)
        return [_named(finding, account) for finding in findings], resources

    def done(run: AccountRun[tuple[list[Finding], int]]) -> None:
        audit = AccountAudit(run.account, run.regions, failures=run.failures)
        for region in sorted(run.results):
            findings, resources = run.results[region]
            audit.findings += findings
            audit.resources += resources
        audit.findings.sort(key=_order)
        result.accounts.append(audit)
        if on_account is not None:
            on_account(audit)

    run_accounts(accounts, open_one, audit_region, done, settings.max_workers)
    result.accounts.sort(key=lambda audit: audit.account.id)
    return result


def _named(finding: Finding, account: MemberAccount) -> Finding:
    return finding.replace(extra={**finding.extra, "account_name": account.name})


def _order(finding: Finding) -> tuple[str, str, str, str]:
    return (finding.region or "", finding.resource_id or "", finding.resource_type, finding.rule.value)
