"""Imdsv2Aspect in each mode on launch templates, launch configurations and instances."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_appstream as appstream
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_imagebuilder as imagebuilder
from aws_cdk import aws_sagemaker as sagemaker

from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, FIX_NOTE, Imdsv2Aspect, Mode
from cdk_imds.cdk.errors import SynthesisFailed


def _insecure_stack(app: cdk.App) -> cdk.Stack:
    """One of each fixable kind, in every shape: optional, missing, overridden, deploy-time."""
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(
        stack,
        "Optional",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                http_tokens="optional", http_put_response_hop_limit=2, instance_metadata_tags="enabled"
            )
        ),
    )
    ec2.CfnLaunchTemplate(
        stack,
        "Missing",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(instance_type="t3.micro"),
    )
    hatched = ec2.CfnLaunchTemplate(
        stack,
        "Hatched",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens="required")
        ),
    )
    hatched.add_property_override("LaunchTemplateData.MetadataOptions.HttpTokens", "optional")
    autoscaling.CfnLaunchConfiguration(stack, "Config", image_id="ami-12345678", instance_type="t3.micro")
    ec2.CfnInstance(
        stack,
        "Box",
        image_id="ami-12345678",
        metadata_options=ec2.CfnInstance.MetadataOptionsProperty(http_endpoint="enabled"),
    )
    return stack


def _app(mode: Mode | str, times: int = 1) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App()
    stack = _insecure_stack(app)
    for _ in range(times):
        cdk.Aspects.of(app).add(Imdsv2Aspect(mode), priority=ASPECT_PRIORITY)
    return app, stack


def _properties(template: assertions.Template, logical_id: str) -> Any:
    return template.to_json()["Resources"][logical_id]["Properties"]


@pytest.fixture(scope="module")
def fixed() -> tuple[assertions.Template, assertions.Annotations]:
    # Given the insecure stack, when the FIX aspect is added twice (the second must change nothing)
    _, stack = _app(Mode.FIX, times=2)
    return assertions.Template.from_stack(stack), assertions.Annotations.from_stack(stack)


def test_fix_sets_required_and_keeps_every_other_option(fixed: Any) -> None:
    template, _ = fixed
    assert _properties(template, "Optional")["LaunchTemplateData"]["MetadataOptions"] == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
        "InstanceMetadataTags": "enabled",
    }


def test_fix_adds_metadata_options_where_missing(fixed: Any) -> None:
    template, _ = fixed
    assert _properties(template, "Missing")["LaunchTemplateData"] == {
        "InstanceType": "t3.micro",
        "MetadataOptions": {"HttpTokens": "required"},
    }
    assert _properties(template, "Config")["MetadataOptions"] == {"HttpTokens": "required"}


def test_fix_sets_instance_metadata_options_directly(fixed: Any) -> None:
    template, _ = fixed
    # No launch template is attached: that would replace the instance.
    assert _properties(template, "Box")["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpTokens": "required",
    }
    template.resource_count_is("AWS::EC2::LaunchTemplate", 3)


def test_fix_wins_over_an_escape_hatch_saying_optional(fixed: Any) -> None:
    template, _ = fixed
    assert (
        _properties(template, "Hatched")["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    )


def test_fix_annotates_each_visible_change_once_though_applied_twice(fixed: Any) -> None:
    _, annotations = fixed
    notes = annotations.find_info("*", assertions.Match.string_like_regexp(FIX_NOTE))
    assert sorted(note.id for note in notes) == ["/S/Box", "/S/Config", "/S/Missing", "/S/Optional"]
    assert "(was 'optional')" in str(next(note.entry.data for note in notes if note.id == "/S/Optional"))


def _written(tmp_path: Path, *modes: Mode, acknowledge: str | None = None) -> tuple[dict[str, Any], Any]:
    """The insecure stack synthesized with ``modes`` into ``tmp_path``: its template's resources,
    and cdk-imds's part of the validation report (None without one).

    ``acknowledge`` names a construct on which cdk-imds::IMDSV2_REQUIRED is acknowledged. FAIL
    makes synthesis fail: the templates are written first, and the report with them.
    """
    app = cdk.App(outdir=str(tmp_path))
    stack = _insecure_stack(app)
    if acknowledge is not None:
        cdk.Validations.of(stack.node.find_child(acknowledge)).acknowledge(
            cdk.Acknowledgment(id="cdk-imds::IMDSV2_REQUIRED", reason="legacy AMI, ticket 42")
        )
    for mode in modes:
        cdk.Aspects.of(app).add(Imdsv2Aspect(mode), priority=ASPECT_PRIORITY)
    # jsii's RuntimeError when CDK fails the report, or cdk-imds's SynthesisFailed (a SystemExit)
    try:
        app.synth()
    except (RuntimeError, SystemExit):
        if Mode.FAIL not in modes:
            raise
    else:
        assert Mode.FAIL not in modes, "FAIL did not fail synthesis"
    resources = json.loads((tmp_path / "S.template.json").read_text(encoding="utf-8"))["Resources"]
    report_file = tmp_path / "validation-report.json"
    reports = json.loads(report_file.read_text()).get("pluginReports", []) if report_file.exists() else []
    mine = [report for report in reports if report["pluginName"] == "cdk-imds"]
    assert len(mine) <= 1, "the cdk-imds plugin reported more than once"
    return resources, mine[0] if mine else None


def _violations(report: Any) -> list[tuple[str, str, str]]:
    return sorted(
        (violation["ruleName"], violation["severity"], construct["constructPath"])
        for violation in report["violations"]
        for construct in violation["violatingConstructs"]
    )


# The insecure stack's findings (the escape hatch included: the plugin reads the written template).
INSECURE = [
    ("IMDSV2_REQUIRED", "S/Box"),
    ("IMDSV2_REQUIRED", "S/Config"),
    ("IMDSV2_REQUIRED", "S/Hatched"),
    ("IMDSV2_REQUIRED", "S/Missing"),
    ("IMDSV2_REQUIRED", "S/Optional"),
    ("IMDS_HOP_LIMIT", "S/Optional"),
]


def test_warn_reports_acknowledgeable_warnings_and_changes_nothing(tmp_path: Path) -> None:
    # Given the insecure stack, and the same stack synthesized without cdk-imds
    untouched, _ = _written(tmp_path / "without")
    # When WARN runs, with IMDSV2_REQUIRED acknowledged on one construct
    resources, report = _written(tmp_path / "warn", Mode.WARN, acknowledge="Missing")
    # Then synthesis passes, every other finding is reported as a warning, the acknowledged one
    # is not, and no template changed
    assert report is not None and report["conclusion"] == "success"
    assert _violations(report) == [
        (rule, "warning", path) for rule, path in INSECURE if (rule, path) != ("IMDSV2_REQUIRED", "S/Missing")
    ]
    assert resources == untouched


def test_warn_acknowledgement_control_without_it_the_construct_is_reported(tmp_path: Path) -> None:
    _, report = _written(tmp_path, Mode.WARN)
    assert report is not None
    assert _violations(report) == [(rule, "warning", path) for rule, path in INSECURE]


def test_warn_judges_l2_constructs_as_written_without_crashing(tmp_path: Path) -> None:
    # Given L2s whose properties are lazy before synthesis (a tagged LaunchTemplate, the group that
    # launches from it) and an instance CDK's own aspect makes compliant (require_imdsv2=True)
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "L2")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=1,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PUBLIC)],
    )
    image = ec2.MachineImage.generic_linux({"us-east-1": "ami-12345678"})
    template = ec2.LaunchTemplate(
        stack, "Tagged", instance_type=ec2.InstanceType("t3.micro"), machine_image=image
    )
    cdk.Tags.of(template).add("team", "web")
    autoscaling.AutoScalingGroup(stack, "Asg", vpc=vpc, launch_template=template)
    ec2.Instance(
        stack,
        "Safe",
        vpc=vpc,
        instance_type=ec2.InstanceType("t3.micro"),
        machine_image=image,
        require_imdsv2=True,
    )
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.WARN), priority=ASPECT_PRIORITY)
    # When synthesized, then it passes, and warns on the template and the group, not the instance
    app.synth()
    (report,) = [
        report
        for report in json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
        if report["pluginName"] == "cdk-imds"
    ]
    assert report["conclusion"] == "success"
    assert _violations(report) == [
        ("IMDSV2_REQUIRED", "warning", "L2/Asg/ASG"),
        ("IMDSV2_REQUIRED", "warning", "L2/Tagged/Resource"),
    ]


def test_fail_mode_registers_the_plugin_once_fails_synthesis_and_changes_nothing(tmp_path: Path) -> None:
    # Given the insecure stack, and the same stack synthesized without cdk-imds
    untouched, _ = _written(tmp_path / "without")
    # When synthesized with two FAIL aspects (the real plugin: nothing stubbed)
    resources, report = _written(tmp_path / "fail", Mode.FAIL, Mode.FAIL)
    # Then synthesis failed (checked in _written), one cdk-imds report names every finding once,
    # and no template changed
    assert report is not None and report["conclusion"] == "failure"
    assert _violations(report) == [
        (rule, "error" if rule == "IMDSV2_REQUIRED" else "warning", path) for rule, path in INSECURE
    ]
    assert resources == untouched


def test_a_deploy_time_value_is_not_replaced_by_fix() -> None:
    # Given HttpTokens from a parameter
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    tokens = cdk.CfnParameter(stack, "Tokens", allowed_values=["required", "optional"])
    ec2.CfnLaunchTemplate(
        stack,
        "FromParameter",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens=tokens.value_as_string)
        ),
    )
    cdk.Aspects.of(stack).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When fixed, then it is not silently replaced: the plugin names it and synthesis fails
    with pytest.raises(RuntimeError, match=r"(?s)S/FromParameter.*cdk-imds::IMDSV2_REQUIRED"):
        assertions.Template.from_stack(stack)


@pytest.mark.parametrize("mode", ["loud", "", 3])
def test_a_bad_mode_argument_fails_where_it_is_written(mode: Any) -> None:
    with pytest.raises(ValueError, match="not a cdk-imds mode"):
        Imdsv2Aspect(mode)


@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_is_accepted_as_a_plain_string(mode: Mode) -> None:
    aspect = Imdsv2Aspect(mode.value)
    # The mode is read on the first visit, where an argument wins over any context.
    aspect.visit(
        cdk.Stack(cdk.App(context={"cdk-imds:mode": "fix" if mode is not Mode.FIX else "warn"}), "S")
    )
    assert aspect.settings is not None and aspect.settings.mode is mode


def test_fix_covers_the_other_resources_with_one_imdsv2_switch() -> None:
    # Given an Image Builder configuration, a notebook and an AppStream fleet that allow IMDSv1
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    imagebuilder.CfnInfrastructureConfiguration(
        stack,
        "Builder",
        name="b",
        instance_profile_name="p",
        instance_metadata_options=imagebuilder.CfnInfrastructureConfiguration.InstanceMetadataOptionsProperty(
            http_put_response_hop_limit=2
        ),
    )
    sagemaker.CfnNotebookInstance(
        stack, "Notebook", instance_type="ml.t3.medium", role_arn="arn:aws:iam::1:role/r"
    )
    appstream.CfnFleet(stack, "Fleet", instance_type="stream.standard.small", name="f", disable_imdsv1=False)
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When fixed, then each switch is set and the other options kept
    template = assertions.Template.from_stack(stack)
    assert _properties(template, "Builder")["InstanceMetadataOptions"] == {
        "HttpPutResponseHopLimit": 2,
        "HttpTokens": "required",
    }
    assert _properties(template, "Notebook")["InstanceMetadataServiceConfiguration"] == {
        "MinimumInstanceMetadataServiceVersion": "2"
    }
    assert _properties(template, "Fleet")["DisableIMDSV1"] is True
    notes = assertions.Annotations.from_stack(stack).find_info("/S/Fleet", assertions.Match.any_value())
    assert [note.entry.data for note in notes] == [
        "cdk-imds: set DisableIMDSV1 to true at DisableIMDSV1 (was false)"
    ]


def test_warn_reports_an_escape_hatch_in_the_validation_report_without_failing(tmp_path: Path) -> None:
    # Given an escape hatch that loosens a template whose properties say "required": invisible to
    # WARN's annotations, which are made before synthesis
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    hatched = ec2.CfnLaunchTemplate(
        stack,
        "Hatched",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens="required")
        ),
    )
    hatched.add_property_override("LaunchTemplateData.MetadataOptions.HttpTokens", "optional")
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.WARN), priority=ASPECT_PRIORITY)
    # When synthesized, then synthesis passes (WARN never fails it) ...
    app.synth()
    assert assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value()) == []
    # ... but the plugin's report on the written template names it, as a warning
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["conclusion"] == "success"
    assert [
        (v["ruleName"], v["severity"], [c["constructPath"] for c in v["violatingConstructs"]])
        for v in report["violations"]
    ] == [("IMDSV2_REQUIRED", "warning", ["S/Hatched"])]


def test_a_failing_aspect_makes_a_report_only_plugin_fail() -> None:
    # Given WARN (report-only plugin) and then FAIL on the same app
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    ec2.CfnLaunchTemplate(stack, "Bare", launch_template_data={})
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.WARN), priority=ASPECT_PRIORITY)
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FAIL), priority=ASPECT_PRIORITY)
    # When synthesized, then the one plugin fails synthesis
    with pytest.raises(SynthesisFailed) as failed:
        app.synth()
    assert [line.split(" ")[:3] for line in failed.value.violations] == [
        ["ERROR", "S/Bare", "[cdk-imds::IMDSV2_REQUIRED]"]
    ]


def test_fix_reads_a_bare_cfn_resource_and_leaves_its_deploy_time_value_alone() -> None:
    # Given bare CfnResources (CloudFormation property names): one optional, one from a parameter
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    tokens = cdk.CfnParameter(stack, "Tokens", allowed_values=["required", "optional"])
    for name, value in (("Loose", "optional"), ("FromParameter", tokens.value_as_string)):
        cdk.CfnResource(
            stack,
            name,
            type="AWS::EC2::LaunchTemplate",
            properties={"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": value}}},
        )
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When fixed, then the optional one is fixed with a note saying what it was ...
    with pytest.raises(SynthesisFailed) as failure:
        app.synth()
    assert [line.split(" ")[:3] for line in failure.value.violations] == [
        ["ERROR", "S/FromParameter", "[cdk-imds::IMDSV2_REQUIRED]"]
    ]
    # (the notes are read off the constructs: assertions would synthesize, and fail, again)
    notes = {
        name: [
            entry.data for entry in stack.node.find_child(name).node.metadata if entry.type == "aws:cdk:info"
        ]
        for name in ("Loose", "FromParameter")
    }
    assert notes == {
        "Loose": [
            "cdk-imds: set HttpTokens to required at LaunchTemplateData.MetadataOptions.HttpTokens (was 'optional')"
        ],
        "FromParameter": [],
    }
