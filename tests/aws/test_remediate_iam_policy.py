"""The shipped remediate policy allows every call `remediate --apply` and `--revert` make, and
grants nothing else beyond the actions AWS checks on the caller's behalf."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.cli import EXIT_OK, main
from tests.aws.conftest import IMAGE_ID, Account
from tests.aws.recording import CallLog, StubbedInstanceRefresh, hook_sessions
from tests.aws.test_remediate_apply import _legacy

_IAM_PREFIX = {"Auto Scaling": "autoscaling", "EC2": "ec2", "CloudWatch": "cloudwatch", "STS": "sts"}
_POLICY = "policies/remediate-policy.json"
# Never called by cdk-imds, but checked by AWS on its behalf: UpdateAutoScalingGroup and
# StartInstanceRefresh with a launch template check ec2:RunInstances, ec2:CreateTags (when the
# template tags what it launches) and iam:PassRole (when it names an instance profile).
_CHECKED_FOR_THE_CALLER = {"ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"}


def _policy() -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(files("cdk_imds").joinpath(_POLICY).read_text(encoding="utf-8"))
    return policy


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _allowed() -> set[str]:
    return {action for statement in _policy()["Statement"] for action in _actions(statement)}


def test_the_policy_ships_with_the_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cdk_imds"]
    assert any(fnmatch.fnmatch(_POLICY, pattern) for pattern in patterns)


def test_only_reads_are_granted_on_every_resource() -> None:
    for statement in _policy()["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            assert "*" not in action
            if statement["Resource"] == "*" and "Condition" not in statement:
                assert action.split(":")[1].startswith(("Describe", "Get")), action


def test_tagging_and_passing_roles_only_go_with_launches() -> None:
    conditions = {action: s.get("Condition") for s in _policy()["Statement"] for action in _actions(s)}
    assert conditions["iam:PassRole"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    create_actions = {
        s["Condition"]["StringEquals"]["ec2:CreateAction"]
        for s in _policy()["Statement"]
        if "ec2:CreateTags" in _actions(s)
    }
    assert create_actions == {"CreateLaunchTemplate", "RunInstances"}


def test_every_call_of_remediate_and_revert_is_allowed(
    account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given an account with every kind of change to make
    lt = _legacy(account)
    account.group("latest", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.group("default", LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Default"})
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=IMAGE_ID, InstanceType="t3.micro"
    )
    account.group("old", LaunchConfigurationName="lc")
    [instance] = account.instances_of("latest")
    account.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")
    # moto lacks StartInstanceRefresh: botocore's Stubber answers that one call.
    stub = StubbedInstanceRefresh()
    stub.expect("latest")
    log = CallLog()
    # Recorded before parameters are built: the stub answers before "before-call" recorders run.
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", log), *stub.handlers)
    plan_file = tmp_path / "run.json"

    # When a run with an instance refresh, a run in place, and a revert are made
    assert main(["remediate", "--all-regions", "--apply", "--refresh", "--plan", str(plan_file)]) == EXIT_OK
    account.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")
    assert main(["remediate", "--apply", "--in-place", "--plan", str(tmp_path / "in-place.json")]) == EXIT_OK
    assert main(["remediate", "--revert", str(plan_file), "--apply"]) == EXIT_OK

    # Then every call made is allowed, and the rest of the policy is only what AWS checks for them
    called = {f"{_IAM_PREFIX[service]}:{operation}" for service, operation in log.calls}
    assert called <= _allowed()
    assert _allowed() - called == _CHECKED_FOR_THE_CALLER
    assert stub.started == ["latest"]
