"""Every Stage of an enforced app gets the aspect, whenever and wherever it was created.

CDK applies an App's aspects to the App's own stacks only: a Stage (under the App, under a
pipeline's stack, inside another Stage) is synthesized by itself, before any of the App's aspects
run, and CDK Pipelines' ``add_stage`` synthesizes it on the spot. So coverage happens at two
moments, both in Python:

- when a Stage is created (``Stage.__init__`` patched once enforcement is first used): a Stage
  whose App is enforced gets ``enforce_stage`` before anything can synthesize it;
- when ``app.synth()`` starts (``cdk_imds.cdk.enforcement.synthesis``): every Stage not yet
  covered (created before ``enforce`` was called, or before the one-line aspect was added) is
  covered then and re-synthesized with ``force=True``, innermost first, because it may already
  have been synthesized (``add_stage``) and CDK refuses a synthesized tree that changed.
"""

from __future__ import annotations

import weakref
from typing import Any

import aws_cdk as cdk
from constructs import Construct, IConstruct

from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, Imdsv2Aspect
from cdk_imds.cdk.enforcement.candidates import identity
from cdk_imds.cdk.enforcement.config import Mode, Settings
from cdk_imds.cdk.enforcement.javascript import Bulk
from cdk_imds.cdk.enforcement.patching import Method, wrap_once

# Of two requests for one app, the stronger wins: a report-only one never weakens a failing one,
# and FIX (which fixes, then fails on what is left) comes before FAIL.
_STRENGTH = {Mode.WARN: 0, Mode.FAIL: 1, Mode.FIX: 2}
# Per app: the settings every Stage of it is enforced with (the strongest ones asked for).
_ENFORCED: weakref.WeakKeyDictionary[IConstruct, Settings] = weakref.WeakKeyDictionary()
# Per app: the Stages (jsii ids) that have their aspect, and whether it came after their creation.
_COVERED: weakref.WeakKeyDictionary[IConstruct, dict[str, bool]] = weakref.WeakKeyDictionary()


def enforced_settings(app: IConstruct) -> Settings | None:
    return _ENFORCED.get(app)


def mark_enforced(app: IConstruct, settings: Settings) -> None:
    """Records that every Stage of ``app`` is to be enforced with ``settings``.

    Called more than once (``enforce`` and an aspect, or two aspects), FAIL and FIX win over WARN:
    a report-only request never weakens a failing one.
    """
    current = _ENFORCED.get(app)
    if current is None or _STRENGTH[settings.mode] > _STRENGTH[current.mode]:
        _ENFORCED[app] = settings


def covered(app: IConstruct, stage: cdk.Stage, *, late: bool) -> bool:
    """True the first time ``stage`` is seen for ``app`` (record it), False afterwards."""
    seen = _COVERED.setdefault(app, {})
    key = identity(stage)
    if key in seen:
        return False
    seen[key] = late
    return True


def nested_stages(app: cdk.Stage) -> list[cdk.Stage]:
    """Every Stage below ``app``, wherever it sits (under stacks too), innermost first.

    One jsii call that walks the tree in JavaScript and returns the Stages only (``find_all`` from
    Python brought every construct of the app across, about 50 ms for 1,200 of them); its
    pre-order reversed puts every Stage after the Stages it contains.
    """
    return Bulk.stages(app)


# A childless construct ``enforce_stage`` adds to each Stage it covers; it synthesizes nothing.
ENFORCEMENT_ID = "CdkImdsEnforcement"


def enforce_stage(
    stage: cdk.Stage,
    mode: Mode | str | None = None,
    max_hop_limit: int | None = None,
    unverifiable_as_warning: bool | None = None,
) -> None:
    """Adds an ``Imdsv2Aspect`` to ``stage`` at ``ASPECT_PRIORITY`` (no other Stage is covered).

    The aspect's visits run in JavaScript (``javascript/index.js``): the first one calls Python to
    sweep the Stage, and each visit applies the fix after that construct's other aspects, so
    visiting every construct costs next to nothing (bench/README.md, the aspect benchmark).

    A Stage that already has it is left as it is: the marker construct ``ENFORCEMENT_ID`` says
    so. It also changes the Stage's construct paths, which ``Stage.synth`` compares to decide
    whether an assembly it synthesized before may be reused: a Stage covered after its first
    synthesis is never silently reused without its aspect.
    """
    if stage.node.try_find_child(ENFORCEMENT_ID) is not None:
        return
    Construct(stage, ENFORCEMENT_ID)
    aspect = Imdsv2Aspect(mode, max_hop_limit, unverifiable_as_warning)
    cdk.Aspects.of(stage).add(aspect, priority=ASPECT_PRIORITY)


def cover(app: IConstruct, stage: cdk.Stage, settings: Settings, *, late: bool) -> bool:
    """Enforces ``settings`` on ``stage`` once; True if it was covered now."""
    if not covered(app, stage, late=late):
        return False
    options = settings.options
    enforce_stage(stage, settings.mode, options.max_hop_limit, options.unverifiable_as_warning)
    return True


def cover_all(app: cdk.App, settings: Settings) -> None:
    """Covers every Stage of ``app`` not covered yet; re-synthesizes the late ones, innermost first.

    A Stage covered after its creation may already have been synthesized (CDK Pipelines'
    ``add_stage`` does so on the spot): its assembly is then stale, and CDK would refuse the next
    synthesis of a tree that changed since. ``force=True`` rewrites it with the aspect applied.
    """
    seen = _COVERED.setdefault(app, {})
    for stage in nested_stages(app):
        cover(app, stage, settings, late=True)
        key = identity(stage)
        if seen.get(key):
            stage.synth(force=True)
            seen[key] = False


def settings_for(app: IConstruct) -> Settings | None:
    """What ``app``'s Stages are enforced with: ``enforce``'s settings, else an aspect's on the App."""
    settings = enforced_settings(app)
    if settings is not None:
        return settings
    aspects = [aspect for aspect in cdk.Aspects.of(app).all if isinstance(aspect, Imdsv2Aspect)]
    if not aspects:
        return None
    strongest = max((aspect.resolve(app) for aspect in aspects), key=lambda chosen: _STRENGTH[chosen.mode])
    mark_enforced(app, strongest)
    return strongest


def _on_stage_created(stage: cdk.Stage) -> None:
    # The nearest enclosing Stage that ``enforce`` was called on decides; else an aspect on the App.
    # (One jsii call: the scopes from the root down to the new Stage.)
    scopes = stage.node.scopes
    app = scopes[0]
    for scope in reversed(scopes[:-1]):
        settings = enforced_settings(scope)
        if settings is not None:
            cover(app, stage, settings, late=False)
            return
    settings = settings_for(app)
    if settings is not None:
        cover(app, stage, settings, late=False)


def activate() -> None:
    """Installs the two moments of coverage (idempotent): Stage creation and ``app.synth()``."""
    from cdk_imds.cdk.enforcement.synthesis import install

    _patch_stage_init()
    install()


def _patch_stage_init() -> None:
    def wrapper(original: Method) -> Method:
        def __init__(self: cdk.Stage, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            # An App is created through its own __init__; only a Stage proper is covered here.
            if not isinstance(self, cdk.App):
                _on_stage_created(self)

        return __init__

    wrap_once(cdk.Stage, "__init__", wrapper)
