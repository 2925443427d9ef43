"""The real CDK CLI synthesizes apps enforced on by cdk-imds: exit codes, messages, fixed templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.cdk_cli import synth

ASPECT_APP = "python3 tests/fixtures/apps/aspect_app.py"
RUNNER_APP = "python3 -m cdk_imds.run tests/fixtures/apps/plain_app.py"


def _tokens(template_path: Path) -> dict[str, object]:
    resources = json.loads(template_path.read_text())["Resources"]
    return {
        logical_id: resource["Properties"]["LaunchTemplateData"].get("MetadataOptions", {}).get("HttpTokens")
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::EC2::LaunchTemplate"
    }


def test_fail_mode_exits_non_zero_naming_construct_paths_and_rule(tmp_path: Path) -> None:
    result = synth(ASPECT_APP, tmp_path / "out", "-c", "cdk-imds:mode=fail")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # The escape hatch and the nested stack are judged as written.
    for path in ("AspectStack/Bare", "AspectStack/Hatched", "AspectStack/Inner/Deep"):
        assert path in output
    assert "cdk-imds::IMDSV2_REQUIRED" in output


def test_warn_mode_exits_zero_and_fails_only_with_strict(tmp_path: Path) -> None:
    relaxed = synth(ASPECT_APP, tmp_path / "relaxed", "-c", "cdk-imds:mode=warn")
    assert relaxed.returncode == 0, relaxed.stderr
    # Every finding of the written templates is a warning in CDK's report, escape hatch included,
    # and the CLI shows them (acknowledgeable under the plugin's namespace).
    assert "Acknowledge with 'cdk-imds::IMDSV2_REQUIRED'" in relaxed.stderr
    assert "cdk-imds (warn mode): 3 IMDSv2 errors in the templates this app deploys" in relaxed.stderr
    report = json.loads((tmp_path / "relaxed" / "validation-report.json").read_text())
    # With cdk.json's @aws-cdk/core:annotationsInValidationReport, construct warnings get a report of their own.
    (plugin,) = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "cdk-imds"]
    hatched = [
        violation
        for violation in plugin["violations"]
        if any(c["constructPath"] == "AspectStack/Hatched" for c in violation["violatingConstructs"])
    ]
    assert (plugin["conclusion"], [v["severity"] for v in hatched]) == ("success", ["warning"])
    assert "AspectStack/Hatched" in relaxed.stderr
    strict = synth(ASPECT_APP, tmp_path / "strict", "-c", "cdk-imds:mode=warn", "--strict")
    assert strict.returncode != 0
    assert "AspectStack/Bare" in strict.stderr
    assert "AspectStack/Inner/Deep" in strict.stderr


def test_fix_mode_exits_zero_with_every_template_fixed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = synth(ASPECT_APP, out, "-c", "cdk-imds:mode=fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tokens(out / "AspectStack.template.json") == {"Bare": "required", "Hatched": "required"}
    (nested,) = out.glob("*.nested.template.json")
    assert set(_tokens(nested).values()) == {"required"}
    assert "cdk-imds: set HttpTokens to required" in result.stderr
    # The notes carry no stack trace: from Python it would be the jsii kernel's, and the CLI would
    # print its top frame (".../lib/program.js:1:...") above each note.
    assert "program.js" not in result.stderr


def test_runner_enforces_on_an_app_that_does_not_know_cdk_imds_stages_included(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = synth(RUNNER_APP, out, "-c", "cdk-imds:mode=fix")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _tokens(out / "PlainStack.template.json") == {"Bare": "required"}
    (stage_template,) = out.glob("assembly-Prod/*.template.json")
    assert _tokens(stage_template) == {"InStage": "required"}


def test_runner_without_the_app_file_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cdk_imds.run", str(tmp_path / "missing.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "missing.py: no such file" in result.stderr
