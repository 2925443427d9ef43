"""Account x region in one bounded pool; each account reported the moment its last region is done.

An account is first opened (its role assumed, its regions decided), then each of its regions is a
task of its own. At most ``max_workers`` accounts are open at a time, so the pool always has work
from accounts that are nearly finished rather than from all of them at once: results (and files
under ``-o DIR``) arrive account by account from the start, and memory holds a few accounts'
inventories, not the organization's. A failure (the role denied, a region not enabled, throttling
after the retries) ends that account or that account-region only, as a ``Failure`` line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cdk_imds.aws.organization.accounts import MemberAccount
from cdk_imds.errors import CdkImdsError

Context = TypeVar("Context")
Outcome = TypeVar("Outcome")

# What AWS answers in an opt-in region the account has not enabled: the caller's credentials are
# unknown there (session tokens from the global STS endpoint are not valid in opt-in regions).
REGION_DISABLED_CODES = (
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "OptInRequired",
)


@dataclass(frozen=True)
class Failure:
    """One account-region that could not be read (``region`` None: the whole account)."""

    account: MemberAccount
    region: str | None
    message: str

    def line(self) -> str:
        return f"{self.account.label} {self.region or 'all regions'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account.id,
            "account_name": self.account.name,
            "region": self.region,
            "error": self.message,
        }


@dataclass
class AccountRun(Generic[Outcome]):
    """One account's results, region by region, and what failed."""

    account: MemberAccount
    regions: list[str] = field(default_factory=list)
    results: dict[str, Outcome] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures


def run_accounts(
    accounts: Sequence[MemberAccount],
    open_account: Callable[[MemberAccount], tuple[Context, list[str]]],
    work_region: Callable[[Context, MemberAccount, str], Outcome],
    on_done: Callable[[AccountRun[Outcome]], None],
    max_workers: int,
) -> None:
    """Open each account, work each of its regions, and call ``on_done`` (in this thread) once per
    account, in the order they finish."""
    _Scheduler(accounts, open_account, work_region, on_done, max_workers).run()


def describe_failure(error: CdkImdsError) -> str:
    message = str(error)
    if any(f": {code}:" in f"{message}:" for code in REGION_DISABLED_CODES):
        return f"region not enabled for this account, or the credentials are not valid there ({message})"
    return message


class _Scheduler(Generic[Context, Outcome]):
    def __init__(
        self,
        accounts: Sequence[MemberAccount],
        open_account: Callable[[MemberAccount], tuple[Context, list[str]]],
        work_region: Callable[[Context, MemberAccount, str], Outcome],
        on_done: Callable[[AccountRun[Outcome]], None],
        max_workers: int,
    ) -> None:
        self.waiting = deque(accounts)
        self.open_account = open_account
        self.work_region = work_region
        self.on_done = on_done
        self.max_workers = max_workers
        self.runs: dict[str, AccountRun[Outcome]] = {}
        self.left: dict[str, int] = {}
        self.futures: dict[Future[Any], tuple[MemberAccount, str | None]] = {}

    def run(self) -> None:
        if not self.waiting:
            return
        self.pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="cdk-imds")
        try:
            self._open_more()
            while self.futures:
                done, _ = wait(self.futures, return_when=FIRST_COMPLETED)
                for future in done:
                    account, region = self.futures.pop(future)
                    if region is None:
                        self._opened(account, future)
                    else:
                        self._region_done(account, region, future)
        finally:
            # On Ctrl-C, or an error that is not an account's own, nothing new starts.
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _open_more(self) -> None:
        while self.waiting and len(self.runs) < self.max_workers:
            account = self.waiting.popleft()
            self.runs[account.id] = AccountRun(account)
            self.futures[self.pool.submit(self.open_account, account)] = (account, None)

    def _opened(self, account: MemberAccount, future: Future[Any]) -> None:
        run = self.runs[account.id]
        try:
            context, regions = future.result()
        except CdkImdsError as error:
            run.failures.append(Failure(account, None, describe_failure(error)))
            self._finish(account)
            return
        run.regions = list(regions)
        self.left[account.id] = len(run.regions)
        for region in run.regions:
            self.futures[self.pool.submit(self.work_region, context, account, region)] = (account, region)
        if not run.regions:
            self._finish(account)

    def _region_done(self, account: MemberAccount, region: str, future: Future[Any]) -> None:
        run = self.runs[account.id]
        try:
            run.results[region] = future.result()
        except CdkImdsError as error:
            run.failures.append(Failure(account, region, describe_failure(error)))
        self.left[account.id] -= 1
        if self.left[account.id] == 0:
            self._finish(account)

    def _finish(self, account: MemberAccount) -> None:
        run = self.runs.pop(account.id)
        self.left.pop(account.id, None)
        run.failures.sort(key=lambda failure: failure.region or "")
        self.on_done(run)
        self._open_more()
