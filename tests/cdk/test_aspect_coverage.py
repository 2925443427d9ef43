"""Imdsv2Aspect with other aspects, nested stacks, stages, suppressions and context configuration."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import cloudformation_include as cfn_inc
from constructs import IConstruct

from cdk_imds.cdk.enforcement import enforce
from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, FIX_NOTE, Imdsv2Aspect, Mode
from cdk_imds.cdk.enforcement.candidates import candidate_type
from cdk_imds.cdk.enforcement.config import ContextValueError
from cdk_imds.cdk.errors import SynthesisFailed
from cdk_imds.cdk.suppressions import SuppressionError, suppress
from cdk_imds.policy.rules import CANDIDATE_TYPES

STABILIZATION = "@aws-cdk/core:aspectStabilization"
TOKENS = "LaunchTemplateData.MetadataOptions.HttpTokens"


@jsii.implements(cdk.IAspect)
class AddsAndLoosens:
    """Another team's aspect: adds a launch template without metadata options, loosens existing ones."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, ec2.CfnLaunchTemplate):
            node.add_property_override(TOKENS, "optional")
        if isinstance(node, cdk.Stack) and node.node.try_find_child("Added") is None:
            ec2.CfnLaunchTemplate(node, "Added", launch_template_data={})


def _tokens(stack: cdk.Stack) -> dict[str, Any]:
    resources = assertions.Template.from_stack(stack).find_resources("AWS::EC2::LaunchTemplate")
    return {
        logical_id: resource["Properties"]["LaunchTemplateData"].get("MetadataOptions", {}).get("HttpTokens")
        for logical_id, resource in resources.items()
    }


@pytest.mark.parametrize("stabilization", [True, False], ids=["stabilization-on", "stabilization-off"])
def test_fix_sees_and_beats_another_aspect_of_default_priority(stabilization: bool) -> None:
    # Given another aspect at default priority that adds and loosens launch templates
    app = cdk.App(context={STABILIZATION: stabilization})
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(stack, "Own", launch_template_data={})
    cdk.Aspects.of(stack).add(AddsAndLoosens())
    # When FIX is added at the app with its priority
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # Then both templates require tokens
    assert _tokens(stack) == {"Own": "required", "Added": "required"}


def test_enforce_fix_sees_and_beats_another_aspect_with_stabilization() -> None:
    # Given the same other aspect, with aspect stabilization on (CDK then applies aspects by
    # priority across the whole tree, and again on what they add)
    app = cdk.App(context={STABILIZATION: True})
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(stack, "Own", launch_template_data={})
    cdk.Aspects.of(stack).add(AddsAndLoosens())
    # When enforce() is called last
    enforce(app, Mode.FIX)
    # Then its fix still comes after the other aspect, and both templates require tokens
    assert _tokens(stack) == {"Own": "required", "Added": "required"}


@pytest.mark.parametrize("stabilization", [True, False], ids=["stabilization-on", "stabilization-off"])
def test_enforce_called_first_still_beats_an_aspect_added_later(stabilization: bool) -> None:
    # Given enforce() on the first line of the app, as a platform team's template puts it
    app = cdk.App(context={STABILIZATION: stabilization})
    enforce(app, Mode.FIX)
    # And, added later, a stack whose own aspect adds and loosens launch templates
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(stack, "Own", launch_template_data={})
    cdk.Aspects.of(stack).add(AddsAndLoosens())
    # When synthesized, then the fix comes after that aspect on every construct it touched
    assert _tokens(stack) == {"Own": "required", "Added": "required"}


def test_enforce_calls_python_once_however_large_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an app of many constructs, when enforce() adds its aspect and the app is synthesized
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    for index in range(50):
        cdk.CfnResource(stack, f"Queue{index}", type="AWS::SQS::Queue")
    enforce(app, Mode.FIX)
    called = _record_callbacks(monkeypatch)
    app.synth()
    # Then JavaScript called into the aspect once (its first visit), not once per construct
    assert [name for name in called if name not in _PLUGIN_CALLBACKS] == ["begin"]


def test_fix_covers_nested_stacks() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    nested = cdk.NestedStack(stack, "Inner")
    ec2.CfnLaunchTemplate(nested, "Deep", launch_template_data={})
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    assert _tokens(nested) == {"Deep": "required"}


def test_enforce_covers_stages_that_exist_when_called() -> None:
    # Given an app with a stage, when enforce() is called in FIX mode
    app = cdk.App()
    stage = cdk.Stage(app, "Prod")
    stack = cdk.Stack(stage, "S")
    ec2.CfnLaunchTemplate(stack, "InStage", launch_template_data={})
    top = cdk.Stack(app, "Top")
    ec2.CfnLaunchTemplate(top, "AtTop", launch_template_data={})
    enforce(app, "fix")
    # Then the stage's stack and the app's stack are fixed
    assert _tokens(stack) == {"InStage": "required"}
    assert _tokens(top) == {"AtTop": "required"}


def test_fail_reports_stage_stacks_through_the_plugin_on_the_app() -> None:
    app = cdk.App()
    stack = cdk.Stack(cdk.Stage(app, "Prod"), "S")
    ec2.CfnLaunchTemplate(stack, "InStage", launch_template_data={})
    enforce(app, Mode.FAIL)
    with pytest.raises(SynthesisFailed) as failed:
        app.synth()
    assert [line.split(" ")[:3] for line in failed.value.violations] == [
        ["ERROR", "Prod/S/InStage", "[cdk-imds::IMDSV2_REQUIRED]"]
    ]


def _fail_verdict(tmp_path: Path, *suppressions: tuple[str, str]) -> tuple[bool, list[str], dict[str, Any]]:
    """A non-compliant template with ``suppressions`` (rule, reason), synthesized in FAIL mode:
    whether synthesis failed, the constructs with error violations in cdk-imds's report, and the
    template's resource."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    legacy = ec2.CfnLaunchTemplate(stack, "Legacy", launch_template_data={})
    for rule, reason in suppressions:
        suppress(legacy, rule, reason)
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FAIL), priority=ASPECT_PRIORITY)
    try:
        app.synth()
        failed = False
    except (RuntimeError, SystemExit):  # jsii's error, or cdk-imds's SynthesisFailed
        failed = True
    # (CDK writes no report when no plugin found anything)
    report_file = tmp_path / "validation-report.json"
    reports = json.loads(report_file.read_text())["pluginReports"] if report_file.exists() else []
    errors = [
        construct["constructPath"]
        for report in reports
        if report["pluginName"] == "cdk-imds"
        for violation in report["violations"]
        if violation["severity"] == "error"
        for construct in violation["violatingConstructs"]
    ]
    template = json.loads((tmp_path / "S.template.json").read_text())
    return failed, errors, template["Resources"]["Legacy"]


def test_suppression_with_a_reason_is_honoured_by_fail(tmp_path: Path) -> None:
    # Given a non-compliant template suppressed with a reason (and a second, appended suppression)
    failed, errors, resource = _fail_verdict(
        tmp_path, ("IMDSV2_REQUIRED", "vendor AMI needs IMDSv1 until Q3"), ("IMDS_HOP_LIMIT", "containers")
    )
    # When synthesized in FAIL mode, then it passes and both suppressions are in the metadata
    assert (failed, errors) == (False, [])
    assert resource["Metadata"]["cdk-imds"]["suppress"] == [
        {"rule": "IMDSV2_REQUIRED", "reason": "vendor AMI needs IMDSv1 until Q3"},
        {"rule": "IMDS_HOP_LIMIT", "reason": "containers"},
    ]


def test_suppression_control_another_rules_suppression_does_not_pass_fail(tmp_path: Path) -> None:
    # The control for the test above: the same template, suppressed for another rule only, fails
    failed, errors, _ = _fail_verdict(tmp_path, ("IMDS_HOP_LIMIT", "containers"))
    assert (failed, errors) == (True, ["S/Legacy"])


def test_suppress_on_an_l2_writes_to_its_default_child() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    template = ec2.LaunchTemplate(stack, "L2")
    suppress(template, "IMDS_HOP_LIMIT", "ECS tasks on the host")
    child = template.node.default_child
    assert isinstance(child, cdk.CfnResource)
    assert child.get_metadata("cdk-imds") == {
        "suppress": [{"rule": "IMDS_HOP_LIMIT", "reason": "ECS tasks on the host"}]
    }


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_suppression_without_a_reason_is_an_error_naming_the_construct(reason: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    legacy = ec2.CfnLaunchTemplate(stack, "Legacy", launch_template_data={})
    with pytest.raises(SuppressionError, match="S/Legacy needs a reason"):
        suppress(legacy, "IMDSV2_REQUIRED", reason)
    assert isinstance(SuppressionError("x"), ValueError)


def test_suppress_rejects_unknown_rules_and_constructs_without_a_resource() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(SuppressionError, match="unknown rule 'IMDSV3'"):
        suppress(ec2.CfnLaunchTemplate(stack, "T", launch_template_data={}), "IMDSV3", "why")
    with pytest.raises(SuppressionError, match="S is not a CloudFormation resource"):
        suppress(stack, "IMDSV2_REQUIRED", "why")


def _settings(context: dict[str, Any], **arguments: Any) -> Any:
    app = cdk.App(context=context)
    aspect = Imdsv2Aspect(**arguments)
    aspect.visit(cdk.Stack(app, "Empty"))
    return aspect.settings


def test_context_configures_the_aspect() -> None:
    settings = _settings(
        {"cdk-imds:mode": "warn", "cdk-imds:maxHopLimit": "2", "cdk-imds:unverifiableAsWarning": "true"}
    )
    assert (settings.mode, settings.options.max_hop_limit, settings.options.unverifiable_as_warning) == (
        Mode.WARN,
        2,
        True,
    )


def test_explicit_arguments_win_over_context() -> None:
    settings = _settings(
        {"cdk-imds:mode": "warn", "cdk-imds:maxHopLimit": 2, "cdk-imds:unverifiableAsWarning": True},
        mode="fix",
        max_hop_limit=1,
        unverifiable_as_warning=False,
    )
    assert (settings.mode, settings.options.max_hop_limit, settings.options.unverifiable_as_warning) == (
        Mode.FIX,
        1,
        False,
    )


def test_without_arguments_or_context_the_mode_is_fail() -> None:
    assert _settings({}).mode is Mode.FAIL


@pytest.mark.parametrize(
    ("key", "value"),
    [("cdk-imds:mode", "strict"), ("cdk-imds:maxHopLimit", "two"), ("cdk-imds:unverifiableAsWarning", "yes")],
)
def test_a_bad_context_value_is_an_error_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ContextValueError, match=f"context {key}: '{value}'"):
        _settings({key: value})


def test_a_bad_context_value_fails_synthesis_with_its_own_error() -> None:
    # Given an app whose context says a hop limit in words, and the aspect reading it at its first
    # visit (a call from JavaScript into Python, which jsii turns into a RuntimeError)
    # (on a stack: an aspect on the App is also read before synthesis, to cover its Stages)
    app = cdk.App(context={"cdk-imds:maxHopLimit": "two"})
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(stack, "T", launch_template_data={})
    cdk.Aspects.of(stack).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When synthesized, then the error is cdk-imds's own, naming the key
    with pytest.raises(ContextValueError, match="context cdk-imds:maxHopLimit: 'two'"):
        app.synth()


def test_fix_covers_templates_brought_in_with_cfn_include(tmp_path: Path) -> None:
    # Given a legacy template included as is (its L1s are created on the JavaScript side)
    legacy = tmp_path / "legacy.json"
    legacy.write_text(
        json.dumps(
            {
                "Resources": {
                    "Old": {
                        "Type": "AWS::EC2::LaunchTemplate",
                        "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "optional"}}},
                    }
                }
            }
        )
    )
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    cfn_inc.CfnInclude(stack, "Legacy", template_file=str(legacy))
    # When FIX runs, then the included template is fixed too
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    assert _tokens(stack) == {"Old": "required"}


# What CDK asks the validation plugin (written in Python) for.
_PLUGIN_CALLBACKS = ("validate", "name", "version", "rule_ids")


def _record_callbacks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Python method of every call JavaScript makes into Python from now on."""
    import jsii._kernel

    called: list[str] = []
    original = jsii._kernel._handle_callback

    def recording(kernel: Any, callback: Any) -> Any:
        called.append(callback.cookie)
        return original(kernel, callback)

    monkeypatch.setattr(jsii._kernel, "_handle_callback", recording)
    return called


def test_the_one_line_aspect_calls_python_once_however_many_constructs_it_visits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the FIX aspect on an App of several hundred constructs: L2s, L1s, and launch templates
    # (one allowing IMDSv1, one bare CfnResource, one already compliant)
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    for number in range(40):
        sqs.Queue(stack, f"Queue{number}")
        iam.Role(stack, f"Role{number}", assumed_by=iam.AccountRootPrincipal())
    ec2.CfnLaunchTemplate(
        stack, "Optional", launch_template_data={"metadataOptions": {"httpTokens": "optional"}}
    )
    cdk.CfnResource(stack, "Bare", type="AWS::EC2::LaunchTemplate", properties={"LaunchTemplateData": {}})
    ec2.CfnLaunchTemplate(
        stack, "Required", launch_template_data={"metadataOptions": {"httpTokens": "required"}}
    )
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    visited = len(app.node.find_all())
    called = _record_callbacks(monkeypatch)
    # When the app is synthesized
    template = assertions.Template.from_stack(stack).to_json()
    # Then the aspect was called into once (its first visit), not once per construct, and every
    # launch template requires IMDSv2; the rest of the calls into Python are the plugin's
    assert visited > 150
    assert [name for name in called if name not in _PLUGIN_CALLBACKS] == ["begin"]
    assert {
        name: resource["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::EC2::LaunchTemplate"
    } == {"Optional": "required", "Bare": "required", "Required": "required"}


def test_a_candidate_another_aspect_adds_after_the_sweep_is_fixed_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an aspect of default priority that adds a launch template allowing IMDSv1 to each
    # stack when it visits it, after the FIX aspect's first visit swept the App
    @jsii.implements(cdk.IAspect)
    class AddsATemplate:
        def visit(self, node: IConstruct) -> None:
            if isinstance(node, cdk.Stack):
                ec2.CfnLaunchTemplate(
                    node, "Late", launch_template_data={"metadataOptions": {"httpTokens": "optional"}}
                )

    app = cdk.App()
    stack = cdk.Stack(app, "S")
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    cdk.Aspects.of(app).add(AddsATemplate())
    called = _record_callbacks(monkeypatch)
    # When synthesized, then the late template was handed to Python and fixed, with its note
    template = assertions.Template.from_stack(stack)
    assert "adopt" in called
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}
    )
    assert any(
        entry.data.startswith(FIX_NOTE)
        for entry in stack.node.find_child("Late").node.metadata
        if entry.type == "aws:cdk:info"
    )


@pytest.mark.parametrize("resource_type", sorted(CANDIDATE_TYPES))
def test_every_candidate_types_l1_class_is_recognised(resource_type: str) -> None:
    # The per-class cache rules classes out by their jsii name without asking the kernel: a
    # candidate whose L1 were named otherwise would be passed over silently.
    _, service, name = resource_type.split("::")
    l1 = getattr(importlib.import_module(f"aws_cdk.aws_{service.lower()}"), f"Cfn{name}")
    # (an instance without a JavaScript object: only its class is looked at)
    assert (l1.CFN_RESOURCE_TYPE_NAME, candidate_type(l1.__new__(l1))) == (resource_type, resource_type)
