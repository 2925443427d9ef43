from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.formats import Report
from cdk_imds.policy.model import Finding, RuleId, Severity, Summary

FindingFactory = Callable[..., Finding]
ReportFactory = Callable[..., Report]


def _finding(**overrides: Any) -> Finding:
    fields: dict[str, Any] = {
        "rule": RuleId.IMDSV2_REQUIRED,
        "severity": Severity.ERROR,
        "resource_type": "AWS::EC2::LaunchTemplate",
        "logical_id": "FleetLT",
        "template": "cdk.out/AppStack.template.json",
        "message": "Launch template allows IMDSv1.",
        "stack": "AppStack",
    }
    fields.update(overrides)
    return Finding(**fields)


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SARIF reads template files relative to the working directory: keep whatever cdk.out the
    # checkout happens to hold out of these tests.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_finding() -> FindingFactory:
    return _finding


@pytest.fixture
def make_report() -> ReportFactory:
    def build(
        findings: list[Finding] | None = None,
        *,
        templates: int = 1,
        resources: int = 5,
        problems: list[str] | None = None,
        command: str = "check",
    ) -> Report:
        findings = findings or []
        return Report(
            findings=findings,
            summary=Summary.of(findings, templates=templates, resources=resources),
            problems=problems or [],
            tool_version="1.2.3",
            command=command,
        )

    return build


@pytest.fixture
def mixed_report(make_finding: FindingFactory, make_report: ReportFactory) -> Report:
    """One of each kind of finding a format has to cope with."""
    findings = [
        make_finding(
            construct_path="AppStack/Fleet/LaunchTemplate",
            fix="Set MetadataOptions.HttpTokens to 'required'.",
            property_path="Resources/FleetLT/Properties/LaunchTemplateData/MetadataOptions/HttpTokens",
        ),
        make_finding(
            rule=RuleId.IMDS_HOP_LIMIT,
            severity=Severity.WARNING,
            logical_id="WebLT",
            message="Hop limit is 3.",
            related="FleetLT",
        ),
        make_finding(
            severity=Severity.SUPPRESSED,
            logical_id="LegacyInstance",
            resource_type="AWS::EC2::Instance",
            suppression_reason="vendor AMI needs IMDSv1 until Q3",
        ),
        make_finding(
            rule=RuleId.IMDSV2_UNVERIFIABLE,
            template="templates/plain.yaml",
            stack=None,
            logical_id="Asg",
            resource_type="AWS::AutoScaling::AutoScalingGroup",
            message="Launch template comes from a parameter.",
        ),
        make_finding(
            template="",
            logical_id="",
            stack=None,
            resource_type="AWS::EC2::Instance",
            resource_id="i-0123456789abcdef0",
            account="123456789012",
            region="eu-west-1",
            message="Instance accepts IMDSv1.",
        ),
    ]
    return make_report(
        findings,
        templates=2,
        resources=17,
        problems=["cdk.out/Broken.template.json: malformed JSON at line 3 column 5"],
    )
