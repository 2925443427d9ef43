"""Remediation plans (dry run): what ``remediate`` would change, computed from an inventory.

Pure: no AWS calls. A plan never changes anything by itself; applying it is a separate step (not
built yet). Launch template groups only: each launch template version at fault gets one new version
(shared by every group launching it) that repeats the whole LaunchTemplateData with HttpTokens
"required", and each group keeps pointing the way it did ($Latest, $Default, or a pinned number).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cdk_imds.aws.inventory import DEFAULT, LATEST, Group, LaunchRef, RegionInventory, TemplateVersion
from cdk_imds.policy.imds import TOKENS, judge_live_options

if TYPE_CHECKING:
    from cdk_imds.aws.account import AccountScan

NEW_VERSION = "new version"


@dataclass(frozen=True)
class NewVersion:
    """A launch template version to create from ``source_version``; ``make_default`` when a group
    launches ``$Default`` (the new version must become the default for it to launch it)."""

    region: str
    template_id: str
    source_version: int
    data: dict[str, Any] = field(repr=False, compare=False)
    make_default: bool = False

    def describe(self) -> str:
        default = ", made the default version" if self.make_default else ""
        return f"{self.template_id}: new version from version {self.source_version} with HttpTokens 'required'{default}"


@dataclass(frozen=True)
class GroupChange:
    """How a group points at the new version: ``$Latest`` and ``$Default`` stay as they are, a
    pinned number becomes the new version's number (``NEW_VERSION`` until it exists)."""

    region: str
    group: str
    source: str
    template_id: str
    before: str
    after: str
    held_back: str | None = None


@dataclass(frozen=True)
class Skipped:
    region: str
    group: str
    reason: str


@dataclass
class Plan:
    new_versions: list[NewVersion] = field(default_factory=list)
    group_changes: list[GroupChange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The plan for JSON output, without the launch template data (it holds user data)."""
        return {
            "new_versions": [
                {
                    "region": v.region,
                    "template_id": v.template_id,
                    "source_version": v.source_version,
                    "make_default": v.make_default,
                }
                for v in self.new_versions
            ],
            "group_changes": [vars(change) for change in self.group_changes],
            "skipped": [vars(skip) for skip in self.skipped],
        }


def plan_region(inventory: RegionInventory, usage_days: int) -> Plan:
    plan = Plan()
    new_versions: dict[tuple[str, int], NewVersion] = {}
    for group in inventory.groups:
        if group.launch_configuration:
            plan.skipped.append(
                Skipped(inventory.region, group.name, "launch configuration groups are not planned yet")
            )
        held_back = _held_back(inventory, group, usage_days)
        for ref in group.launch_refs:
            version = _failing_version(inventory, ref)
            if version is None:
                continue
            key = (version.template_id, version.number)
            existing = new_versions.get(key)
            make_default = ref.version == DEFAULT or (existing is not None and existing.make_default)
            new_versions[key] = NewVersion(
                inventory.region, version.template_id, version.number, required_data(version), make_default
            )
            after = ref.version if ref.version in (LATEST, DEFAULT) else NEW_VERSION
            plan.group_changes.append(
                GroupChange(
                    inventory.region,
                    group.name,
                    ref.source,
                    version.template_id,
                    ref.version,
                    after,
                    held_back,
                )
            )
    plan.new_versions = sorted(new_versions.values(), key=lambda v: (v.template_id, v.source_version))
    # Auto Scaling lists groups by name, moto by creation: sort so plans read the same everywhere.
    plan.group_changes.sort(key=lambda change: (change.group, change.source))
    plan.skipped.sort(key=lambda skip: skip.group)
    return plan


def required_data(version: TemplateVersion) -> dict[str, Any]:
    """The version's whole LaunchTemplateData with HttpTokens 'required'; every other field, and
    every other metadata option (hop limit, endpoint, tags access), is kept as it was. The full data
    is sent rather than relying on SourceVersion merging."""
    data = copy.deepcopy(version.data)
    options = dict(data.get("MetadataOptions") or {})
    options[TOKENS] = "required"
    data["MetadataOptions"] = options
    return data


def _failing_version(inventory: RegionInventory, ref: LaunchRef) -> TemplateVersion | None:
    versions = inventory.templates.get(ref.key)
    version = versions.resolve(ref.version) if versions else None
    if version is None or judge_live_options(version.metadata_options).passed:
        return None
    return version


def _held_back(inventory: RegionInventory, group: Group, usage_days: int) -> str | None:
    """Groups whose instances still call IMDSv1 would break: they are held back unless forced."""
    calls = sum(inventory.no_token_calls.get(instance, 0.0) for instance in group.instance_ids)
    if calls > 0:
        return f"{calls:g} IMDSv1 calls (MetadataNoToken) in the last {usage_days} days"
    return None


def plan_account(scan: AccountScan, usage_days: int) -> Plan:
    """The plans of every region read, in region order."""
    plan = Plan()
    for inventory in scan.inventories:
        part = plan_region(inventory, usage_days)
        plan.new_versions += part.new_versions
        plan.group_changes += part.group_changes
        plan.skipped += part.skipped
    return plan


def render_plan_text(account: str, plan: Plan) -> str:
    lines = [f"Remediation plan for account {account} (dry run: nothing was changed)"]
    regions = sorted(
        {v.region for v in plan.new_versions}
        | {c.region for c in plan.group_changes}
        | {s.region for s in plan.skipped}
    )
    for region in regions:
        lines.append(region)
        lines += [f"  create  {v.describe()}" for v in plan.new_versions if v.region == region]
        for change in plan.group_changes:
            if change.region != region:
                continue
            pointer = f"{change.template_id} version {change.before} -> {change.after}"
            if change.held_back:
                lines.append(
                    f"  HOLD    group {change.group} ({change.source}): {change.held_back}; fix first"
                )
            else:
                lines.append(f"  point   group {change.group} ({change.source}): {pointer}")
        lines += [f"  skip    group {s.group}: {s.reason}" for s in plan.skipped if s.region == region]
    held = sum(1 for change in plan.group_changes if change.held_back)
    lines.append(
        f"{_count(len(plan.new_versions), 'new version')}, {_count(len(plan.group_changes), 'group change')} "
        f"({held} held back), {len(plan.skipped)} skipped"
    )
    return "\n".join(lines) + "\n"


def render_plan_json(account: str, plan: Plan) -> str:
    return json.dumps({"account": account, "dry_run": True, **plan.to_dict()}, indent=2) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
