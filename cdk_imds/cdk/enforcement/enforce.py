"""``enforce(app, mode=...)``: the aspect on the app and on every Stage, plus the validation plugin."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_imds.cdk.enforcement.config import Mode, resolve_settings
from cdk_imds.cdk.enforcement.plugin import register_plugin
from cdk_imds.cdk.enforcement.stages import (
    ENFORCEMENT_ID,
    activate,
    cover,
    enforce_stage,
    mark_enforced,
    nested_stages,
)

__all__ = ["ENFORCEMENT_ID", "enforce", "enforce_stage"]


def enforce(
    app: cdk.Stage,
    mode: Mode | str | None = None,
    *,
    max_hop_limit: int | None = None,
    unverifiable_as_warning: bool | None = None,
) -> None:
    """Enforces IMDSv2 on everything ``app`` synthesizes, in one line, called anywhere in the script.

    :param app: the App (a Stage works too: then that Stage and the Stages in it are covered).
    :param mode: as for ``Imdsv2Aspect``. Default: context ``cdk-imds:mode``, else FAIL.

    CDK does not apply an App's aspects inside Stages, so every Stage gets an aspect of its own:
    those that exist now at once, those created later as they are created, and any left over when
    ``app.synth()`` starts (``stages.py``). The validation plugin judges every template the app's
    assembly deploys, and ``app.synth()`` exits non-zero on the errors it reports, whichever stacks
    the CDK CLI selected (``synthesis.py``).
    """
    settings = resolve_settings(app, mode, max_hop_limit, unverifiable_as_warning)
    options = settings.options
    enforce_stage(app, settings.mode, options.max_hop_limit, options.unverifiable_as_warning)
    root = app.node.root
    mark_enforced(app, settings)
    for stage in nested_stages(app):
        # Late: it may have been synthesized already (CDK Pipelines' add_stage does).
        cover(root, stage, settings, late=True)
    activate()
    # Now, not at the first visit: an app without any stack still gets its plugin.
    register_plugin(root, options, fail=settings.mode is not Mode.WARN)
