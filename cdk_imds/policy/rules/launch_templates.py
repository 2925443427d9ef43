"""Launch templates and launch configurations: the resources that hold metadata options."""

from __future__ import annotations

from collections.abc import Iterator

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.imds import resource_options
from cdk_imds.policy.model import Finding
from cdk_imds.policy.rules.common import CDK_TEMPLATE_HINT, options_findings

_TEMPLATE_OPTIONS = ("LaunchTemplateData", "MetadataOptions")
_CONFIGURATION_OPTIONS = ("MetadataOptions",)


def launch_template(context: ResourceContext) -> Iterator[Finding]:
    sets = resource_options(context.scope, context.logical_id, _TEMPLATE_OPTIONS)
    yield from options_findings(
        context,
        sets,
        _TEMPLATE_OPTIONS,
        "Launch template",
        f"Set LaunchTemplateData.MetadataOptions.HttpTokens to 'required' ({CDK_TEMPLATE_HINT}).",
    )


def launch_configuration(context: ResourceContext) -> Iterator[Finding]:
    sets = resource_options(context.scope, context.logical_id, _CONFIGURATION_OPTIONS)
    yield from options_findings(
        context,
        sets,
        _CONFIGURATION_OPTIONS,
        "Launch configuration",
        "Set MetadataOptions.HttpTokens to 'required', or better, move the group to a launch template "
        "(in CDK: cdk_imds.SecureAutoScalingGroup).",
    )
