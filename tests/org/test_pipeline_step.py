"""Imdsv2CheckStep inside a CDK Pipelines CodePipeline: the CodeBuild project it becomes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import pipelines
from aws_cdk.assertions import Template

from cdk_imds import __version__
from cdk_imds.org import GuardrailConfigurationError, Imdsv2CheckStep
from cdk_imds.org.pipeline_step import check_commands

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0123abcd-4567-89ef-0123-456789abcdef"


def _pipeline_with(**step_arguments: Any) -> Template:
    app = cdk.App()
    stack = cdk.Stack(app, "Pipeline", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    synth = pipelines.ShellStep(
        "Synth",
        input=pipelines.CodePipelineSource.connection("example/app", "main", connection_arn=CONNECTION),
        commands=["npm ci", "npx cdk synth"],
    )
    pipeline = pipelines.CodePipeline(stack, "Pipeline", synth=synth)
    pipeline.add_wave("Checks", pre=[Imdsv2CheckStep("ImdsCheck", input=synth, **step_arguments)])
    return Template.from_stack(stack)


def _buildspec_of_step(template: Template) -> dict[str, Any]:
    specs = [
        json.loads(project["Properties"]["Source"]["BuildSpec"])
        for project in template.find_resources("AWS::CodeBuild::Project").values()
    ]
    matching = [spec for spec in specs if "cdk-imds check" in json.dumps(spec)]
    assert len(matching) == 1, "exactly one CodeBuild project runs cdk-imds"
    spec: dict[str, Any] = matching[0]
    return spec


@pytest.fixture(scope="module")
def default_spec() -> dict[str, Any]:
    return _buildspec_of_step(_pipeline_with())


def test_step_installs_this_version_of_cdk_imds(default_spec: dict[str, Any]) -> None:
    assert default_spec["phases"]["install"]["commands"] == [f"pip install cdk-imds=={__version__}"]


def test_step_fails_on_the_sarif_check_and_only_there(default_spec: dict[str, Any]) -> None:
    commands = default_spec["phases"]["build"]["commands"]
    assert commands == [
        "mkdir -p cdk-imds-report",
        "cdk-imds check . --format text || true",
        "cdk-imds check . --format sarif -o cdk-imds-report/imds.sarif",
    ]
    # The last command decides the build: nothing may swallow its exit code.
    assert "||" not in commands[-1]
    assert ";" not in commands[-1]


def test_step_keeps_the_sarif_report_as_its_artifact(default_spec: dict[str, Any]) -> None:
    assert default_spec["artifacts"]["base-directory"] == "cdk-imds-report"
    assert default_spec["artifacts"]["files"] == "**/*"


def test_step_runs_on_the_synth_output_in_the_pipeline() -> None:
    template = _pipeline_with()
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    actions = [action for stage in pipeline["Properties"]["Stages"] for action in stage["Actions"]]
    (synth,) = [action for action in actions if action["Name"] == "Synth"]
    (check,) = [action for action in actions if action["Name"] == "ImdsCheck"]
    assert check["InputArtifacts"] == synth["OutputArtifacts"]
    assert len(check["OutputArtifacts"]) == 1


def test_step_options_reach_both_check_runs() -> None:
    spec = _buildspec_of_step(
        _pipeline_with(
            install_command="pip install cdk-imds==0.1.0 --index-url https://pypi.internal.example.com/simple",
            max_hop_limit=2,
            unverifiable_as_warning=True,
            report_directory="reports",
            report_file="imds findings.sarif",
        )
    )
    assert spec["phases"]["install"]["commands"] == [
        "pip install cdk-imds==0.1.0 --index-url https://pypi.internal.example.com/simple"
    ]
    assert spec["phases"]["build"]["commands"][1:] == [
        "cdk-imds check . --max-hop-limit 2 --unverifiable-as-warning --format text || true",
        "cdk-imds check . --max-hop-limit 2 --unverifiable-as-warning --format sarif -o 'reports/imds findings.sarif'",
    ]
    assert spec["artifacts"]["base-directory"] == "reports"


def test_commands_refuse_a_hop_limit_the_cli_would_refuse() -> None:
    with pytest.raises(GuardrailConfigurationError):
        check_commands(max_hop_limit=0)


def test_the_commands_fail_on_an_insecure_assembly_and_still_write_the_report(tmp_path: Path) -> None:
    # What CodeBuild does with the step, in a shell: each command in turn, stopping at the first
    # that fails, in a folder holding the synth output (a cloud assembly).
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Legacy")
    ec2.CfnLaunchTemplate(stack, "NoMetadataOptions", launch_template_data={"instanceType": "t3.micro"})
    app.synth()
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    results = []
    for command in check_commands():
        results.append(
            subprocess.run(command, shell=True, cwd=tmp_path, env=environment, capture_output=True, text=True)
        )
        if results[-1].returncode != 0:
            break

    assert [result.returncode for result in results] == [0, 0, 1]
    assert "IMDSV2_REQUIRED" in results[1].stdout
    report = json.loads((tmp_path / "cdk-imds-report" / "imds.sarif").read_text(encoding="utf-8"))
    (run,) = report["runs"]
    assert [result["ruleId"] for result in run["results"]] == ["IMDSV2_REQUIRED"]
