"""Batch and EKS capacity without a launch template: an error in FAIL, a launch template in FIX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks as eks

from cdk_imds.cdk.enforcement import enforce
from cdk_imds.cdk.enforcement.aspect import Mode
from cdk_imds.cdk.errors import SynthesisFailed

NODE_ROLE = "arn:aws:iam::123456789012:role/node"
SUBNETS = ["subnet-0123456789abcdef0"]


def _app(tmp_path: Path, mode: Mode, *, disk_size: bool = False) -> cdk.App:
    app = cdk.App(outdir=str(tmp_path))
    enforce(app, mode)
    stack = cdk.Stack(app, "Svc")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    batch.ManagedEc2EcsComputeEnvironment(stack, "Ec2Env", vpc=vpc)
    batch.FargateComputeEnvironment(stack, "FargateEnv", vpc=vpc)
    eks.CfnNodegroup(
        stack,
        "Nodes",
        cluster_name="cluster",
        node_role=NODE_ROLE,
        subnets=SUBNETS,
        disk_size=40 if disk_size else None,
    )
    return app


def _resources(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads((tmp_path / "Svc.template.json").read_text())["Resources"])


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {key: value for key, value in resources.items() if value["Type"] == resource_type}


def test_fail_names_the_ec2_environment_and_the_node_group_but_not_fargate(tmp_path: Path) -> None:
    with pytest.raises(SynthesisFailed) as failed:
        _app(tmp_path, Mode.FAIL).synth()
    assert sorted(line.split(" ")[1] for line in failed.value.violations) == [
        "Svc/Ec2Env/Resource",
        "Svc/Nodes",
    ]
    assert all("service's default launch template" in line for line in failed.value.violations)


def test_fix_attaches_an_imdsv2_launch_template_and_says_it_replaces(tmp_path: Path) -> None:
    # Given FIX, when synthesized, then synthesis passes
    app = _app(tmp_path, Mode.FIX)
    app.synth()
    resources = _resources(tmp_path)
    templates = _of_type(resources, "AWS::EC2::LaunchTemplate")
    # ... each fixed resource points at its own new template, which requires tokens and sets
    # nothing else the service would otherwise choose
    for template in templates.values():
        assert template["Properties"] == {
            "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}
        }
    environments = _of_type(resources, "AWS::Batch::ComputeEnvironment")
    pointed = {
        key: env["Properties"]["ComputeResources"].get("LaunchTemplate")
        for key, env in environments.items()
        if env["Properties"]["ComputeResources"]["Type"] == "EC2"
    }
    ((_, spec),) = pointed.items()
    assert spec["LaunchTemplateId"]["Ref"] in templates
    assert spec["Version"] == {"Fn::GetAtt": [spec["LaunchTemplateId"]["Ref"], "LatestVersionNumber"]}
    (fargate,) = [
        env for env in environments.values() if env["Properties"]["ComputeResources"]["Type"] == "FARGATE"
    ]
    assert "LaunchTemplate" not in fargate["Properties"]["ComputeResources"]
    (nodes,) = _of_type(resources, "AWS::EKS::Nodegroup").values()
    assert nodes["Properties"]["LaunchTemplate"]["Id"]["Ref"] in templates
    assert len(templates) == 2
    # ... and the notes say that deploying it replaces capacity
    manifest = json.loads((tmp_path / "Svc.metadata.json").read_text())
    notes = [
        entry["data"]
        for entries in manifest.values()
        for entry in entries
        if entry["type"] == "aws:cdk:info" and "attached launch template" in str(entry["data"])
    ]
    assert len(notes) == 2
    assert any("node group is replaced" in note for note in notes)
    assert any("replaces the environment's instances" in note for note in notes)


def test_fix_leaves_a_node_group_with_disk_size_and_fails_saying_what_to_move(tmp_path: Path) -> None:
    app = _app(tmp_path, Mode.FIX, disk_size=True)
    with pytest.raises(SynthesisFailed) as failed:
        app.synth()
    assert "1 IMDSv2 error that FIX could not fix" in failed.value.message
    (line,) = failed.value.violations
    assert line.startswith("ERROR Svc/Nodes ")
    assert "move DiskSize (as a block device mapping) into it" in line


def test_secure_launch_templates_on_batch_and_eks_pass_fail_mode(tmp_path: Path) -> None:
    # Given the README's way: SecureLaunchTemplates on a Batch environment and an EKS node group
    # (at hop limit 1 here: the README's 2 draws warnings, which CDK prints from its Node.js
    # process, after the test has ended when synthesis is quick; hop-limit warnings have tests
    # of their own)
    from cdk_imds import SecureLaunchTemplate

    app = cdk.App(outdir=str(tmp_path))
    enforce(app, Mode.FAIL)
    stack = cdk.Stack(app, "Svc")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    batch_template = SecureLaunchTemplate(stack, "BatchTemplate")
    batch.ManagedEc2EcsComputeEnvironment(stack, "Jobs", vpc=vpc, launch_template=batch_template)
    node_template = SecureLaunchTemplate(stack, "NodeTemplate")
    eks.CfnNodegroup(
        stack,
        "Nodes",
        cluster_name="cluster",
        node_role=NODE_ROLE,
        subnets=SUBNETS,
        launch_template=eks.CfnNodegroup.LaunchTemplateSpecificationProperty(
            id=node_template.launch_template_id, version=node_template.latest_version_number
        ),
    )
    # When synthesized, then FAIL passes: both launch from templates that require IMDSv2
    app.synth()
    templates = _of_type(_resources(tmp_path), "AWS::EC2::LaunchTemplate")
    tokens = [
        t["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] for t in templates.values()
    ]
    assert tokens == ["required", "required"]
