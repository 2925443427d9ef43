"""A launch configuration turned into equivalent LaunchTemplateData, with HttpTokens "required".

Pure: from a DescribeLaunchConfigurations entry to the data of CreateLaunchTemplate. Launch
configurations cannot be changed, so a group launching one is moved to a launch template instead.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdk_imds.policy.imds import TOKENS

TEMPLATE_PREFIX = "cdk-imds-"
# CreateLaunchTemplate: 3 to 128 characters of [a-zA-Z0-9().\-/_].
_NAME_MAX = 128
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9().\-/_]")
_HASH_LENGTH = 10

# Fields with the same name and shape in both APIs.
_SAME = ("ImageId", "InstanceType", "KeyName", "KernelId", "RamdiskId", "EbsOptimized")
# EC2-Classic is retired; launch templates have no equivalent of these.
_DROPPED = ("ClassicLinkVPCId", "ClassicLinkVPCSecurityGroups")


@dataclass(frozen=True)
class Conversion:
    data: dict[str, Any] = field(repr=False)
    # Launch configuration fields with no launch template equivalent, by name (never their values).
    dropped: tuple[str, ...] = ()


def template_name(launch_configuration: str) -> str:
    """The launch template made for a launch configuration, named so that a rerun finds it.

    Names that had to be cut or cleaned get a hash of the whole name, so two launch
    configurations never map to one template.
    """
    cleaned = _NOT_ALLOWED.sub("-", launch_configuration)
    name = TEMPLATE_PREFIX + cleaned
    if cleaned == launch_configuration and len(name) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(launch_configuration.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{name[: _NAME_MAX - _HASH_LENGTH - 1]}-{digest}"


def template_data(launch_configuration: Mapping[str, Any]) -> Conversion:
    lc = launch_configuration
    data: dict[str, Any] = {key: lc[key] for key in _SAME if _present(lc.get(key))}
    if _present(lc.get("UserData")):
        # DescribeLaunchConfigurations returns user data base64-encoded, as launch templates take it.
        data["UserData"] = lc["UserData"]
    _security_groups(lc, data)
    mappings = [_block_device(mapping) for mapping in lc.get("BlockDeviceMappings") or []]
    if mappings:
        data["BlockDeviceMappings"] = mappings
    profile = lc.get("IamInstanceProfile")
    if _present(profile):
        data["IamInstanceProfile"] = {"Arn" if str(profile).startswith("arn:") else "Name": profile}
    if "InstanceMonitoring" in lc:
        data["Monitoring"] = {"Enabled": bool(lc["InstanceMonitoring"].get("Enabled", True))}
    if _present(lc.get("SpotPrice")):
        # One-time spot requests are the only kind Auto Scaling accepts from a launch template.
        data["InstanceMarketOptions"] = {
            "MarketType": "spot",
            "SpotOptions": {"MaxPrice": str(lc["SpotPrice"]), "SpotInstanceType": "one-time"},
        }
    if _present(lc.get("PlacementTenancy")):
        data["Placement"] = {"Tenancy": lc["PlacementTenancy"]}
    data["MetadataOptions"] = required_options(lc.get("MetadataOptions"))
    dropped = tuple(key for key in _DROPPED if _present(lc.get(key)))
    return Conversion(data, dropped)


def required_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The same metadata options with HttpTokens "required"; hop limit, endpoint and the rest kept."""
    kept = dict(copy.deepcopy(dict(options or {})))
    kept[TOKENS] = "required"
    return kept


def _security_groups(lc: Mapping[str, Any], data: dict[str, Any]) -> None:
    groups = list(lc.get("SecurityGroups") or [])
    public_ip = lc.get("AssociatePublicIpAddress")
    if public_ip is not None:
        # A launch template sets a public address on a network interface only, and security groups
        # then go on that interface too (EC2 refuses them in both places).
        interface: dict[str, Any] = {
            "DeviceIndex": 0,
            "AssociatePublicIpAddress": bool(public_ip),
            "DeleteOnTermination": True,
        }
        if groups:
            interface["Groups"] = groups
        data["NetworkInterfaces"] = [interface]
        return
    ids = [group for group in groups if group.startswith("sg-")]
    names = [group for group in groups if not group.startswith("sg-")]
    if ids:
        data["SecurityGroupIds"] = ids
    if names:
        # Names are what EC2-Classic and default-VPC launch configurations carry.
        data["SecurityGroups"] = names


def _block_device(mapping: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"DeviceName": mapping["DeviceName"]}
    if _present(mapping.get("VirtualName")):
        converted["VirtualName"] = mapping["VirtualName"]
    if mapping.get("NoDevice") is True:
        # A boolean in launch configurations, a string in launch templates (the empty string
        # suppresses the device).
        converted["NoDevice"] = ""
        return converted
    ebs = {key: value for key, value in (mapping.get("Ebs") or {}).items() if value is not None}
    if ebs:
        converted["Ebs"] = ebs
    return converted


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []
