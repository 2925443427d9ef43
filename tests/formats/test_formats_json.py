from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cdk_imds.formats import Report
from cdk_imds.formats.json_format import render_json
from cdk_imds.policy.model import Finding, RuleId, Severity


def _finding_from_dict(data: dict[str, Any]) -> Finding:
    return Finding(**{**data, "rule": RuleId(data["rule"]), "severity": Severity(data["severity"])})


def test_documented_keys_in_order(mixed_report: Report) -> None:
    document = json.loads(render_json(mixed_report))
    assert list(document) == ["version", "findings", "summary", "problems"]
    assert document["version"] == "1.2.3"
    assert list(document["summary"]) == [
        "errors",
        "warnings",
        "infos",
        "suppressed",
        "templates",
        "resources",
    ]
    assert document["problems"] == mixed_report.problems


def test_a_finding_has_the_documented_fields(mixed_report: Report) -> None:
    # The contract, written out from the fixture's inputs: every field of a template finding,
    # null where it has no value; the live-account fields only on live findings.
    first = json.loads(render_json(mixed_report))["findings"][0]
    assert first == {
        "rule": "IMDSV2_REQUIRED",
        "severity": "error",
        "resource_type": "AWS::EC2::LaunchTemplate",
        "logical_id": "FleetLT",
        "template": "cdk.out/AppStack.template.json",
        "message": "Launch template allows IMDSv1.",
        "fix": "Set MetadataOptions.HttpTokens to 'required'.",
        "property_path": "Resources/FleetLT/Properties/LaunchTemplateData/MetadataOptions/HttpTokens",
        "stack": "AppStack",
        "construct_path": "AppStack/Fleet/LaunchTemplate",
        "related": None,
        "suppression_reason": None,
    }


def test_round_trips(mixed_report: Report) -> None:
    document = json.loads(render_json(mixed_report))
    assert [_finding_from_dict(data) for data in document["findings"]] == mixed_report.findings
    # The fixture's five findings: three errors, one warning, one suppressed.
    assert document["summary"] == {
        "errors": 3,
        "warnings": 1,
        "infos": 0,
        "suppressed": 1,
        "templates": 2,
        "resources": 17,
    }


def test_live_finding_keeps_its_coordinates(mixed_report: Report) -> None:
    live = json.loads(render_json(mixed_report))["findings"][-1]
    assert (live["account"], live["region"], live["resource_id"]) == (
        "123456789012",
        "eu-west-1",
        "i-0123456789abcdef0",
    )
    assert "account" not in json.loads(render_json(mixed_report))["findings"][0]


def test_indented_and_deterministic(mixed_report: Report) -> None:
    text = render_json(mixed_report)
    assert text.startswith('{\n  "version": "1.2.3",\n  "findings": [\n')
    assert text == render_json(mixed_report)


def test_empty_report(make_report: Callable[..., Report]) -> None:
    document = json.loads(render_json(make_report(templates=3, resources=41)))
    assert document["findings"] == [] and document["problems"] == []
    assert document["summary"]["templates"] == 3
