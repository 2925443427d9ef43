"""The organization constructs as synthesized: policies, the account-defaults custom resource."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from setuptools import find_packages

from cdk_imds.org import (
    AccountImdsDefaults,
    GuardrailConfigurationError,
    Imdsv2DeclarativePolicy,
    Imdsv2GuardrailPolicy,
)
from cdk_imds.org.account_defaults import HANDLER_DIRECTORY
from tests.org.iam_eval import Request, denied_by

ROOT = Path(__file__).resolve().parents[2]
OU = "ou-ab12-cd34ef56"
ACCOUNT = "111122223333"


def _policies(template: Template) -> dict[str, Any]:
    return template.find_resources("AWS::Organizations::Policy")


# ---------------------------------------------------------------------------------------------
# Imdsv2GuardrailPolicy


INSTANCE = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0"
DEVELOPER = "arn:aws:iam::111122223333:role/Developer"
BREAK_GLASS = "arn:aws:iam::111122223333:role/BreakGlass"


def _launch(principal: str, tokens: str, hops: str = "1") -> Request:
    context = {"aws:PrincipalArn": principal, "ec2:MetadataHttpTokens": tokens}
    return Request("ec2:RunInstances", INSTANCE, {**context, "ec2:MetadataHttpPutResponseHopLimit": hops})


# What the synthesized SCP must deny, and only that, for the options the test gives: judged by
# tests/org/iam_eval.py on the Content as written, not compared with the document function.
GUARDRAIL_VERDICTS = [
    (_launch(DEVELOPER, "required"), []),
    (_launch(DEVELOPER, "optional"), ["RequireImdsv2OnLaunch"]),
    (_launch(DEVELOPER, "required", hops="3"), ["MaxImdsHopLimitOnLaunch"]),
    (_launch(DEVELOPER, "required", hops="2"), []),
    (_launch(BREAK_GLASS, "optional", hops="3"), []),
    (
        Request("ec2:ModifyInstanceMetadataOptions", INSTANCE, {"ec2:Attribute/HttpTokens": "optional"}),
        ["DenyImdsv2OptOut"],
    ),
    (
        Request("ec2:ModifyInstanceMetadataDefaults", "*", {"ec2:Attribute/HttpTokens": "no-preference"}),
        ["DenyWeakerImdsAccountDefaults"],
    ),
    (
        Request(
            "s3:GetObject", "arn:aws:s3:::b/k", {"ec2:RoleDelivery": "1.0", "aws:PrincipalArn": BREAK_GLASS}
        ),
        ["DenyImdsv1RoleCredentials"],
    ),
    (Request("s3:GetObject", "arn:aws:s3:::b/k", {"ec2:RoleDelivery": "2.0"}), []),
]


def _guardrail_content(**options: Any) -> tuple[Imdsv2GuardrailPolicy, cdk.Stack, dict[str, Any]]:
    stack = cdk.Stack(cdk.App(), "Org")
    guardrail = Imdsv2GuardrailPolicy(stack, "Guardrail", target_ids=[OU, ACCOUNT], **options)
    (policy,) = _policies(Template.from_stack(stack)).values()
    return guardrail, stack, policy["Properties"]


def test_guardrail_synthesizes_an_scp_that_denies_what_its_options_say() -> None:
    # Given a guardrail with a hop limit, role-credential protection and a break-glass role
    guardrail, stack, properties = _guardrail_content(
        max_hop_limit=2, deny_imdsv1_role_credentials=True, break_glass_role_names=["BreakGlass"]
    )
    # Then one SCP, attached to the targets, named, with its document as an object (not a JSON
    # string: CloudFormation drift detection needs that) ...
    assert {key: properties[key] for key in ("Type", "Name", "TargetIds")} == {
        "Type": "SERVICE_CONTROL_POLICY",
        "Name": "cdk-imds-imdsv2-guardrail",
        "TargetIds": [OU, ACCOUNT],
    }
    content = properties["Content"]
    assert isinstance(content, dict)
    # ... which denies exactly what the options ask for, as IAM would evaluate it
    for request, denied in GUARDRAIL_VERDICTS:
        assert denied_by(content, request) == denied, request
    # and the construct's attributes are what was synthesized
    assert guardrail.document == content
    assert stack.resolve(guardrail.policy_id) == {
        "Fn::GetAtt": [stack.resolve(guardrail.policy.logical_id), "Id"]
    }


def test_guardrail_control_without_options_the_optional_statements_deny_nothing() -> None:
    # The control for the test above: without those options, the same requests get only the
    # default statements' verdicts (and the break-glass role is no longer exempt)
    _, _, properties = _guardrail_content()
    verdicts = [denied_by(properties["Content"], request) for request, _ in GUARDRAIL_VERDICTS]
    assert verdicts == [
        [],
        ["RequireImdsv2OnLaunch"],
        [],
        [],
        ["RequireImdsv2OnLaunch"],
        ["DenyImdsv2OptOut"],
        ["DenyWeakerImdsAccountDefaults"],
        [],
        [],
    ]


def test_guardrail_without_targets_is_not_attached() -> None:
    stack = cdk.Stack(cdk.App(), "Org")
    Imdsv2GuardrailPolicy(stack, "Guardrail")
    (policy,) = _policies(Template.from_stack(stack)).values()
    assert "TargetIds" not in policy["Properties"]


def test_guardrail_accepts_a_deploy_time_target() -> None:
    stack = cdk.Stack(cdk.App(), "Org")
    Imdsv2GuardrailPolicy(stack, "Guardrail", target_ids=[cdk.Fn.import_value("WorkloadsOuId")])
    (policy,) = _policies(Template.from_stack(stack)).values()
    assert policy["Properties"]["TargetIds"] == [{"Fn::ImportValue": "WorkloadsOuId"}]


@pytest.mark.parametrize(
    "target", ["ou-ab12", "12345678901", "Workloads", "arn:aws:organizations::1:ou/o-1/ou-ab12-cd34ef56"]
)
def test_guardrail_refuses_targets_that_are_not_roots_ous_or_accounts(target: str) -> None:
    stack = cdk.Stack(cdk.App(), "Org")
    with pytest.raises(GuardrailConfigurationError, match="target id"):
        Imdsv2GuardrailPolicy(stack, "Guardrail", target_ids=[target])
    # Refused before anything joined the tree, so the id can be used again.
    assert stack.node.try_find_child("Guardrail") is None
    Imdsv2GuardrailPolicy(stack, "Guardrail", target_ids=["r-ab12"])


def test_guardrail_refuses_a_bad_break_glass_name_naming_it() -> None:
    with pytest.raises(GuardrailConfigurationError, match="'role/BreakGlass'"):
        Imdsv2GuardrailPolicy(
            cdk.Stack(cdk.App(), "Org"), "Guardrail", break_glass_role_names=["role/BreakGlass"]
        )


# ---------------------------------------------------------------------------------------------
# Imdsv2DeclarativePolicy


def test_declarative_policy_synthesizes_an_ec2_declarative_policy() -> None:
    stack = cdk.Stack(cdk.App(), "Org")
    policy = Imdsv2DeclarativePolicy(
        stack,
        "Defaults",
        target_ids=["r-ab12"],
        http_put_response_hop_limit=2,
        exception_message="see go/imds",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Organizations::Policy",
        {
            "Type": "DECLARATIVE_POLICY_EC2",
            "Name": "cdk-imds-imdsv2-defaults",
            "TargetIds": ["r-ab12"],
            "Content": {
                "ec2_attributes": {
                    "instance_metadata_defaults": {
                        "http_tokens": {"@@assign": "required"},
                        "http_put_response_hop_limit": {"@@assign": "2"},
                    },
                    "exception_message": {"@@assign": "see go/imds"},
                }
            },
        },
    )
    assert policy.content["ec2_attributes"]["instance_metadata_defaults"]["http_tokens"] == {
        "@@assign": "required"
    }


# ---------------------------------------------------------------------------------------------
# AccountImdsDefaults


@pytest.fixture(scope="module")
def defaults_stack(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Template, Path]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    # Asset metadata (the asset's folder in cdk.out) is written only when asked, as the CLI does.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "AccountDefaults", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    AccountImdsDefaults(stack, "ImdsDefaults", http_put_response_hop_limit=2, http_endpoint=True)
    template = Template.from_stack(stack)
    app.synth()
    return stack, template, outdir


def test_custom_resource_carries_the_requested_defaults(
    defaults_stack: tuple[cdk.Stack, Template, Path],
) -> None:
    _, template, _ = defaults_stack
    (resource,) = template.find_resources("Custom::AccountImdsDefaults").values()
    properties = dict(resource["Properties"])
    properties.pop("ServiceToken")
    assert properties == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
        "HttpTokensEnforced": "enabled",
        "HttpEndpoint": "enabled",
    }


def test_optional_fields_are_left_alone_unless_asked() -> None:
    stack = cdk.Stack(cdk.App(), "AccountDefaults")
    AccountImdsDefaults(stack, "ImdsDefaults", http_tokens_enforced=False)
    (resource,) = Template.from_stack(stack).find_resources("Custom::AccountImdsDefaults").values()
    assert set(resource["Properties"]) == {"ServiceToken", "HttpTokens", "HttpPutResponseHopLimit"}


def test_handler_is_python_with_exactly_the_two_metadata_defaults_actions(
    defaults_stack: tuple[cdk.Stack, Template, Path],
) -> None:
    _, template, _ = defaults_stack
    handlers = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "imds_defaults_handler.on_event"}}
    )
    (handler,) = handlers.values()
    assert handler["Properties"]["Runtime"] == "python3.13"
    role = handler["Properties"]["Role"]["Fn::GetAtt"][0]

    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": ["ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults"],
            "Effect": "Allow",
            "Resource": "*",
        }
    ]


def test_the_asset_is_the_handler_folder_and_nothing_else(
    defaults_stack: tuple[cdk.Stack, Template, Path],
) -> None:
    _, template, outdir = defaults_stack
    (handler,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "imds_defaults_handler.on_event"}}
    ).values()
    asset = outdir / handler["Metadata"]["aws:asset:path"]
    assert sorted(path.name for path in asset.iterdir()) == ["__init__.py", "imds_defaults_handler.py"]
    assert (asset / "imds_defaults_handler.py").read_bytes() == (
        HANDLER_DIRECTORY / "imds_defaults_handler.py"
    ).read_bytes()


def test_bytecode_next_to_the_handler_stays_out_of_the_asset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from cdk_imds.org import account_defaults

    # A copy of the handler folder as it looks once Python has imported it.
    handler_copy = tmp_path / "handler"
    shutil.copytree(HANDLER_DIRECTORY, handler_copy, ignore=shutil.ignore_patterns("__pycache__"))
    (handler_copy / "__pycache__").mkdir()
    (handler_copy / "__pycache__" / "imds_defaults_handler.cpython-311.pyc").write_bytes(b"bytecode")
    monkeypatch.setattr(account_defaults, "HANDLER_DIRECTORY", handler_copy)

    outdir = tmp_path / "cdk.out"
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "AccountDefaults")
    AccountImdsDefaults(stack, "ImdsDefaults")
    (handler,) = (
        Template.from_stack(stack)
        .find_resources(
            "AWS::Lambda::Function", {"Properties": {"Handler": "imds_defaults_handler.on_event"}}
        )
        .values()
    )
    app.synth()
    asset = outdir / handler["Metadata"]["aws:asset:path"]
    assert sorted(path.name for path in asset.iterdir()) == ["__init__.py", "imds_defaults_handler.py"]


def test_the_handler_folder_ships_in_the_wheel() -> None:
    # pyproject's package discovery, applied to the tree: the handler is a package like any other.
    configuration = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = configuration["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "cdk_imds.org.handler" in find_packages(where=str(ROOT), include=include)


@pytest.mark.parametrize("hop_limit", [0, 65])
def test_account_defaults_refuse_hop_limits_ec2_would_refuse(hop_limit: int) -> None:
    stack = cdk.Stack(cdk.App(), "AccountDefaults")
    with pytest.raises(GuardrailConfigurationError, match="1 to 64"):
        AccountImdsDefaults(stack, "ImdsDefaults", http_put_response_hop_limit=hop_limit)
    assert stack.node.try_find_child("ImdsDefaults") is None


def test_attributes_read_the_handler_data(defaults_stack: tuple[cdk.Stack, Template, Path]) -> None:
    stack, template, _ = defaults_stack
    construct = stack.node.find_child("ImdsDefaults")
    assert isinstance(construct, AccountImdsDefaults)
    (logical_id,) = template.find_resources("Custom::AccountImdsDefaults")
    assert stack.resolve(construct.http_tokens_enforced_applied) == {
        "Fn::GetAtt": [logical_id, "HttpTokensEnforcedApplied"]
    }
    assert json.dumps(stack.resolve(construct.previous_http_tokens)).count("PreviousHttpTokens") == 1
