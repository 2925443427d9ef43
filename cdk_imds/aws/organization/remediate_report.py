"""An organization remediation as people and machines read it: each account's plan (dry run) or
results (applied), as the single-account command prints them, then a summary table by account."""

from __future__ import annotations

import json
from typing import Any

from cdk_imds.aws.organization.remediate import AccountRemediation, to_dict
from cdk_imds.aws.plan_report import render_plan_text
from cdk_imds.aws.results import Run, render_run_text

_COLUMNS = (
    "account",
    "name",
    "to change",
    "held back",
    "skipped",
    "applied",
    "failed",
    "not read",
    "plan file",
)


def render_text(remediations: list[AccountRemediation], dry_run: bool) -> str:
    parts: list[str] = []
    for remediation in remediations:
        label = remediation.account.label
        if any(failure.region is None for failure in remediation.failures):
            # The account itself could not be opened (its role denied): nothing was planned.
            parts.append(f"Account {label}\n")
        elif dry_run:
            parts.append(render_plan_text(label, remediation.plan))
        else:
            parts.append(render_run_text(Run(label, "apply", remediation.results, [], remediation.plan_file)))
        parts += [f"could not read {f.region or 'the account'}: {f.message}\n" for f in remediation.failures]
        parts.append("\n")
    return "".join(parts) + "\n".join(summary_table(remediations, dry_run)) + "\n"


def summary_table(remediations: list[AccountRemediation], dry_run: bool) -> list[str]:
    rows = []
    for remediation in remediations:
        counts = remediation.counts()
        rows.append(
            [
                remediation.account.id,
                remediation.account.name,
                str(counts["to_change"]),
                str(counts["held_back"]),
                str(counts["skipped"]),
                "-" if dry_run else str(counts["applied"]),
                "-" if dry_run else str(counts["failed"]),
                ", ".join(f.region or "all regions" for f in remediation.failures) or "-",
                remediation.plan_file or "-",
            ]
        )
    widths = [max(len(text) for text in column) for column in zip(_COLUMNS, *rows, strict=False)]
    table = [
        "  ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)).rstrip()
        for cells in (list(_COLUMNS), *rows)
    ]
    incomplete = sum(1 for remediation in remediations if not remediation.complete)
    verb = (
        "to finish (held back, skipped, failed or not read)"
        if not dry_run
        else "with groups held back, skipped or not read"
    )
    return ["Summary by account", *table, f"{len(remediations)} accounts, {incomplete} {verb}"]


def render_json(remediations: list[AccountRemediation], dry_run: bool) -> str:
    document: dict[str, Any] = {
        "dry_run": dry_run,
        "accounts": [to_dict(remediation, dry_run) for remediation in remediations],
        "failures": [failure.to_dict() for r in remediations for failure in r.failures],
    }
    return json.dumps(document, indent=2) + "\n"
