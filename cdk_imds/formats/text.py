"""Human-readable output for a terminal: findings grouped by stack, worst first."""

from __future__ import annotations

from cdk_imds.formats.report import Report, is_live
from cdk_imds.policy.model import Finding, Severity, Summary
from cdk_imds.wording import counted

_LABELS = {
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARN",
    Severity.INFO: "INFO",
    Severity.SUPPRESSED: "SUPPRESSED",
}
_LABEL_WIDTH = max(len(label) for label in _LABELS.values())
_RANK = {severity: rank for rank, severity in enumerate(_LABELS)}

_RESET = "\x1b[0m"
_COLORS = {
    Severity.ERROR: "\x1b[31m",
    Severity.WARNING: "\x1b[33m",
    Severity.SUPPRESSED: "\x1b[2m",
}

_FINDING_INDENT = "  "
_DETAIL_INDENT = "      "


def _escape_controls() -> dict[int, str]:
    # Construct paths and messages can carry text that came from a template; a stray escape
    # sequence in them must not be able to repaint or hide lines of the user's terminal.
    table = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord("\t"): " ", ord("\n"): " ", ord("\r"): " "})
    return table


_CONTROLS = _escape_controls()


def _clean(value: str) -> str:
    return value.translate(_CONTROLS)


def _paint(text: str, severity: Severity, color: bool) -> str:
    code = _COLORS.get(severity)
    return f"{code}{text}{_RESET}" if color and code else text


def _group_header(finding: Finding) -> str:
    if is_live(finding):
        return f"{finding.account or '?'}/{finding.region or '?'}"
    if finding.stack:
        return f"{finding.stack} ({finding.template})"
    return finding.template or "(unknown template)"


def _subject(finding: Finding) -> str:
    return finding.construct_path or finding.logical_id or finding.resource_id or "?"


def _finding_lines(finding: Finding, color: bool) -> list[str]:
    label = _paint(_LABELS[finding.severity].ljust(_LABEL_WIDTH), finding.severity, color)
    heading = f"{finding.rule.value}  {_subject(finding)}  {finding.resource_type}"
    details = [finding.message]
    if finding.fix:
        details.append(f"fix: {finding.fix}")
    if finding.severity is Severity.SUPPRESSED:
        details.append(f"suppressed: {finding.suppression_reason or ''}".rstrip())
    lines = [f"{_FINDING_INDENT}{label}  {_clean(heading)}"]
    lines += [f"{_DETAIL_INDENT}{_clean(detail)}" for detail in details]
    if finding.severity is Severity.SUPPRESSED and color:
        # The label is already dimmed; dim its details too so the eye skips the whole block.
        lines[1:] = [_paint(line, finding.severity, color) for line in lines[1:]]
    return lines


def _groups(findings: list[Finding]) -> dict[str, list[Finding]]:
    # dicts keep insertion order: groups come out in order of first appearance.
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_group_header(finding), []).append(finding)
    return groups


def _scope(summary: Summary, command: str) -> str:
    resources = counted(summary.resources, "resource")
    if command == "audit":
        return resources
    return f"{counted(summary.templates, 'template')} ({resources})"


def _summary_line(summary: Summary, command: str) -> str:
    counts = [counted(summary.errors, "error"), counted(summary.warnings, "warning")]
    if summary.infos:
        counts.append(f"{summary.infos} info")
    counts.append(f"{summary.suppressed} suppressed")
    return f"{', '.join(counts)} in {_scope(summary, command)}"


def render_text(report: Report, *, color: bool = False) -> str:
    lines: list[str] = []
    for header, findings in _groups(report.findings).items():
        lines.append(_clean(header))
        for finding in sorted(findings, key=lambda f: _RANK[f.severity]):
            lines += _finding_lines(finding, color)
        lines.append("")
    if report.findings:
        lines.append(_summary_line(report.summary, report.command))
    elif report.problems:
        lines.append(f"No IMDS findings in the {_scope(report.summary, report.command)} that could be read.")
    else:
        lines.append(f"No IMDS findings in {_scope(report.summary, report.command)}.")
    lines += [f"could not read: {_clean(problem)}" for problem in report.problems]
    return "\n".join(lines) + "\n"
