"""Which accounts an organization run works on: the organization's active accounts, selected."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdk_imds.aws import session as aws_session
from cdk_imds.errors import AwsAccessError, CdkImdsError

if TYPE_CHECKING:
    import boto3

ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True, order=True)
class MemberAccount:
    id: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


def list_active_accounts(session: boto3.Session, region: str) -> list[MemberAccount]:
    """Every ACTIVE account of the caller's organization, sorted by id (ListAccounts, paginated).

    Needs the management account or a delegated administrator; anything else is one line."""
    # No mypy_boto3 stubs for Organizations in the dev extra: one call, typed at the boundary.
    organizations: Any = aws_session.client(session, "organizations", region)
    accounts: list[MemberAccount] = []
    pages = organizations.get_paginator("list_accounts").paginate()
    iterator = iter(pages)
    while True:
        with aws_session.aws_errors("organizations:ListAccounts"):
            page = next(iterator, None)
        if page is None:
            break
        for raw in page["Accounts"]:
            # ``State`` replaces ``Status`` (deprecated in 2025); either says whether it is active.
            state = str(raw.get("State") or raw.get("Status") or "")
            if state != "ACTIVE":
                continue
            account_id = str(raw["Id"])
            # The id names files (-o DIR, --plan-dir): nothing but twelve digits gets that far.
            if not ACCOUNT_ID.fullmatch(account_id):
                raise AwsAccessError(f"organizations:ListAccounts: {account_id[:40]!r} is not an account id")
            accounts.append(MemberAccount(account_id, _printable(str(raw.get("Name", "")))))
    return sorted(accounts)


def select(
    listed: Sequence[MemberAccount], include: Iterable[str], exclude: Iterable[str]
) -> list[MemberAccount]:
    """``listed``, narrowed to ``include`` (when given) and without ``exclude``. An included id the
    organization does not list as active is an error: a typo must not pass for a clean account."""
    wanted = list(dict.fromkeys(include))
    by_id = {account.id: account for account in listed}
    unknown = [account for account in wanted if account not in by_id]
    if unknown:
        raise CdkImdsError(
            f"--accounts: {', '.join(unknown)} {'is not an active account' if len(unknown) == 1 else 'are not active accounts'} "
            "of the organization"
        )
    chosen = [by_id[account] for account in wanted] if wanted else list(listed)
    dropped = set(exclude)
    return [account for account in chosen if account.id not in dropped]


def _printable(name: str) -> str:
    # An account name is free text set by whoever created the account: no control characters
    # reach a terminal or a report line.
    return "".join(character if character.isprintable() else "?" for character in name)[:100]
