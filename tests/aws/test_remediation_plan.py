"""Remediation plans (dry run only): read from a moto account, nothing is changed."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from cdk_imds.aws.account import RegionClients, read_region
from cdk_imds.aws.inventory import RegionInventory
from cdk_imds.aws.plan import NEW_VERSION, plan_region
from cdk_imds.cli import EXIT_FINDINGS, EXIT_OK, main
from tests.aws.conftest import IMAGE_ID, OPTIONAL, REGION, REQUIRED, Account

USER_DATA = base64.b64encode(b"#!/bin/sh\necho keep me").decode()


def _inventory() -> RegionInventory:
    return read_region(RegionClients.of(boto3.session.Session(), REGION), 14)


def _legacy_template(account: Account, name: str = "legacy") -> str:
    answer = account.ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={
            "ImageId": IMAGE_ID,
            "InstanceType": "t3.micro",
            "UserData": USER_DATA,
            "MetadataOptions": {**OPTIONAL, "HttpPutResponseHopLimit": 2},
        },
    )
    template_id: str = answer["LaunchTemplate"]["LaunchTemplateId"]
    return template_id


def test_a_latest_group_gets_a_full_copy_with_tokens_required_and_stays_on_latest(account: Account) -> None:
    lt = _legacy_template(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    plan = plan_region(_inventory(), 14)

    [new] = plan.new_versions
    assert (new.template_id, new.source_version, new.make_default) == (lt, 1, False)
    assert new.data == {
        "ImageId": IMAGE_ID,
        "InstanceType": "t3.micro",
        "UserData": USER_DATA,
        "MetadataOptions": {
            "HttpTokens": "required",
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 2,
        },
    }
    [change] = plan.group_changes
    assert (change.group, change.before, change.after, change.held_back) == (
        "web",
        "$Latest",
        "$Latest",
        None,
    )


def test_default_and_pinned_pointers_and_one_new_version_per_source_version(account: Account) -> None:
    lt = _legacy_template(account)
    account.version(lt, REQUIRED)
    account.group("on-default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("on-latest", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    plan = plan_region(_inventory(), 14)

    # Version 1 is launched twice ($Default and pinned): one new version, made the default.
    assert [(v.source_version, v.make_default) for v in plan.new_versions] == [(1, True)]
    assert {(c.group, c.before, c.after) for c in plan.group_changes} == {
        ("on-default", "$Default", "$Default"),
        ("pinned", "1", NEW_VERSION),
    }


def test_groups_still_calling_imdsv1_are_held_back(account: Account) -> None:
    lt = _legacy_template(account)
    account.group("busy", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    [instance] = account.instances_of("busy")
    account.no_token_calls(instance, 4)

    [change] = plan_region(_inventory(), 14).group_changes

    assert change.held_back == "4 IMDSv1 calls (MetadataNoToken) in the last 14 days"


def test_mixed_overrides_and_launch_configurations(account: Account) -> None:
    base = account.template("base", REQUIRED)
    legacy = _legacy_template(account)
    account.group(
        "mixed",
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": base, "Version": "$Latest"},
                "Overrides": [
                    {"InstanceType": "m5.large", "LaunchTemplateSpecification": {"LaunchTemplateId": legacy}},
                ],
            }
        },
    )
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=IMAGE_ID, InstanceType="t3.micro"
    )
    account.group("old", LaunchConfigurationName="lc")

    plan = plan_region(_inventory(), 14)

    assert [(c.group, c.source, c.template_id) for c in plan.group_changes] == [
        ("mixed", "override for m5.large", legacy)
    ]
    assert [(s.group, s.reason) for s in plan.skipped] == [
        ("old", "launch configuration groups are not planned yet")
    ]


def test_the_plan_as_json_leaves_user_data_out(account: Account) -> None:
    lt = _legacy_template(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt})

    text = json.dumps(plan_region(_inventory(), 14).to_dict())

    assert USER_DATA not in text
    assert lt in text


def test_planning_changes_nothing(account: Account) -> None:
    lt = _legacy_template(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    plan_region(_inventory(), 14)

    versions = account.ec2.describe_launch_template_versions(LaunchTemplateId=lt)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in versions] == [1]


def test_remediate_prints_the_plan_and_holds_back_busy_groups(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy_template(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("busy", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.no_token_calls(account.instances_of("busy")[0], 2)

    code = main(["remediate"])

    out = capsys.readouterr().out
    assert code == EXIT_FINDINGS
    assert out == (
        "Remediation plan for account 123456789012 (dry run: nothing was changed)\n"
        "us-east-1\n"
        f"  create  {lt}: new version from version 1 with HttpTokens 'required'\n"
        "  HOLD    group busy (group): 2 IMDSv1 calls (MetadataNoToken) in the last 14 days; fix first\n"
        f"  point   group web (group): {lt} version $Latest -> $Latest\n"
        "1 new version, 2 group changes (1 held back), 0 skipped\n"
    )


def test_remediate_json_on_a_clean_account(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediate", "--format", "json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == {
        "account": "123456789012",
        "dry_run": True,
        "new_versions": [],
        "group_changes": [],
        "skipped": [],
    }
