"""The real CDK CLI synthesizes an app, then `cdk-imds check` judges the cloud assembly it wrote."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cdk_cli import synth


def _check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk_imds", "check", *arguments], capture_output=True, text=True, check=False
    )


def _resource_count(assembly: Path, *stacks: str) -> int:
    templates = (assembly / f"{stack}.template.json" for stack in stacks)
    return sum(len(json.loads(path.read_text(encoding="utf-8"))["Resources"]) for path in templates)


def test_example_app_is_fixed_at_synth_and_then_checks_clean(tmp_path: Path) -> None:
    """cdk.json says "cdk-imds:mode": "fix": the legacy template is corrected as it is written."""
    result = synth("python3 example_app/app.py", tmp_path / "cdk.out")
    assert result.returncode == 0, result.stderr
    assert "cdk-imds: set HttpTokens to required" in result.stdout + result.stderr
    # A standard app on a supported Node: cdk.json has cdk init's feature flags, and jsii no banner.
    assert "feature flags are not configured" not in result.stdout + result.stderr
    assert "end-of-life" not in result.stdout + result.stderr
    legacy = json.loads((tmp_path / "cdk.out" / "LegacyStack.template.json").read_text(encoding="utf-8"))
    (template,) = [r for r in legacy["Resources"].values() if r["Type"] == "AWS::EC2::LaunchTemplate"]
    options = template["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert options == {"HttpPutResponseHopLimit": 2, "HttpTokens": "required"}
    check = _check(str(tmp_path / "cdk.out"))
    assert check.returncode == 0, check.stdout
    # Every resource of both templates is read (cdk.json's feature flags decide how many there are).
    written = _resource_count(tmp_path / "cdk.out", "WebStack", "LegacyStack")
    assert written > 20
    summary = f"0 errors, 0 warnings, 1 suppressed in 2 templates ({written} resources)"
    assert check.stdout.rstrip().endswith(summary)


def test_example_app_fails_synth_in_fail_mode(tmp_path: Path) -> None:
    result = synth("python3 example_app/app.py", tmp_path / "cdk.out", "-c", "cdk-imds:mode=fail")
    assert result.returncode != 0
    assert "LegacyStack/BatchTemplate" in result.stderr
    assert "cdk-imds::IMDSV2_REQUIRED" in result.stderr


@pytest.fixture(scope="module")
def legacy_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/apps/legacy_app.py as the CDK CLI writes it, in a directory of its own."""
    assembly = tmp_path_factory.mktemp("legacy") / "cdk.out"
    result = synth("python3 tests/fixtures/apps/legacy_app.py", assembly)
    assert result.returncode == 0, result.stderr
    return assembly


def test_legacy_app_fails_with_construct_paths_and_cross_stack_references(legacy_assembly: Path) -> None:
    result = _check("--format", "json", str(legacy_assembly))
    assert result.returncode == 1
    findings = {
        (f["stack"], f["logical_id"][:6], f["rule"]): f for f in json.loads(result.stdout)["findings"]
    }
    template = findings[("LegacyStack", "Legacy", "IMDSV2_REQUIRED")]
    assert template["construct_path"] == "LegacyStack/Legacy"
    # The fleet imports the template's id from the other stack: followed, not guessed.
    fleet = findings[("ConsumerStack", "Fleet", "IMDSV2_REQUIRED")]
    assert fleet["construct_path"] == "ConsumerStack/Fleet"
    assert fleet["related"].startswith("LegacyStack/Legacy")


def test_readme_text_report_is_this_apps_real_output(legacy_assembly: Path) -> None:
    """README.md shows `cdk-imds check cdk.out` on this app; its "..." stand for cut text."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (sample,) = [
        block for block in readme.split("```text\n")[1:] if block.startswith("LegacyStack (cdk.out/")
    ]
    sample = sample.split("```", 1)[0]
    result = subprocess.run(
        [sys.executable, "-m", "cdk_imds", "check", "cdk.out"],
        cwd=legacy_assembly.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    shown, real = sample.splitlines(), result.stdout.splitlines()
    assert len(shown) == len(real), result.stdout
    for shown_line, real_line in zip(shown, real, strict=True):
        pattern = ".*".join(re.escape(part) for part in shown_line.split("..."))
        assert re.fullmatch(pattern, real_line), (shown_line, real_line)


PLUGIN_APP = "python3 tests/fixtures/apps/plugin_app.py"


def test_validation_plugin_fails_synth_on_the_written_template(tmp_path: Path) -> None:
    result = synth(PLUGIN_APP, tmp_path / "cdk.out")
    assert result.returncode != 0
    report = result.stderr
    # The escape hatch is only visible in the written template; the nested stack's resource too.
    assert "HttpTokens is 'optional'" in report
    assert "PluginStack/Overridden" in report
    assert "PluginStack/Inner/Bare" in report
    # The app itself fails (whatever stacks the CLI selected), listing each error with the id to
    # acknowledge it by, and pointing at CDK's report.
    assert "[cdk-imds::IMDSV2_REQUIRED]" in report
    assert "cdk-imds: synthesis failed: 2 IMDSv2 errors" in report
    assert "validation-report.json" in report


def test_validation_plugin_findings_can_be_acknowledged(tmp_path: Path) -> None:
    result = synth(PLUGIN_APP, tmp_path / "cdk.out", "-c", "acknowledge=true")
    assert result.returncode == 0, result.stderr


def test_validation_plugin_passes_a_compliant_app(tmp_path: Path) -> None:
    result = synth(PLUGIN_APP, tmp_path / "cdk.out", "-c", "compliant=true")
    assert result.returncode == 0, result.stderr
    assert "cdk-imds" not in result.stderr
