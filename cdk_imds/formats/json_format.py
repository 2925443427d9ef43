"""Machine-readable JSON output: the findings as ``Finding.to_dict`` gives them, plus the summary."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cdk_imds.formats.report import Report


def json_document(report: Report) -> dict[str, Any]:
    # Insertion order is the documented key order; consumers diffing two runs rely on it.
    return {
        "version": report.tool_version,
        "findings": [finding.to_dict() for finding in report.findings],
        "summary": report.summary.as_dict(),
        "problems": list(report.problems),
    }


def render_json(report: Report) -> str:
    return json.dumps(json_document(report), indent=2) + "\n"
