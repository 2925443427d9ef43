"""EC2 instances: their own metadata options win over their launch template's, field by field."""

from __future__ import annotations

from collections.abc import Iterator

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.imds import NOT_SET, OptionSet, merged, resource_options
from cdk_imds.policy.model import Finding, RuleId
from cdk_imds.policy.references import Launch, launch_template
from cdk_imds.policy.rules.common import hop_limit_findings, launch_findings, verdict_findings
from cdk_imds.policy.values import ABSENT

_OWN_OPTIONS = ("MetadataOptions",)
_FIX = (
    "Set MetadataOptions.HttpTokens to 'required' on the instance or its launch template "
    "(in CDK: ec2.Instance(require_imdsv2=True))."
)


def instance(context: ResourceContext) -> Iterator[Finding]:
    own = resource_options(context.scope, context.logical_id, _OWN_OPTIONS)
    spec = context.properties.get("LaunchTemplate")
    if spec is None:
        yield from verdict_findings(context, own, _OWN_OPTIONS, "Instance", _FIX)
    else:
        launch = launch_template(spec, context.scope)
        if _sets_tokens_itself(own):
            # The template can still contribute HttpEndpoint, but the instance's own HttpTokens
            # decides, so the instance is the one at fault.
            bases = _template_options(launch)
            context.scope.charge(len(own) * len(bases))
            sets = [merged(mine, base) for mine in own for base in bases]
            yield from verdict_findings(context, sets, _OWN_OPTIONS, "Instance", _FIX)
        else:
            seen: set[tuple[RuleId, str]] = set()
            yield from launch_findings(
                context, launch, ("LaunchTemplate",), "Instance", seen, own_overrides=own
            )
            if not launch.specified:
                yield from verdict_findings(context, own, _OWN_OPTIONS, "Instance", _FIX)
    yield from hop_limit_findings(context, own, _OWN_OPTIONS, "Instance")


def _template_options(launch: Launch) -> list[OptionSet]:
    """What the template side can contribute; no template at all contributes nothing."""
    bases = [base for target in launch.distinct_targets() for base in target.options()]
    bases += [OptionSet((unknown,), (unknown,), (unknown,)) for unknown in launch.unknowns]
    if not launch.specified:
        bases.append(NOT_SET)
    return bases


def _sets_tokens_itself(own: list[OptionSet]) -> bool:
    return all(ABSENT not in option_set.tokens for option_set in own)
