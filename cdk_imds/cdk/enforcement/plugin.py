"""The CDK policy-validation plugin: cdk-imds findings in CDK's own validation report.

It judges the templates CDK has just written, with the same engine and the same assembly reader
as ``cdk-imds check``, so escape-hatch overrides, included templates and whatever other aspects
added are all seen, and the verdict is the one ``cdk-imds check cdk.out`` would give. Rule ids are
reported as ``cdk-imds::<RULE>``, which ``Validations.of(scope).acknowledge(...)`` accepts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import aws_cdk as cdk
import jsii

from cdk_imds import __version__
from cdk_imds.errors import InputError
from cdk_imds.policy import Finding, Options, RuleId, Severity, check_sources
from cdk_imds.sources import Loaded, TemplateSource
from cdk_imds.sources.assembly import MANIFEST, load_assembly
from cdk_imds.sources.loader import load_paths

PLUGIN_NAME = "cdk-imds"
_REPORTED = {Severity.ERROR, Severity.WARNING}
# A template the plugin cannot read is reported, never passed over: it could hide anything.
_INPUT_RULE = "IMDS_UNREADABLE_TEMPLATE"


@jsii.implements(cdk.IPolicyValidationPlugin)
class Imdsv2ValidationPlugin:
    """Fails synthesis on IMDS errors (warnings are reported without failing).

    :param options: engine options (``max_hop_limit``, ``unverifiable_as_warning``). Default: none.
    :param fail: False reports errors too without failing synthesis (what WARN mode adds, so that
        what only the written template shows, such as an escape hatch, is not passed over in
        silence). Default: True.
    """

    def __init__(self, options: Options | None = None, *, fail: bool = True) -> None:
        self._options = options or Options()
        self._fail = fail

    @property
    def fails(self) -> bool:
        """Whether errors fail synthesis (False: they are only reported)."""
        return self._fail

    def make_failing(self, options: Options) -> None:
        """From now on errors fail synthesis, judged with ``options``: a FAIL or FIX aspect asked."""
        self._options = options
        self._fail = True

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [rule.value for rule in RuleId] + [_INPUT_RULE]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        loaded = templates_under(context.template_paths)
        result = check_sources(loaded.sources, self._options)
        # Report-only (WARN mode): errors are reported as warnings, as WARN's annotations are.
        ceiling = None if self._fail else Severity.WARNING
        violations = [
            _violation(finding, ceiling) for finding in result.findings if finding.severity in _REPORTED
        ]
        violations += [_unreadable(problem, ceiling) for problem in loaded.problems]
        failed = self._fail and (bool(loaded.problems) or result.failed)
        return cdk.PolicyValidationPluginReport(
            success=not failed, violations=violations, plugin_version=__version__
        )


def templates_under(template_paths: Sequence[str]) -> Loaded:
    """The stack templates CDK asks about, with their nested stacks, read the way ``check`` reads them.

    CDK writes the assembly manifest before it runs plugins, so each assembly directory is loaded
    once (stack names, construct paths, nested stacks, exports across stacks) and narrowed to the
    stacks asked about. Templates outside any assembly are read on their own.
    """
    wanted = {os.path.realpath(path) for path in template_paths}
    loaded = Loaded()
    directories = sorted({os.path.dirname(path) for path in wanted})
    loose = [
        path for path in sorted(wanted) if not os.path.isfile(os.path.join(os.path.dirname(path), MANIFEST))
    ]
    for directory in directories:
        if not os.path.isfile(os.path.join(directory, MANIFEST)):
            continue
        try:
            assembly = load_assembly(directory)
        except InputError as error:
            loaded.problems.append(error)
            continue
        loaded.sources += [source for source in assembly.sources if _top_level_path(source) in wanted]
        loaded.problems += [
            problem for problem in assembly.problems if os.path.realpath(problem.path) in wanted
        ]
    if loose:
        extra = load_paths(loose)
        loaded.sources += extra.sources
        loaded.problems += extra.problems
    return loaded


def _top_level_path(source: TemplateSource) -> str:
    while source.parent is not None:
        source = source.parent
    return os.path.realpath(source.path)


def _violation(finding: Finding, ceiling: Severity | None) -> cdk.PolicyViolation:
    location = finding.property_path.split("/", 2)[-1] if finding.property_path else "Properties"
    return cdk.PolicyViolation(
        rule_name=finding.rule.value,
        description=finding.message,
        fix=finding.fix or None,
        severity=(ceiling or finding.severity).value,
        violating_resources=[
            cdk.PolicyViolatingResource(
                resource_logical_id=finding.logical_id,
                template_path=os.path.realpath(finding.template),
                locations=[location],
            )
        ],
    )


def _unreadable(problem: InputError, ceiling: Severity | None) -> cdk.PolicyViolation:
    return cdk.PolicyViolation(
        rule_name=_INPUT_RULE,
        description=f"cdk-imds could not read a template, so it could not judge it: {problem.reason}",
        severity=(ceiling or Severity.ERROR).value,
        violating_resources=[
            cdk.PolicyViolatingResource(resource_logical_id="-", template_path=problem.path, locations=["-"])
        ],
    )
