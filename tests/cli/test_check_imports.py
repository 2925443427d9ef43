"""``cdk-imds check`` imports only what a check uses: no organization, CDK or AWS code, and PyYAML
only when a YAML file is read. Each run is a fresh interpreter, so nothing imported by other tests
can hide an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NEVER_FOR_CHECK = ("cdk_imds.org", "cdk_imds.aws", "cdk_imds.cdk", "aws_cdk", "boto3", "botocore", "jsii")

TEMPLATE = {
    "Resources": {
        "LT": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}},
        }
    }
}

_PROBE = """
import json, sys
from cdk_imds.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by_check(*arguments: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE,
            "check",
            *arguments,
            "-o",
            str(Path(arguments[0]).with_suffix(".out")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    probe = json.loads(result.stdout.splitlines()[-1])
    return probe["code"], probe["modules"]


def loaded(modules: list[str], prefix: str) -> list[str]:
    return [name for name in modules if name == prefix or name.startswith(prefix + ".")]


def test_checking_json_imports_no_org_cdk_aws_or_yaml_code(tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE), encoding="utf-8")
    code, modules = imported_by_check(str(path))
    assert code == 0
    # (SARIF support brings hashlib and pathlib: only for --format sarif.)
    for prefix in (*NEVER_FOR_CHECK, "yaml", "cdk_imds.sources.yaml_template", "cdk_imds.formats.sarif"):
        assert loaded(modules, prefix) == [], prefix
    # The control: the probe does see what the check itself imports.
    assert loaded(modules, "cdk_imds.policy.engine") == ["cdk_imds.policy.engine"]


def test_checking_imports_none_of_the_costly_standard_modules(tmp_path: Path) -> None:
    # dataclasses (with inspect, ast, dis), typing and shutil were a third of check's import time
    # (docs/design/import-cost.md). The probe itself imports json and sys, nothing of these.
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE), encoding="utf-8")
    code, modules = imported_by_check(str(path), "--format", "json")
    assert code == 0
    for name in ("dataclasses", "inspect", "typing", "shutil", "encodings.utf_8_sig"):
        assert name not in modules, name
    # The control: a module the check does import is seen.
    assert "argparse" in modules


def test_checking_with_sarif_output_imports_sarif_support(tmp_path: Path) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE), encoding="utf-8")
    code, modules = imported_by_check(str(path), "--format", "sarif")
    assert code == 0
    assert "cdk_imds.formats.sarif" in modules
    assert json.loads(path.with_suffix(".out").read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_checking_yaml_imports_yaml_support_and_still_no_org_cdk_or_aws_code(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(TEMPLATE), encoding="utf-8")  # JSON is YAML
    code, modules = imported_by_check(str(path))
    assert code == 0
    assert "cdk_imds.sources.yaml_template" in modules
    assert "yaml" in modules
    for prefix in NEVER_FOR_CHECK:
        assert loaded(modules, prefix) == [], prefix


@pytest.mark.parametrize("command", ["audit", "remediate"])
def test_the_other_commands_are_still_offered(command: str) -> None:
    # Building only the check parser for check must not hide the others from --help.
    result = subprocess.run(
        [sys.executable, "-m", "cdk_imds", "--help"], capture_output=True, text=True, timeout=120, check=True
    )
    assert f"\n    {command} " in result.stdout or f"\n    {command}\n" in result.stdout
