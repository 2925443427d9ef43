"""`cdk-imds remediate --apply` against a real moto_server: what changes, what is kept, what waits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cdk_imds.aws.launch_configuration import template_data
from cdk_imds.cli import EXIT_FINDINGS, EXIT_OK, main
from tests.aws.conftest import IMAGE_ID, OPTIONAL, REQUIRED, Account
from tests.aws.recording import CallLog, FailUpdateOf, StubbedInstanceRefresh, hook_sessions

USER_DATA = base64.b64encode(b"#!/bin/sh\necho keep me").decode()
LEGACY_DATA: dict[str, Any] = {
    "ImageId": IMAGE_ID,
    "InstanceType": "t3.micro",
    "UserData": USER_DATA,
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 16, "VolumeType": "gp3"}}],
    "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "web"}]}],
    "MetadataOptions": {**OPTIONAL, "HttpPutResponseHopLimit": 2},
}
FIXED_OPTIONS = {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2}


def _legacy(account: Account, name: str = "legacy") -> str:
    answer = account.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=LEGACY_DATA)
    template_id: str = answer["LaunchTemplate"]["LaunchTemplateId"]
    return template_id


def _versions(account: Account, template_id: str) -> dict[int, dict[str, Any]]:
    answer = account.ec2.describe_launch_template_versions(LaunchTemplateId=template_id)
    return {v["VersionNumber"]: v for v in answer["LaunchTemplateVersions"]}


def _default(account: Account, template_id: str) -> int:
    return next(n for n, v in _versions(account, template_id).items() if v["DefaultVersion"])


def _group(account: Account, name: str) -> dict[str, Any]:
    groups = account.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    group: dict[str, Any] = groups[0]
    return group


def _metadata(account: Account, instance_id: str) -> dict[str, Any]:
    [reservation] = account.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    options: dict[str, Any] = reservation["Instances"][0]["MetadataOptions"]
    return options


def test_a_latest_group_gets_a_full_copy_and_keeps_launching_latest(account: Account) -> None:
    lt = _legacy(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})

    assert main(["remediate", "--apply"]) == EXIT_OK

    versions = _versions(account, lt)
    assert sorted(versions) == [1, 2]
    assert versions[2]["LaunchTemplateData"] == {**LEGACY_DATA, "MetadataOptions": FIXED_OPTIONS}
    assert versions[1]["LaunchTemplateData"] == LEGACY_DATA
    assert _group(account, "web")["LaunchTemplate"]["Version"] == "$Latest"
    assert _default(account, lt) == 1


def test_a_default_group_gets_the_new_version_as_default(account: Account) -> None:
    lt = _legacy(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})

    assert main(["remediate", "--apply"]) == EXIT_OK

    assert _default(account, lt) == 2
    assert _group(account, "web")["LaunchTemplate"]["Version"] == "$Default"


def test_a_pinned_group_is_pinned_to_the_new_number(account: Account) -> None:
    lt = _legacy(account)
    account.group("web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})

    assert main(["remediate", "--apply"]) == EXIT_OK

    assert _group(account, "web")["LaunchTemplate"]["Version"] == "2"
    assert _versions(account, lt)[2]["LaunchTemplateData"]["MetadataOptions"] == FIXED_OPTIONS
    assert _default(account, lt) == 1


def test_mixed_instances_keep_overrides_and_distribution(account: Account) -> None:
    base = _legacy(account, "base")
    other = _legacy(account, "other")
    good = account.template("good", REQUIRED)
    distribution = {"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 50}
    account.group(
        "mixed",
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": base, "Version": "1"},
                "Overrides": [
                    {"InstanceType": "m5.large", "WeightedCapacity": "2"},
                    {
                        "InstanceType": "c5.large",
                        "LaunchTemplateSpecification": {"LaunchTemplateId": other, "Version": "1"},
                    },
                    {
                        "InstanceType": "r5.large",
                        "LaunchTemplateSpecification": {"LaunchTemplateId": good, "Version": "1"},
                    },
                ],
            },
            "InstancesDistribution": distribution,
        },
    )

    assert main(["remediate", "--apply"]) == EXIT_OK

    policy = _group(account, "mixed")["MixedInstancesPolicy"]
    assert policy["LaunchTemplate"]["LaunchTemplateSpecification"]["Version"] == "2"
    overrides = policy["LaunchTemplate"]["Overrides"]
    assert overrides[0] == {"InstanceType": "m5.large", "WeightedCapacity": "2"}
    assert overrides[1] == {
        "InstanceType": "c5.large",
        "LaunchTemplateSpecification": {"LaunchTemplateId": other, "Version": "2"},
    }
    assert overrides[2] == {
        "InstanceType": "r5.large",
        "LaunchTemplateSpecification": {"LaunchTemplateId": good, "Version": "1"},
    }
    assert {k: policy["InstancesDistribution"][k] for k in distribution} == distribution
    assert sorted(_versions(account, good)) == [1]


def test_a_launch_configuration_group_moves_to_an_equivalent_template_once(account: Account) -> None:
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="old-web",
        ImageId=IMAGE_ID,
        InstanceType="t3.micro",
        KeyName="ops",
        UserData="#!/bin/sh\necho keep me",
        SecurityGroups=["sg-12345678"],
        InstanceMonitoring={"Enabled": False},
        EbsOptimized=True,
        IamInstanceProfile="web-profile",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}],
        MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
    )
    account.group("old", LaunchConfigurationName="old-web")

    assert main(["remediate", "--apply"]) == EXIT_OK

    [template] = account.ec2.describe_launch_templates(LaunchTemplateNames=["cdk-imds-old-web"])[
        "LaunchTemplates"
    ]
    assert {"Key": "cdk-imds:launch-configuration", "Value": "old-web"} in template["Tags"]
    data = _versions(account, template["LaunchTemplateId"])[1]["LaunchTemplateData"]
    # moto copies the template's own tags into its data; AWS keeps them apart.
    data.pop("TagSpecifications", None)
    assert data == {
        "ImageId": IMAGE_ID,
        "InstanceType": "t3.micro",
        "KeyName": "ops",
        "EbsOptimized": True,
        "UserData": USER_DATA,
        # moto describes AssociatePublicIpAddress as false when it was not set: a network
        # interface then carries that "no public address", and the security groups with it.
        "NetworkInterfaces": [
            {
                "AssociatePublicIpAddress": False,
                "DeleteOnTermination": True,
                "DeviceIndex": 0,
                "Groups": ["sg-12345678"],
            }
        ],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}],
        "IamInstanceProfile": {"Name": "web-profile"},
        "Monitoring": {"Enabled": False},
        "MetadataOptions": FIXED_OPTIONS,
    }
    launch = _group(account, "old")["LaunchTemplate"]
    assert (launch["LaunchTemplateId"], launch["Version"]) == (template["LaunchTemplateId"], "1")

    # A rerun finds the group fixed: no second template, no new version.
    assert main(["remediate", "--apply"]) == EXIT_OK
    assert sorted(_versions(account, template["LaunchTemplateId"])) == [1]


def test_a_launch_template_made_by_an_earlier_run_is_reused(account: Account) -> None:
    # The template exists (an earlier run stopped before moving the group): it is not made again.
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=IMAGE_ID, InstanceType="t3.micro"
    )
    account.group("old", LaunchConfigurationName="lc")
    [description] = account.autoscaling.describe_launch_configurations()["LaunchConfigurations"]
    made = account.ec2.create_launch_template(
        LaunchTemplateName="cdk-imds-lc", LaunchTemplateData=template_data(description).data
    )["LaunchTemplate"]["LaunchTemplateId"]

    assert main(["remediate", "--apply"]) == EXIT_OK

    assert _group(account, "old")["LaunchTemplate"]["LaunchTemplateId"] == made
    assert sorted(_versions(account, made)) == [1]


def test_held_back_groups_are_not_changed_unless_forced(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy(account)
    account.group("busy", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("quiet", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    [instance] = account.instances_of("busy")
    account.no_token_calls(instance, 3)

    assert main(["remediate", "--apply", "--format", "json"]) == EXIT_FINDINGS

    report = json.loads(capsys.readouterr().out)
    outcomes = {r["subject"]: (r["outcome"], r["reason"]) for r in report["results"]}
    assert outcomes["group quiet"] == ("applied", None)
    assert outcomes["group busy"][0] == "held back"
    assert "3 IMDSv1 calls" in outcomes["group busy"][1]
    assert report["complete"] is False
    assert _group(account, "busy")["LaunchTemplate"]["Version"] == "1"
    assert _group(account, "quiet")["LaunchTemplate"]["Version"] == "2"

    assert main(["remediate", "--apply", "--force"]) == EXIT_OK
    assert _group(account, "busy")["LaunchTemplate"]["Version"] == "2"
    # The new version of the first run is used again, not copied a second time.
    assert sorted(_versions(account, lt)) == [1, 2]


def test_a_dry_run_changes_nothing(account: Account) -> None:
    lt = _legacy(account)
    account.group("pinned", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=IMAGE_ID, InstanceType="t3.micro"
    )
    account.group("old", LaunchConfigurationName="lc")
    [instance] = account.instances_of("pinned")
    before = _metadata(account, instance)

    assert main(["remediate", "--refresh", "--force"]) == EXIT_OK
    assert main(["remediate", "--in-place"]) == EXIT_OK

    assert sorted(_versions(account, lt)) == [1]
    assert _default(account, lt) == 1
    assert _group(account, "pinned")["LaunchTemplate"]["Version"] == "1"
    assert "LaunchTemplate" not in _group(account, "old")
    assert [t["LaunchTemplateName"] for t in account.ec2.describe_launch_templates()["LaunchTemplates"]] == [
        "legacy"
    ]
    assert _metadata(account, instance) == before


def test_in_place_requires_tokens_on_running_instances_and_keeps_their_other_options(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = account.template("good", REQUIRED)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    [instance] = account.instances_of("web")
    account.ec2.modify_instance_metadata_options(
        InstanceId=instance, HttpTokens="optional", HttpPutResponseHopLimit=2, HttpEndpoint="enabled"
    )

    # Without an instance flag the run only says what is left.
    assert main(["remediate", "--apply"]) == EXIT_OK
    assert "running instances still allow IMDSv1 in web" in capsys.readouterr().out
    assert _metadata(account, instance)["HttpTokens"] == "optional"

    assert main(["remediate", "--apply", "--in-place"]) == EXIT_OK

    options = _metadata(account, instance)
    assert (options["HttpTokens"], options["HttpPutResponseHopLimit"], options["HttpEndpoint"]) == (
        "required",
        2,
        "enabled",
    )


def test_refresh_starts_an_instance_refresh_on_each_changed_group(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto lacks StartInstanceRefresh: botocore's Stubber answers that one call (see recording.py);
    # every other call goes to moto_server.
    lt = _legacy(account)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("empty", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    stub = StubbedInstanceRefresh()
    refresh_id = stub.expect("web", min_healthy=75)
    hook_sessions(monkeypatch, *stub.handlers)

    code = main(["remediate", "--apply", "--refresh", "--min-healthy-percentage", "75"])

    out = capsys.readouterr().out
    assert code == EXIT_OK
    # A group without instances has nothing to refresh.
    assert stub.started == ["web"]
    assert f"started instance refresh {refresh_id} (min healthy 75%)" in out
    stub.stubber.assert_no_pending_responses()


def test_a_refresh_already_in_progress_is_not_a_failure(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto lacks StartInstanceRefresh: botocore's Stubber answers it with AWS's error.
    lt = account.template("good", REQUIRED)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    stub = StubbedInstanceRefresh()
    stub.expect_in_progress("web")
    hook_sessions(monkeypatch, *stub.handlers)
    [instance] = account.instances_of("web")
    account.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")

    assert main(["remediate", "--apply", "--refresh"]) == EXIT_OK
    stub.stubber.assert_no_pending_responses()


def test_a_failing_group_does_not_stop_the_others_and_a_rerun_finishes(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy(account)
    for name in ("a", "b", "c"):
        account.group(name, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    failing = FailUpdateOf("b")
    hook_sessions(monkeypatch, ("before-parameter-build.auto-scaling.UpdateAutoScalingGroup", failing))

    code = main(["remediate", "--apply"])

    captured = capsys.readouterr()
    assert code == EXIT_FINDINGS
    assert failing.refused == 1
    assert (
        "FAIL group b: autoscaling:UpdateAutoScalingGroup: ValidationError: injected by the test"
        in captured.out
    )
    assert "cdk-imds: apply: 2 applied, 0 held back, 0 skipped, 1 failed" in captured.err
    assert [_group(account, name)["LaunchTemplate"]["Version"] for name in "abc"] == ["2", "1", "2"]

    # When the fault is gone, a rerun finishes b with the version already made.
    failing.active = False
    log = CallLog()
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", log))
    assert main(["remediate", "--apply"]) == EXIT_OK
    assert [_group(account, name)["LaunchTemplate"]["Version"] for name in "abc"] == ["2", "2", "2"]
    assert sorted(_versions(account, lt)) == [1, 2]
    assert log.count("CreateLaunchTemplateVersion") == 0
    assert log.count("UpdateAutoScalingGroup") == 1


def test_a_rerun_after_success_changes_nothing(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    lt = _legacy(account)
    account.group("latest", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    assert main(["remediate", "--apply"]) == EXIT_OK
    log = CallLog()
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", log))

    assert main(["remediate", "--apply"]) == EXIT_OK

    writes = [name for _, name in log.calls if not name.startswith(("Describe", "Get"))]
    assert writes == []
    assert sorted(_versions(account, lt)) == [1, 2]
