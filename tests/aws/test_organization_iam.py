"""The IAM pieces shipped for organization runs allow every call those runs make (on moto_server).

The caller's session and the member sessions are recorded apart: the caller's calls must be allowed
by org-caller-policy.json, each member's by the role it assumed (audit-policy.json for audit,
remediate-policy.json for remediate, the policies the member template gives those roles).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from importlib.resources import files
from typing import Any

import boto3
import pytest

from cdk_imds.aws import session as aws_session
from cdk_imds.aws.organization.audit import audit_organization
from cdk_imds.aws.organization.common import OrgSettings
from cdk_imds.aws.organization.member import RoleSettings
from cdk_imds.aws.organization.remediate import remediate_organization
from cdk_imds.aws.plan import PlanOptions
from tests.aws.conftest import REGION
from tests.aws.org_helpers import Organization
from tests.aws.recording import CallLog

_PREFIX = {
    "Auto Scaling": "autoscaling",
    "EC2": "ec2",
    "CloudWatch": "cloudwatch",
    "STS": "sts",
    "Organizations": "organizations",
}


def _allowed(policy: str) -> list[tuple[str, list[str]]]:
    document = json.loads(files("cdk_imds").joinpath(f"policies/{policy}").read_text(encoding="utf-8"))
    allowed = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        allowed += [(action, resources) for action in actions]
    return allowed


def _actions(log: CallLog) -> set[str]:
    return {f"{_PREFIX[service]}:{operation}" for service, operation in log.calls}


def _record(monkeypatch: pytest.MonkeyPatch) -> tuple[CallLog, CallLog]:
    caller, members = CallLog(), CallLog()
    made, assumed = aws_session.new_session, aws_session.assumed_session

    def new_session(profile: str | None) -> boto3.Session:
        session = made(profile)
        session.events.register("before-call.*.*", caller)
        return session

    def assumed_session(credentials: Any, region: str, loader: Any) -> boto3.Session:
        session = assumed(credentials, region, loader)
        session.events.register("before-call.*.*", members)
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)
    monkeypatch.setattr(aws_session, "assumed_session", assumed_session)
    return caller, members


@pytest.fixture
def estate(aws: str) -> str:
    org = Organization()
    account = org.account("alpha")
    member = org.member(account)
    legacy = member.template("legacy", "optional")
    member.group("web", LaunchTemplate={"LaunchTemplateId": legacy, "Version": "1"})
    return account


def test_an_organization_audit_needs_only_the_callers_policy_and_the_audit_role(
    estate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller, members = _record(monkeypatch)

    audit_organization(
        OrgSettings(
            regions=(REGION,), role=RoleSettings("cdk-imds-audit"), include=(estate,), all_regions=False
        )
    )

    # GetCallerIdentity needs no permission; everything else the caller does is in its policy.
    caller_allowed = dict(_allowed("org-caller-policy.json"))
    assert _actions(caller) - {"sts:GetCallerIdentity"} == set(caller_allowed)
    assert any(
        fnmatchcase(f"arn:aws:iam::{estate}:role/cdk-imds-audit", arn)
        for arn in caller_allowed["sts:AssumeRole"]
    )
    audit_actions = {action for action, _ in _allowed("audit-policy.json")}
    assert _actions(members) and _actions(members) <= audit_actions


def test_an_organization_remediation_needs_only_the_remediate_role(
    estate: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    caller, members = _record(monkeypatch)

    [done] = remediate_organization(
        OrgSettings(
            regions=(REGION,), role=RoleSettings("cdk-imds-remediate", command="remediate"), include=(estate,)
        ),
        PlanOptions(),
        apply=True,
        plan_dir=str(tmp_path),
    )

    assert done.complete
    caller_allowed = dict(_allowed("org-caller-policy.json"))
    assert _actions(caller) - {"sts:GetCallerIdentity"} <= set(caller_allowed)
    assert any(
        fnmatchcase(f"arn:aws:iam::{estate}:role/cdk-imds-remediate", arn)
        for arn in caller_allowed["sts:AssumeRole"]
    )
    remediate_actions = {action for action, _ in _allowed("remediate-policy.json")}
    assert "ec2:CreateLaunchTemplateVersion" in _actions(members)
    assert _actions(members) <= remediate_actions
