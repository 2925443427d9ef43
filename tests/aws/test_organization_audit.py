"""``cdk-imds audit --organization`` on moto_server's multi-account backends.

Every account's resources live in moto under that account id, reached through credentials from
sts:AssumeRole into it, as the code under test reaches them. Refusals moto cannot produce (a role
denied, a region not enabled, throttling) are injected at the HTTP layer (see org_helpers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.aws import session as aws_session
from cdk_imds.aws.organization.audit import audit_organization
from cdk_imds.aws.organization.common import OrgSettings
from cdk_imds.aws.organization.member import RoleSettings
from cdk_imds.aws.organization.report_dir import ReportDir
from cdk_imds.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_INTERRUPTED, main
from tests.aws.conftest import REGION
from tests.aws.org_helpers import (
    AccountsOfKeys,
    DenyAssumeRole,
    Organization,
    RefuseIn,
    hook_all_sessions,
    region_disabled,
    throttled,
)

OTHER_REGION = "eu-west-1"


@pytest.fixture
def org(aws: str) -> Organization:
    return Organization()


def _arrange(org: Organization, names: list[str]) -> dict[str, str]:
    """Accounts by name: each has, in both regions, a group on an IMDSv1 template and a clean one."""
    ids: dict[str, str] = {}
    for name in names:
        account = org.account(name)
        ids[name] = account
        for region in (REGION, OTHER_REGION):
            member = org.member(account, region)
            legacy = member.template(f"{name}-legacy", "optional")
            good = member.template(f"{name}-good", "required")
            member.group(f"{name}-web", LaunchTemplate={"LaunchTemplateId": legacy, "Version": "$Latest"})
            member.group(f"{name}-api", LaunchTemplate={"LaunchTemplateId": good, "Version": "$Latest"})
    return ids


def _settings(**changes: Any) -> OrgSettings:
    base = OrgSettings(regions=(REGION, OTHER_REGION), role=RoleSettings("cdk-imds-audit"), max_workers=4)
    return OrgSettings(**{**vars(base), **changes})


def test_every_account_is_read_through_its_role_and_findings_carry_its_id_and_name(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _arrange(org, ["alpha", "beta"])
    keys = AccountsOfKeys()
    sent: list[dict[str, Any]] = []
    hook_all_sessions(
        monkeypatch,
        ("after-call.sts.AssumeRole", keys),
        ("before-parameter-build.sts.AssumeRole", lambda params, **_: sent.append(dict(params))),
    )

    result = audit_organization(
        _settings(include=(ids["alpha"], ids["beta"]), role=RoleSettings("r", "ext-1"))
    )

    assert [audit.account.id for audit in result.accounts] == sorted(ids.values())
    assert sorted(keys.assumed) == sorted(ids.values())
    assert {p["RoleSessionName"] for p in sent} == {"cdk-imds-audit"}
    assert {p["ExternalId"] for p in sent} == {"ext-1"}
    assert {p["RoleArn"] for p in sent} == {f"arn:aws:iam::{a}:role/r" for a in ids.values()}
    for name, account in ids.items():
        [audit] = [a for a in result.accounts if a.account.id == account]
        failing = {
            (f.region, f.resource_id) for f in audit.findings if f.severity == "error" and f.resource_id
        }
        # Each account sees its own groups only, in both regions.
        assert (REGION, f"{name}-web") in failing
        assert (OTHER_REGION, f"{name}-web") in failing
        assert all(f.account == account and f.extra["account_name"] == name for f in audit.findings)
        assert not any(f.resource_id and f.resource_id.endswith("-api") for f in audit.findings)
        assert audit.complete


def test_selection_excludes_accounts_and_an_unknown_account_is_one_line(
    org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _arrange(org, ["alpha", "beta"])

    result = audit_organization(_settings(exclude=(ids["beta"], org.management)))

    assert [audit.account.id for audit in result.accounts] == [ids["alpha"]]
    code = main(["audit", "--organization", "--accounts", "999999999999", "--region", REGION])
    assert code == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "cdk-imds: error: --accounts: 999999999999 is not an active account of the organization\n"
    )


def test_denied_accounts_and_a_disabled_region_are_reported_and_the_rest_complete(
    org: Organization, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _arrange(org, ["alpha", "beta", "gamma"])
    keys = AccountsOfKeys()
    deny = DenyAssumeRole({ids["beta"], org.management})
    disabled = RefuseIn(keys, {(ids["gamma"], OTHER_REGION)}, region_disabled)
    hook_all_sessions(
        monkeypatch,
        ("after-call.sts.AssumeRole", keys),
        ("before-send.sts.AssumeRole", deny),
        ("before-send.*.*", disabled),
    )

    code = main(["audit", "--organization", "--region", REGION, "--region", OTHER_REGION, "--format", "json"])

    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == EXIT_FINDINGS
    failures = {(f["account"], f["region"]): f["error"] for f in document["failures"]}
    assert set(failures) == {(ids["beta"], None), (org.management, None), (ids["gamma"], OTHER_REGION)}
    assert failures[(ids["beta"], None)].startswith("sts:AssumeRole: AccessDenied: User: ")
    assert failures[(ids["gamma"], OTHER_REGION)].startswith("region not enabled for this account")
    # One stderr line per failing account-region, as it happened.
    lines = [line for line in captured.err.splitlines() if line.startswith("cdk-imds: could not read")]
    assert len(lines) == 3
    assert any(f"{ids['gamma']} (gamma) {OTHER_REGION}: region not enabled" in line for line in lines)
    rows = {row["account"]: row for row in document["accounts"]}
    assert rows[ids["alpha"]]["failed"] == [] and rows[ids["alpha"]]["errors"] >= 2
    assert rows[ids["beta"]]["failed"] == ["all regions"] and rows[ids["beta"]]["resources"] == 0
    # gamma's enabled region is read completely; only the disabled one failed.
    assert rows[ids["gamma"]]["failed"] == [OTHER_REGION]
    gamma = {(f["region"], f["resource_id"]) for f in document["findings"] if f["account"] == ids["gamma"]}
    assert (REGION, "gamma-web") in gamma and all(region == REGION for region, _ in gamma)
    assert disabled.refused


def test_throttling_is_retried_and_throttling_after_the_retries_fails_that_region_only(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _arrange(org, ["alpha", "beta"])
    # Three retries instead of ten keep the backoff short; the behaviour is the same.
    monkeypatch.setattr(aws_session, "CLIENT_CONFIG", aws_session.CLIENT_CONFIG.merge(_three_attempts()))
    keys = AccountsOfKeys()
    always = RefuseIn(keys, {(ids["beta"], REGION)}, throttled)
    hook_all_sessions(monkeypatch, ("after-call.sts.AssumeRole", keys), ("before-send.*.*", always))

    result = audit_organization(_settings(include=(ids["alpha"], ids["beta"])))

    alpha, beta = sorted(result.accounts, key=lambda a: a.account.name)
    assert alpha.complete
    assert [(f.region, f.message) for f in beta.failures] == [
        (REGION, "autoscaling:DescribeAutoScalingGroups: Throttling: injected by the test")
    ]
    # The first refused call was sent once and retried three times before the region was given up.
    assert always.refused == ["auto-scaling.DescribeAutoScalingGroups"] * 4
    assert {f.region for f in beta.findings} == {OTHER_REGION}


def _three_attempts() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3})


def test_an_interrupted_run_keeps_its_accounts_and_resume_reads_only_the_rest(
    org: Organization, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _arrange(org, ["alpha", "beta", "gamma"])
    out = tmp_path / "audit"
    arguments = ["audit", "--organization", "--region", REGION, "--max-workers", "1", "-o", str(out)]
    arguments += ["--exclude-accounts", org.management]
    write = ReportDir.write_account

    def write_then_interrupt(self: ReportDir, audit: Any) -> None:
        write(self, audit)
        if len(self.rows) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(ReportDir, "write_account", write_then_interrupt)
    assert main(arguments) == EXIT_INTERRUPTED
    monkeypatch.setattr(ReportDir, "write_account", write)
    summary = json.loads((out / "summary.json").read_text())
    first = [row["account"] for row in summary["accounts"]]
    assert len(first) == 2
    assert sorted(path.name for path in out.glob("*.txt")) == sorted(f"{a}.txt" for a in first)
    capsys.readouterr()

    keys = AccountsOfKeys()
    hook_all_sessions(monkeypatch, ("after-call.sts.AssumeRole", keys))
    assert main([*arguments, "--resume"]) == EXIT_FINDINGS

    assert keys.assumed == [a for a in ids.values() if a not in first]
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(row["account"] for row in summary["accounts"]) == sorted(ids.values())
    assert len(list(out.glob("*.txt"))) == 3 + 1  # one per account, and summary.txt
    table = (out / "summary.txt").read_text()
    assert "2 from the earlier run being resumed" in table
    assert capsys.readouterr().out.startswith("Summary by account\naccount ")


def test_without_resume_an_earlier_run_directory_is_refused(
    org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "summary.json").write_text("{}")

    code = main(["audit", "--organization", "--region", REGION, "-o", str(tmp_path)])

    assert code == EXIT_BAD_INPUT
    assert "holds an earlier run (summary.json): add --resume" in capsys.readouterr().err


def test_text_report_groups_by_account_region_and_resource_and_ends_in_the_table(
    org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _arrange(org, ["alpha"])

    code = main(["audit", "--organization", "--region", REGION, "--accounts", ids["alpha"]])

    out = capsys.readouterr().out
    assert code == EXIT_FINDINGS
    lines = out.splitlines()
    assert lines[0] == f"Account {ids['alpha']} (alpha)"
    assert lines[1] == f"  {REGION}"
    assert lines[2] == "    alpha-web  AWS::AutoScaling::AutoScalingGroup"
    assert lines[3].startswith("      ERROR  IMDSV2_REQUIRED  group launches ")
    table = lines[lines.index("Summary by account") + 1 :]
    assert table[0].split() == [
        "account",
        "name",
        "resources",
        "errors",
        "warnings",
        "ready",
        "not",
        "ready",
        "unknown",
        "failed",
    ]
    assert table[1].split()[:2] == [ids["alpha"], "alpha"]
    assert table[2].startswith("1 account: ")


def test_sarif_names_the_account_of_each_result_and_lists_failures(
    org: Organization, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _arrange(org, ["alpha", "beta"])
    hook_all_sessions(monkeypatch, ("before-send.sts.AssumeRole", DenyAssumeRole({ids["beta"]})))

    main(
        [
            "audit",
            "--organization",
            "--region",
            REGION,
            "--format",
            "sarif",
            "--exclude-accounts",
            org.management,
        ]
    )

    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["results"] and all(r["properties"]["account_name"] == "alpha" for r in run["results"])
    assert {r["properties"]["account"] for r in run["results"]} == {ids["alpha"]}
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith(
        f"{ids['beta']} (beta) all regions: sts:AssumeRole: AccessDenied"
    )
    assert [row["account"] for row in run["properties"]["accounts"]] == sorted(ids.values())


def test_organization_flags_need_organization(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--accounts", "111122223333"])
    assert exit_.value.code == EXIT_BAD_INPUT
    assert "--accounts needs --organization" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["audit", "--role-name", "r", "--max-workers", "2"])
    assert "--role-name, --max-workers need --organization" in capsys.readouterr().err


def test_all_regions_reads_the_regions_each_account_has_enabled(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = org.account("alpha")
    member = org.member(account, "ap-southeast-2")
    legacy = member.template("far", "optional")
    member.group("far-away", LaunchTemplate={"LaunchTemplateId": legacy, "Version": "$Latest"})
    enabled = sorted(r["RegionName"] for r in org.member(account).ec2.describe_regions()["Regions"])

    result = audit_organization(_settings(regions=(), all_regions=True, include=(account,), max_workers=8))

    [audit] = result.accounts
    assert audit.regions == enabled and "ap-southeast-2" in enabled
    assert audit.complete
    assert {(f.region, f.resource_id) for f in audit.findings if f.resource_id == "far-away"} == {
        ("ap-southeast-2", "far-away")
    }
