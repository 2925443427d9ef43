"""`cdk-imds check`: exit codes, formats, and bad input that never ends in a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cdk_imds.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, main

GOOD = {
    "Resources": {
        "LT": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}},
        },
        "Asg": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {
                "LaunchTemplate": {
                    "LaunchTemplateId": {"Ref": "LT"},
                    "Version": {"Fn::GetAtt": ["LT", "LatestVersionNumber"]},
                }
            },
        },
    }
}

BAD_YAML = """\
Resources:
  LegacyLT:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        MetadataOptions:
          HttpTokens: optional
  Asg:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchTemplate:
        LaunchTemplateId: !Ref LegacyLT
        Version: !GetAtt LegacyLT.LatestVersionNumber
"""


def _write(directory: Path, name: str, content: str | dict[str, Any]) -> str:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compliant_template_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "check", _write(tmp_path, "good.json", GOOD))
    assert code == EXIT_OK
    assert "No IMDS findings in 1 template (2 resources)." in out
    assert err == ""


def test_errors_exit_1_and_name_the_template_at_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "check", _write(tmp_path, "bad.yaml", BAD_YAML))
    assert code == EXIT_FINDINGS
    assert "IMDSV2_REQUIRED  LegacyLT" in out
    assert "launches from launch template LegacyLT" in out
    assert "fix: " in out
    assert out.rstrip().endswith("2 errors, 0 warnings, 0 suppressed in 1 template (2 resources)")


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", "--format", "json", _write(tmp_path, "bad.yaml", BAD_YAML))
    document = json.loads(out)
    assert code == EXIT_FINDINGS
    assert document["summary"]["errors"] == 2
    asg = next(finding for finding in document["findings"] if finding["logical_id"] == "Asg")
    assert asg["related"] == "LegacyLT"
    assert asg["property_path"] == "Resources/Asg/Properties/LaunchTemplate"
    assert set(asg) >= {
        "rule",
        "severity",
        "resource_type",
        "logical_id",
        "template",
        "stack",
        "construct_path",
        "property_path",
        "message",
    }


def test_sarif_output_file_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sarif_validator: jsonschema.Draft4Validator
) -> None:
    report = tmp_path / "imds.sarif"
    template = _write(tmp_path, "bad.yaml", BAD_YAML)
    code, out, err = _run(capsys, "check", "--format", "sarif", "-o", str(report), template)
    assert code == EXIT_FINDINGS
    assert out == ""
    assert "wrote sarif report" in err
    log = json.loads(report.read_text(encoding="utf-8"))
    assert list(sarif_validator.iter_errors(log)) == []
    assert {result["ruleId"] for result in log["runs"][0]["results"]} == {"IMDSV2_REQUIRED"}


def test_max_hop_limit_turns_warning_into_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = json.loads(json.dumps(GOOD))
    template["Resources"]["LT"]["Properties"]["LaunchTemplateData"]["MetadataOptions"][
        "HttpPutResponseHopLimit"
    ] = 3
    path = _write(tmp_path, "hops.json", template)
    assert _run(capsys, "check", path)[0] == EXIT_OK
    code, out, _ = _run(capsys, "check", "--max-hop-limit", "2", path)
    assert code == EXIT_FINDINGS
    assert "The allowed maximum is 2." in out


def test_unverifiable_as_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = {
        "Resources": {
            "Asg": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {"LaunchTemplate": {"LaunchTemplateId": "lt-0abc", "Version": "$Latest"}},
            }
        }
    }
    path = _write(tmp_path, "external.json", template)
    assert _run(capsys, "check", path)[0] == EXIT_FINDINGS
    assert _run(capsys, "check", "--unverifiable-as-warning", path)[0] == EXIT_OK


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.json", '{"Resources": {', "malformed JSON"),
        ("broken.yaml", "Resources: [unclosed", "malformed YAML"),
        ("notes.json", '{"hello": "world"}', "no Resources"),
        ("list.json", "[1, 2]", "not a"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, reason: str
) -> None:
    path = _write(tmp_path, name, content)
    code, _, err = _run(capsys, "check", path)
    assert code == EXIT_BAD_INPUT
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cdk-imds: error: {path}: ")
    assert reason in lines[0]
    assert "Traceback" not in err


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "check", str(tmp_path / "nope.json"))
    assert code == EXIT_BAD_INPUT
    assert "nope.json" in err


def test_bad_input_does_not_hide_findings_in_other_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _write(tmp_path, "broken.json", "{")
    bad = _write(tmp_path, "bad.yaml", BAD_YAML)
    code, out, err = _run(capsys, "check", "--format", "json", broken, bad)
    assert code == EXIT_BAD_INPUT
    document = json.loads(out)
    assert document["summary"]["errors"] == 2
    assert len(document["problems"]) == 1
    assert "broken.json" in err


def test_broken_manifest_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    (assembly / "manifest.json").write_text("{not json", encoding="utf-8")
    code, _, err = _run(capsys, "check", str(assembly))
    assert code == EXIT_BAD_INPUT
    assert "manifest.json" in err
    assert "Traceback" not in err


def test_unwritable_output_is_bad_input_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-dir" / "report.json"
    code, _, err = _run(
        capsys, "check", "--format", "json", "-o", str(target), _write(tmp_path, "g.json", GOOD)
    )
    assert code == EXIT_BAD_INPUT
    assert "cannot write the report" in err
    assert not target.parent.exists()


def test_bad_flag_value_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--max-hop-limit", "zero", "x.json"])
    assert exit_info.value.code == 2
    assert "not a whole number" in capsys.readouterr().err


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cdk_imds", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def test_python_dash_m_and_help_with_examples() -> None:
    top = _cli("--help")
    assert top.returncode == 0
    assert "check" in top.stdout
    check = _cli("check", "--help")
    assert check.returncode == 0
    assert "examples:" in check.stdout
    assert "cdk-imds check cdk.out" in check.stdout


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "cdk-imds"
    assert script.exists(), "the cdk-imds console script is missing: is the package installed?"
    result = subprocess.run(
        [str(script), "check", _write(tmp_path, "bad.yaml", BAD_YAML)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_FINDINGS
    assert "IMDSV2_REQUIRED" in result.stdout


def test_output_to_a_device_writes_through_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = _run(capsys, "check", "--format", "json", "-o", os.devnull, _write(tmp_path, "g.json", GOOD))
    assert code == EXIT_OK
    assert not os.path.isfile(os.devnull), "the report replaced the null device with a file"
