"""``Imdsv2Aspect``: fail, fix or warn on every resource the policy engine judges.

How it walks the tree (why not the usual per-node aspect): CDK calls a Python aspect's ``visit``
for every construct below the scope it was added to, and each call is a Node.js-to-Python round
trip (about 0.6 ms) whatever ``visit`` does. The first visit, on the scope itself, therefore does
the work for the whole scope: one ``find_all()`` and a Python type filter (cached per class, no
jsii call for a construct that is not a candidate). Later visits only re-check the node's type, so
that FIX also covers resources that other aspects add later (with aspect stabilization off) and
wins over aspects of lower priority that visit the same resource.

The callbacks themselves remain while the aspect sits on a scope: on a 1,176-resource, 6-stack app
(102 L2 launch templates) FIX synthesized in about 3.7 s against 1.0 s without it, most of it
those callbacks and reading each launch template's properties back once.

Add it at ``Imdsv2Aspect.PRIORITY`` (or use ``cdk_imds.enforce``): at that priority it runs after
the aspects of default and mutating priority, sees what they added, and its override comes last.

Limits, by design of what Python can see before synthesis: escape-hatch overrides are invisible,
so FIX overrides them without a note of its own and WARN judges the constructs' properties only;
FAIL, and FIX's safety net, judge the written templates through the plugin and see everything.
"""

from __future__ import annotations

import weakref
from typing import ClassVar

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from cdk_imds.cdk.candidates import (
    FIXABLE,
    HIDDEN,
    OPAQUE,
    FixSpec,
    candidate_type,
    candidates,
    visible_tokens,
)
from cdk_imds.cdk.config import (
    Mode,
    Settings,
    parse_flag,
    parse_hop_limit,
    parse_mode,
    resolve_settings,
)
from cdk_imds.cdk.judge import judge_stack
from cdk_imds.cdk.plugin import Imdsv2ValidationPlugin
from cdk_imds.policy import Options

__all__ = ["ASPECT_PRIORITY", "Imdsv2Aspect", "Mode"]

# Above AspectPriority.READONLY (1000): the fix must come after every aspect that could undo it.
ASPECT_PRIORITY = 10_000
# Every fix note starts so; for launch templates it reads "cdk-imds: set HttpTokens to required ...".
FIX_NOTE = "cdk-imds: set "

# Apps that already have the plugin: one report per app however many aspects are added.
_APPS_WITH_PLUGIN: weakref.WeakSet[IConstruct] = weakref.WeakSet()
# Per app, construct path -> fixable, for every resource inspected so far. Reading a resource's
# properties back from JavaScript is the expensive part of a fix (about 13 ms for a launch template
# built by an L2), so it is done once per resource, however many aspects and visits reach it; the
# path also makes the note once-only (Python proxies of JavaScript-created constructs are not
# identical from one visit to the next, so they cannot be the key).
_INSPECTED: weakref.WeakKeyDictionary[IConstruct, dict[str, bool]] = weakref.WeakKeyDictionary()


@jsii.implements(cdk.IAspect)
class Imdsv2Aspect:
    """Enforces IMDSv2 (HttpTokens 'required') on every resource ``cdk-imds check`` judges.

    :param mode: ``Mode.FAIL`` (or "fail"), ``Mode.FIX`` or ``Mode.WARN``. Default: context
        ``cdk-imds:mode``, else FAIL.
    :param max_hop_limit: hop limits above this are errors. Default: context ``cdk-imds:maxHopLimit``,
        else none (hop limits above 1 are warnings).
    :param unverifiable_as_warning: report values only known at deploy time as warnings instead of
        errors. Default: context ``cdk-imds:unverifiableAsWarning``, else False.

    FAIL and FIX add the ``Imdsv2ValidationPlugin`` to the app, which judges the written templates
    (escape hatches included) and fails synthesis on errors; in FIX mode it fails on what could not
    be fixed.
    """

    PRIORITY: ClassVar[int] = ASPECT_PRIORITY

    def __init__(
        self,
        mode: Mode | str | None = None,
        max_hop_limit: int | None = None,
        unverifiable_as_warning: bool | None = None,
    ) -> None:
        # Bad arguments fail here, where the caller wrote them, not at synthesis.
        self._mode = None if mode is None else parse_mode(mode)
        self._max_hop_limit = None if max_hop_limit is None else parse_hop_limit(max_hop_limit)
        self._unverifiable_as_warning = (
            None if unverifiable_as_warning is None else parse_flag(unverifiable_as_warning)
        )
        self._settings: Settings | None = None
        self._inspected: dict[str, bool] = {}
        self._sweep_scope: IConstruct | None = None

    def sweep_from(self, scope: IConstruct) -> Imdsv2Aspect:
        """Judge ``scope`` when visited on any node, for an aspect added to a single leaf.

        Added to a leaf with no children, the aspect is visited once, so the per-construct
        callbacks (the main cost of a Python aspect on large apps) are gone; ``enforce`` works so.
        The price: with aspect stabilization off, resources that other aspects add after the sweep
        are not fixed here, and the validation plugin fails synthesis on them instead.
        """
        self._sweep_scope = scope
        return self

    @property
    def settings(self) -> Settings | None:
        """The mode and options in effect; None until the aspect's first visit reads the context."""
        return self._settings

    def visit(self, node: IConstruct) -> None:
        if self._settings is None:
            scope = self._sweep_scope or node
            self._settings = resolve_settings(
                scope, self._mode, self._max_hop_limit, self._unverifiable_as_warning
            )
            self._inspected = _INSPECTED.setdefault(node.node.root, {})
            self._sweep(scope, self._settings)
        elif self._settings.mode is Mode.FIX:
            resource_type = candidate_type(node)
            spec = FIXABLE.get(resource_type) if resource_type is not None else None
            if spec is not None:
                assert isinstance(node, cdk.CfnResource)
                fix(node, spec, self._inspected)

    def _sweep(self, scope: IConstruct, settings: Settings) -> None:
        if settings.mode is not Mode.WARN:
            register_plugin(scope.node.root, settings.options)
        if settings.mode is Mode.FAIL:
            return
        found = _in_scope_stage(scope, list(candidates(scope.node.find_all())))
        if settings.mode is Mode.FIX:
            for node, resource_type in found:
                spec = FIXABLE.get(resource_type)
                if spec is not None:
                    fix(node, spec, self._inspected)
        else:
            _warn(found, settings.options)


def register_plugin(root: IConstruct, options: Options) -> None:
    """Adds the validation plugin to the app once, however many aspects ask for it."""
    if root in _APPS_WITH_PLUGIN:
        return
    _APPS_WITH_PLUGIN.add(root)
    cdk.Validations.of(root).add_plugins(Imdsv2ValidationPlugin(options))


def fix(node: cdk.CfnResource, spec: FixSpec, inspected: dict[str, bool]) -> None:
    """Overrides the one switch (HttpTokens for EC2), so every other metadata option is kept.

    The override is a leaf of CloudFormation's deep merge: it creates the metadata options where
    missing and, applied last, beats an earlier escape hatch; it is applied again on every visit so
    that it comes after aspects of lower priority. A value only known at deploy time is left
    alone: the plugin reports it instead of it being silently replaced.
    """
    path = node.node.path
    fixable = inspected.get(path)
    if fixable is None:
        current = visible_tokens(node, spec)
        fixable = inspected[path] = current is not OPAQUE
        if fixable and current != spec.value:
            was = "not visible on a bare CfnResource" if current is HIDDEN else _show(current)
            cdk.Annotations.of(node).add_info(
                f"{FIX_NOTE}{spec.setting} to {_show(spec.value, quote=False)} at {spec.override} (was {was})"
            )
    if fixable:
        node.add_property_override(spec.override, spec.value)


def _show(value: object, quote: bool = True) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if quote else str(value)


def _in_scope_stage(
    scope: IConstruct, found: list[tuple[cdk.CfnResource, str]]
) -> list[tuple[cdk.CfnResource, str]]:
    """Leaves out resources of nested Stages: CDK synthesizes those before the outer aspects run."""
    if not found:
        return found
    # Stage.of(a Stage) is the Stage around it, not the Stage itself.
    stage_path = scope.node.path if isinstance(scope, cdk.Stage) else _stage_path(scope)
    return [(node, kind) for node, kind in found if _stage_path(node) == stage_path]


def _stage_path(node: IConstruct) -> str:
    stage = cdk.Stage.of(node)
    return stage.node.path if stage else ""


def _warn(found: list[tuple[cdk.CfnResource, str]], options: Options) -> None:
    by_stack: dict[str, tuple[cdk.Stack, list[tuple[cdk.CfnResource, str]]]] = {}
    for node, resource_type in found:
        stack = cdk.Stack.of(node)
        by_stack.setdefault(stack.node.path, (stack, []))[1].append((node, resource_type))
    for stack, resources in by_stack.values():
        for node, finding in judge_stack(stack, resources, options):
            message = f"{finding.message} Fix: {finding.fix}" if finding.fix else finding.message
            cdk.Annotations.of(node).add_warning_v2(f"cdk-imds:{finding.rule}", message)
