from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cdk_imds.formats import Report
from cdk_imds.formats.sarif import (
    FINGERPRINT_KEY,
    TemplateLines,
    find_resource_line,
    fingerprint,
    render_sarif,
)
from cdk_imds.policy.model import RULES, Finding, RuleId, Severity

FindingFactory = Callable[..., Finding]
ReportFactory = Callable[..., Report]

_JSON_TEMPLATE = """{
  "Outputs": {"FleetLT": {"Value": {"Ref": "FleetLT"}}},
  "Resources": {
    "WebLT": {
      "Type": "AWS::EC2::LaunchTemplate",
      "Properties": {"LaunchTemplateData": {}}
    },
    "FleetLT": {
      "Type": "AWS::EC2::LaunchTemplate"
    },
    "LegacyInstance": {"Type": "AWS::EC2::Instance"}
  }
}
"""

_YAML_TEMPLATE = """Parameters:
  Asg:
    Type: String
Resources:
  AsgLT:
    Type: AWS::EC2::LaunchTemplate
  'Asg':
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchTemplate: !Ref AsgLT
"""


def _write_templates() -> None:
    Path("cdk.out").mkdir()
    Path("cdk.out/AppStack.template.json").write_text(_JSON_TEMPLATE, encoding="utf-8")
    Path("templates").mkdir()
    Path("templates/plain.yaml").write_text(_YAML_TEMPLATE, encoding="utf-8")


def _sarif(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_sarif(report))
    return log


def _results(report: Report) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = _sarif(report)["runs"][0]["results"]
    return results


def _assert_valid(validator: jsonschema.Draft4Validator, log: dict[str, Any]) -> None:
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(log)]
    assert errors == []


def test_validates_against_the_sarif_schema(
    sarif_validator: jsonschema.Draft4Validator, mixed_report: Report
) -> None:
    _write_templates()
    _assert_valid(sarif_validator, _sarif(mixed_report))


def test_validates_without_template_files(
    sarif_validator: jsonschema.Draft4Validator, mixed_report: Report
) -> None:
    _assert_valid(sarif_validator, _sarif(mixed_report))


def test_empty_report_validates(
    sarif_validator: jsonschema.Draft4Validator, make_report: ReportFactory
) -> None:
    log = _sarif(make_report())
    _assert_valid(sarif_validator, log)
    assert log["runs"][0]["results"] == []


def test_log_header_and_driver(mixed_report: Report) -> None:
    log = _sarif(mixed_report)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("cdk-imds", "1.2.3")
    assert driver["informationUri"].startswith("https://")


def test_rules_cover_every_rule(mixed_report: Report) -> None:
    rules = _sarif(mixed_report)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule_id.value for rule_id in RULES]
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for descriptor, info in zip(rules, RULES.values(), strict=True):
        assert descriptor["shortDescription"]["text"] == info.title
        assert descriptor["fullDescription"]["text"] == info.description
        assert descriptor["helpUri"] == info.help_uri
        assert descriptor["defaultConfiguration"]["level"] == levels[info.severity.value]
    assert rules[0]["name"] == "Imdsv2Required"


def test_results_point_at_their_rule(mixed_report: Report) -> None:
    log = _sarif(mixed_report)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_and_suppression(mixed_report: Report) -> None:
    results = _results(mixed_report)
    assert [result["level"] for result in results] == ["error", "warning", "error", "error", "error"]
    assert "suppressions" not in results[0]
    assert results[2]["suppressions"] == [
        {"kind": "inSource", "justification": "vendor AMI needs IMDSv1 until Q3"}
    ]


def test_suppressed_warning_keeps_the_rule_level(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    finding = make_finding(rule=RuleId.IMDS_HOP_LIMIT, severity=Severity.SUPPRESSED, suppression_reason="ECS")
    assert _results(make_report([finding]))[0]["level"] == "warning"


def test_info_is_a_note(make_finding: FindingFactory, make_report: ReportFactory) -> None:
    assert _results(make_report([make_finding(severity=Severity.INFO)]))[0]["level"] == "note"


def test_message_carries_the_fix(mixed_report: Report) -> None:
    results = _results(mixed_report)
    assert results[0]["message"]["text"] == (
        "Launch template allows IMDSv1. Fix: Set MetadataOptions.HttpTokens to 'required'."
    )
    assert results[1]["message"]["text"] == "Hop limit is 3."


def test_locations_with_lines(mixed_report: Report) -> None:
    _write_templates()
    results = _results(mixed_report)
    physical = [result["locations"][0]["physicalLocation"] for result in results]
    assert physical[0] == {
        "artifactLocation": {"uri": "cdk.out/AppStack.template.json"},
        "region": {"startLine": 8},
    }
    assert physical[1]["region"] == {"startLine": 4}
    assert physical[2]["region"] == {"startLine": 11}
    assert physical[3] == {"artifactLocation": {"uri": "templates/plain.yaml"}, "region": {"startLine": 7}}


def test_unreadable_template_has_no_region(mixed_report: Report) -> None:
    physical = _results(mixed_report)[0]["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "cdk.out/AppStack.template.json"}}


def test_live_location(mixed_report: Report) -> None:
    location = _results(mixed_report)[-1]["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "aws://123456789012/eu-west-1/i-0123456789abcdef0"}
    }
    assert location["logicalLocations"] == [{"fullyQualifiedName": "i-0123456789abcdef0", "kind": "resource"}]


def test_absolute_template_path_becomes_relative(
    tmp_path: Path, make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    finding = make_finding(template=str(tmp_path / "cdk.out" / "My Stack.template.json"))
    uri = _results(make_report([finding]))[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "cdk.out/My%20Stack.template.json"


def test_logical_locations(mixed_report: Report) -> None:
    results = _results(mixed_report)
    names = [result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for result in results]
    assert names[:2] == ["AppStack/Fleet/LaunchTemplate", "WebLT"]


def test_properties(mixed_report: Report) -> None:
    results = _results(mixed_report)
    assert results[0]["properties"] == {
        "resource_type": "AWS::EC2::LaunchTemplate",
        "stack": "AppStack",
        "property_path": "Resources/FleetLT/Properties/LaunchTemplateData/MetadataOptions/HttpTokens",
    }
    assert results[1]["properties"]["related"] == "FleetLT"
    assert "stack" not in results[3]["properties"]


def test_fingerprints_follow_the_finding_not_its_wording(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    path = "Resources/FleetLT/Properties/X"
    base = make_finding(property_path=path)
    variants = [
        make_finding(property_path=path, message="Other words.", fix="Other fix."),
        make_finding(property_path="Resources/FleetLT/Properties/Y"),
        make_finding(property_path=path, rule=RuleId.IMDS_HOP_LIMIT),
        make_finding(property_path=path, stack="OtherStack"),
        make_finding(property_path=path, logical_id="OtherLT"),
    ]
    prints = [
        result["partialFingerprints"][FINGERPRINT_KEY] for result in _results(make_report([base, *variants]))
    ]
    # Same finding reworded: same fingerprint; another property, rule, stack or resource: another.
    assert prints[0] == prints[1]
    assert len(set(prints[1:])) == len(variants)
    # The recipe, so that fingerprints stay stable across releases (code scanning matches alerts
    # by them): SHA-256 of rule, stack, logical id and property path joined by U+001F.
    identity = "\x1f".join(["IMDSV2_REQUIRED", "AppStack", "FleetLT", path])
    assert prints[0] == hashlib.sha256(identity.encode("utf-8")).hexdigest()
    assert re.fullmatch("[0-9a-f]{64}", prints[0])


def test_fingerprints_do_not_move_with_the_line(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    # Given the same finding in a template, before and after lines are added above its resource
    finding = make_finding()
    _write_templates()
    before = _results(make_report([finding]))[0]
    template = Path("cdk.out/AppStack.template.json")
    template.write_text(template.read_text(encoding="utf-8").replace("{\n", "{\n\n\n", 1), encoding="utf-8")
    after = _results(make_report([finding]))[0]
    # Then the line moved and the fingerprint did not
    line = before["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == line + 2
    assert after["partialFingerprints"] == before["partialFingerprints"]


def test_fingerprints_keep_live_resources_apart(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    live = {"template": "", "logical_id": "", "stack": None, "account": "1", "region": "r"}
    first = make_finding(resource_id="i-1", **live)
    second = make_finding(resource_id="i-2", **live)
    assert fingerprint(first) != fingerprint(second)


def test_problems_become_notifications(mixed_report: Report) -> None:
    invocations = _sarif(mixed_report)["runs"][0]["invocations"]
    assert invocations == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "cdk.out/Broken.template.json: malformed JSON at line 3 column 5"},
                }
            ],
        }
    ]


def test_no_problems_no_notifications(make_report: ReportFactory) -> None:
    assert _sarif(make_report())["runs"][0]["invocations"] == [{"executionSuccessful": True}]


@pytest.mark.parametrize(
    ("text", "logical_id", "line"),
    [
        ('{"Resources": {"A": {}, "AB": {}}}', "AB", 1),
        ('{\n"Outputs": {"AB": 1},\n"Resources": {\n"A": {"Ref": "AB"},\n"AB": {}}}', "AB", 5),
        ("Resources:\n  ABC:\n    Type: X\n  AB:\n    Type: Y\n", "AB", 4),
        ('Resources:\n  "AB" :\n    Type: Y\n', "AB", 2),
        ("Resources:\n  A:\n    Type: X\n", "AB", None),
        ('{"Outputs": {"AB": {}}}', "AB", None),
        ("Resources:\n  A: {}\n", "", None),
    ],
)
def test_find_resource_line(text: str, logical_id: str, line: int | None) -> None:
    assert find_resource_line(text, logical_id) == line


def test_template_read_once(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text('{"Resources": {\n"A": {}}}', encoding="utf-8")
    lines = TemplateLines()
    assert lines.line_of(str(template), "A") == 2
    template.unlink()
    assert lines.line_of(str(template), "A") == 2
    assert TemplateLines().line_of(str(template), "A") is None
