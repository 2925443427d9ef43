"""How a group names what it launches, as UpdateAutoScalingGroup takes it back. Pure.

A described group carries one of LaunchTemplate, MixedInstancesPolicy or LaunchConfigurationName.
Remediation sends the same thing back with only versions changed, so overrides (with their own
launch templates), weights and the instances distribution stay as they were.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

DEFAULT = "$Default"

# (template key as LaunchRef.key spells it, version as the group names it) -> new version number.
Replacements = Mapping[tuple[str, str], int]


def for_update(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The described launch spec as UpdateAutoScalingGroup arguments.

    Described template specifications carry both id and name; the update refuses both, so only
    the id is kept (or the name, when that is all there is).
    """
    if spec.get("LaunchTemplate"):
        return {"LaunchTemplate": _template(spec["LaunchTemplate"])}
    if spec.get("MixedInstancesPolicy"):
        policy = copy.deepcopy(dict(spec["MixedInstancesPolicy"]))
        for holder in _holders(policy):
            holder["LaunchTemplateSpecification"] = _template(holder["LaunchTemplateSpecification"])
        return {"MixedInstancesPolicy": policy}
    if spec.get("LaunchConfigurationName"):
        return {"LaunchConfigurationName": spec["LaunchConfigurationName"]}
    return {}


def with_versions(update: Mapping[str, Any], replacements: Replacements) -> dict[str, Any]:
    """``update`` (from :func:`for_update`) with every template specification that launches a
    replaced version pointed at its new number instead."""
    result = copy.deepcopy(dict(update))
    if "LaunchTemplate" in result:
        _replace(result["LaunchTemplate"], replacements)
    for holder in _holders(result.get("MixedInstancesPolicy") or {}):
        _replace(holder["LaunchTemplateSpecification"], replacements)
    return result


def template_key(spec: Mapping[str, Any]) -> str:
    """The key ``inventory.LaunchRef.key`` gives the same template specification."""
    return str(spec.get("LaunchTemplateId") or f"name:{spec.get('LaunchTemplateName')}")


def _replace(spec: dict[str, Any], replacements: Replacements) -> None:
    new = replacements.get((template_key(spec), str(spec.get("Version") or DEFAULT)))
    if new is not None:
        spec["Version"] = str(new)


def _holders(policy: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The dicts of a mixed instances policy that hold a LaunchTemplateSpecification."""
    launch = policy.get("LaunchTemplate") or {}
    if launch.get("LaunchTemplateSpecification"):
        yield launch
    for override in launch.get("Overrides") or []:
        if override.get("LaunchTemplateSpecification"):
            yield override


def _template(spec: Mapping[str, Any]) -> dict[str, Any]:
    named = (
        {"LaunchTemplateId": spec["LaunchTemplateId"]}
        if spec.get("LaunchTemplateId")
        else {"LaunchTemplateName": spec["LaunchTemplateName"]}
    )
    if spec.get("Version"):
        named["Version"] = str(spec["Version"])
    return named
