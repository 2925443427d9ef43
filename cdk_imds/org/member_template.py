"""The IAM pieces of an organization run, as plain documents (no aws_cdk, no boto3).

- ``member_roles_template``: the CloudFormation template of the member-account roles
  (``cdk-imds-audit``, read-only, and optionally ``cdk-imds-remediate``), each trusting the
  caller's account, with an optional external id. It is what the StackSet deploys to every member
  account, and ``cdk_imds/policies/org-member-roles.template.json`` is it, written out (a test keeps
  the two equal).
- ``caller_policy_document``: what the caller itself needs (``organizations:ListAccounts``,
  ``sts:AssumeRole`` on those role names); ``cdk_imds/policies/org-caller-policy.json``.

The roles' permissions are the shipped ``audit-policy.json`` and ``remediate-policy.json``, the
same documents the single-account commands are tested against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

AUDIT_ROLE_NAME = "cdk-imds-audit"
REMEDIATE_ROLE_NAME = "cdk-imds-remediate"
# Credentials from AssumeRole last an hour by default; one account's regions take seconds to
# minutes, and each account assumes its role afresh.
MAX_SESSION_SECONDS = 3600


def shipped_policy(name: str) -> dict[str, Any]:
    """``audit-policy`` or ``remediate-policy``, as shipped in ``cdk_imds/policies``."""
    document: dict[str, Any] = json.loads(
        files("cdk_imds").joinpath(f"policies/{name}.json").read_text(encoding="utf-8")
    )
    return document


def trust_policy(caller_account: str | None = None, external_id: str | None = None) -> dict[str, Any]:
    """The caller's account may assume the role; with an external id set, only with it.

    Without arguments, the template's form: both come from its ``CallerAccountId`` and
    ``ExternalId`` parameters. With ``caller_account``, literal values (a role in one stack)."""
    if caller_account is not None:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{caller_account}:root"}},
            "Action": "sts:AssumeRole",
        }
        if external_id:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
        return {"Version": "2012-10-17", "Statement": [statement]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${CallerAccountId}:root"}},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "Fn::If": [
                        "HasExternalId",
                        {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                        {"Ref": "AWS::NoValue"},
                    ]
                },
            }
        ],
    }


AUDIT_DESCRIPTION = "cdk-imds audit: read-only IMDS inventory"
REMEDIATE_DESCRIPTION = "cdk-imds remediate: launch template versions with HttpTokens required, group updates"


def _role(name: str, policy: str, description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "Description": description,
            "MaxSessionDuration": MAX_SESSION_SECONDS,
            "AssumeRolePolicyDocument": trust_policy(),
            "Policies": [{"PolicyName": name, "PolicyDocument": shipped_policy(policy)}],
        },
    }


def member_roles_template(
    audit_role_name: str = AUDIT_ROLE_NAME,
    remediate_role_name: str | None = REMEDIATE_ROLE_NAME,
) -> dict[str, Any]:
    """The member-account template; ``remediate_role_name`` None leaves the remediate role out."""
    resources: dict[str, Any] = {
        "AuditRole": _role(audit_role_name, "audit-policy", AUDIT_DESCRIPTION),
    }
    outputs: dict[str, Any] = {"AuditRoleArn": {"Value": {"Fn::GetAtt": ["AuditRole", "Arn"]}}}
    if remediate_role_name is not None:
        resources["RemediateRole"] = _role(remediate_role_name, "remediate-policy", REMEDIATE_DESCRIPTION)
        outputs["RemediateRoleArn"] = {"Value": {"Fn::GetAtt": ["RemediateRole", "Arn"]}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "cdk-imds: the roles an organization audit and remediation assume in a member account",
        "Parameters": {
            "CallerAccountId": {
                "Type": "String",
                "AllowedPattern": "^\\d{12}$",
                "Description": "The account cdk-imds runs from (management account or delegated administrator)",
            },
            "ExternalId": {
                "Type": "String",
                "Default": "",
                "NoEcho": True,
                "Description": "When set, the roles can only be assumed with this external id (--external-id)",
            },
        },
        "Conditions": {"HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}},
        "Resources": resources,
        "Outputs": outputs,
    }


def caller_policy_document(
    role_names: Sequence[str] = (AUDIT_ROLE_NAME, REMEDIATE_ROLE_NAME), partition: str = "aws"
) -> dict[str, Any]:
    """The caller's own permissions: list the organization's accounts, assume the member roles."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CdkImdsListAccounts",
                "Effect": "Allow",
                "Action": "organizations:ListAccounts",
                "Resource": "*",
            },
            {
                "Sid": "CdkImdsAssumeMemberRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [f"arn:{partition}:iam::*:role/{name}" for name in role_names],
            },
        ],
    }


def write_shipped_files(directory: str) -> None:
    """Regenerate the two shipped files (after changing this module or the shipped policies):
    ``python -c "from cdk_imds.org.member_template import write_shipped_files as w; w('cdk_imds/policies')"``."""
    from pathlib import Path

    for name, document in (
        ("org-member-roles.template.json", member_roles_template()),
        ("org-caller-policy.json", caller_policy_document()),
    ):
        Path(directory, name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
