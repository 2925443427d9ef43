"""Runs the rules over every template once, and applies suppressions and run options."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cdk_imds.policy.context import Options, ResourceContext
from cdk_imds.policy.index import AssemblyIndex, Scope
from cdk_imds.policy.model import Finding, RuleId, Severity
from cdk_imds.policy.rules import RULES_BY_TYPE
from cdk_imds.policy.rules.common import UNVERIFIABLE_FIX
from cdk_imds.policy.values import WorkLimitExceeded
from cdk_imds.sources import TemplateSource

SUPPRESSION_KEY = "cdk-imds"


@dataclass(frozen=True)
class CheckResult:
    findings: list[Finding]
    templates: int
    resources: int

    @property
    def failed(self) -> bool:
        return any(finding.severity is Severity.ERROR for finding in self.findings)


def check_sources(sources: Iterable[TemplateSource], options: Options | None = None) -> CheckResult:
    """Judge every template of one run together, so references across stacks resolve."""
    index = AssemblyIndex(list(sources))
    options = options or Options()
    findings: list[Finding] = []
    resources = 0
    for scope in index.scopes:
        resources += len(scope.resources)
        findings.extend(_check_scope(scope, options))
    return CheckResult(findings, len(index.scopes), resources)


def check_template(
    template: dict[str, Any],
    path: str = "template",
    *,
    stack: str | None = None,
    options: Options | None = None,
) -> list[Finding]:
    """Judge one template dict on its own."""
    return check_sources([TemplateSource(path=path, body=template, stack=stack)], options).findings


def _check_scope(scope: Scope, options: Options) -> Iterator[Finding]:
    rules_by_type = RULES_BY_TYPE
    for logical_id, resource in scope.resources.items():
        # The hot loop: most resources are not EC2 capacity and cost one dict lookup.
        if type(resource) is not dict:
            continue
        resource_type = resource.get("Type")
        rules = rules_by_type.get(resource_type) if type(resource_type) is str else None
        if rules is None:
            continue
        context = ResourceContext(scope, logical_id, resource, options)
        produced: list[Finding] = []
        for rule in rules:
            try:
                produced.extend(rule(context))
            except WorkLimitExceeded as error:
                produced.append(_over_budget(context, error))
            except Exception as error:
                produced.append(_crash(context, error))
        yield from _finalize(context, produced, options)


def _finalize(context: ResourceContext, findings: list[Finding], options: Options) -> Iterator[Finding]:
    suppressions, ignored = _suppressions(context.resource)
    for reason_missing_rule in ignored:
        yield context.finding(
            RuleId.IMDS_SUPPRESSION_IGNORED,
            f"Suppression of {reason_missing_rule} has no reason, so it is ignored.",
            f'Give it a reason: {{"rule": "{reason_missing_rule}", "reason": "why this is acceptable"}}.',
            f"Resources/{context.logical_id}/Metadata/{SUPPRESSION_KEY}/suppress",
        )
    for finding in findings:
        if options.unverifiable_as_warning and finding.rule is RuleId.IMDSV2_UNVERIFIABLE:
            finding = dataclasses.replace(finding, severity=Severity.WARNING)
        reason = suppressions.get(finding.rule.value)
        if reason is not None and finding.rule is not RuleId.IMDS_RULE_CRASHED:
            finding = dataclasses.replace(finding, severity=Severity.SUPPRESSED, suppression_reason=reason)
        yield finding


def _suppressions(resource: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Rule id -> reason from ``Metadata["cdk-imds"]["suppress"]``, and the rules given without one."""
    metadata = resource.get("Metadata")
    settings = metadata.get(SUPPRESSION_KEY) if isinstance(metadata, dict) else None
    entries = settings.get("suppress") if isinstance(settings, dict) else None
    reasons: dict[str, str] = {}
    ignored: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
            continue
        reason = entry.get("reason")
        if isinstance(reason, str) and reason.strip():
            reasons[entry["rule"]] = reason.strip()
        else:
            ignored.append(entry["rule"])
    return reasons, ignored


def _over_budget(context: ResourceContext, error: WorkLimitExceeded) -> Finding:
    return context.finding(
        RuleId.IMDSV2_UNVERIFIABLE,
        f"{context.type.rsplit('::', 1)[-1]} cannot be verified at synth time: {error.reason}.",
        UNVERIFIABLE_FIX,
        f"Resources/{context.logical_id}",
    )


def _crash(context: ResourceContext, error: Exception) -> Finding:
    # Only the exception's type: its text could quote template values.
    return context.finding(
        RuleId.IMDS_RULE_CRASHED,
        f"cdk-imds could not judge this resource ({type(error).__name__}); it is treated as non-compliant.",
        "Report this to the cdk-imds maintainers with the shape of the resource.",
        f"Resources/{context.logical_id}",
    )
