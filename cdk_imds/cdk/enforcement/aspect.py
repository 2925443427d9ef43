"""``Imdsv2Aspect``: fail, fix or warn on every resource the policy engine judges.

What it costs decides how it works. From Python, every attribute read and method call on a
construct is a round trip to the jsii kernel's Node.js process (0.3 to 0.6 ms), and so is every
``visit`` CDK makes on an aspect written in Python. So the aspect's visits stay in JavaScript
(``javascript/index.js``): the first one calls ``begin`` here, which reads the settings, adds the
validation plugin and, in FIX mode, sweeps the aspect's scope in bulk: the candidates in one call,
their switches read in one, the overrides kept and the notes written in one each, however many
resources there are. Every visit then applies the override kept for its construct in
JavaScript, so it comes after aspects of lower priority; a candidate the sweep did not see (added
since by another aspect) is handed back to ``adopt`` here. bench/README.md has the numbers.

Add it at ``Imdsv2Aspect.PRIORITY`` (or use ``cdk_imds.enforce``): at that priority it runs after
the aspects of default and mutating priority, sees what they added, and its override comes last.

Every mode judges the written templates through the validation plugin (``plugin.py``), which sees
everything: escape hatches, CDK's own aspects, every Stage and template asset. FAIL fails on its
errors, FIX on what it could not fix, WARN only reports them. Escape-hatch overrides are invisible
before synthesis, so FIX overrides them without a note of its own.
"""

from __future__ import annotations

import weakref
from typing import ClassVar

from constructs import IConstruct

from cdk_imds.cdk.enforcement.candidates import (
    FIXABLE,
    INFO_METADATA,
    OPAQUE,
    FixSpec,
    Inspected,
    candidate_type,
)
from cdk_imds.cdk.enforcement.config import (
    Mode,
    Settings,
    parse_flag,
    parse_hop_limit,
    parse_mode,
    resolve_settings,
)
from cdk_imds.cdk.enforcement.javascript import FixingAspect, Swept, kept_raises
from cdk_imds.cdk.enforcement.plugin import register_plugin
from cdk_imds.cdk.enforcement.service_defaults import ATTACHABLE, attach

__all__ = ["ASPECT_PRIORITY", "Imdsv2Aspect", "Mode"]

# Above AspectPriority.READONLY (1000): the fix must come after every aspect that could undo it.
ASPECT_PRIORITY = 10_000
# Every fix note starts so; for launch templates it reads "cdk-imds: set HttpTokens to required ...".
FIX_NOTE = "cdk-imds: set "

# Per app, resource (construct path) -> fixable, for every resource inspected so far: the read and
# the note are done once per resource however many aspects and visits reach it; only the override
# is repeated (it must come after whatever a lower-priority aspect did on that visit).
_INSPECTED: weakref.WeakKeyDictionary[IConstruct, Inspected] = weakref.WeakKeyDictionary()


def fixes_of(root: IConstruct) -> Inspected | None:
    """What FIX did in ``root``'s app, if any aspect of it fixed."""
    return _INSPECTED.get(root)


class Imdsv2Aspect(FixingAspect):
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
        super().__init__()
        # Stages are synthesized before an App's aspects run: from now on each one created, and
        # at app.synth() each one not yet covered, gets an aspect of its own (stages.py).
        from cdk_imds.cdk.enforcement.stages import activate

        activate()

    def resolve(self, scope: IConstruct) -> Settings:
        """The settings this aspect enforces in ``scope``: its arguments, then the context there."""
        return resolve_settings(scope, self._mode, self._max_hop_limit, self._unverifiable_as_warning)

    @property
    def settings(self) -> Settings | None:
        """The mode and options in effect; None until the aspect's first visit reads the context."""
        return self._settings

    @kept_raises
    def begin(self, node: IConstruct) -> None:
        """First visit (called from JavaScript): settings from the context, the plugin, the sweep.

        CDK visits the construct the aspect was added to first, so ``scope`` holds every construct
        the aspect will visit (a nested Stage's are left to that Stage's own aspect).
        """
        scope = node
        settings = self._settings = self.resolve(scope)
        root = scope.node.root
        # WARN judges the templates as written, like FAIL, through the plugin: only they show what
        # CDK's own aspects and escape hatches did, and an L2's lazy properties cannot be read
        # from Python before synthesis.
        register_plugin(root, settings.options, fail=settings.mode is not Mode.WARN)
        if settings.mode is not Mode.FIX:
            return
        # (Only FIX records: the exit line says "FIX could not fix" when there is a record.)
        self._inspected = _INSPECTED.setdefault(root, Inspected())
        self._fix_below(scope)
        self.watch(sorted(_FIX_TYPES))

    @kept_raises
    def adopt(self, node: IConstruct) -> None:
        """A candidate no sweep saw (another aspect added it since), visited (called from
        JavaScript): swept and fixed like the others; JavaScript applies its override next."""
        self._fix_below(node)

    def _fix_below(self, scope: IConstruct) -> None:
        """FIX for the resources below ``scope``, in a handful of round trips however many."""
        swept, attachable = self.sweep(scope, _SWITCHES, sorted(ATTACHABLE))
        fixable, notes = decide(swept, self._inspected)
        if notes:
            self.note(INFO_METADATA, notes)
        if fixable:
            specs = [FIXABLE[swept[at].resource_type] for at in fixable]
            self.keep([(at, spec.override, spec.value) for at, spec in zip(fixable, specs, strict=True)])
        for resource in attachable:
            resource_type = candidate_type(resource)
            if resource_type is not None:
                attach(resource, resource_type, self._inspected)


# What FIX changes: the resources with an IMDS switch, and those that launch from a service default.
_FIX_TYPES = frozenset(FIXABLE) | ATTACHABLE
# Where the sweep reads each switch: in a typed L1's properties, and in a bare CfnResource's.
_SWITCHES = {kind: (spec.properties, tuple(spec.override.split("."))) for kind, spec in FIXABLE.items()}


def decide(swept: list[Swept], inspected: Inspected) -> tuple[list[int], list[tuple[int, str]]]:
    """Which swept resources FIX overrides (their indexes), and the notes of those it changes.

    A value only known at deploy time is left alone: the plugin reports it instead of it being
    silently replaced. A resource that another aspect of the app inspected already is decided as
    it was then and not noted again.
    """
    fixable: list[int] = []
    notes: list[tuple[int, str]] = []
    for at, row in enumerate(swept):
        known = inspected.get(row.path)
        if known is None:
            spec = FIXABLE[row.resource_type]
            known = inspected[row.path] = row.value is not OPAQUE
            if known and row.value != spec.value:
                inspected.changed += 1
                notes.append((at, _note(spec, row.value)))
        if known:
            fixable.append(at)
    return fixable, notes


def _note(spec: FixSpec, current: object) -> str:
    # The info entry Annotations.add_info writes, minus its stack trace: from Python that trace is
    # the jsii kernel's, and the CDK CLI prints its top frame (".../lib/program.js:1:...") above
    # the note.
    return (
        f"{FIX_NOTE}{spec.setting} to {_show(spec.value, quote=False)} at {spec.override}"
        f" (was {_show(current)})"
    )


def _show(value: object, quote: bool = True) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if quote else str(value)
