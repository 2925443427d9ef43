"""Which constructs FIX changes and where their switch lives, decided without jsii round trips.

A Python aspect pays a Node.js round trip (0.3 to 0.6 ms) for every attribute it reads and every
method it calls, so what is here is shaped by counting them:

- the sweep (``javascript/index.js``) finds the candidates and reads their switches in JavaScript,
  from the types and paths given here (``FIXABLE``); Python gets plain rows back;
- the type of a resource handed to Python as an object (one launching from a service default,
  ``service_defaults.py``) is decided once per class and cached. Deciding it needs no round trip
  unless the class is named like a candidate's L1 (``CFN_RESOURCE_TYPE_NAME`` is itself a jsii
  call); only a bare ``cdk.CfnResource`` has to be asked for its type, once per instance;
- such a resource's properties are read from ``_cfn_properties``, which jsii returns by value in
  one round trip; the typed getters (``launch_template_data``) return a struct by reference, which
  the Python runtime then reads one field at a time (about 40 round trips for an L2's resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from cdk_imds.policy.rules import CANDIDATE_TYPES
from cdk_imds.record import Record

_BARE = "<ask the instance>"
_TYPE_CACHE: dict[type, str | None] = {}
# The L1 class names of the candidate types ("AWS::EC2::LaunchTemplate" -> "CfnLaunchTemplate"):
# an L1 class named otherwise is not a candidate, which its jsii type name (a Python constant)
# tells without asking the kernel for its CloudFormation type.
_CANDIDATE_CLASS_NAMES = frozenset("Cfn" + name.rsplit("::", 1)[-1] for name in CANDIDATE_TYPES)


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
    elif str(getattr(cls, "__jsii_type__", "")).rsplit(".", 1)[-1] not in _CANDIDATE_CLASS_NAMES:
        result = None
    else:
        name = getattr(cls, "CFN_RESOURCE_TYPE_NAME", None)
        result = name if isinstance(name, str) else _BARE
    _TYPE_CACHE[cls] = result
    return result


def identity(node: IConstruct) -> str:
    """The jsii kernel's id of the JavaScript object behind ``node``, read without a round trip.

    Python proxies of constructs created in JavaScript (an L2's resource, a ``CfnInclude``) are new
    objects each time they cross, so they cannot be compared or used as keys; ``node.node.path``
    could, but costs a round trip (about 0.6 ms).
    """
    return str(node.__jsii_ref__.ref)  # type: ignore[attr-defined]


class FixSpec(Record):
    """Where a resource keeps its IMDSv2 switch, and the switch's secure value.

    ``override`` is the CloudFormation path (for ``add_property_override`` and a bare
    ``CfnResource``'s properties); ``properties`` is the same path as a typed L1 keeps it in
    ``_cfn_properties`` (jsii names).
    """

    __slots__ = ("override", "properties", "value")

    def __init__(self, override: str, properties: tuple[str, ...], value: str | bool = "required") -> None:
        self.override = override
        self.properties = properties
        self.value = value

    @property
    def setting(self) -> str:
        """The switch's name as CloudFormation spells it, e.g. ``HttpTokens``."""
        return self.override.rsplit(".", 1)[-1]


# Resources with one switch that makes them IMDSv2-only, by CloudFormation type: literal names,
# since importing the aws_cdk modules that define them costs tens of milliseconds each (a test
# checks each name against its L1 class). The others the engine judges (EMR and
# Beanstalk, whose settings live in release labels and option lists; Spot Fleet launch
# specifications; launchers, fixed through their launch templates) are left to the validation
# plugin, which fails synthesis on them.
FIXABLE: dict[str, FixSpec] = {
    "AWS::EC2::LaunchTemplate": FixSpec(
        "LaunchTemplateData.MetadataOptions.HttpTokens",
        ("launchTemplateData", "metadataOptions", "httpTokens"),
    ),
    "AWS::AutoScaling::LaunchConfiguration": FixSpec(
        "MetadataOptions.HttpTokens", ("metadataOptions", "httpTokens")
    ),
    "AWS::EC2::Instance": FixSpec("MetadataOptions.HttpTokens", ("metadataOptions", "httpTokens")),
    "AWS::ImageBuilder::InfrastructureConfiguration": FixSpec(
        "InstanceMetadataOptions.HttpTokens", ("instanceMetadataOptions", "httpTokens")
    ),
    "AWS::SageMaker::NotebookInstance": FixSpec(
        "InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion",
        ("instanceMetadataServiceConfiguration", "minimumInstanceMetadataServiceVersion"),
        "2",
    ),
    "AWS::AppStream::Fleet": FixSpec("DisableIMDSV1", ("disableImdsv1",), True),
    "AWS::AppStream::ImageBuilder": FixSpec("DisableIMDSV1", ("disableImdsv1",), True),
}


# The metadata type of an info annotation (cloud assembly schema: ArtifactMetadataEntryType.INFO),
# which FIX's notes are written as.
INFO_METADATA = "aws:cdk:info"


class Inspected(dict[str, bool]):
    """Per app: resource (construct path) -> fixable, for every resource FIX has looked at; and
    what FIX changed, for the one line ``app.synth()`` prints (the CLI shows the per-construct notes
    of the stacks it selected only)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = 0
        self.replacing: list[str] = []


class Opaque:
    """A value on the way to HttpTokens that is only known at deploy time (a token)."""

    def __repr__(self) -> str:
        return "<deploy-time value>"


OPAQUE = Opaque()


def raw_properties(node: cdk.CfnResource) -> Any:
    """The resource's properties as its constructor got them, in one round trip; OPAQUE for a token."""
    properties = node._cfn_properties
    return properties if isinstance(properties, Mapping) else OPAQUE
