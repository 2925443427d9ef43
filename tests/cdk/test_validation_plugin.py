"""The validation plugin's template selection and report, without the CDK CLI (the e2e tests run it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from cdk_imds.cdk.enforcement.plugin import Imdsv2ValidationPlugin, templates_under

BARE: dict[str, Any] = {"Resources": {"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {}}}}


class _Context:
    """What CDK hands a plugin: only the template paths matter to this one."""

    def __init__(self, paths: list[str]) -> None:
        self.template_paths = paths


def _assembly(tmp_path: Path) -> Path:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    for name in ("Alpha", "Beta"):
        stack = cdk.Stack(app, name)
        ec2.CfnLaunchTemplate(
            stack,
            "LT",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(instance_type="t3.micro"),
        )
    app.synth()
    return tmp_path / "cdk.out"


def test_only_the_stacks_asked_about_are_judged(tmp_path: Path) -> None:
    assembly = _assembly(tmp_path)
    loaded = templates_under([str(assembly / "Alpha.template.json")])
    assert [source.stack for source in loaded.sources] == ["Alpha"]
    assert loaded.problems == []


def test_templates_outside_an_assembly_are_read_on_their_own(tmp_path: Path) -> None:
    template = tmp_path / "loose.template.json"
    template.write_text(json.dumps(BARE), encoding="utf-8")
    report = Imdsv2ValidationPlugin().validate(_Context([str(template)]))  # type: ignore[arg-type]
    assert report.success is False
    assert [violation.rule_name for violation in report.violations] == ["IMDSV2_REQUIRED"]
    resource = report.violations[0].violating_resources[0]
    assert resource.resource_logical_id == "LT"
    assert resource.locations == ["Properties/LaunchTemplateData/MetadataOptions/HttpTokens"]


def test_an_unreadable_template_fails_the_report(tmp_path: Path) -> None:
    broken = tmp_path / "broken.template.json"
    broken.write_text("{", encoding="utf-8")
    report = Imdsv2ValidationPlugin().validate(_Context([str(broken)]))  # type: ignore[arg-type]
    assert report.success is False
    assert report.violations[0].rule_name == "IMDS_UNREADABLE_TEMPLATE"


def test_warnings_are_reported_without_failing(tmp_path: Path) -> None:
    template = tmp_path / "hops.template.json"
    options = {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    body = {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"MetadataOptions": options}},
            }
        }
    }
    template.write_text(json.dumps(body), encoding="utf-8")
    report = Imdsv2ValidationPlugin().validate(_Context([str(template)]))  # type: ignore[arg-type]
    assert report.success is True
    assert [(v.rule_name, v.severity) for v in report.violations] == [("IMDS_HOP_LIMIT", "warning")]
