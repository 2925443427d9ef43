"""``enforce(app, mode=...)``: the aspect on the app and on every Stage, plus the validation plugin."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, Imdsv2Aspect, register_plugin
from cdk_imds.cdk.enforcement.candidates import stage_layout
from cdk_imds.cdk.enforcement.config import Mode, resolve_settings

# The childless construct ``enforce`` hangs its aspect on; it synthesizes nothing.
ENFORCEMENT_ID = "CdkImdsEnforcement"


def enforce(
    app: cdk.Stage,
    mode: Mode | str | None = None,
    *,
    max_hop_limit: int | None = None,
    unverifiable_as_warning: bool | None = None,
) -> None:
    """Enforces IMDSv2 on everything ``app`` synthesizes, in one line.

    :param app: the App (a Stage works too: then only that Stage is covered).
    :param mode: as for ``Imdsv2Aspect``. Default: context ``cdk-imds:mode``, else FAIL.

    CDK does not apply an App's aspects inside Stages, so the aspect is also added to every Stage
    that exists now (found without visiting the stacks' content). Stages created after this call
    are not given the aspect: no hook runs before CDK synthesizes them (it does so before any of
    the app's aspects run), so call ``enforce_stage`` on them or use ``python -m cdk_imds.run``.
    The plugin on the app still judges their templates: in FAIL and FIX mode synthesis fails on
    their errors, in WARN mode they are in the validation report.
    """
    settings = resolve_settings(app, mode, max_hop_limit, unverifiable_as_warning)
    enforce_stage(
        app, settings.mode, settings.options.max_hop_limit, settings.options.unverifiable_as_warning
    )
    pending = list(stage_layout(app)[1])
    while pending:
        stage = pending.pop()
        enforce_stage(stage, settings.mode, max_hop_limit, unverifiable_as_warning)
        pending.extend(stage_layout(stage)[1])
    # Now, not at the first visit: an app without any stack still gets its plugin.
    register_plugin(app.node.root, settings.options, fail=settings.mode is not Mode.WARN)


def enforce_stage(
    stage: cdk.Stage,
    mode: Mode | str | None = None,
    max_hop_limit: int | None = None,
    unverifiable_as_warning: bool | None = None,
) -> None:
    """Adds an ``Imdsv2Aspect`` for ``stage`` at ``ASPECT_PRIORITY`` (no other Stage is covered).

    The aspect sits on one childless construct and sweeps the whole Stage from there, so CDK calls
    back into Python once instead of once per construct (bench/README.md, the aspect benchmark).
    """
    aspect = Imdsv2Aspect(mode, max_hop_limit, unverifiable_as_warning).sweep_from(stage)
    leaf = stage.node.try_find_child(ENFORCEMENT_ID) or Construct(stage, ENFORCEMENT_ID)
    cdk.Aspects.of(leaf).add(aspect, priority=ASPECT_PRIORITY)
