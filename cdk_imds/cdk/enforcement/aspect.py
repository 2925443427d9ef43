"""``Imdsv2Aspect``: fail, fix or warn on every resource the policy engine judges.

What it costs decides how it walks the tree. CDK calls a Python aspect's ``visit`` for every
construct below the scope it was added to, and each call is a Node.js-to-Python round trip (about
0.6 ms) whatever ``visit`` does; so does every attribute read and method call from Python. Added
with ``Aspects.of(scope).add(...)`` it therefore does as little as possible per visit: a construct
that is not a candidate costs one Python type check (cached per class) and nothing else, and a
candidate in FIX mode costs its override, plus, on its first visit by any Imdsv2Aspect of the app,
one read of its properties and the info note. ``enforce`` instead hangs it on one childless
construct and has it sweep its Stage once (``sweep_from``): no per-construct callbacks at all
(bench/README.md has the numbers).

Add it at ``Imdsv2Aspect.PRIORITY`` (or use ``cdk_imds.enforce``): at that priority it runs after
the aspects of default and mutating priority, sees what they added, and its override comes last.

Every mode judges the written templates through the validation plugin (``plugin.py``), which sees
everything: escape hatches, CDK's own aspects, every Stage and template asset. FAIL fails on its
errors, FIX on what it could not fix, WARN only reports them. Escape-hatch overrides are invisible
before synthesis, so FIX overrides them without a note of its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection
from typing import ClassVar

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from cdk_imds.cdk.enforcement.candidates import (
    FIXABLE,
    INFO_METADATA,
    OPAQUE,
    FixSpec,
    Inspected,
    candidate_type,
    identity,
    select,
    stage_layout,
    visible_value,
)
from cdk_imds.cdk.enforcement.config import (
    Mode,
    Settings,
    parse_flag,
    parse_hop_limit,
    parse_mode,
    resolve_settings,
)
from cdk_imds.cdk.enforcement.plugin import register_plugin
from cdk_imds.cdk.enforcement.service_defaults import ATTACHABLE, attach

__all__ = ["ASPECT_PRIORITY", "Imdsv2Aspect", "Mode"]

# Above AspectPriority.READONLY (1000): the fix must come after every aspect that could undo it.
ASPECT_PRIORITY = 10_000
# Every fix note starts so; for launch templates it reads "cdk-imds: set HttpTokens to required ...".
FIX_NOTE = "cdk-imds: set "

# Per app, resource (jsii object id) -> fixable, for every resource inspected so far: the read and
# the note are done once per resource however many aspects and visits reach it; only the override
# is repeated (it must come after whatever a lower-priority aspect did on that visit).
_INSPECTED: weakref.WeakKeyDictionary[IConstruct, Inspected] = weakref.WeakKeyDictionary()


def fixes_of(root: IConstruct) -> Inspected | None:
    """What FIX did in ``root``'s app, if any aspect of it fixed."""
    return _INSPECTED.get(root)


@jsii.implements(cdk.IAspect)
class Imdsv2Aspect:
    """Enforces IMDSv2 (HttpTokens 'required') on every resource ``cdk-imds check`` judges.

    :param mode: ``Mode.FAIL`` (or "fail"), ``Mode.FIX`` or ``Mode.WARN``. Default: context
        ``cdk-imds:mode``, else FAIL.
    :param max_hop_limit: hop limits above this are errors. Default: context ``cdk-imds:maxHopLimit``,
        else none (hop limits above 1 are warnings).
    :param unverifiable_as_warning: report values only known at deploy time as warnings instead of
        errors. Default: context ``cdk-imds:unverifiableAsWarning``, else False.

    Every mode adds the ``Imdsv2ValidationPlugin`` to the app, which judges the written templates
    (escape hatches included): in FAIL and FIX mode it fails synthesis on errors (in FIX mode, on
    what could not be fixed); in WARN mode it reports them in CDK's validation report without
    failing.
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
        self._inspected = Inspected()
        self._sweep_scope: IConstruct | None = None
        # Stages are synthesized before an App's aspects run: from now on each one created, and
        # at app.synth() each one not yet covered, gets an aspect of its own (stages.py).
        from cdk_imds.cdk.enforcement.stages import activate

        activate()

    def resolve(self, scope: IConstruct) -> Settings:
        """The settings this aspect enforces in ``scope``: its arguments, then the context there."""
        return resolve_settings(scope, self._mode, self._max_hop_limit, self._unverifiable_as_warning)

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
        settings = self._settings
        if settings is None:
            settings = self._start(self._sweep_scope or node)
            if self._sweep_scope is not None:
                return
        if settings.mode is Mode.FIX:
            # The whole cost of a construct that is not a candidate: a type check against a
            # per-class cache, no jsii round trip.
            resource_type = candidate_type(node)
            if resource_type is not None:
                assert isinstance(node, cdk.CfnResource)
                fix_resource(node, resource_type, self._inspected)

    def _start(self, scope: IConstruct) -> Settings:
        """First visit: settings from the context, the plugin, and the sweep where one is due."""
        settings = self._settings = self.resolve(scope)
        root = scope.node.root
        if settings.mode is Mode.FIX:
            # (Only FIX records: the exit line says "FIX could not fix" when there is a record.)
            self._inspected = _INSPECTED.setdefault(root, Inspected())
        # WARN judges the templates as written, like FAIL, through the plugin: only they show what
        # CDK's own aspects and escape hatches did, and an L2's lazy properties cannot be read
        # from Python before synthesis.
        register_plugin(root, settings.options, fail=settings.mode is not Mode.WARN)
        if settings.mode is Mode.FIX and self._sweep_scope is not None:
            for node, resource_type in _in_stage(scope, _FIX_TYPES):
                fix_resource(node, resource_type, self._inspected)
        return settings


# What FIX changes: the resources with an IMDS switch, and those that launch from a service default.
_FIX_TYPES = frozenset(FIXABLE) | ATTACHABLE


def fix_resource(node: cdk.CfnResource, resource_type: str, inspected: Inspected) -> None:
    spec = FIXABLE.get(resource_type)
    if spec is not None:
        fix(node, spec, inspected)
    elif resource_type in ATTACHABLE:
        attach(node, resource_type, inspected)


def fix(node: cdk.CfnResource, spec: FixSpec, inspected: Inspected) -> None:
    """Overrides the one switch (HttpTokens for EC2), so every other metadata option is kept.

    The override is a leaf of CloudFormation's deep merge: it creates the metadata options where
    missing and, applied last, beats an earlier escape hatch; it is applied again on every visit so
    that it comes after aspects of lower priority. A value only known at deploy time is left
    alone: the plugin reports it instead of it being silently replaced.
    """
    key = identity(node)
    fixable = inspected.get(key)
    if fixable is None:
        current = visible_value(node, spec)
        fixable = inspected[key] = current is not OPAQUE
        if fixable and current != spec.value:
            inspected.changed += 1
            # The info entry Annotations.add_info writes, minus its stack trace: from Python that
            # trace is the jsii kernel's, and the CDK CLI prints its top frame
            # (".../lib/program.js:1:...") above the note. Same two round trips.
            node.node.add_metadata(
                INFO_METADATA,
                f"{FIX_NOTE}{spec.setting} to {_show(spec.value, quote=False)} at {spec.override}"
                f" (was {_show(current)})",
            )
    if fixable:
        node.add_property_override(spec.override, spec.value)


def _show(value: object, quote: bool = True) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if quote else str(value)


def _in_stage(scope: IConstruct, types: Collection[str]) -> list[tuple[cdk.CfnResource, str]]:
    """The resources of ``types`` in ``scope``'s own Stage: those of nested Stages are left out.

    CDK synthesizes a nested Stage before the outer aspects run, so a fix there would come too
    late; the Stage's own aspect (``enforce_stage``) or the plugin deals with it.
    """
    stacks, nested = stage_layout(scope)
    # Without nested Stages one selection from the scope is the same set, in one call.
    return select(stacks if nested else [scope], types)
