"""The SCP and declarative policy documents: real keys, AWS's semantics, and the size limits."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from cdk_imds.org.documents import (
    DECLARATIVE_POLICY_MAX_CHARACTERS,
    INSTANCE_ARN,
    SCP_MAX_CHARACTERS,
    GuardrailOptions,
    declarative_policy_content,
    guardrail_policy_document,
    policy_size,
    role_arn_pattern,
)
from cdk_imds.org.errors import GuardrailConfigurationError, PolicyTooLargeError
from tests.org.iam_eval import Request, denied_by

SAR_EC2 = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html"
SAR_AUTOSCALING = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html"
)
EC2_EXAMPLES = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-instance-metadata"
ASG_LT_PERMISSIONS = (
    "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html"
)
IAM_GLOBAL_KEYS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
ORGS_DECLARATIVE = (
    "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_syntax.html"
)

# Every condition key the guardrail may use: its type, the actions the documentation lists it
# for ("*" for a key that is in the context of any request), and where that is written. Checked by
# hand against the pages named; a key or action added to the policy must be added here with its
# source, or the tests below fail.
DOCUMENTED_KEYS: dict[str, tuple[str, frozenset[str], str]] = {
    # Actions table, RunInstances, resource type "instance"; condition keys table: String.
    "ec2:MetadataHttpTokens": ("String", frozenset({"ec2:RunInstances"}), SAR_EC2),
    # Same rows; Numeric.
    "ec2:MetadataHttpPutResponseHopLimit": ("Numeric", frozenset({"ec2:RunInstances"}), SAR_EC2),
    # ec2:Attribute/${AttributeName} (String) is listed for ModifyInstanceMetadataOptions and
    # ModifyInstanceMetadataDefaults; EC2_EXAMPLES "Deny opt-out of IMDSv2" uses it with HttpTokens.
    "ec2:Attribute/HttpTokens": (
        "String",
        frozenset({"ec2:ModifyInstanceMetadataOptions", "ec2:ModifyInstanceMetadataDefaults"}),
        SAR_EC2,
    ),
    # Condition keys table: Numeric, "the version of the instance metadata service for retrieving
    # IAM role credentials"; EC2_EXAMPLES applies it to "Action": "*".
    "ec2:RoleDelivery": ("Numeric", frozenset({"*"}), SAR_EC2),
    "autoscaling:LaunchTemplateVersionSpecified": (
        "Bool",
        frozenset({"autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"}),
        ASG_LT_PERMISSIONS,
    ),
    "autoscaling:LaunchConfigurationName": (
        "String",
        frozenset({"autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup"}),
        ASG_LT_PERMISSIONS,
    ),
    # Global condition key, in the context of every request (ARN type).
    "aws:PrincipalArn": ("ARN", frozenset({"*"}), IAM_GLOBAL_KEYS),
}
OPERATOR_TYPES = {
    "StringNotEquals": "String",
    "NumericGreaterThan": "Numeric",
    "NumericLessThan": "Numeric",
    "Bool": "Bool",
    "ArnNotLike": "ARN",
}

EVERYTHING = GuardrailOptions(
    max_hop_limit=2,
    protect_account_defaults=True,
    deny_imdsv1_role_credentials=True,
    deny_launch_configurations=True,
    require_pinned_launch_template_version=True,
    exempt_principal_arns=(role_arn_pattern("BreakGlass"),),
)
BREAK_GLASS = "arn:aws:iam::111122223333:role/BreakGlass"
DEVELOPER = "arn:aws:iam::111122223333:role/Developer"
INSTANCE = "arn:aws:ec2:eu-west-1:111122223333:instance/*"
SUBNET = "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0123456789abcdef0"


def _statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in document["Statement"]}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# ---------------------------------------------------------------------------------------------
# real keys, used as documented


@pytest.mark.parametrize(
    "options",
    [GuardrailOptions(), EVERYTHING, GuardrailOptions(protect_account_defaults=False)],
    ids=["defaults", "everything", "minimal"],
)
def test_every_condition_key_is_documented_for_its_actions_and_operator(options: GuardrailOptions) -> None:
    document = guardrail_policy_document(options)
    assert json.loads(json.dumps(document)) == document
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        for operator, keys in statement.get("Condition", {}).items():
            for key in keys:
                assert key in DOCUMENTED_KEYS, f"{statement['Sid']}: {key} is not in the checked list"
                key_type, documented_actions, _source = DOCUMENTED_KEYS[key]
                if "*" not in documented_actions:
                    assert set(_actions(statement)) <= documented_actions, (statement["Sid"], key)
                if operator != "Null":
                    assert OPERATOR_TYPES[operator] == key_type, (statement["Sid"], operator, key)


def test_everything_uses_every_checked_key_so_the_list_does_not_rot() -> None:
    used = {
        key
        for statement in guardrail_policy_document(EVERYTHING)["Statement"]
        for keys in statement.get("Condition", {}).values()
        for key in keys
    }
    assert used == set(DOCUMENTED_KEYS)


def test_defaults_are_the_launch_opt_out_and_account_defaults_statements() -> None:
    statements = _statements(guardrail_policy_document(GuardrailOptions()))
    assert set(statements) == {"RequireImdsv2OnLaunch", "DenyImdsv2OptOut", "DenyWeakerImdsAccountDefaults"}
    assert all(statement["Effect"] == "Deny" for statement in statements.values())
    assert statements["RequireImdsv2OnLaunch"]["Resource"] == INSTANCE_ARN == "arn:aws:ec2:*:*:instance/*"


# ---------------------------------------------------------------------------------------------
# what the policy denies (a small IAM evaluator over the document)


@pytest.mark.parametrize(
    ("request_", "denied"),
    [
        (Request("ec2:RunInstances", INSTANCE, {"ec2:MetadataHttpTokens": "optional"}), True),
        (Request("ec2:RunInstances", INSTANCE, {"ec2:MetadataHttpTokens": "required"}), False),
        # RunInstances is also authorized on the subnet, AMI, ...: those carry no metadata keys and
        # must not be denied, or no instance could launch at all.
        (Request("ec2:RunInstances", SUBNET, {}), False),
        (
            Request(
                "ec2:RunInstances",
                INSTANCE,
                {"ec2:MetadataHttpTokens": "optional", "aws:PrincipalArn": BREAK_GLASS},
            ),
            False,
        ),
        (
            Request("ec2:ModifyInstanceMetadataOptions", INSTANCE, {"ec2:Attribute/HttpTokens": "optional"}),
            True,
        ),
        # Upgrading an instance that allows IMDSv1 to required must stay possible.
        (
            Request(
                "ec2:ModifyInstanceMetadataOptions",
                INSTANCE,
                {"ec2:Attribute/HttpTokens": "required", "ec2:MetadataHttpTokens": "optional"},
            ),
            False,
        ),
        (
            Request(
                "ec2:ModifyInstanceMetadataOptions", INSTANCE, {"ec2:Attribute/HttpPutResponseHopLimit": "2"}
            ),
            False,
        ),
        (
            Request("ec2:ModifyInstanceMetadataDefaults", "*", {"ec2:Attribute/HttpTokens": "no-preference"}),
            True,
        ),
        (Request("ec2:ModifyInstanceMetadataDefaults", "*", {"ec2:Attribute/HttpTokens": "required"}), False),
        (Request("s3:GetObject", "arn:aws:s3:::bucket/key", {"aws:PrincipalArn": DEVELOPER}), False),
    ],
)
def test_default_policy_denies_imdsv1_and_only_that(request_: Request, denied: bool) -> None:
    document = guardrail_policy_document(
        GuardrailOptions(exempt_principal_arns=(role_arn_pattern("BreakGlass"),))
    )
    assert bool(denied_by(document, request_)) is denied


@pytest.mark.parametrize(
    ("request_", "sid"),
    [
        (
            Request(
                "ec2:RunInstances",
                INSTANCE,
                {"ec2:MetadataHttpPutResponseHopLimit": "3", "ec2:MetadataHttpTokens": "required"},
            ),
            "MaxImdsHopLimitOnLaunch",
        ),
        (
            Request("s3:GetObject", "arn:aws:s3:::bucket/key", {"ec2:RoleDelivery": "1.0"}),
            "DenyImdsv1RoleCredentials",
        ),
        # The break-glass role is not exempt from using stolen IMDSv1 credentials.
        (
            Request("iam:CreateUser", "*", {"ec2:RoleDelivery": "1.0", "aws:PrincipalArn": BREAK_GLASS}),
            "DenyImdsv1RoleCredentials",
        ),
        (Request("autoscaling:CreateLaunchConfiguration", "*", {}), "DenyLaunchConfigurations"),
        (
            Request(
                "autoscaling:UpdateAutoScalingGroup", "*", {"autoscaling:LaunchConfigurationName": "legacy"}
            ),
            "DenyGroupsOnLaunchConfigurations",
        ),
        (
            Request(
                "autoscaling:CreateAutoScalingGroup",
                "*",
                {"autoscaling:LaunchTemplateVersionSpecified": "false"},
            ),
            "RequirePinnedLaunchTemplateVersion",
        ),
    ],
)
def test_optional_statements_deny_what_they_are_for(request_: Request, sid: str) -> None:
    assert denied_by(guardrail_policy_document(EVERYTHING), request_) == [sid]
    assert sid not in _statements(guardrail_policy_document(GuardrailOptions()))


@pytest.mark.parametrize(
    "request_",
    [
        Request(
            "ec2:RunInstances",
            INSTANCE,
            {"ec2:MetadataHttpPutResponseHopLimit": "2", "ec2:MetadataHttpTokens": "required"},
        ),
        Request("s3:GetObject", "arn:aws:s3:::bucket/key", {"ec2:RoleDelivery": "2.0"}),
        Request("s3:GetObject", "arn:aws:s3:::bucket/key", {}),
        Request(
            "autoscaling:UpdateAutoScalingGroup", "*", {"autoscaling:LaunchTemplateVersionSpecified": "true"}
        ),
        Request("autoscaling:UpdateAutoScalingGroup", "*", {"autoscaling:MaxSize": "3"}),
        Request("autoscaling:CreateLaunchConfiguration", "*", {"aws:PrincipalArn": BREAK_GLASS}),
    ],
)
def test_everything_still_allows_compliant_requests(request_: Request) -> None:
    assert denied_by(guardrail_policy_document(EVERYTHING), request_) == []


def test_exemption_is_on_every_statement_but_the_credentials_one() -> None:
    for sid, statement in _statements(guardrail_policy_document(EVERYTHING)).items():
        exempt = statement.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn")
        if sid == "DenyImdsv1RoleCredentials":
            assert exempt is None
        else:
            assert exempt == ["arn:aws:iam::*:role/BreakGlass"], sid


def test_without_break_glass_there_is_no_arn_condition() -> None:
    text = json.dumps(guardrail_policy_document(GuardrailOptions()))
    assert "aws:PrincipalArn" not in text


# ---------------------------------------------------------------------------------------------
# size and arguments


def test_everything_with_ten_break_glass_roles_fits_in_an_scp() -> None:
    options = GuardrailOptions(
        max_hop_limit=2,
        deny_imdsv1_role_credentials=True,
        deny_launch_configurations=True,
        require_pinned_launch_template_version=True,
        exempt_principal_arns=tuple(role_arn_pattern(f"PlatformBreakGlass{n:02}") for n in range(10)),
    )
    size = policy_size(guardrail_policy_document(options))
    assert size <= SCP_MAX_CHARACTERS
    # Measured generously: the spaced form is never smaller than the minified one.
    document = guardrail_policy_document(options)
    assert size >= len(json.dumps(document, separators=(",", ":")))


def test_too_many_exemptions_are_refused_before_deployment() -> None:
    options = GuardrailOptions(
        exempt_principal_arns=tuple(role_arn_pattern(f"BreakGlassRoleNumber{n:03}") for n in range(60)),
    )
    with pytest.raises(PolicyTooLargeError) as caught:
        guardrail_policy_document(options)
    assert caught.value.limit == SCP_MAX_CHARACTERS
    assert caught.value.size > SCP_MAX_CHARACTERS
    assert "5120" in str(caught.value)


@pytest.mark.parametrize("hop_limit", [0, 65, -1, True, 2.0])
def test_hop_limits_ec2_would_refuse_are_refused(hop_limit: Any) -> None:
    with pytest.raises(GuardrailConfigurationError, match="1 to 64"):
        guardrail_policy_document(GuardrailOptions(max_hop_limit=hop_limit))
    with pytest.raises(GuardrailConfigurationError, match="1 to 64"):
        declarative_policy_content(http_put_response_hop_limit=hop_limit)


@pytest.mark.parametrize("name", ["", "Break Glass", "role/BreakGlass", "*", "x" * 65])
def test_break_glass_role_names_must_be_role_names(name: str) -> None:
    with pytest.raises(GuardrailConfigurationError, match="IAM role name"):
        role_arn_pattern(name)


def test_exempt_principals_must_be_arn_patterns() -> None:
    with pytest.raises(GuardrailConfigurationError, match="ARN pattern"):
        guardrail_policy_document(GuardrailOptions(exempt_principal_arns=("BreakGlass",)))


# ---------------------------------------------------------------------------------------------
# declarative policy


def test_declarative_policy_has_the_documented_shape() -> None:
    content = declarative_policy_content(
        http_put_response_hop_limit=2, http_endpoint=True, instance_metadata_tags=False
    )
    # ORGS_DECLARATIVE, "Instance Metadata Defaults": these four fields, each an @@assign; the
    # hop limit written as a string as in AWS's example.
    assert content == {
        "ec2_attributes": {
            "instance_metadata_defaults": {
                "http_tokens": {"@@assign": "required"},
                "http_put_response_hop_limit": {"@@assign": "2"},
                "http_endpoint": {"@@assign": "enabled"},
                "instance_metadata_tags": {"@@assign": "disabled"},
            }
        }
    }
    assert policy_size(content) <= DECLARATIVE_POLICY_MAX_CHARACTERS


def test_declarative_policy_defaults_manage_tokens_and_hop_limit_only() -> None:
    defaults = declarative_policy_content()["ec2_attributes"]["instance_metadata_defaults"]
    assert defaults == {
        "http_tokens": {"@@assign": "required"},
        "http_put_response_hop_limit": {"@@assign": "1"},
    }
    unmanaged = declarative_policy_content(http_put_response_hop_limit=None)
    assert unmanaged["ec2_attributes"]["instance_metadata_defaults"] == {
        "http_tokens": {"@@assign": "required"}
    }


def test_declarative_exception_message_is_assigned_under_ec2_attributes() -> None:
    content = declarative_policy_content(
        exception_message="IMDSv2 only: see https://platform.example.com/imds"
    )
    assert content["ec2_attributes"]["exception_message"] == {
        "@@assign": "IMDSv2 only: see https://platform.example.com/imds"
    }
    with pytest.raises(GuardrailConfigurationError, match="blank"):
        declarative_policy_content(exception_message="  ")


def test_declarative_policy_over_the_limit_is_refused() -> None:
    with pytest.raises(PolicyTooLargeError) as caught:
        declarative_policy_content(exception_message="x" * DECLARATIVE_POLICY_MAX_CHARACTERS)
    assert caught.value.limit == DECLARATIVE_POLICY_MAX_CHARACTERS


def test_documents_do_not_start_node() -> None:
    # A fresh interpreter: this test process may already have imported aws_cdk for other tests.
    code = (
        "import sys; import cdk_imds.org as org; from cdk_imds.org.handler import imds_defaults_handler; "
        "org.guardrail_policy_document(org.GuardrailOptions()); org.declarative_policy_content(); "
        "print('aws_cdk' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
