"""The member roles and their StackSet rollout, synthesized; the member template linted by cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_imds.org import (
    GuardrailConfigurationError,
    ImdsCallerPolicy,
    ImdsMemberRoles,
    ImdsMemberRolesStackSet,
    caller_policy_document,
    member_roles_template,
)
from cdk_imds.org.member_template import shipped_policy

ROOT_ID = "r-ab12"
OU = "ou-ab12-cd34ef56"
CALLER = "111122223333"
_CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def _shipped(name: str) -> Any:
    return json.loads(files("cdk_imds").joinpath(f"policies/{name}").read_text(encoding="utf-8"))


def test_the_shipped_files_are_what_the_code_generates() -> None:
    assert _shipped("org-member-roles.template.json") == member_roles_template()
    assert _shipped("org-caller-policy.json") == caller_policy_document()


def test_the_member_template_passes_cfn_lint(tmp_path: Path) -> None:
    for name, template in (
        ("both", member_roles_template()),
        ("audit-only", member_roles_template(remediate_role_name=None)),
    ):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template))
        lint = subprocess.run([str(_CFN_LINT), str(path)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_member_roles_trust_the_caller_and_carry_the_shipped_policies() -> None:
    template = member_roles_template()
    audit = template["Resources"]["AuditRole"]["Properties"]
    remediate = template["Resources"]["RemediateRole"]["Properties"]

    assert (audit["RoleName"], remediate["RoleName"]) == ("cdk-imds-audit", "cdk-imds-remediate")
    assert audit["Policies"][0]["PolicyDocument"] == shipped_policy("audit-policy")
    assert remediate["Policies"][0]["PolicyDocument"] == shipped_policy("remediate-policy")
    [statement] = audit["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${CallerAccountId}:root"}
    }
    assert statement["Condition"]["Fn::If"][1] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert "RemediateRole" not in member_roles_template(remediate_role_name=None)["Resources"]


def test_the_stack_set_is_service_managed_with_auto_deployment_and_the_member_template() -> None:
    stack = cdk.Stack(cdk.App(), "Org", env=cdk.Environment(account=CALLER, region="us-east-1"))
    ImdsMemberRolesStackSet(stack, "Roles", organizational_unit_ids=[ROOT_ID], external_id="ext-1")

    [stack_set] = Template.from_stack(stack).find_resources("AWS::CloudFormation::StackSet").values()

    properties = stack_set["Properties"]
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert properties["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert properties["StackInstancesGroup"] == [
        {"DeploymentTargets": {"OrganizationalUnitIds": [ROOT_ID]}, "Regions": ["us-east-1"]}
    ]
    assert json.loads(properties["TemplateBody"]) == member_roles_template()
    assert {p["ParameterKey"]: p["ParameterValue"] for p in properties["Parameters"]} == {
        "CallerAccountId": CALLER,
        "ExternalId": "ext-1",
    }


def test_the_stack_set_refuses_account_ids_and_bad_call_as() -> None:
    stack = cdk.Stack(cdk.App(), "Org")
    with pytest.raises(GuardrailConfigurationError, match="is not a root"):
        ImdsMemberRolesStackSet(stack, "A", organizational_unit_ids=[CALLER])
    with pytest.raises(GuardrailConfigurationError, match="call_as"):
        ImdsMemberRolesStackSet(stack, "B", organizational_unit_ids=[OU], call_as="ADMIN")


def test_member_roles_in_one_stack_and_the_callers_policy() -> None:
    stack = cdk.Stack(cdk.App(), "Member")
    ImdsMemberRoles(stack, "Roles", caller_account_id=CALLER, external_id="ext-1", remediate_role_name=None)
    ImdsCallerPolicy(stack, "Caller", roles=["platform-security"])

    template = Template.from_stack(stack)

    [role] = template.find_resources("AWS::IAM::Role").values()
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-1"}}
    assert role["Properties"]["Policies"][0]["PolicyDocument"] == shipped_policy("audit-policy")
    [policy] = template.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statements] == ["organizations:ListAccounts", "sts:AssumeRole"]
    assert policy["Properties"]["Roles"] == ["platform-security"]
