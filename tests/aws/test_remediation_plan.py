"""Remediation plans (pure, from an inventory read from moto): what would change, and what is held back."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from cdk_imds.aws.account import RegionClients, read_region
from cdk_imds.aws.inventory import RegionInventory
from cdk_imds.aws.plan import NEW_VERSION, PlanOptions, plan_region
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
    [group] = plan.groups
    [change] = group.changes
    assert (change.group, change.before, change.after, group.held_back) == ("web", "$Latest", "$Latest", None)


def test_default_and_pinned_pointers_and_one_new_version_per_source_version(account: Account) -> None:
    lt = _legacy_template(account)
    account.version(lt, REQUIRED)
    account.group("on-default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})

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

    plan = plan_region(_inventory(), 14)

    [group] = plan.groups
    assert group.held_back == "4 IMDSv1 calls (MetadataNoToken) in the last 14 days"
    assert plan.acting() == []
    assert plan.new_versions == []
    # --force plans the change anyway.
    forced = plan_region(_inventory(), 14, PlanOptions(force=True))
    assert [g.group for g in forced.acting()] == ["busy"]
    assert [v.source_version for v in forced.new_versions] == [1]


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

    assert [(c.group, c.source, c.template_id, c.after) for c in plan.group_changes] == [
        ("mixed", "override for m5.large", legacy, "$Default"),
        ("old", "launch configuration", "cdk-imds-lc", NEW_VERSION),
    ]
    [template] = plan.new_templates
    assert (template.name, template.launch_configuration) == ("cdk-imds-lc", "lc")
    assert template.data["MetadataOptions"] == {"HttpTokens": "required"}
    assert plan.skipped == []


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
    [busy] = account.instances_of("busy")
    account.no_token_calls(busy, 2)

    code = main(["remediate"])

    out = capsys.readouterr().out
    assert code == EXIT_FINDINGS
    assert out == (
        "Remediation plan for account 123456789012 (dry run: nothing was changed)\n"
        "us-east-1\n"
        f"  create   {lt}: new version from version 1 with HttpTokens 'required'\n"
        "  HOLD     group busy: held back: 2 IMDSv1 calls (MetadataNoToken) in the last 14 days; "
        "update those applications first, or use --force\n"
        f"  point    group web (group): {lt} version $Latest -> $Latest\n"
        "1 new version, 0 new templates, 1 group to change, 1 held back, 0 skipped\n"
    )


def test_a_new_version_that_would_change_what_latest_groups_launch_is_not_planned(account: Account) -> None:
    # Given version 1 at fault, pinned by one group, and a fixed version 2 that another group
    # launches as $Latest
    lt = _legacy_template(account)
    account.version(lt, REQUIRED)
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("follows", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    plan = plan_region(_inventory(), 14)

    # Then a copy of version 1 would become $Latest for "follows": the pinned group is skipped
    [group] = plan.groups
    assert group.group == "pinned"
    assert group.blocked is not None
    assert "would become $Latest for group follows, which launch version 2 now" in group.blocked
    assert plan.new_versions == []


def test_a_group_sharing_latest_with_a_held_back_group_waits_for_it(account: Account) -> None:
    lt = _legacy_template(account)
    account.group("busy", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("quiet", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    [busy] = account.instances_of("busy")
    account.no_token_calls(busy, 1)

    plan = plan_region(_inventory(), 14)

    waiting = {group.group: group.waiting(plan.options) for group in plan.groups}
    assert waiting["quiet"] == f"{lt} is shared on $Latest with held-back group busy"
    assert waiting["busy"] is not None and waiting["busy"].startswith("held back: 1 IMDSv1 calls")
    assert plan.new_versions == []
    assert {g.group for g in plan_region(_inventory(), 14, PlanOptions(force=True)).acting()} == {
        "busy",
        "quiet",
    }


def test_remediate_json_on_a_clean_account(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediate", "--format", "json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == {
        "account": "123456789012",
        "dry_run": True,
        "options": {"force": False, "instances": "none", "min_healthy_percentage": 90},
        "new_versions": [],
        "new_templates": [],
        "groups": [],
        "skipped": [],
    }


def test_dry_run_text_names_the_new_version_of_pinned_and_launch_configuration_groups(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy_template(account)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="old-lc", ImageId=IMAGE_ID, InstanceType="t3.micro"
    )
    account.group("legacy", LaunchConfigurationName="old-lc")

    main(["remediate"])

    out = capsys.readouterr().out
    assert f"  point    group web (group): {lt} version 1 -> the new version\n" in out
    assert (
        "  point    group legacy (launch configuration): old-lc -> launch template cdk-imds-old-lc, the new version\n"
        in out
    )
    assert "  note     group web: 1 running instance still allows IMDSv1 " in out
