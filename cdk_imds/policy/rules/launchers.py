"""Resources that launch instances from templates: each must launch only from compliant ones."""

from __future__ import annotations

from collections.abc import Iterator

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.imds import OptionSet, option_sets
from cdk_imds.policy.model import Finding, RuleId
from cdk_imds.policy.references import launch_configuration, launch_template
from cdk_imds.policy.rules.common import launch_findings
from cdk_imds.policy.values import ABSENT, expand, lookup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_Seen = set[tuple[RuleId, str]]


def auto_scaling_group(context: ResourceContext) -> Iterator[Finding]:
    scope, properties = context.scope, context.properties
    seen: _Seen = set()
    noun = "Auto Scaling group"
    if "LaunchTemplate" in properties:
        launch = launch_template(properties["LaunchTemplate"], scope)
        yield from launch_findings(context, launch, ("LaunchTemplate",), noun, seen)
    if "LaunchConfigurationName" in properties:
        launch = launch_configuration(properties["LaunchConfigurationName"], scope)
        yield from launch_findings(context, launch, ("LaunchConfigurationName",), noun, seen)
    base = ("MixedInstancesPolicy", "LaunchTemplate")
    if "MixedInstancesPolicy" in properties:
        for spec in lookup(properties, (*base, "LaunchTemplateSpecification"), scope):
            if spec is not ABSENT:
                launch = launch_template(spec, scope)
                yield from launch_findings(
                    context, launch, (*base, "LaunchTemplateSpecification"), noun, seen
                )
        for index, override in _items(lookup(properties, (*base, "Overrides"), scope), scope):
            for spec in lookup(override, ("LaunchTemplateSpecification",), scope):
                if spec is not ABSENT:
                    path = (*base, "Overrides", index, "LaunchTemplateSpecification")
                    yield from launch_findings(context, launch_template(spec, scope), path, noun, seen)
    if "InstanceId" in properties and not {"LaunchTemplate", "LaunchConfigurationName"} & properties.keys():
        yield context.finding(
            RuleId.IMDSV2_UNVERIFIABLE,
            f"{noun} copies its launch settings from an instance; its IMDS setting cannot be verified.",
            "Launch the group from a launch template that requires IMDSv2.",
            context.path("InstanceId"),
        )


def ec2_fleet(context: ResourceContext) -> Iterator[Finding]:
    yield from _fleet_configs(context, ("LaunchTemplateConfigs",), "EC2 Fleet")


def spot_fleet(context: ResourceContext) -> Iterator[Finding]:
    config = ("SpotFleetRequestConfigData",)
    specifications = lookup(context.properties, (*config, "LaunchSpecifications"), context.scope)
    if any(isinstance(value, list) and value for value in specifications):
        yield context.finding(
            RuleId.IMDSV2_UNSUPPORTED,
            "Spot Fleet uses LaunchSpecifications, which cannot carry metadata options, so its "
            "instances may allow IMDSv1.",
            "Replace LaunchSpecifications with LaunchTemplateConfigs that reference a launch template "
            "requiring IMDSv2.",
            context.path(*config, "LaunchSpecifications"),
        )
    yield from _fleet_configs(context, (*config, "LaunchTemplateConfigs"), "Spot Fleet")


def eks_nodegroup(context: ResourceContext) -> Iterator[Finding]:
    spec = context.properties.get("LaunchTemplate")
    if spec is None:
        yield _service_default(context, "EKS node group", "LaunchTemplate")
        return
    launch = launch_template(spec, context.scope, id_key="Id", name_key="Name")
    yield from launch_findings(context, launch, ("LaunchTemplate",), "EKS node group", set())
    if not launch.specified:
        yield _service_default(context, "EKS node group", "LaunchTemplate")


def batch_compute_environment(context: ResourceContext) -> Iterator[Finding]:
    resources = context.properties.get("ComputeResources")
    if resources is None:
        return  # unmanaged: Batch launches no instances itself
    noun = "Batch compute environment"
    kinds = lookup(resources, ("Type",), context.scope)
    if kinds and all(isinstance(kind, str) and kind.upper().startswith("FARGATE") for kind in kinds):
        return
    base = ("ComputeResources", "LaunchTemplate")
    specs = lookup(resources, ("LaunchTemplate",), context.scope)
    if all(spec is ABSENT for spec in specs):
        yield _service_default(context, noun, *base)
        return
    if ABSENT in specs:
        yield _service_default(context, noun, *base)
    seen: _Seen = set()
    for spec in specs:
        if spec is ABSENT:
            continue
        yield from launch_findings(context, launch_template(spec, context.scope), base, noun, seen)
        for index, override in _items(lookup(spec, ("Overrides",), context.scope), context.scope):
            launch = launch_template(override, context.scope)
            yield from launch_findings(context, launch, (*base, "Overrides", index), noun, seen)


def _fleet_configs(context: ResourceContext, configs_path: tuple[str, ...], noun: str) -> Iterator[Finding]:
    seen: _Seen = set()
    scope = context.scope
    for index, config in _items(lookup(context.properties, configs_path, scope), scope):
        own = _override_options(config, context)
        for spec in lookup(config, ("LaunchTemplateSpecification",), scope):
            if spec is ABSENT:
                continue
            path: tuple[str | int, ...] = (*configs_path, index, "LaunchTemplateSpecification")
            yield from launch_findings(
                context, launch_template(spec, scope), path, noun, seen, own_overrides=own
            )


def _override_options(config: Any, context: ResourceContext) -> list[OptionSet] | None:
    """Each override is an alternative way to launch; one without MetadataOptions uses the template's."""
    overrides = [
        override for _, override in _items(lookup(config, ("Overrides",), context.scope), context.scope)
    ]
    if not any(type(override) is dict and "MetadataOptions" in override for override in overrides):
        return None
    sets: list[OptionSet] = []
    for override in overrides:
        sets.extend(option_sets(lookup(override, ("MetadataOptions",), context.scope), context.scope))
    return sets


def _items(candidates: list[Any], scope: Any) -> Iterator[tuple[int, Any]]:
    """Elements of every list candidate, each expanded, with its index for the property path."""
    for candidate in candidates:
        if isinstance(candidate, list):
            for index, item in enumerate(candidate):
                for value in expand(item, scope):
                    # An unknown entry may name any template: passed on so it is reported, not skipped.
                    if value is not ABSENT:
                        yield index, value


def _service_default(context: ResourceContext, noun: str, *path: str) -> Finding:
    # The service launches from a launch template of its own, which nothing in this template
    # constrains (EKS's allows IMDSv1 with a hop limit of 2 for pods): the same verdict as a launch
    # template without MetadataOptions.
    return context.finding(
        RuleId.IMDSV2_REQUIRED,
        f"{noun} has no launch template, so instances launch from the service's default launch "
        "template, which may allow IMDSv1.",
        "Give it a launch template that requires IMDSv2 (in CDK: cdk_imds.SecureLaunchTemplate)"
        + _service_default_hint(context),
        context.path(*path),
    )


def _service_default_hint(context: ResourceContext) -> str:
    if context.type == "AWS::EKS::Nodegroup":
        moves = {
            "DiskSize": "DiskSize (as a block device mapping)",
            "RemoteAccess": "RemoteAccess (as a key pair and security groups)",
        }
        blocked = [move for key, move in moves.items() if key in context.properties]
        if blocked:
            # EKS refuses a launch template next to either: they move into the template.
            return (
                f"; move {' and '.join(blocked)} into it, since EKS rejects them next to a launch template."
            )
    return "."
