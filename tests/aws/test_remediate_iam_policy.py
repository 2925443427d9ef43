"""The shipped remediate policy allows each authorization the calls of `remediate --apply` and
`--revert` need (actions, the ARNs they touch, their conditions), and refuses what they do not need."""

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
from tests.aws.iam_requests import GROUP_UUID, CallRecorder, authorizations
from tests.aws.recording import StubbedInstanceRefresh, hook_sessions
from tests.aws.test_remediate_apply import _legacy
from tests.org.iam_eval import Request, allowed, allowing

_POLICY = "policies/remediate-policy.json"
# Never called by cdk-imds, but checked by AWS on its behalf when UpdateAutoScalingGroup or
# StartInstanceRefresh names a launch template that tags what it launches (ec2:CreateTags) or names
# an instance profile (iam:PassRole): the tests' templates do neither, so these statements are
# checked by their shape (test_tagging_and_passing_roles_only_go_with_launches) and by the refusals.
_ONLY_FOR_TEMPLATES_THAT_TAG_OR_PASS_ROLES = {
    "CdkImdsGroupsMayTagWhatTheyLaunch",
    "CdkImdsGroupsMayPassInstanceRoles",
}


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


def test_every_authorization_of_remediate_and_revert_is_allowed(
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
    recorder = CallRecorder()
    # Recorded before parameters are built: the stub answers before "before-call" recorders run.
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", recorder), *stub.handlers)
    plan_file = tmp_path / "run.json"

    # When a run with an instance refresh, a run in place, and a revert are made
    assert main(["remediate", "--all-regions", "--apply", "--refresh", "--plan", str(plan_file)]) == EXIT_OK
    account.ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")
    assert main(["remediate", "--apply", "--in-place", "--plan", str(tmp_path / "in-place.json")]) == EXIT_OK
    assert main(["remediate", "--revert", str(plan_file), "--apply"]) == EXIT_OK
    assert stub.started == ["latest"]

    # Then each request those calls make (action, the ARN it touches, its condition keys) is
    # allowed, and each statement of the policy is used, but for the two that only a launch
    # template which tags its instances or names an instance profile needs
    requests = [request for call in recorder.calls for request in authorizations(call, _ACCOUNT)]
    assert [request for request in requests if not allowed(_policy(), request)] == []
    used = {sid for request in requests for sid in allowing(_policy(), request)}
    assert {s["Sid"] for s in _policy()["Statement"]} - used == _ONLY_FOR_TEMPLATES_THAT_TAG_OR_PASS_ROLES
    # (the writes the run made, by action, so that a run that wrote nothing cannot pass)
    assert {
        r.action
        for r in requests
        if r.action.split(":")[1].startswith(("Create", "Modify", "Update", "Start", "Run"))
    } == {
        "ec2:CreateLaunchTemplate",
        "ec2:CreateTags",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:ModifyLaunchTemplate",
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:RunInstances",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:StartInstanceRefresh",
    }


_ACCOUNT = "123456789012"  # moto's account
_REGION = "us-east-1"
_EC2 = f"arn:aws:ec2:{_REGION}:{_ACCOUNT}"
_GROUP = f"arn:aws:autoscaling:{_REGION}:{_ACCOUNT}:autoScalingGroup:{GROUP_UUID}:autoScalingGroupName/web"


@pytest.mark.parametrize(
    "request_",
    [
        # Writes on the wrong resource type
        Request("ec2:ModifyInstanceMetadataOptions", f"{_EC2}:launch-template/lt-0123456789abcdef0"),
        Request("ec2:CreateLaunchTemplateVersion", f"{_EC2}:instance/i-0123456789abcdef0"),
        Request("autoscaling:UpdateAutoScalingGroup", f"{_EC2}:launch-template/lt-0123456789abcdef0"),
        # Tags other than at creation, or on other resources
        Request("ec2:CreateTags", f"{_EC2}:launch-template/lt-0123456789abcdef0"),
        Request("ec2:CreateTags", f"{_EC2}:instance/i-0123456789abcdef0"),
        Request(
            "ec2:CreateTags",
            f"{_EC2}:security-group/sg-0123456789abcdef0",
            {"ec2:CreateAction": "RunInstances"},
        ),
        # Launches that are not from a launch template; roles passed to another service
        Request("ec2:RunInstances", f"{_EC2}:instance/*"),
        Request(
            "iam:PassRole", f"arn:aws:iam::{_ACCOUNT}:role/r", {"iam:PassedToService": "lambda.amazonaws.com"}
        ),
        # Actions cdk-imds never needs
        Request("ec2:DeleteLaunchTemplate", f"{_EC2}:launch-template/lt-0123456789abcdef0"),
        Request("autoscaling:DeleteAutoScalingGroup", _GROUP),
        Request("ec2:TerminateInstances", f"{_EC2}:instance/i-0123456789abcdef0"),
    ],
)
def test_the_policy_refuses_what_cdk_imds_does_not_need(request_: Request) -> None:
    assert not allowed(_policy(), request_)


def test_the_refusal_control_the_same_actions_are_allowed_where_they_are_needed() -> None:
    # The control for the test above: each action it refuses on one resource or context is allowed
    # on the resource and with the context cdk-imds uses it with (or is not in the policy at all)
    template = f"{_EC2}:launch-template/lt-0123456789abcdef0"
    for request_ in [
        Request("ec2:ModifyInstanceMetadataOptions", f"{_EC2}:instance/i-0123456789abcdef0"),
        Request("ec2:CreateLaunchTemplateVersion", template),
        Request("autoscaling:UpdateAutoScalingGroup", _GROUP),
        Request("ec2:CreateTags", template, {"ec2:CreateAction": "CreateLaunchTemplate"}),
        Request(
            "ec2:CreateTags", f"{_EC2}:instance/i-0123456789abcdef0", {"ec2:CreateAction": "RunInstances"}
        ),
        Request("ec2:RunInstances", f"{_EC2}:instance/*", {"ec2:LaunchTemplate": template}),
        Request(
            "iam:PassRole", f"arn:aws:iam::{_ACCOUNT}:role/r", {"iam:PassedToService": "ec2.amazonaws.com"}
        ),
    ]:
        assert allowed(_policy(), request_), request_
