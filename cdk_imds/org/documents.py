"""The AWS Organizations policy documents behind the guardrail constructs, as plain dicts.

Pure functions of their arguments (no aws_cdk, no boto3), so each document is tested, measured
against the Organizations size limits and checked for real condition keys without a synthesis.

Every statement follows an example AWS publishes (the source is named beside it); where AWS
documents two ways, the comment says which one and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdk_imds.org.errors import GuardrailConfigurationError, PolicyTooLargeError

SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
DECLARATIVE_POLICY_EC2 = "DECLARATIVE_POLICY_EC2"

# AWS Organizations quotas, "Maximum size of a policy document".
SCP_MAX_CHARACTERS = 5120
DECLARATIVE_POLICY_MAX_CHARACTERS = 10000

# ec2:RunInstances is authorized once per resource it touches (image, subnet, volume, ...), and
# only the instance carries the metadata keys: with "*", StringNotEquals on the key missing from
# the other resources would deny every launch.
INSTANCE_ARN = "arn:aws:ec2:*:*:instance/*"

MIN_HOP_LIMIT = 1
MAX_HOP_LIMIT = 64

# IAM role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ORGANIZATIONS_TARGET = re.compile(r"r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")


@dataclass(frozen=True)
class GuardrailOptions:
    """What the IMDSv2 service control policy denies, beyond launching without tokens.

    Always in the policy: ``ec2:RunInstances`` of an instance whose ``HttpTokens`` is not
    ``required``, and ``ec2:ModifyInstanceMetadataOptions`` that sets it to anything else.

    :param max_hop_limit: deny launching an instance with a larger
        ``HttpPutResponseHopLimit`` (1 to 64). Default: None (no hop limit statement).
    :param protect_account_defaults: deny ``ec2:ModifyInstanceMetadataDefaults`` calls that set the
        account's default ``HttpTokens`` to anything but ``required``. Default: True.
    :param deny_imdsv1_role_credentials: deny every action signed with instance role credentials
        that were fetched through IMDSv1 (``ec2:RoleDelivery`` below 2.0), so stolen IMDSv1
        credentials are useless even on instances launched before the policy. Breaks workloads
        that still call IMDSv1: check ``cdk-imds audit`` readiness first. Default: False.
    :param deny_launch_configurations: deny ``autoscaling:CreateLaunchConfiguration`` and
        creating or updating Auto Scaling groups that use a launch configuration. Default: False.
    :param require_pinned_launch_template_version: deny creating or updating Auto Scaling groups
        that launch from ``$Latest`` or ``$Default`` instead of a version number. Default: False.
    :param exempt_principal_arns: ARN patterns (``aws:PrincipalArn``, wildcards allowed) of
        break-glass principals the launch and modify statements do not apply to. Never exempt
        from ``deny_imdsv1_role_credentials``. Default: none.
    """

    max_hop_limit: int | None = None
    protect_account_defaults: bool = True
    deny_imdsv1_role_credentials: bool = False
    deny_launch_configurations: bool = False
    require_pinned_launch_template_version: bool = False
    exempt_principal_arns: tuple[str, ...] = ()


def role_arn_pattern(role_name: str) -> str:
    """The ``aws:PrincipalArn`` pattern of an IAM role of that name in any account of the organization."""
    if not _ROLE_NAME.fullmatch(role_name):
        raise GuardrailConfigurationError(
            f"break-glass role name {role_name!r} is not an IAM role name "
            "(1 to 64 of letters, digits and +=,.@_-); pass an ARN pattern in exempt_principal_arns instead"
        )
    return f"arn:aws:iam::*:role/{role_name}"


def check_target_ids(target_ids: Sequence[str], *, resolved: Sequence[bool]) -> None:
    """Refuse literal target ids that are not a root, an OU or an account id.

    ``resolved[i]`` is False for a deploy-time value (a CDK token), which is left to Organizations.
    """
    for target_id, literal in zip(target_ids, resolved, strict=True):
        if literal and not _ORGANIZATIONS_TARGET.fullmatch(target_id):
            raise GuardrailConfigurationError(
                f"target id {target_id!r} is not a root (r-...), an OU (ou-...-...) or a 12-digit account id"
            )


def guardrail_policy_document(options: GuardrailOptions) -> dict[str, Any]:
    """The service control policy for ``options``; raises if it could not be created as is."""
    if options.max_hop_limit is not None:
        check_hop_limit("max_hop_limit", options.max_hop_limit)
    for pattern in options.exempt_principal_arns:
        if not pattern.startswith("arn:"):
            raise GuardrailConfigurationError(f"exempt principal {pattern!r} is not an ARN pattern")
    document = {"Version": "2012-10-17", "Statement": _guardrail_statements(options)}
    _check_size(SERVICE_CONTROL_POLICY, document, SCP_MAX_CHARACTERS)
    return document


def _guardrail_statements(options: GuardrailOptions) -> list[dict[str, Any]]:
    exempt: dict[str, Any] = (
        {"ArnNotLike": {"aws:PrincipalArn": list(options.exempt_principal_arns)}}
        if options.exempt_principal_arns
        else {}
    )
    # Source of each statement: Amazon EC2 User Guide, "Example policies to control access the
    # Amazon EC2 API", section "Work with instance metadata", unless said otherwise.
    statements: list[dict[str, Any]] = [
        # "Require the use of IMDSv2".
        _deny(
            "RequireImdsv2OnLaunch",
            "ec2:RunInstances",
            INSTANCE_ARN,
            {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
            exempt,
        ),
        # "Deny opt-out of IMDSv2". ec2:MetadataHttpTokens would be the instance's current value
        # here, not the requested one: it would block upgrading an optional instance to required.
        # ec2:Attribute/HttpTokens is the value the request sets; the Null test leaves calls that
        # do not touch HttpTokens (hop limit, tags) alone, as in AWS's example.
        _deny(
            "DenyImdsv2OptOut",
            "ec2:ModifyInstanceMetadataOptions",
            INSTANCE_ARN,
            {
                "StringNotEquals": {"ec2:Attribute/HttpTokens": "required"},
                "Null": {"ec2:Attribute/HttpTokens": "false"},
            },
            exempt,
        ),
    ]
    if options.max_hop_limit is not None:
        # "Specify maximum hop limit".
        statements.append(
            _deny(
                "MaxImdsHopLimitOnLaunch",
                "ec2:RunInstances",
                INSTANCE_ARN,
                {"NumericGreaterThan": {"ec2:MetadataHttpPutResponseHopLimit": str(options.max_hop_limit)}},
                exempt,
            )
        )
    if options.protect_account_defaults:
        # Service Authorization Reference (Amazon EC2): ModifyInstanceMetadataDefaults has no
        # resource type (so "*") and takes ec2:Attribute/${AttributeName}.
        statements.append(
            _deny(
                "DenyWeakerImdsAccountDefaults",
                "ec2:ModifyInstanceMetadataDefaults",
                "*",
                {
                    "StringNotEquals": {"ec2:Attribute/HttpTokens": "required"},
                    "Null": {"ec2:Attribute/HttpTokens": "false"},
                },
                exempt,
            )
        )
    if options.deny_imdsv1_role_credentials:
        # "Require role credentials to be retrieved from IMDSv2". No exemption: credentials
        # delivered through IMDSv1 are what an SSRF steals, whoever the role is meant for; the key
        # is absent from requests not signed with instance role credentials, so nothing else is hit.
        statements.append(
            _deny(
                "DenyImdsv1RoleCredentials",
                "*",
                "*",
                {"NumericLessThan": {"ec2:RoleDelivery": "2.0"}},
                {},
            )
        )
    if options.deny_launch_configurations:
        # Amazon EC2 Auto Scaling User Guide, "Control the use of launch templates in Auto Scaling
        # actions": launch configurations cannot carry every metadata option a template can.
        statements.append(
            _deny("DenyLaunchConfigurations", "autoscaling:CreateLaunchConfiguration", "*", {}, exempt)
        )
        statements.append(
            _deny(
                "DenyGroupsOnLaunchConfigurations",
                ["autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"],
                "*",
                {"Null": {"autoscaling:LaunchConfigurationName": "false"}},
                exempt,
            )
        )
    if options.require_pinned_launch_template_version:
        # Same Auto Scaling guide: the key is true when the request names a version number and
        # false for $Latest/$Default, whose launch permissions are not re-checked when a new
        # template version appears.
        statements.append(
            _deny(
                "RequirePinnedLaunchTemplateVersion",
                ["autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"],
                "*",
                {"Bool": {"autoscaling:LaunchTemplateVersionSpecified": "false"}},
                exempt,
            )
        )
    return statements


def _deny(
    sid: str,
    action: str | list[str],
    resource: str,
    condition: Mapping[str, Any],
    exempt: Mapping[str, Any],
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Deny", "Action": action, "Resource": resource}
    merged = {**condition, **exempt}
    if merged:
        statement["Condition"] = merged
    return statement


def declarative_policy_content(
    *,
    http_put_response_hop_limit: int | None = 1,
    http_endpoint: bool | None = None,
    instance_metadata_tags: bool | None = None,
    exception_message: str | None = None,
) -> dict[str, Any]:
    """An EC2 declarative policy making ``HttpTokens: required`` the IMDS default of every account.

    Syntax: AWS Organizations User Guide, "Declarative policy syntax and examples", section
    "Instance Metadata Defaults" (values use ``no_preference`` with an underscore there; a field
    left out here is simply not managed). The hop limit is written as a string, as in AWS's example.
    """
    defaults: dict[str, Any] = {"http_tokens": {"@@assign": "required"}}
    if http_put_response_hop_limit is not None:
        check_hop_limit("http_put_response_hop_limit", http_put_response_hop_limit)
        defaults["http_put_response_hop_limit"] = {"@@assign": str(http_put_response_hop_limit)}
    if http_endpoint is not None:
        defaults["http_endpoint"] = {"@@assign": "enabled" if http_endpoint else "disabled"}
    if instance_metadata_tags is not None:
        defaults["instance_metadata_tags"] = {"@@assign": "enabled" if instance_metadata_tags else "disabled"}
    attributes: dict[str, Any] = {"instance_metadata_defaults": defaults}
    if exception_message is not None:
        if not exception_message.strip():
            raise GuardrailConfigurationError("exception_message is blank; leave it out instead")
        attributes["exception_message"] = {"@@assign": exception_message}
    content = {"ec2_attributes": attributes}
    _check_size(DECLARATIVE_POLICY_EC2, content, DECLARATIVE_POLICY_MAX_CHARACTERS)
    return content


def policy_size(document: Mapping[str, Any]) -> int:
    """Characters of the document as measured against the Organizations limits.

    Counted with a space after each separator: CloudFormation hands Organizations the JSON object
    serialized its own way, so the size is taken generously rather than minified.
    """
    return len(json.dumps(document))


def _check_size(policy_type: str, document: Mapping[str, Any], limit: int) -> None:
    size = policy_size(document)
    if size > limit:
        raise PolicyTooLargeError(policy_type, size, limit)


def check_hop_limit(name: str, value: int) -> None:
    """Refuse a hop limit EC2 would not accept (bools and floats included)."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_HOP_LIMIT <= value <= MAX_HOP_LIMIT:
        raise GuardrailConfigurationError(
            f"{name} must be an integer from {MIN_HOP_LIMIT} to {MAX_HOP_LIMIT}, not {value!r}"
        )
