"""The CDK policy-validation plugin: cdk-imds findings in CDK's own validation report.

It judges the templates CDK has just written, with the same engine and the same assembly reader
as ``cdk-imds check``, so escape-hatch overrides, included templates and whatever other aspects
added are all seen, and the verdict is the one ``cdk-imds check cdk.out`` would give. Rule ids are
reported as ``cdk-imds::<RULE>``, which ``Validations.of(scope).acknowledge(...)`` accepts.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from cdk_imds import __version__
from cdk_imds.errors import InputError
from cdk_imds.policy import Finding, Options, RuleId, Severity, check_sources
from cdk_imds.sources import Loaded, TemplateSource
from cdk_imds.sources.assembly import MANIFEST, load_assembly
from cdk_imds.sources.assets import is_template_file
from cdk_imds.sources.loader import collector_paused, load_paths

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
        self._failed = False
        self._crashed = False
        self._errors = 0
        # app.synth() then exits non-zero on this plugin's errors, whichever stacks the CDK CLI
        # selects, also when the plugin was added by hand (synthesis.py).
        from cdk_imds.cdk.enforcement.synthesis import install

        install()

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

    @property
    def errors(self) -> int:
        """Errors the last validation found (reported as warnings when it does not fail)."""
        return self._errors

    @property
    def crashed(self) -> bool:
        """Whether the last validation ended in an exception (CDK reports it without violations)."""
        return self._crashed

    def reset(self) -> None:
        """Forgets the last verdict: a new synthesis is starting."""
        self._failed = self._crashed = False
        self._errors = 0

    @property
    def failed(self) -> bool:
        """Whether the last validation found errors that fail synthesis (before acknowledgements)."""
        return self._failed

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        app = getattr(context, "app_construct", None)
        if isinstance(app, cdk.App):
            _PLUGINS.setdefault(app, self)  # one added by hand: app.synth() reads its verdict
        # Until the verdict is in, the run counts as failed: CDK turns an exception in a plugin into
        # an empty failed report that prints nothing, which must not read as a pass.
        self._failed = self._fail
        self._crashed = True
        with collector_paused():  # (a full collection of the app's heap otherwise follows)
            loaded = deployed_templates(context)
            result = check_sources(loaded.sources, self._options)
            # Report-only (WARN mode): errors are reported as warnings.
            ceiling = None if self._fail else Severity.WARNING
            # A template asset's findings say which asset, and what deploys it: CDK cannot map
            # them to a construct of its own.
            assets = {source.path: source for source in loaded.sources if source.deployed_by}
            violations = [
                _violation(finding, ceiling, assets.get(finding.template))
                for finding in result.findings
                if finding.severity in _REPORTED
            ]
            violations += [_unreadable(problem, ceiling) for problem in loaded.problems]
        self._errors = len(loaded.problems) + sum(
            1 for finding in result.findings if finding.severity is Severity.ERROR
        )
        self._failed = self._fail and (bool(loaded.problems) or result.failed)
        self._crashed = False
        return cdk.PolicyValidationPluginReport(
            success=not self._failed, violations=violations, plugin_version=__version__
        )


# Per app, its plugin: one report per app however many aspects are added.
_PLUGINS: weakref.WeakKeyDictionary[IConstruct, Imdsv2ValidationPlugin] = weakref.WeakKeyDictionary()


def register_plugin(root: IConstruct, options: Options, fail: bool = True) -> Imdsv2ValidationPlugin:
    """Adds the validation plugin to the app once, however many aspects ask for it.

    A failing request wins over a report-only one (WARN) made earlier, with its options.
    """
    plugin = _PLUGINS.get(root)
    if plugin is None:
        plugin = _PLUGINS[root] = Imdsv2ValidationPlugin(options, fail=fail)
        cdk.Validations.of(root).add_plugins(plugin)
    elif fail and not plugin.fails:
        plugin.make_failing(options)
    return plugin


def plugin_of(root: IConstruct) -> Imdsv2ValidationPlugin | None:
    return _PLUGINS.get(root)


def deployed_templates(context: cdk.IPolicyValidationContext) -> Loaded:
    """Every template the app's assembly deploys, whichever stacks CDK asked about.

    CDK asks a plugin about the stacks of the Stages it was added to, and the CLI then reports only
    the stacks it selected; a guardrail must not depend on either. So the whole assembly is read
    from the app's output directory: every Stage's stacks, nested stacks and template assets
    (Service Catalog products, StackSets). The paths CDK passed are the fallback when the app's
    directory cannot be had.
    """
    directory = _app_directory(context)
    if directory is not None:
        return load_paths([directory])
    return templates_under(context.template_paths)


def _app_directory(context: cdk.IPolicyValidationContext) -> str | None:
    app = getattr(context, "app_construct", None)
    outdir = getattr(app, "outdir", None) if isinstance(app, cdk.Stage) else None
    return outdir if isinstance(outdir, str) and os.path.isfile(os.path.join(outdir, MANIFEST)) else None


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


def _violation(
    finding: Finding, ceiling: Severity | None, asset: TemplateSource | None
) -> cdk.PolicyViolation:
    location = finding.property_path.split("/", 2)[-1] if finding.property_path else "Properties"
    resources = [
        cdk.PolicyViolatingResource(
            resource_logical_id=finding.logical_id,
            template_path=os.path.realpath(finding.template),
            locations=[location],
        )
    ]
    description = finding.message
    fix = finding.fix or None
    if asset is not None and is_template_file(asset):
        fix = f"This template is a file shipped as an asset, which FIX cannot change: edit the file. {finding.fix}"
    if asset is not None:
        # CDK knows no construct in a template asset: the violation is placed on each resource that
        # deploys it (a product, a StackSet), and says which resource of the asset is at fault.
        description = f"{asset.label}, resource {finding.construct_path or finding.logical_id}: {description}"
        resources = [
            cdk.PolicyViolatingResource(
                resource_logical_id=logical_id,
                template_path=os.path.realpath(template),
                locations=[f"template asset {os.path.basename(asset.path)}: {finding.property_path}"],
            )
            for template, logical_id in asset.deployers
        ] or resources
    return cdk.PolicyViolation(
        rule_name=finding.rule.value,
        description=description,
        fix=fix,
        severity=(ceiling or finding.severity).value,
        violating_resources=resources,
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
