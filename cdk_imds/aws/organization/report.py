"""An organization audit as people and machines read it: text grouped by account, region and
resource, ending in a summary table per account; JSON and SARIF with the same content.

The same renderers write one account's file (``-o DIR``) and the whole organization's report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cdk_imds.aws.organization.audit import AccountAudit, AccountRow, OrgAudit
from cdk_imds.aws.organization.runner import Failure
from cdk_imds.formats import Report
from cdk_imds.formats.sarif import sarif_log
from cdk_imds.policy.model import Finding, Severity, Summary
from cdk_imds.wording import counted

SCHEMA = "cdk-imds/organization-audit/1"


class OrgFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"

    @property
    def extension(self) -> str:
        return "txt" if self is OrgFormat.TEXT else self.value


@dataclass
class OrgReport:
    """What is rendered: the accounts' rows (including accounts an earlier, resumed run read, whose
    findings are in their own files), the findings and failures of this run."""

    caller: str
    rows: list[AccountRow]
    findings: list[Finding] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    resumed: int = 0

    @classmethod
    def of(cls, audit: OrgAudit, earlier: Sequence[AccountRow] = ()) -> OrgReport:
        rows = sorted([*earlier, *(a.row() for a in audit.accounts)], key=lambda row: row.account)
        return cls(audit.caller, rows, audit.findings, audit.failures, len(earlier))

    @classmethod
    def of_account(cls, caller: str, audit: AccountAudit) -> OrgReport:
        return cls(caller, [audit.row()], list(audit.findings), list(audit.failures))

    def summary(self) -> Summary:
        return Summary.of(self.findings, 0, sum(row.resources for row in self.rows))


def render(fmt: OrgFormat, report: OrgReport, tool_version: str) -> str:
    if fmt is OrgFormat.JSON:
        return json.dumps(json_document(report, tool_version), indent=2) + "\n"
    if fmt is OrgFormat.SARIF:
        return json.dumps(sarif_document(report, tool_version), indent=2) + "\n"
    return render_text(report)


# ---------------------------------------------------------------------------------------------
# text

_LABELS = {
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARN ",
    Severity.INFO: "INFO ",
    Severity.SUPPRESSED: "SUPPR",
}
# Names and messages can carry text that came from the accounts (group names, account names):
# a stray escape sequence must not repaint the user's terminal.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def _clean(text: str) -> str:
    return text.translate(_CONTROLS)


def render_text(report: OrgReport) -> str:
    lines: list[str] = []
    names = {row.account: row.name for row in report.rows}
    failures: dict[str, list[Failure]] = {}
    for failure in report.failures:
        failures.setdefault(failure.account.id, []).append(failure)
    by_account: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_account.setdefault(finding.account or "?", []).append(finding)
    for account in sorted(set(by_account) | set(failures)):
        name = names.get(account, "")
        lines.append(_clean(f"Account {account}" + (f" ({name})" if name else "")))
        lines += _account_lines(by_account.get(account, []), failures.get(account, []))
        lines.append("")
    lines += summary_table(report)
    return "\n".join(lines) + "\n"


def _account_lines(findings: list[Finding], failures: list[Failure]) -> list[str]:
    lines = [
        f"  could not read {f.region or 'the account'}: {_clean(f.message)}"
        for f in failures
        if f.region is None
    ]
    regions = sorted({f.region or "?" for f in findings} | {f.region for f in failures if f.region})
    for region in regions:
        lines.append(f"  {region}")
        lines += [f"    could not read: {_clean(f.message)}" for f in failures if f.region == region]
        resources: dict[tuple[str, str], list[Finding]] = {}
        for finding in findings:
            if (finding.region or "?") == region:
                resources.setdefault((finding.resource_id or "?", finding.resource_type), []).append(finding)
        for (resource, kind), found in resources.items():
            lines.append(_clean(f"    {resource}  {kind}"))
            for finding in found:
                lines.append(
                    _clean(f"      {_LABELS[finding.severity]}  {finding.rule.value}  {finding.message}")
                )
                if finding.fix:
                    lines.append(_clean(f"             fix: {finding.fix}"))
    return lines


_COLUMNS = ("account", "name", "resources", "errors", "warnings", "ready", "not ready", "unknown", "failed")


def summary_table(report: OrgReport) -> list[str]:
    rows = [
        [
            row.account,
            _clean(row.name),
            str(row.resources),
            str(row.errors),
            str(row.warnings),
            str(row.ready),
            str(row.not_ready),
            str(row.unknown),
            ", ".join(row.failed) or "-",
        ]
        for row in report.rows
    ]
    widths = [max(len(text) for text in column) for column in zip(_COLUMNS, *rows, strict=False)]
    table = [
        "  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)).rstrip()
        for cells in (list(_COLUMNS), *rows)
    ]
    errors = sum(row.errors for row in report.rows)
    failed = sum(1 for row in report.rows if row.failed)
    total = (
        f"{counted(len(report.rows), 'account')}: {counted(errors, 'error')}, "
        f"{counted(sum(row.warnings for row in report.rows), 'warning')} in "
        f"{counted(sum(row.resources for row in report.rows), 'resource')}; "
        f"{failed} {'account' if failed == 1 else 'accounts'} not read completely"
    )
    if report.resumed:
        total += f"; {report.resumed} from the earlier run being resumed"
    note = "ready / not ready / unknown: errors whose resources made 0 / some / unmeasured IMDSv1 calls (MetadataNoToken)"
    return ["Summary by account", *table, total, note]


# ---------------------------------------------------------------------------------------------
# JSON and SARIF


def json_document(report: OrgReport, tool_version: str) -> dict[str, Any]:
    summary = report.summary()
    return {
        "schema": SCHEMA,
        "version": tool_version,
        "caller": report.caller,
        "accounts": [row.to_dict() for row in report.rows],
        "failures": [failure.to_dict() for failure in report.failures],
        "findings": [finding.to_dict() for finding in report.findings],
        "summary": {
            "accounts": len(report.rows),
            "accounts_not_read_completely": sum(1 for row in report.rows if row.failed),
            "resumed": report.resumed,
            "errors": sum(row.errors for row in report.rows),
            "warnings": sum(row.warnings for row in report.rows),
            "resources": summary.resources,
        },
    }


def sarif_document(report: OrgReport, tool_version: str) -> dict[str, Any]:
    """SARIF as ``audit`` writes it, each result also naming its account; every failure is a
    tool execution notification, and the per-account table rides in the run's properties."""
    log = sarif_log(
        Report(
            findings=report.findings,
            summary=report.summary(),
            problems=[failure.line() for failure in report.failures],
            tool_version=tool_version,
            command="audit",
        )
    )
    run = log["runs"][0]
    for result, finding in zip(run["results"], report.findings, strict=True):
        name = finding.extra.get("account_name")
        if name:
            result.setdefault("properties", {})["account_name"] = name
    run["properties"] = {"accounts": [row.to_dict() for row in report.rows]}
    return log
