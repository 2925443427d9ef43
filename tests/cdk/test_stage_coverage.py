"""Every Stage of an enforced app is fixed or failed, wherever and whenever it was created.

Given/when/then over in-process apps read back from the files CDK writes (the e2e suite and the
conformance apps run the same shapes through the CDK CLI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from cdk_imds.cdk.enforcement import enforce
from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, Imdsv2Aspect, Mode
from cdk_imds.cdk.errors import SynthesisFailed


def _bare_template(stack: cdk.Stack, name: str = "LT") -> ec2.CfnLaunchTemplate:
    return ec2.CfnLaunchTemplate(
        stack,
        name,
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(instance_type="t3.micro"),
    )


def _tokens(outdir: Path) -> dict[str, Any]:
    """HttpTokens of every launch template in every template file under ``outdir``, by file/logical id."""
    found: dict[str, Any] = {}
    for path in sorted(outdir.rglob("*.template.json")):
        resources = json.loads(path.read_text()).get("Resources", {})
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::EC2::LaunchTemplate":
                options = resource["Properties"]["LaunchTemplateData"].get("MetadataOptions", {})
                found[f"{path.relative_to(outdir)}:{logical_id}"] = options.get("HttpTokens")
    return found


def _stage_app(tmp_path: Path) -> tuple[cdk.App, cdk.Stage]:
    """An App whose only capacity is in a Stage under it, plus a Stage nested in that Stage."""
    app = cdk.App(outdir=str(tmp_path))
    prod = cdk.Stage(app, "Prod")
    _bare_template(cdk.Stack(prod, "S"))
    _bare_template(cdk.Stack(cdk.Stage(prod, "Inner"), "Deep"))
    return app, prod


@pytest.mark.parametrize("when", ["before the stages", "after the stages"])
def test_enforce_fix_fixes_stages_and_nested_stages_wherever_it_is_called(tmp_path: Path, when: str) -> None:
    # Given enforce(app, FIX) called before the Stages exist, or after
    app = cdk.App(outdir=str(tmp_path))
    if when == "before the stages":
        enforce(app, Mode.FIX)
    prod = cdk.Stage(app, "Prod")
    _bare_template(cdk.Stack(prod, "S"))
    _bare_template(cdk.Stack(cdk.Stage(prod, "Inner"), "Deep"))
    if when == "after the stages":
        enforce(app, Mode.FIX)
    # When synthesized, then every launch template of every Stage requires tokens
    app.synth()
    tokens = _tokens(tmp_path)
    assert len(tokens) == 2, tokens
    assert set(tokens.values()) == {"required"}


def test_the_one_line_aspect_added_last_fixes_stages(tmp_path: Path) -> None:
    # Given the aspect added to the App at the end of the script, after the Stages exist
    app, _ = _stage_app(tmp_path)
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When synthesized, then the Stages' templates are fixed too
    app.synth()
    assert set(_tokens(tmp_path).values()) == {"required"}


def test_a_stage_synthesized_before_enforcement_is_synthesized_again_fixed(tmp_path: Path) -> None:
    # Given a Stage that was synthesized on its own before the aspect came (CDK Pipelines'
    # add_stage does this), under a stack as pipelines place it
    app = cdk.App(outdir=str(tmp_path))
    pipeline_stack = cdk.Stack(app, "Pipeline")
    stage = cdk.Stage(pipeline_stack, "Prod")
    _bare_template(cdk.Stack(stage, "S"))
    stage.synth()
    cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=ASPECT_PRIORITY)
    # When the app is synthesized, then it does not refuse the changed tree, and the Stage's
    # template on disk is the fixed one
    app.synth()
    assert list(_tokens(tmp_path).values()) == ["required"]


def test_fail_fails_on_an_error_that_only_a_stage_has(tmp_path: Path) -> None:
    # Given FAIL, with the only bad template in a Stage nested in a Stage
    app, _ = _stage_app(tmp_path)
    enforce(app, Mode.FAIL)
    # When synthesized, then synthesis fails naming both, and changes no template
    with pytest.raises(SynthesisFailed) as failed:
        app.synth()
    places = sorted(line.split(" ")[1] for line in failed.value.violations)
    assert places == ["Prod/Inner/Deep/LT", "Prod/S/LT"]
    assert "validation-report.json" in failed.value.message
    assert "FIX could not fix" not in failed.value.message
    assert set(_tokens(tmp_path).values()) == {None}


def test_warn_reports_stage_findings_and_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given WARN on an app whose errors are all in Stages
    app, _ = _stage_app(tmp_path)
    enforce(app, Mode.WARN)
    # When synthesized, then it passes, says so in one line, and the report holds the warnings
    app.synth()
    assert "cdk-imds (warn mode): 2 IMDSv2 errors" in capsys.readouterr().err
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [entry for entry in report["pluginReports"] if entry["pluginName"] == "cdk-imds"]
    reported = sorted(
        (construct["constructPath"], violation["severity"])
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    )
    assert (plugin["conclusion"], reported) == (
        "success",
        [("Prod/Inner/Deep/LT", "warning"), ("Prod/S/LT", "warning")],
    )


def test_an_acknowledged_error_does_not_fail_synthesis(tmp_path: Path) -> None:
    # Given FAIL and CDK's own acknowledgement of the rule on the Stage (with a reason)
    app = cdk.App(outdir=str(tmp_path))
    stage = cdk.Stage(app, "Prod")
    _bare_template(cdk.Stack(stage, "S"))
    cdk.Validations.of(stage).acknowledge(
        cdk.Acknowledgment(id="cdk-imds::IMDSV2_REQUIRED", reason="Legacy AMI until TICKET-1.")
    )
    enforce(app, Mode.FAIL)
    # When synthesized, then it passes: CDK moved the violation to the acknowledged ones
    app.synth()
    # ... and the same app without the acknowledgement fails (the control)
    control = tmp_path / "control"
    other = cdk.App(outdir=str(control))
    _bare_template(cdk.Stack(cdk.Stage(other, "Prod"), "S"))
    enforce(other, Mode.FAIL)
    with pytest.raises(SynthesisFailed):
        other.synth()


def test_enforce_on_a_stage_covers_stages_created_inside_it_later(tmp_path: Path) -> None:
    # Given enforce() called on a Stage (not the App), then a Stage created inside it
    app = cdk.App(outdir=str(tmp_path))
    outer = cdk.Stage(app, "Outer")
    enforce(outer, Mode.FIX)
    _bare_template(cdk.Stack(outer, "S"))
    _bare_template(cdk.Stack(cdk.Stage(outer, "Inner"), "Deep"))
    # When synthesized, then both are fixed
    app.synth()
    tokens = _tokens(tmp_path)
    assert len(tokens) == 2, tokens
    assert set(tokens.values()) == {"required"}


def test_a_plugin_that_crashes_fails_synthesis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an engine that raises (CDK turns a plugin's exception into an empty failed report)
    from cdk_imds.cdk.enforcement import plugin as plugin_module

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(plugin_module, "check_sources", broken)
    app = cdk.App(outdir=str(tmp_path))
    _bare_template(cdk.Stack(app, "S"))
    enforce(app, Mode.FAIL)
    # When synthesized, then it fails saying the plugin could not judge, not silently passes
    with pytest.raises(SynthesisFailed, match="could not judge the templates"):
        app.synth()
