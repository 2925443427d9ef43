"""`cdk-imds audit` against a moto_server account: which versions groups launch, and what is reported.

Given an account arranged with boto3, when the audit runs, then the findings name the live
resource (group, lt-..., launch configuration, i-...), the version at fault and the readiness.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cdk_imds.aws.audit import run_audit
from cdk_imds.cli import EXIT_FINDINGS, EXIT_OK, main
from cdk_imds.policy.model import Finding, RuleId, Severity
from tests.aws.conftest import OPTIONAL, REQUIRED, Account


def _audit(usage_days: int = 14, regions: list[str] | None = None) -> list[Finding]:
    return run_audit(None, regions or [], False, usage_days).findings


def _by_resource(findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    return {(f.resource_type, f.resource_id or ""): f for f in findings if f.rule is RuleId.IMDSV2_REQUIRED}


def _group_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.resource_type == "AWS::AutoScaling::AutoScalingGroup"]


def test_a_group_launching_a_template_that_requires_tokens_is_clean(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = account.template("good", REQUIRED)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    code = main(["audit"])

    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "No IMDS findings in 2 resources." in out


def test_latest_resolves_to_the_newest_version_and_the_default_is_audited_too(account: Account) -> None:
    lt = account.template("fixed-later", OPTIONAL)
    assert account.version(lt, REQUIRED) == 2
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    findings = _audit()

    # The group launches version 2 (required); the template's default is still version 1.
    assert _group_findings(findings) == []
    template = _by_resource(findings)[("AWS::EC2::LaunchTemplate", lt)]
    assert template.related == f"{lt} version 1"
    assert "default version 1" in template.message


def test_default_and_latest_versions_are_told_apart(account: Account) -> None:
    lt = account.template("two-versions", REQUIRED)
    account.version(lt, OPTIONAL)
    account.group("on-default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    account.group("on-latest", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("unversioned", LaunchTemplate={"LaunchTemplateName": "two-versions"})

    findings = _by_resource(_audit())

    assert ("AWS::AutoScaling::AutoScalingGroup", "on-default") not in findings
    assert ("AWS::AutoScaling::AutoScalingGroup", "unversioned") not in findings
    latest = findings[("AWS::AutoScaling::AutoScalingGroup", "on-latest")]
    assert latest.related == f"{lt} version 2"
    assert "($Latest)" in latest.message
    assert "HttpTokens is 'optional'" in latest.message


def test_a_pinned_version_is_judged_not_the_latest(account: Account) -> None:
    lt = account.template("pinned", OPTIONAL)
    account.version(lt, REQUIRED)
    account.group("pinned-to-1", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("pinned-to-2", LaunchTemplate={"LaunchTemplateId": lt, "Version": "2"})

    findings = _by_resource(_audit())

    pinned = findings[("AWS::AutoScaling::AutoScalingGroup", "pinned-to-1")]
    assert pinned.related == f"{lt} version 1"
    assert "($" not in pinned.message
    assert ("AWS::AutoScaling::AutoScalingGroup", "pinned-to-2") not in findings


def test_a_template_without_metadata_options_fails(account: Account) -> None:
    lt = account.template("bare", None)
    account.group("bare", LaunchTemplate={"LaunchTemplateId": lt})

    finding = _by_resource(_audit())[("AWS::AutoScaling::AutoScalingGroup", "bare")]

    assert "MetadataOptions is not set" in finding.message


def test_mixed_instances_overrides_are_each_judged(account: Account) -> None:
    base = account.template("base", REQUIRED)
    legacy = account.template("legacy", OPTIONAL)
    account.group(
        "mixed",
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": base, "Version": "$Latest"},
                "Overrides": [
                    {"InstanceType": "t3.micro"},
                    {
                        "InstanceType": "m5.large",
                        "LaunchTemplateSpecification": {"LaunchTemplateId": legacy, "Version": "1"},
                    },
                ],
            }
        },
    )

    group = _group_findings(_audit())

    assert [f.related for f in group] == [f"{legacy} version 1"]
    assert group[0].message.startswith(f"override for m5.large launches {legacy} version 1:")


def test_launch_configurations_with_and_without_metadata_options(account: Account) -> None:
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc-good",
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        MetadataOptions=REQUIRED,
    )
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc-legacy", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    account.group("old-good", LaunchConfigurationName="lc-good")
    account.group("old-legacy", LaunchConfigurationName="lc-legacy")

    findings = _by_resource(_audit())

    assert set(findings) == {
        ("AWS::AutoScaling::AutoScalingGroup", "old-legacy"),
        ("AWS::AutoScaling::LaunchConfiguration", "lc-legacy"),
    }
    assert (
        findings[("AWS::AutoScaling::AutoScalingGroup", "old-legacy")].related
        == "launch configuration lc-legacy"
    )


def test_running_instances_are_judged_by_their_own_options(account: Account) -> None:
    good = account.instance(REQUIRED)
    legacy = account.instance(OPTIONAL)
    wide = account.instance({**REQUIRED, "HttpPutResponseHopLimit": 3})
    stopped = account.instance(OPTIONAL)
    account.ec2.stop_instances(InstanceIds=[stopped])

    findings = _audit()

    by_id = {(f.rule, f.resource_id) for f in findings}
    assert by_id == {(RuleId.IMDSV2_REQUIRED, legacy), (RuleId.IMDS_HOP_LIMIT, wide)}
    assert good not in {f.resource_id for f in findings}
    hop = next(f for f in findings if f.rule is RuleId.IMDS_HOP_LIMIT)
    assert hop.severity is Severity.WARNING
    assert "HttpPutResponseHopLimit is 3" in hop.message


def test_readiness_sums_metadata_no_token_over_the_group_instances(account: Account) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("busy", desired=2, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    first, second = account.instances_of("busy")
    account.no_token_calls(first, 5)
    account.no_token_calls(first, 7, hours_ago=30)
    account.no_token_calls(second, 1)

    group = _group_findings(_audit())[0]
    recent = _group_findings(_audit(usage_days=1))[0]

    assert group.extra == {"metadata_no_token": 13.0, "usage_days": 14, "measured_instances": 2}
    assert "not ready: 13 IMDSv1 calls (MetadataNoToken) in the last 14 days on 2 instances" in group.message
    # The call 30 hours ago is outside a one-day window.
    assert recent.extra["metadata_no_token"] == 6.0


def test_readiness_says_ready_when_no_instance_called_imdsv1(account: Account) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("quiet", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("empty", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    groups = {f.resource_id: f for f in _group_findings(_audit())}

    assert (
        "ready: 0 IMDSv1 calls (MetadataNoToken) in the last 14 days on 1 instance" in groups["quiet"].message
    )
    assert groups["quiet"].extra["metadata_no_token"] == 0.0
    assert "readiness unknown: no running instances" in groups["empty"].message
    assert groups["empty"].extra["metadata_no_token"] is None


def test_findings_carry_account_and_region_not_template_coordinates(account: Account) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    for finding in _audit():
        assert finding.account == "123456789012"
        assert finding.region == "us-east-1"
        assert finding.logical_id == "" and finding.template == ""


def test_several_regions_are_audited_and_reported_in_order(make_client: Any) -> None:
    for region in ("us-west-2", "eu-west-1"):
        arranged = Account(make_client, region)
        lt = arranged.template("legacy", OPTIONAL)
        arranged.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    findings = _audit(regions=["us-west-2", "eu-west-1", "us-west-2"])

    groups = _group_findings(findings)
    assert [f.region for f in groups] == ["eu-west-1", "us-west-2"]


def test_text_report_groups_by_account_and_region_and_exits_1(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    code = main(["audit", "--region", "us-east-1"])

    captured = capsys.readouterr()
    assert code == EXIT_FINDINGS
    assert captured.out.startswith("123456789012/us-east-1\n")
    assert "IMDSV2_REQUIRED  web  AWS::AutoScaling::AutoScalingGroup" in captured.out
    assert "2 errors, 0 warnings, 0 suppressed in 2 resources" in captured.out
    # Progress goes to stderr, as plain lines when stderr is not a terminal.
    assert captured.err == "cdk-imds: audited us-east-1 (1/1)\n"


def test_json_report(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    code = main(["audit", "--format", "json"])

    report = json.loads(capsys.readouterr().out)
    assert code == EXIT_FINDINGS
    group = next(f for f in report["findings"] if f["resource_id"] == "web")
    assert group["account"] == "123456789012" and group["region"] == "us-east-1"
    assert group["extra"]["metadata_no_token"] == 0.0


def test_sarif_report_is_valid(
    account: Account, capsys: pytest.CaptureFixture[str], sarif_validator: Any, tmp_path: Any
) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    output = tmp_path / "audit.sarif"

    code = main(["audit", "--format", "sarif", "-o", str(output)])

    sarif = json.loads(output.read_text(encoding="utf-8"))
    sarif_validator.validate(sarif)
    assert code == EXIT_FINDINGS
    assert len(sarif["runs"][0]["results"]) == 2
    assert "wrote sarif report" in capsys.readouterr().err


def test_user_data_and_tag_values_never_reach_the_report(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "hunter2-do-not-print"
    user_data = base64.b64encode(f"#!/bin/sh\necho {secret}".encode()).decode()
    answer = account.ec2.create_launch_template(
        LaunchTemplateName="with-secrets",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "UserData": user_data, "MetadataOptions": OPTIONAL},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "token", "Value": secret}]}],
    )
    lt = answer["LaunchTemplate"]["LaunchTemplateId"]
    account.group(
        "web",
        LaunchTemplate={"LaunchTemplateId": lt},
        Tags=[{"Key": "password", "Value": secret, "PropagateAtLaunch": False}],
    )

    for fmt in ("text", "json", "sarif"):
        code = main(["audit", "--format", fmt])
        captured = capsys.readouterr()
        # The report is there and is about that group and template: an empty one would prove nothing.
        assert code == EXIT_FINDINGS, (fmt, captured.err)
        assert "web" in captured.out and lt in captured.out, fmt
        for stream in (captured.out, captured.err):
            assert secret not in stream and user_data not in stream, fmt


def test_a_data_point_from_this_minute_counts(account: Account) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("now", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.no_token_calls(account.instances_of("now")[0], 2, hours_ago=0)

    assert _group_findings(_audit())[0].extra["metadata_no_token"] == 2.0


def test_a_pinned_version_that_does_not_exist_spoils_only_its_own_group(account: Account) -> None:
    lt = account.template("pinned", REQUIRED)
    account.version(lt, OPTIONAL)
    account.group("ghost", LaunchTemplate={"LaunchTemplateId": lt, "Version": "7"})
    account.group("pinned-to-1", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("on-latest", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    findings = {(f.rule, f.resource_id): f for f in _group_findings(_audit())}

    assert set(findings) == {(RuleId.IMDSV2_UNVERIFIABLE, "ghost"), (RuleId.IMDSV2_REQUIRED, "on-latest")}
    assert f"version 7 of {lt} does not exist" in findings[(RuleId.IMDSV2_UNVERIFIABLE, "ghost")].message
