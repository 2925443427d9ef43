"""Which constructs the policy engine judges, found with Python type checks and no jsii round trips.

A Python aspect pays a Node.js round trip for every attribute it reads, so the type of a construct
is looked up once per class (``CFN_RESOURCE_TYPE_NAME`` is itself a jsii call) and cached. Only a
bare ``cdk.CfnResource`` has to be asked for its type, one call per instance.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_appstream as appstream
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_imagebuilder as imagebuilder
from aws_cdk import aws_sagemaker as sagemaker
from constructs import IConstruct

from cdk_imds.policy.rules import CANDIDATE_TYPES

_BARE = "<ask the instance>"
_TYPE_CACHE: dict[type, str | None] = {}


def candidate_type(node: IConstruct) -> str | None:
    """The CloudFormation type of ``node`` if the engine judges it, else None."""
    cls = type(node)
    cached = _TYPE_CACHE[cls] if cls in _TYPE_CACHE else _classify(cls)
    if cached == _BARE:
        assert isinstance(node, cdk.CfnResource)
        cached = node.cfn_resource_type
    return cached if cached in CANDIDATE_TYPES else None


def _classify(cls: type) -> str | None:
    result: str | None
    if not issubclass(cls, cdk.CfnResource):
        result = None
    elif cls is cdk.CfnResource:
        result = _BARE
    else:
        name = getattr(cls, "CFN_RESOURCE_TYPE_NAME", None)
        result = name if isinstance(name, str) else _BARE
    _TYPE_CACHE[cls] = result
    return result


def candidates(nodes: Iterable[IConstruct]) -> Iterator[tuple[cdk.CfnResource, str]]:
    for node in nodes:
        resource_type = candidate_type(node)
        if resource_type is not None:
            assert isinstance(node, cdk.CfnResource)
            yield node, resource_type


@dataclass(frozen=True)
class FixSpec:
    """Where a resource keeps its IMDSv2 switch (L1 attribute path, override path) and its secure value."""

    attributes: tuple[str, ...]
    override: str
    value: str | bool = "required"

    @property
    def setting(self) -> str:
        """The switch's name as CloudFormation spells it, e.g. ``HttpTokens``."""
        return self.override.rsplit(".", 1)[-1]


# Resources with one switch that makes them IMDSv2-only. The others the engine judges (EMR and
# Beanstalk, whose settings live in release labels and option lists; Spot Fleet launch
# specifications; launchers, fixed through their launch templates) are left to the validation
# plugin, which fails synthesis on them.
FIXABLE: dict[str, FixSpec] = {
    ec2.CfnLaunchTemplate.CFN_RESOURCE_TYPE_NAME: FixSpec(
        ("launch_template_data", "metadata_options", "http_tokens"),
        "LaunchTemplateData.MetadataOptions.HttpTokens",
    ),
    autoscaling.CfnLaunchConfiguration.CFN_RESOURCE_TYPE_NAME: FixSpec(
        ("metadata_options", "http_tokens"), "MetadataOptions.HttpTokens"
    ),
    ec2.CfnInstance.CFN_RESOURCE_TYPE_NAME: FixSpec(
        ("metadata_options", "http_tokens"), "MetadataOptions.HttpTokens"
    ),
    imagebuilder.CfnInfrastructureConfiguration.CFN_RESOURCE_TYPE_NAME: FixSpec(
        ("instance_metadata_options", "http_tokens"), "InstanceMetadataOptions.HttpTokens"
    ),
    sagemaker.CfnNotebookInstance.CFN_RESOURCE_TYPE_NAME: FixSpec(
        ("instance_metadata_service_configuration", "minimum_instance_metadata_service_version"),
        "InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion",
        "2",
    ),
    appstream.CfnFleet.CFN_RESOURCE_TYPE_NAME: FixSpec(("disable_imdsv1",), "DisableIMDSV1", True),
    appstream.CfnImageBuilder.CFN_RESOURCE_TYPE_NAME: FixSpec(("disable_imdsv1",), "DisableIMDSV1", True),
}


class Opaque:
    """A value on the way to HttpTokens that is only known at deploy time (a token)."""

    def __repr__(self) -> str:
        return "<deploy-time value>"


OPAQUE = Opaque()
HIDDEN = object()  # a bare CfnResource: its properties cannot be read back from Python


def visible_tokens(node: cdk.CfnResource, spec: FixSpec) -> Any:
    """The switch as the construct's properties say (escape-hatch overrides are not visible here).

    Returns the string, None when absent on the way, OPAQUE for a token, HIDDEN for a bare
    CfnResource.
    """
    if type(node) is cdk.CfnResource:
        return HIDDEN
    value: Any = node
    for attribute in spec.attributes:
        if value is None:
            return None
        # A struct exposes the attribute; a token in its place (an IResolvable proxy) does not.
        value = getattr(value, attribute, OPAQUE)
        if value is OPAQUE:
            return OPAQUE
    if isinstance(value, str) and cdk.Token.is_unresolved(value):
        return OPAQUE
    return value
