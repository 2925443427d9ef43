"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from cdk_imds.formats.report import Report, is_live
from cdk_imds.policy.model import RULES, Finding, RuleId, RuleInfo, Severity

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "cdk-imds"
INFORMATION_URI = "https://github.com/cdk-imds/cdk-imds"
# Versioned so that a future change to what identifies a finding can start a new series
# instead of silently re-keying every alert a code-scanning service already tracks.
FINGERPRINT_KEY = "cdkImds/v1"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_RULE_INDEX = {rule_id: index for index, rule_id in enumerate(RULES)}
_RESOURCES_KEY = re.compile(r"""(?m)(?:"Resources"\s*|'Resources'[ \t]*|^Resources[ \t]*):""")


def _key_pattern(logical_id: str) -> re.Pattern[str]:
    name = re.escape(logical_id)
    # JSON key, quoted YAML key, or plain YAML key at the start of a line: a Ref or GetAtt
    # naming the resource is never followed by a colon, so only the key itself matches.
    return re.compile(rf"""(?m)(?:"{name}"\s*|'{name}'[ \t]*|^[ \t]*{name}[ \t]*):""")


def find_resource_line(text: str, logical_id: str) -> int | None:
    """1-based line of ``logical_id``'s key under Resources in a JSON or YAML template."""
    section = _RESOURCES_KEY.search(text)
    if section is None or not logical_id:
        return None
    key = _key_pattern(logical_id).search(text, section.end())
    if key is None:
        return None
    return text.count("\n", 0, key.start()) + 1


class TemplateLines:
    """Finds resource lines in template files, reading each file at most once per render."""

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def _text(self, template: str) -> str | None:
        if template not in self._texts:
            try:
                self._texts[template] = Path(template).read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[template] = None
        return self._texts[template]

    def line_of(self, template: str, logical_id: str) -> int | None:
        text = self._text(template)
        return None if text is None else find_resource_line(text, logical_id)


def _level(severity: Severity) -> str:
    return _LEVELS.get(severity, "none")


def _result_level(finding: Finding) -> str:
    # A suppressed finding is still the rule's verdict; viewers show it as suppressed, at the
    # severity the rule would have had, rather than as some "suppressed" level SARIF lacks.
    if finding.severity is Severity.SUPPRESSED:
        return _level(RULES[finding.rule].severity)
    return _level(finding.severity)


def _rule_name(rule_id: RuleId) -> str:
    return "".join(word.capitalize() for word in rule_id.value.split("_"))


def _rule_descriptor(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id.value,
        "name": _rule_name(info.id),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.description},
        "helpUri": info.help_uri,
        "defaultConfiguration": {"level": _level(info.severity)},
    }


def _driver(version: str) -> dict[str, Any]:
    return {
        "name": TOOL_NAME,
        "version": version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule_descriptor(info) for info in RULES.values()],
    }


def _template_uri(template: str) -> str:
    path = PurePath(template)
    if path.is_absolute():
        try:
            path = Path(template).relative_to(Path.cwd())
        except ValueError:
            return Path(template).as_uri()
    return quote(path.as_posix())


def _live_uri(finding: Finding) -> str:
    account = quote(finding.account or "unknown", safe="")
    region = quote(finding.region or "unknown", safe="")
    resource = quote(finding.resource_id or finding.logical_id or "unknown", safe=":/@")
    return f"aws://{account}/{region}/{resource}"


def _physical_location(finding: Finding, lines: TemplateLines) -> dict[str, Any]:
    if is_live(finding):
        return {"artifactLocation": {"uri": _live_uri(finding)}}
    location: dict[str, Any] = {"artifactLocation": {"uri": _template_uri(finding.template)}}
    line = lines.line_of(finding.template, finding.logical_id)
    if line is not None:
        location["region"] = {"startLine": line}
    return location


def _location(finding: Finding, lines: TemplateLines) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _physical_location(finding, lines)}
    name = finding.construct_path or finding.logical_id or finding.resource_id
    if name:
        location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "resource"}]
    return location


def _properties(finding: Finding) -> dict[str, Any]:
    candidates = {
        "resource_type": finding.resource_type,
        "stack": finding.stack,
        "property_path": finding.property_path,
        "related": finding.related,
        "account": finding.account,
        "region": finding.region,
        "resource_id": finding.resource_id,
    }
    return {key: value for key, value in candidates.items() if value}


def fingerprint(finding: Finding) -> str:
    """Identity of a finding across runs: unchanged by message wording or line moves."""
    if is_live(finding):
        scope = f"{finding.account or ''}/{finding.region or ''}"
    else:
        # Loose templates have no stack name; their path is what keeps two of them apart.
        scope = finding.stack or finding.template
    resource = finding.logical_id or finding.resource_id or ""
    # A separator no identifier contains, so ("ab", "c") and ("a", "bc") cannot collide.
    identity = "\x1f".join((finding.rule.value, scope, resource, finding.property_path))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def _message(finding: Finding) -> str:
    return f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message


def _result(finding: Finding, lines: TemplateLines) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule.value,
        "ruleIndex": _RULE_INDEX[finding.rule],
        "level": _result_level(finding),
        "message": {"text": _message(finding)},
        "locations": [_location(finding, lines)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.severity is Severity.SUPPRESSED:
        suppression = {"kind": "inSource", "justification": finding.suppression_reason or ""}
        result["suppressions"] = [suppression]
    properties = _properties(finding)
    if properties:
        result["properties"] = properties
    return result


def _invocation(problems: list[str]) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if problems:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": problem}} for problem in problems
        ]
    return invocation


def sarif_log(report: Report) -> dict[str, Any]:
    lines = TemplateLines()
    run = {
        "tool": {"driver": _driver(report.tool_version)},
        "invocations": [_invocation(report.problems)],
        "results": [_result(finding, lines) for finding in report.findings],
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"
