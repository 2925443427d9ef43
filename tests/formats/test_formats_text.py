from __future__ import annotations

from collections.abc import Callable

from cdk_imds.formats import Report
from cdk_imds.formats.text import render_text
from cdk_imds.policy.model import Finding, RuleId, Severity

FindingFactory = Callable[..., Finding]
ReportFactory = Callable[..., Report]


def _lines(report: Report, **kwargs: bool) -> list[str]:
    return render_text(report, **kwargs).splitlines()


def _is_heading(line: str) -> bool:
    return line.startswith("  ") and not line.startswith("   ")


def _label_and_subject(heading: str) -> str:
    label, _rule, subject, _type = heading.split()
    return f"{label} {subject}"


def test_groups_in_order_of_first_appearance(mixed_report: Report) -> None:
    lines = _lines(mixed_report)
    headers = [line for line in lines if line and not line.startswith(" ")][:3]
    assert headers == [
        "AppStack (cdk.out/AppStack.template.json)",
        "templates/plain.yaml",
        "123456789012/eu-west-1",
    ]


def test_group_is_split_by_template_not_only_stack(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    nested = make_finding(template="cdk.out/AppStackNested.template.json")
    lines = _lines(make_report([make_finding(), nested]))
    assert "AppStack (cdk.out/AppStack.template.json)" in lines
    assert "AppStack (cdk.out/AppStackNested.template.json)" in lines


def test_worst_first_within_a_group(make_finding: FindingFactory, make_report: ReportFactory) -> None:
    findings = [
        make_finding(severity=Severity.SUPPRESSED, logical_id="S", suppression_reason="ok"),
        make_finding(severity=Severity.INFO, logical_id="I"),
        make_finding(severity=Severity.WARNING, logical_id="W1"),
        make_finding(severity=Severity.ERROR, logical_id="E"),
        make_finding(severity=Severity.WARNING, logical_id="W2"),
    ]
    headings = [_label_and_subject(line) for line in _lines(make_report(findings)) if _is_heading(line)]
    assert headings == ["ERROR E", "WARN W1", "WARN W2", "INFO I", "SUPPRESSED S"]


def test_finding_block(mixed_report: Report) -> None:
    text = render_text(mixed_report)
    assert (
        "  ERROR       IMDSV2_REQUIRED  AppStack/Fleet/LaunchTemplate  AWS::EC2::LaunchTemplate\n"
        "      Launch template allows IMDSv1.\n"
        "      fix: Set MetadataOptions.HttpTokens to 'required'.\n"
    ) in text


def test_logical_id_when_no_construct_path(mixed_report: Report) -> None:
    assert "  WARN        IMDS_HOP_LIMIT  WebLT  AWS::EC2::LaunchTemplate" in _lines(mixed_report)


def test_live_finding_names_the_resource_id(mixed_report: Report) -> None:
    assert "  ERROR       IMDSV2_REQUIRED  i-0123456789abcdef0  AWS::EC2::Instance" in _lines(mixed_report)


def test_suppressed_finding_gives_its_reason(mixed_report: Report) -> None:
    lines = _lines(mixed_report)
    heading = lines.index("  SUPPRESSED  IMDSV2_REQUIRED  LegacyInstance  AWS::EC2::Instance")
    assert lines[heading + 2] == "      suppressed: vendor AMI needs IMDSv1 until Q3"


def test_no_fix_line_without_fix(mixed_report: Report) -> None:
    lines = _lines(mixed_report)
    heading = lines.index("  WARN        IMDS_HOP_LIMIT  WebLT  AWS::EC2::LaunchTemplate")
    assert lines[heading + 1] == "      Hop limit is 3."
    assert not lines[heading + 2].startswith("      ")


def test_summary_line(make_finding: FindingFactory, make_report: ReportFactory) -> None:
    findings = [
        make_finding(),
        make_finding(logical_id="B"),
        make_finding(rule=RuleId.IMDS_HOP_LIMIT, severity=Severity.WARNING),
    ]
    lines = _lines(make_report(findings, templates=3, resources=41))
    assert lines[-1] == "2 errors, 1 warning, 0 suppressed in 3 templates (41 resources)"


def test_summary_line_singular_and_info(make_finding: FindingFactory, make_report: ReportFactory) -> None:
    findings = [make_finding(), make_finding(severity=Severity.INFO)]
    lines = _lines(make_report(findings, templates=1, resources=1))
    assert lines[-1] == "1 error, 0 warnings, 1 info, 0 suppressed in 1 template (1 resource)"


def test_audit_summary_counts_resources_only(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    report = make_report([make_finding()], templates=0, resources=12, command="audit")
    assert _lines(report)[-1] == "1 error, 0 warnings, 0 suppressed in 12 resources"


def test_no_findings_is_a_positive_line(make_report: ReportFactory) -> None:
    assert render_text(make_report(templates=3, resources=41)) == (
        "No IMDS findings in 3 templates (41 resources).\n"
    )


def test_problems_follow_the_summary(mixed_report: Report) -> None:
    lines = _lines(mixed_report)
    assert lines[-2] == "3 errors, 1 warning, 1 suppressed in 2 templates (17 resources)"
    assert lines[-1] == "could not read: cdk.out/Broken.template.json: malformed JSON at line 3 column 5"


def test_problems_without_findings(make_report: ReportFactory) -> None:
    lines = _lines(make_report(problems=["a.json: not a template"], templates=0, resources=0))
    assert lines == [
        "No IMDS findings in the 0 templates (0 resources) that could be read.",
        "could not read: a.json: not a template",
    ]


def test_no_color_by_default(mixed_report: Report) -> None:
    assert "\x1b" not in render_text(mixed_report)


def test_color(mixed_report: Report) -> None:
    text = render_text(mixed_report, color=True)
    assert "\x1b[31mERROR     \x1b[0m  IMDSV2_REQUIRED" in text
    assert "\x1b[33mWARN      \x1b[0m  IMDS_HOP_LIMIT" in text
    assert "\x1b[2mSUPPRESSED\x1b[0m  IMDSV2_REQUIRED" in text
    assert "\x1b[2m      suppressed: vendor AMI needs IMDSv1 until Q3\x1b[0m" in text


def test_control_characters_cannot_reach_the_terminal(
    make_finding: FindingFactory, make_report: ReportFactory
) -> None:
    finding = make_finding(construct_path="App/\x1b[2JEvil", message="line one\nline two\x07")
    text = render_text(make_report([finding]))
    assert "\x1b" not in text and "\x07" not in text
    assert "App/\\x1b[2JEvil" in text
    assert "      line one line two\\x07" in text
