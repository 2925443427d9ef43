"""The shipped IAM policy allows exactly the calls `cdk-imds audit` makes, and only reads."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from cdk_imds.aws.audit import run_audit
from cdk_imds.cli import main
from tests.aws.conftest import OPTIONAL, Account
from tests.aws.recording import CallLog, hook_sessions

# botocore's service ids -> IAM action prefixes (they differ: "Auto Scaling", "CloudWatch", ...).
_IAM_PREFIX = {"Auto Scaling": "autoscaling", "EC2": "ec2", "CloudWatch": "cloudwatch", "STS": "sts"}


def _policy() -> dict[str, Any]:
    text = files("cdk_imds").joinpath("policies/audit-policy.json").read_text(encoding="utf-8")
    policy: dict[str, Any] = json.loads(text)
    return policy


def _allowed_actions() -> set[str]:
    actions: set[str] = set()
    for statement in _policy()["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == "*"
        actions.update(statement["Action"])
    return actions


def test_the_policy_only_reads() -> None:
    for action in _allowed_actions():
        service, _, name = action.partition(":")
        assert service in _IAM_PREFIX.values()
        assert name.startswith(("Describe", "Get", "List")), action
        assert "*" not in action


def test_every_call_of_an_audit_is_allowed_and_every_allowed_action_is_used(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account where every reader has something to read
    lt = account.template("legacy", OPTIONAL)
    account.group("lt-group", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    account.group("lc-group", LaunchConfigurationName="lc")
    account.instance(OPTIONAL)
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    # When every region is audited
    run_audit(None, [], True)

    # Then the policy allows each call made, and nothing more
    called = {f"{_IAM_PREFIX[service]}:{operation}" for service, operation in log.calls}
    assert called == _allowed_actions()


def test_the_remediation_dry_run_needs_nothing_beyond_the_audit_policy(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    assert main(["remediate"]) == 0

    called = {f"{_IAM_PREFIX[service]}:{operation}" for service, operation in log.calls}
    assert called <= _allowed_actions()
