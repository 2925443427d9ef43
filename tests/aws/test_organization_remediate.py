"""``cdk-imds remediate --organization`` on moto_server's multi-account backends, and audit and
remediate agreeing afterwards (in one account and across the organization)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdk_imds.aws.audit import run_audit
from cdk_imds.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, main
from cdk_imds.policy.model import Severity
from tests.aws.conftest import OPTIONAL, REGION, REQUIRED, Account
from tests.aws.org_helpers import DenyAssumeRole, Member, Organization, hook_all_sessions

OTHER_REGION = "eu-west-1"


@pytest.fixture
def org(aws: str) -> Organization:
    return Organization()


def _legacy_estate(member: Member, prefix: str) -> dict[str, str]:
    """The launches remediate fixes in different ways: $Latest, a pinned number that is also the
    template's default, $Default, a launch configuration; plus a clean group."""
    latest = member.template(f"{prefix}-latest", "optional")
    pinned = member.template(f"{prefix}-pinned", "optional")
    default = member.template(f"{prefix}-default", "optional")
    good = member.template(f"{prefix}-good", "required")
    member.launch_configuration(f"{prefix}-lc")
    member.group(f"{prefix}-on-latest", LaunchTemplate={"LaunchTemplateId": latest, "Version": "$Latest"})
    member.group(f"{prefix}-pinned", LaunchTemplate={"LaunchTemplateId": pinned, "Version": "1"})
    member.group(f"{prefix}-on-default", LaunchTemplate={"LaunchTemplateId": default, "Version": "$Default"})
    member.group(f"{prefix}-old", LaunchConfigurationName=f"{prefix}-lc")
    member.group(f"{prefix}-good", LaunchTemplate={"LaunchTemplateId": good, "Version": "$Latest"})
    return {"latest": latest, "pinned": pinned, "default": default}


def test_dry_run_plans_each_account_changes_nothing_and_holds_back_per_account(
    org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = org.account("alpha"), org.account("beta")
    templates = _legacy_estate(org.member(alpha), "a")
    busy = org.member(beta)
    legacy = busy.template("b-legacy", "optional")
    busy.group("b-busy", desired=1, LaunchTemplate={"LaunchTemplateId": legacy, "Version": "$Latest"})
    busy.no_token_calls("b-busy", 7)

    code = main(["remediate", "--organization", "--region", REGION, "--exclude-accounts", org.management])

    out = capsys.readouterr().out
    assert code == EXIT_FINDINGS  # beta's group is held back
    assert f"Remediation plan for account {alpha} (alpha) (dry run: nothing was changed)" in out
    assert f"Remediation plan for account {beta} (beta) (dry run: nothing was changed)" in out
    assert "HOLD     group b-busy: held back: 7 IMDSv1 calls" in out
    rows = out[out.index("Summary by account") :].splitlines()
    alpha_row = next(row.split() for row in rows if row.startswith(alpha))
    beta_row = next(row.split() for row in rows if row.startswith(beta))
    # account, name, to change, held back, skipped
    assert alpha_row[:5] == [alpha, "alpha", "4", "0", "0"]
    assert beta_row[:5] == [beta, "beta", "0", "1", "0"]
    member = org.member(alpha)
    assert member.launch("a-on-latest")["LaunchTemplate"]["Version"] == "$Latest"
    versions = member.ec2.describe_launch_template_versions(LaunchTemplateId=templates["latest"])
    assert len(versions["LaunchTemplateVersions"]) == 1


def test_apply_writes_one_plan_file_per_account_and_audit_then_reports_no_error(
    org: Organization, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta, denied = org.account("alpha"), org.account("beta"), org.account("denied")
    for account, prefix in ((alpha, "a"), (beta, "b")):
        for region in (REGION, OTHER_REGION):
            _legacy_estate(org.member(account, region), prefix)
    hook_all_sessions(monkeypatch, ("before-send.sts.AssumeRole", DenyAssumeRole({denied, org.management})))
    plans = tmp_path / "plans"
    regions = ["--region", REGION, "--region", OTHER_REGION]

    code = main(
        ["remediate", "--organization", *regions, "--apply", "--plan-dir", str(plans), "--format", "json"]
    )

    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_FINDINGS  # the denied accounts were not read
    by_account = {entry["account"]: entry for entry in document["accounts"]}
    assert by_account[alpha]["complete"] and by_account[beta]["complete"]
    assert by_account[alpha]["summary"]["applied"] == 8  # four groups in each of two regions
    assert by_account[denied]["failures"][0]["error"].startswith("sts:AssumeRole: AccessDenied")
    assert sorted(path.name for path in plans.iterdir()) == sorted([f"{alpha}.json", f"{beta}.json"])
    record = json.loads((plans / f"{alpha}.json").read_text())
    assert record["account"] == alpha and record["finished"]
    assert {change["region"] for change in record["changes"]} == {REGION, OTHER_REGION}

    code = main(["audit", "--organization", *regions, "--format", "json", "--accounts", f"{alpha},{beta}"])

    audit = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert [f for f in audit["findings"] if f["severity"] == "error"] == []
    # The pinned template's default version 1 is what nothing launches any more: a warning, with the fix.
    warnings = [f for f in audit["findings"] if f["resource_type"] == "AWS::EC2::LaunchTemplate"]
    assert warnings and all(f["severity"] == "warning" for f in warnings)
    assert all("no Auto Scaling group launches it" in f["message"] for f in warnings)


def test_an_accounts_plan_file_reverts_through_its_role(
    org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = org.account("alpha"), org.account("beta")
    _legacy_estate(org.member(alpha), "a")
    _legacy_estate(org.member(beta), "b")
    plans = tmp_path / "plans"
    selection = ["--accounts", f"{alpha},{beta}", "--region", REGION]
    assert main(["remediate", "--organization", *selection, "--apply", "--plan-dir", str(plans)]) == EXIT_OK
    assert org.member(alpha).launch("a-pinned")["LaunchTemplate"]["Version"] == "2"

    code = main(["remediate", "--organization", "--revert", str(plans / f"{alpha}.json"), "--apply"])

    assert code == EXIT_OK
    assert org.member(alpha).launch("a-pinned")["LaunchTemplate"]["Version"] == "1"
    # (moto keeps the stale LaunchTemplate next to it; AWS clears it.)
    assert org.member(alpha).launch("a-old")["LaunchConfigurationName"] == "a-lc"
    # Only that account was reverted.
    assert org.member(beta).launch("b-pinned")["LaunchTemplate"]["Version"] == "2"
    assert "Revert of account " + alpha in capsys.readouterr().out


def test_an_earlier_plan_file_in_the_way_stops_that_account_only(
    org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = org.account("alpha"), org.account("beta")
    _legacy_estate(org.member(alpha), "a")
    _legacy_estate(org.member(beta), "b")
    plans = tmp_path / "plans"
    plans.mkdir()
    earlier = plans / f"{alpha}.json"
    earlier.write_text("an earlier run's record")

    code = main(
        [
            "remediate",
            "--organization",
            "--accounts",
            f"{alpha},{beta}",
            "--region",
            REGION,
            "--apply",
            "--plan-dir",
            str(plans),
        ]
    )

    captured = capsys.readouterr()
    assert code == EXIT_FINDINGS
    assert earlier.read_text() == "an earlier run's record"
    assert (
        f"could not read {alpha} (alpha) all regions: {earlier}: an earlier run's plan file is in the way"
        in captured.err
    )
    assert org.member(alpha).launch("a-pinned")["LaunchTemplate"]["Version"] == "1"
    assert org.member(beta).launch("b-pinned")["LaunchTemplate"]["Version"] == "2"


def test_organization_apply_needs_a_plan_dir(org: Organization, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["remediate", "--organization", "--region", REGION, "--apply"])

    assert exit_.value.code == EXIT_BAD_INPUT
    assert (
        "--organization --apply records each account's changes: add --plan-dir DIR" in capsys.readouterr().err
    )


def test_in_one_account_audit_after_remediate_apply_reports_no_error_remediate_was_asked_to_fix(
    account: Account,
) -> None:
    pinned = account.template("pinned", OPTIONAL)
    latest = account.template("latest", OPTIONAL)
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": pinned, "Version": "1"})
    account.group("latest", LaunchTemplate={"LaunchTemplateId": latest, "Version": "$Latest"})
    account.group("old", LaunchConfigurationName="lc")
    before = run_audit(None, [], False).findings
    assert {f.resource_id for f in before if f.severity is Severity.ERROR} >= {
        "pinned",
        "latest",
        "old",
        pinned,
        latest,
    }

    assert main(["remediate", "--apply"]) == EXIT_OK

    after = run_audit(None, [], False).findings
    assert [f for f in after if f.severity is Severity.ERROR] == []
    # What remediate leaves on purpose is said as such: the old default versions nothing launches.
    assert sorted((f.resource_id, f.severity) for f in after) == sorted(
        [(pinned, Severity.WARNING), (latest, Severity.WARNING)]
    )


def test_a_group_reporting_a_template_and_a_configuration_is_judged_by_the_template(account: Account) -> None:
    from cdk_imds.aws.audit import judge_region
    from cdk_imds.aws.inventory import Group, LaunchRef, RegionInventory, TemplateVersion, TemplateVersions

    inventory = RegionInventory(region=REGION)
    inventory.groups = [
        Group("both", [LaunchRef("lt-1", None, "$Latest", "group")], launch_configuration="legacy")
    ]
    inventory.templates = {
        "lt-1": TemplateVersions({1: TemplateVersion("lt-1", "t", 1, True, REQUIRED)}, 1, 1)
    }
    inventory.launch_configurations = {"legacy": OPTIONAL}

    findings, _ = judge_region(inventory, "111122223333", 14)

    assert findings == []
