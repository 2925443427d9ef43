"""The organization runner, report and report directory without AWS: scheduling, failures kept
local, the bounded pool, what --resume trusts, and text that came from the accounts."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from cdk_imds.aws.organization.accounts import MemberAccount, select
from cdk_imds.aws.organization.audit import AccountAudit
from cdk_imds.aws.organization.report import OrgFormat, OrgReport, render_text
from cdk_imds.aws.organization.report_dir import ReportDir, ReportDirError
from cdk_imds.aws.organization.runner import AccountRun, describe_failure, run_accounts
from cdk_imds.errors import AwsAccessError, CdkImdsError
from cdk_imds.policy.model import Finding, RuleId, Severity

ACCOUNTS = [MemberAccount(f"{index:012}", f"account-{index}") for index in range(1, 13)]


def test_every_account_finishes_once_failures_stay_local_and_the_pool_is_bounded() -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    finished: list[AccountRun[str]] = []

    def open_account(account: MemberAccount) -> tuple[str, list[str]]:
        if account.id.endswith("3"):
            raise AwsAccessError("sts:AssumeRole: AccessDenied: not authorized")
        return account.id, ["us-east-1", "eu-west-1"]

    def work(context: str, account: MemberAccount, region: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if account.id.endswith("5") and region == "eu-west-1":
            raise AwsAccessError(
                "ec2:DescribeInstances: AuthFailure: AWS was not able to validate the credentials"
            )
        return f"{context}/{region}"

    run_accounts(ACCOUNTS, open_account, work, finished.append, max_workers=3)

    assert sorted(run.account.id for run in finished) == [a.id for a in ACCOUNTS]
    assert most <= 3
    by_id = {run.account.id: run for run in finished}
    denied = by_id["000000000003"]
    assert [(f.region, f.message) for f in denied.failures] == [
        (None, "sts:AssumeRole: AccessDenied: not authorized")
    ]
    partial = by_id["000000000005"]
    assert partial.results == {"us-east-1": "000000000005/us-east-1"}
    assert partial.failures[0].region == "eu-west-1"
    assert partial.failures[0].message.startswith("region not enabled for this account")
    assert by_id["000000000001"].complete and len(by_id["000000000001"].results) == 2


def test_only_credential_codes_read_as_a_disabled_region() -> None:
    assert describe_failure(CdkImdsError("ec2:DescribeInstances: Throttling: Rate exceeded")) == (
        "ec2:DescribeInstances: Throttling: Rate exceeded"
    )
    assert describe_failure(CdkImdsError("autoscaling:X: InvalidClientTokenId: bad")).startswith(
        "region not enabled"
    )


def test_selection_keeps_the_order_asked_and_drops_exclusions() -> None:
    chosen = select(ACCOUNTS, ["000000000004", "000000000002"], ["000000000002"])

    assert chosen == [ACCOUNTS[3]]
    with pytest.raises(CdkImdsError, match="999999999999, 888888888888 are not active accounts"):
        select(ACCOUNTS, ["999999999999", "888888888888"], [])


def _finding(account: MemberAccount, message: str) -> Finding:
    return Finding(
        rule=RuleId.IMDSV2_REQUIRED,
        severity=Severity.ERROR,
        resource_type="AWS::AutoScaling::AutoScalingGroup",
        logical_id="",
        template="",
        message=message,
        resource_id="web\x1b[2J",
        region="us-east-1",
        account=account.id,
        extra={"metadata_no_token": 0.0, "account_name": account.name},
    )


def test_text_from_the_accounts_cannot_drive_the_terminal() -> None:
    account = ACCOUNTS[0]
    audit = AccountAudit(account, ["us-east-1"], [_finding(account, "launches \x1b]0;owned\x07")], 3)

    text = render_text(OrgReport.of_account("123456789012", audit))

    assert "\x1b" not in text and "\x07" not in text
    assert "web\\x1b[2J  AWS::AutoScaling::AutoScalingGroup" in text
    row = next(line for line in text.splitlines() if line.startswith(account.id))
    # resources 3, errors 1, warnings 0, ready 1 (MetadataNoToken 0), not ready 0, unknown 0
    assert row.split()[2:] == ["3", "1", "0", "1", "0", "0", "-"]


def test_resume_trusts_only_complete_accounts_whose_file_is_there(tmp_path: Path) -> None:
    first = ReportDir(str(tmp_path), OrgFormat.JSON, "0", resume=False)
    first.caller = "123456789012"
    done, lost, partial = ACCOUNTS[:3]
    first.write_account(AccountAudit(done, ["us-east-1"], [], 1))
    first.write_account(AccountAudit(lost, ["us-east-1"], [], 1))
    first.write_account(AccountAudit(partial, ["us-east-1"], [], 1, failures=[]))
    (tmp_path / f"{lost.id}.json").unlink()
    summary = json.loads((tmp_path / "summary.json").read_text())
    summary["accounts"][2]["failed"] = ["us-east-1"]
    (tmp_path / "summary.json").write_text(json.dumps(summary))

    resumed = ReportDir(str(tmp_path), OrgFormat.JSON, "0", resume=True)

    assert set(resumed.earlier) == {done.id}


@pytest.mark.parametrize(
    "content, reason",
    [
        ("not json", "not a cdk-imds organization summary"),
        (json.dumps({"schema": "other"}), "expected schema"),
        (
            json.dumps({"schema": "cdk-imds/organization-audit/1", "accounts": [{"account": "../../etc/x"}]}),
            "is not an account id",
        ),
    ],
)
def test_a_summary_that_is_not_ours_is_one_line(tmp_path: Path, content: str, reason: str) -> None:
    (tmp_path / "summary.json").write_text(content)

    with pytest.raises(ReportDirError, match=reason) as error:
        ReportDir(str(tmp_path), OrgFormat.TEXT, "0", resume=True)

    assert "\n" not in str(error.value)


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_a_failure_line_clears_the_progress_bar_first() -> None:
    from cdk_imds.cli.audit import say
    from cdk_imds.cli.output import Progress

    terminal = _Terminal()
    progress = Progress(terminal, verb="audit", unit="accounts", done="audited")  # type: ignore[arg-type]
    progress.region_done("000000000001 (a)", 1, 2)
    say(progress, "cdk-imds: could not read 000000000002 (b) all regions: denied")
    progress.region_done("000000000002 (b)", 2, 2)

    lines = terminal.text.split("\n")
    assert lines[0].endswith("\r\x1b[Kcdk-imds: could not read 000000000002 (b) all regions: denied")
    assert lines[1].startswith("\rcdk-imds: audit [") and lines[1].endswith(
        "2/2 accounts (000000000002 (b))\x1b[K"
    )
