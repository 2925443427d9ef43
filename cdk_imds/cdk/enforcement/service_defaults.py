"""FIX for capacity that launches from a service's default launch template (Batch, EKS).

A managed EC2/Spot Batch compute environment or an EKS managed node group without a launch template
launches from one the service makes, which may allow IMDSv1 (the engine's verdict: an error).
There is no switch to override, so FIX attaches a minimal launch template of its own that requires
IMDSv2 and nothing else (no AMI, no hop limit: the service keeps choosing those), and notes that
the change reaches running capacity only by replacing it.

EKS rejects a launch template next to ``DiskSize`` or ``RemoteAccess``; such a node group is left
alone, and the plugin's error says to move them into a launch template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_ec2 as ec2

from cdk_imds.cdk.enforcement.candidates import INFO_METADATA, OPAQUE, Inspected, raw_properties

TEMPLATE_SUFFIX = "Imdsv2LaunchTemplate"

BATCH = "AWS::Batch::ComputeEnvironment"
NODEGROUP = "AWS::EKS::Nodegroup"


def attach(node: cdk.CfnResource, resource_type: str, inspected: Inspected) -> None:
    """Gives ``node`` an IMDSv2-only launch template if it launches from the service default.

    Done once per resource (it adds a construct); a resource whose properties are deploy-time
    values is left to the plugin, which reports it.
    """
    path = node.node.path
    if path in inspected:
        return
    properties = raw_properties(node)
    handler = _HANDLERS[resource_type]
    attached = inspected[path] = properties is not OPAQUE and handler(node, properties)
    if attached:
        inspected.changed += 1
        inspected.replacing.append(path)


def _batch(node: cdk.CfnResource, properties: Any) -> bool:
    resources = _get(properties, "computeResources", "ComputeResources")
    if not isinstance(properties, Mapping) or not isinstance(resources, Mapping):
        return False  # unmanaged (launches nothing), or a token the plugin reports
    kind = _get(resources, "type", "Type")
    if not isinstance(kind, str) or kind.upper() not in ("EC2", "SPOT"):
        return False  # Fargate capacity is not EC2; a token is left to the plugin
    if _get(resources, "launchTemplate", "LaunchTemplate") is not None:
        return False  # launches from a template, which is judged and fixed itself
    template = _template(node)
    node.add_property_override(
        "ComputeResources.LaunchTemplate",
        {"LaunchTemplateId": template.ref, "Version": template.attr_latest_version_number},
    )
    _note(
        node,
        template,
        "ComputeResources.LaunchTemplate",
        "Batch applies it with an infrastructure update that replaces the environment's instances; "
        "an environment whose allocation strategy is BEST_FIT cannot be updated so and is replaced",
    )
    return True


def _nodegroup(node: cdk.CfnResource, properties: Any) -> bool:
    if (
        not isinstance(properties, Mapping)
        or _get(properties, "launchTemplate", "LaunchTemplate") is not None
    ):
        return False
    if any(
        _get(properties, *names) is not None
        for names in (("diskSize", "DiskSize"), ("remoteAccess", "RemoteAccess"))
    ):
        return False  # EKS rejects a launch template next to these: the plugin's error says so
    template = _template(node)
    node.add_property_override(
        "LaunchTemplate", {"Id": template.ref, "Version": template.attr_latest_version_number}
    )
    _note(
        node,
        template,
        "LaunchTemplate",
        "EKS gives a node group a launch template only when it is created, so an existing node "
        "group is replaced",
    )
    return True


_HANDLERS: dict[str, Callable[[cdk.CfnResource, Any], bool]] = {BATCH: _batch, NODEGROUP: _nodegroup}
ATTACHABLE = frozenset(_HANDLERS)


def _template(node: cdk.CfnResource) -> ec2.CfnLaunchTemplate:
    # Imported here: only an app that has such capacity pays for loading aws_ec2.
    from aws_cdk import aws_ec2 as ec2

    scope = node.node.scope
    assert isinstance(scope, Construct)  # a resource always has one
    name = f"{node.node.id}{TEMPLATE_SUFFIX}"
    existing = scope.node.try_find_child(name)
    if isinstance(existing, ec2.CfnLaunchTemplate):
        return existing
    return ec2.CfnLaunchTemplate(
        scope,
        name,
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens="required")
        ),
    )


def _note(node: cdk.CfnResource, template: ec2.CfnLaunchTemplate, at: str, replaces: str) -> None:
    node.node.add_metadata(
        INFO_METADATA,
        f"cdk-imds: attached launch template {template.node.path} (HttpTokens required) at {at} "
        f"(was: no launch template, so the service's default, which may allow IMDSv1). On deploy, {replaces}.",
    )


def _get(mapping: Any, *names: str) -> Any:
    """A property under its jsii name (typed L1) or its CloudFormation name (bare CfnResource)."""
    if not isinstance(mapping, Mapping):
        return None
    for name in names:
        if name in mapping:
            return mapping[name]
    return None
