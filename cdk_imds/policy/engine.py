"""Runs the rules over every template once, and applies suppressions and run options."""

from __future__ import annotations

from functools import partial

from cdk_imds.policy.context import Options, ResourceContext
from cdk_imds.policy.index import AssemblyIndex, Scope
from cdk_imds.policy.model import Finding, RuleId, Severity
from cdk_imds.policy.rules import CANDIDATE_TYPES, RULES_BY_TYPE
from cdk_imds.policy.rules.common import UNVERIFIABLE_FIX
from cdk_imds.policy.values import WorkLimitExceeded
from cdk_imds.record import Record
from cdk_imds.sources import TemplateSource, Unit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from cdk_imds.policy.rules import Rule

SUPPRESSION_KEY = "cdk-imds"


class CheckResult(Record):
    __slots__ = ("findings", "templates", "resources")

    def __init__(self, findings: list[Finding], templates: int, resources: int) -> None:
        self.findings = findings
        self.templates = templates
        self.resources = resources

    @property
    def failed(self) -> bool:
        return any(finding.severity is Severity.ERROR for finding in self.findings)


def check_sources(sources: Iterable[TemplateSource], options: Options | None = None) -> CheckResult:
    """Judge every template of one run together, so references across stacks resolve."""
    return check_units([Unit(list(sources))], options)


def check_units(units: Iterable[Unit], options: Options | None = None) -> CheckResult:
    """Judge templates as they are read, a unit at a time (a stack with its nested stacks).

    The findings are those of ``check_sources`` over all of them, in the same order, but a unit's
    templates are let go once it is judged, unless it exports a value (a later stack may import
    it). A unit is judged against the exports of the units before it, which is where CDK puts the
    stacks a stack depends on. A unit that imported anything before the last unit with exports
    was added is read again (``Unit.reread``) and judged again at the end, with every export
    known: what an import resolves to can change with any later export, also through another
    (an exported value that is itself imported). Letting a large assembly's templates go as it is
    read saves the memory they took, and the time taken to get that memory from the system
    (bench/README.md).

    Where ``check_sources``'s own answer depends on the order in which it happens to evaluate
    things, this one may differ, as it evaluates in another order: a template that spends its
    whole budget of work (``values.WORK_LIMIT``) or nests past ``values``' depth limit, an export
    whose name is itself computed from an import, exports that import each other in a cycle.
    CDK writes none of these; a fuzzer of the rest found no difference.
    """
    options = options or Options()
    index = AssemblyIndex()
    judged: list[list[Finding]] = []
    importers: list[tuple[int, Callable[[], list[TemplateSource]]]] = []
    last_exporter = -1
    templates = resources = 0
    for unit in units:
        position = len(judged)
        scopes = index.add(unit.sources)
        imports = index.imports
        findings: list[Finding] = []
        for scope in scopes:
            resources += len(scope.resources)
            findings.extend(_check_scope(scope, options))
        templates += len(scopes)
        judged.append(findings)
        exports = any(scope.exports_anything for scope in scopes)
        if exports:
            last_exporter = position
        if index.imports != imports:
            again = unit.reread if unit.reread is not None and not exports else partial(list, unit.sources)
            importers.append((position, again))
        if not exports:
            index.release(scopes)
        # Let go before the next unit is read, so that reading it reuses the memory.
        del unit, scopes
    stale = [(position, again) for position, again in importers if position < last_exporter]
    if stale:
        # Judged again from scratch, in one index with every exporting template, as check_sources would.
        kept = [scope.source for scope in index.scopes]
        known = {id(source) for source in kept}
        rejudged = [(position, again()) for position, again in stale]
        final = AssemblyIndex(
            kept + [source for _, sources in rejudged for source in sources if id(source) not in known]
        )
        scope_of = {id(scope.source): scope for scope in final.scopes}
        for position, sources in rejudged:
            judged[position] = [
                finding for source in sources for finding in _check_scope(scope_of[id(source)], options)
            ]
    return CheckResult([finding for findings in judged for finding in findings], templates, resources)


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
    candidates = _candidates(scope.resources)
    scope.index_candidates(
        ((logical_id, resource["Type"]) for logical_id, resource, _ in candidates), CANDIDATE_TYPES
    )
    for logical_id, resource, rules in candidates:
        context = ResourceContext(scope, logical_id, resource, options)
        produced: list[Finding] = []
        for rule in rules:
            try:
                produced.extend(rule(context))
            except WorkLimitExceeded as error:
                produced.append(_over_budget(context, error))
            except Exception as error:
                produced.append(_crash(context, error))
        metadata = resource.get("Metadata")
        if produced or (type(metadata) is dict and SUPPRESSION_KEY in metadata):
            yield from _finalize(context, produced, options)


if TYPE_CHECKING:
    _Candidate = tuple[str, dict[str, Any], tuple[Rule, ...]]


def _candidates(resources: dict[str, Any]) -> list[_Candidate]:
    """The resources some rule judges, in template order, with their rules.

    The hot loop: nine in ten resources of a real app are not EC2 capacity. One comprehension over
    well-formed resources costs a third of a loop with a type check per resource; a malformed one
    (not an object, or a Type that is not a string) makes it fail, and the careful loop takes over.
    """
    try:
        return [
            (logical_id, resource, RULES_BY_TYPE[resource["Type"]])
            for logical_id, resource in resources.items()
            if resource.get("Type") in CANDIDATE_TYPES
        ]
    except (AttributeError, TypeError):
        pass
    candidates: list[_Candidate] = []
    for logical_id, resource in resources.items():
        if type(resource) is not dict:
            continue
        resource_type = resource.get("Type")
        rules = RULES_BY_TYPE.get(resource_type) if type(resource_type) is str else None
        if rules is not None:
            candidates.append((logical_id, resource, rules))
    return candidates


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
            finding = finding.replace(severity=Severity.WARNING)
        reason = suppressions.get(finding.rule.value)
        if reason is not None and finding.rule is not RuleId.IMDS_RULE_CRASHED:
            finding = finding.replace(severity=Severity.SUPPRESSED, suppression_reason=reason)
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
