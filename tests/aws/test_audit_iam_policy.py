"""The shipped audit policy allows each authorization the calls of `cdk-imds audit` (and of the
remediate dry run) need, with the resources and conditions those calls touch, and only reads."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import boto3
import pytest

from cdk_imds.aws.audit import run_audit
from cdk_imds.cli import main
from tests.aws.conftest import OPTIONAL, Account
from tests.aws.iam_requests import UNSCOPED, CallRecorder, authorizations
from tests.aws.recording import hook_sessions
from tests.org.iam_eval import Request, allowed


def _policy() -> dict[str, Any]:
    text = files("cdk_imds").joinpath("policies/audit-policy.json").read_text(encoding="utf-8")
    policy: dict[str, Any] = json.loads(text)
    return policy


def _allowed_actions() -> set[str]:
    return {action for statement in _policy()["Statement"] for action in statement["Action"]}


def _requests(recorder: CallRecorder) -> list[Request]:
    account = boto3.session.Session().client("sts").get_caller_identity()["Account"]
    return [request for call in recorder.calls for request in authorizations(call, account)]


def test_the_policy_only_reads_and_only_what_has_no_resource_types() -> None:
    actions = _allowed_actions()
    assert actions, "the policy allows nothing"
    # Describe/Get/List only; and each has no resource types in the Service Authorization
    # Reference, which is why its statement's Resource is "*" (tests/aws/iam_requests.py).
    assert all(action.split(":")[1].startswith(("Describe", "Get", "List")) for action in actions)
    assert actions <= UNSCOPED
    assert [(s["Effect"], s["Resource"], s.get("Condition")) for s in _policy()["Statement"]] == [
        ("Allow", "*", None)
    ]


def test_every_authorization_an_audit_needs_is_allowed_and_every_allowed_action_is_used(
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
    recorder = CallRecorder()
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", recorder))

    # When every region is audited
    run_audit(None, [], True)

    # Then the policy allows each request those calls make, and allows no action they do not use
    requests = _requests(recorder)
    assert [request for request in requests if not allowed(_policy(), request)] == []
    assert {request.action for request in requests} == _allowed_actions()


def test_the_remediation_dry_run_needs_nothing_beyond_the_audit_policy(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    recorder = CallRecorder()
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", recorder))

    assert main(["remediate"]) == 0

    requests = _requests(recorder)
    assert requests
    assert [request for request in requests if not allowed(_policy(), request)] == []
