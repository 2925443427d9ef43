"""``cdk-imds remediate --organization``: each selected account planned, and with --apply fixed,
its regions in parallel, with one plan file per account (``--plan-dir``) that ``--revert`` undoes.

Per account and region this is exactly the single-account run: ``plan_region`` then
``apply_plan``; held-back groups stay held back per account. An account's plan file is started
before its first change and refused if an earlier run's file is in the way (it is that run's only
way back).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdk_imds.aws.account import read_region
from cdk_imds.aws.apply import apply_plan
from cdk_imds.aws.organization.accounts import MemberAccount
from cdk_imds.aws.organization.common import OpenAccount, OrgSettings, open_account, prepare
from cdk_imds.aws.organization.runner import AccountRun, Failure, run_accounts
from cdk_imds.aws.plan import Plan, PlanOptions, merge_plans, plan_region
from cdk_imds.aws.record import Recorder
from cdk_imds.aws.results import Outcome, Result
from cdk_imds.errors import CdkImdsError


@dataclass
class AccountRemediation:
    account: MemberAccount
    regions: list[str]
    plan: Plan
    results: list[Result] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    plan_file: str | None = None

    @property
    def complete(self) -> bool:
        """Nothing failed, nothing held back or skipped, and (applied) every group changed."""
        if self.failures or self.plan.waiting() or self.plan.skipped:
            return False
        return all(result.outcome is Outcome.APPLIED for result in self.results)

    def counts(self) -> dict[str, int]:
        held = sum(1 for group in self.plan.waiting() if group.held_back and not group.blocked)
        return {
            "to_change": len(self.plan.acting()),
            "held_back": held,
            "skipped": len(self.plan.waiting()) - held + len(self.plan.skipped),
            "applied": sum(1 for r in self.results if r.outcome is Outcome.APPLIED),
            "failed": sum(1 for r in self.results if r.outcome is Outcome.FAILED),
        }


@dataclass(frozen=True)
class _Opened:
    account: OpenAccount
    recorder: Recorder | None


def plan_file_of(plan_dir: str, account: str) -> str:
    return os.path.join(plan_dir, f"{account}.json")


def remediate_organization(
    settings: OrgSettings,
    options: PlanOptions,
    apply: bool,
    plan_dir: str | None,
    on_account: Callable[[AccountRemediation], None] | None = None,
    on_start: Callable[[str, int], None] | None = None,
) -> list[AccountRemediation]:
    if apply and plan_dir is None:
        raise CdkImdsError("--organization --apply records each account's changes: add --plan-dir DIR")
    if plan_dir is not None:
        try:
            os.makedirs(plan_dir, exist_ok=True)
        except OSError as error:
            raise CdkImdsError(f"{plan_dir}: cannot create the plan directory ({error.strerror})") from None
    caller, accounts = prepare(settings)
    if on_start is not None:
        on_start(caller.account, len(accounts))
    done: list[AccountRemediation] = []
    # Account id -> its plan file's recorder, from the account's opening to its end.
    recorders: dict[str, Recorder] = {}

    def open_one(account: MemberAccount) -> tuple[_Opened, list[str]]:
        recorder = None
        if apply and plan_dir is not None:
            path = plan_file_of(plan_dir, account.id)
            if os.path.exists(path):
                raise CdkImdsError(
                    f"{path}: an earlier run's plan file is in the way (revert it, or move it away)"
                )
            recorder = Recorder(path, account.id)
        opened, regions = open_account(caller, settings, account)
        if recorder is not None:
            # Before any change: a plan file that cannot be written stops this account here.
            recorder.start()
            recorders[account.id] = recorder
        return _Opened(opened, recorder), regions

    def work(opened: _Opened, account: MemberAccount, region: str) -> tuple[Plan, list[Result]]:
        with opened.account.region(region) as clients:
            inventory = read_region(clients, settings.usage_days)
            plan = plan_region(inventory, settings.usage_days, options)
            if not apply:
                return plan, []
            return plan, apply_plan(plan, {region: clients}, opened.recorder)

    def finish(run: AccountRun[tuple[Plan, list[Result]]]) -> None:
        regions = sorted(run.results)
        plan = merge_plans([run.results[region][0] for region in regions], options)
        results = [result for region in regions for result in run.results[region][1]]
        recorder = recorders.pop(run.account.id, None)
        if recorder is not None:
            recorder.finish()
        path = recorder.path if recorder is not None else None
        remediation = AccountRemediation(run.account, run.regions, plan, results, run.failures, path)
        done.append(remediation)
        if on_account is not None:
            on_account(remediation)

    run_accounts(accounts, open_one, work, finish, settings.max_workers)
    done.sort(key=lambda remediation: remediation.account.id)
    return done


def to_dict(remediation: AccountRemediation, dry_run: bool) -> dict[str, Any]:
    return {
        "account": remediation.account.id,
        "account_name": remediation.account.name,
        "dry_run": dry_run,
        "complete": remediation.complete,
        "summary": remediation.counts(),
        "plan": remediation.plan.to_dict(),
        "results": [result.to_dict() for result in remediation.results],
        "failures": [failure.to_dict() for failure in remediation.failures],
        "plan_file": remediation.plan_file,
    }
