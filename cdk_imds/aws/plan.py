"""Remediation plans: what ``remediate`` would change, computed from an inventory.

Pure: no AWS calls; ``apply`` carries a plan out. Each launch template version at fault gets one new
version (shared by every group launching it) that repeats the whole LaunchTemplateData with
HttpTokens "required"; each group keeps pointing the way it did ($Latest, $Default, or a pinned
number); a launch configuration group moves to a launch template made from its configuration.

Creating a version changes what every group on the template's $Latest launches, and a new default
changes every group on $Default. So a group is held back not only for its own IMDSv1 calls but
also when the change it needs would change what a held-back group launches.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cdk_imds.aws import launch_configuration as lc_convert
from cdk_imds.aws.inventory import (
    DEFAULT,
    LATEST,
    Group,
    LaunchRef,
    RegionInventory,
    TemplateVersion,
    TemplateVersions,
)
from cdk_imds.policy.imds import judge_live_options

if TYPE_CHECKING:
    from cdk_imds.aws.account import AccountScan

NEW_VERSION = "new version"
LAUNCH_CONFIGURATION = "launch configuration"
DEFAULT_MIN_HEALTHY_PERCENTAGE = 90


class InstanceAction(StrEnum):
    """What happens to a changed group's running instances."""

    NONE = "none"
    REFRESH = "refresh"  # StartInstanceRefresh: instances replaced from the fixed template
    IN_PLACE = "in-place"  # ModifyInstanceMetadataOptions on each running instance


@dataclass(frozen=True)
class PlanOptions:
    force: bool = False
    instances: InstanceAction = InstanceAction.NONE
    min_healthy_percentage: int = DEFAULT_MIN_HEALTHY_PERCENTAGE


@dataclass(frozen=True)
class NewVersion:
    """A launch template version to create from ``source_version`` (or, when ``reuse`` is set, one
    an earlier run already created); ``make_default`` when a group launches ``$Default``."""

    region: str
    template_id: str
    source_version: int
    data: dict[str, Any] = field(repr=False, compare=False)
    make_default: bool = False
    reuse: int | None = None
    latest_before: int | None = None
    default_before: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.template_id, self.source_version)

    def describe(self) -> str:
        default = ", made the default version" if self.make_default else ""
        if self.reuse is not None:
            return (
                f"{self.template_id}: version {self.reuse} (made by an earlier run from version "
                f"{self.source_version}) is used{default}"
            )
        return f"{self.template_id}: new version from version {self.source_version} with HttpTokens 'required'{default}"


@dataclass(frozen=True)
class NewTemplate:
    """A launch template to make from a launch configuration (found by name if it exists)."""

    region: str
    name: str
    launch_configuration: str
    data: dict[str, Any] = field(repr=False, compare=False)
    dropped: tuple[str, ...] = ()

    def describe(self) -> str:
        dropped = f" (dropped, no equivalent: {', '.join(self.dropped)})" if self.dropped else ""
        return (
            f"{self.name}: launch template from launch configuration {self.launch_configuration} "
            f"with HttpTokens 'required'{dropped}"
        )


@dataclass(frozen=True)
class GroupChange:
    """One launch a group names, re-pointed: ``$Latest`` and ``$Default`` stay as they are, a pinned
    number becomes the new version's number (``NEW_VERSION`` until it exists). For a launch
    configuration, ``template_id`` is the name of the template it moves to."""

    region: str
    group: str
    source: str
    template_id: str
    before: str
    after: str
    ref_key: str = ""
    source_version: int = 0

    @property
    def version_key(self) -> tuple[str, int]:
        return (self.template_id, self.source_version)

    @property
    def needs_update(self) -> bool:
        """Only pinned numbers and launch configurations change the group itself."""
        return self.source == LAUNCH_CONFIGURATION or self.before not in (LATEST, DEFAULT)


@dataclass(frozen=True)
class GroupPlan:
    region: str
    group: str
    changes: tuple[GroupChange, ...]
    launch_spec: dict[str, Any] = field(repr=False, compare=False)
    instance_count: int = 0
    # Running instances of the group that allow IMDSv1, with their metadata options.
    failing_instances: dict[str, dict[str, Any] | None] = field(default_factory=dict, compare=False)
    held_back: str | None = None
    blocked: str | None = None

    @property
    def needs_update(self) -> bool:
        return any(change.needs_update for change in self.changes)

    def waiting(self, options: PlanOptions) -> str | None:
        """Why the group is not changed, or None when it is."""
        if self.blocked:
            return self.blocked
        if self.held_back and not options.force:
            return f"held back: {self.held_back}; update those applications first, or use --force"
        return None


@dataclass(frozen=True)
class Skipped:
    region: str
    group: str
    reason: str


@dataclass
class Plan:
    options: PlanOptions = field(default_factory=PlanOptions)
    new_versions: list[NewVersion] = field(default_factory=list)
    new_templates: list[NewTemplate] = field(default_factory=list)
    groups: list[GroupPlan] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def group_changes(self) -> list[GroupChange]:
        return [change for group in self.groups for change in group.changes]

    def acting(self) -> list[GroupPlan]:
        """The groups that will be changed."""
        return [group for group in self.groups if group.waiting(self.options) is None and self._acts(group)]

    def waiting(self) -> list[GroupPlan]:
        return [group for group in self.groups if group.waiting(self.options) is not None]

    def only_instances(self) -> list[GroupPlan]:
        """Groups whose launch is fine but whose instances still allow IMDSv1, and no instance action."""
        return [
            group
            for group in self.groups
            if group.waiting(self.options) is None and not self._acts(group) and group.failing_instances
        ]

    def _acts(self, group: GroupPlan) -> bool:
        return bool(group.changes) or self.options.instances is not InstanceAction.NONE

    def to_dict(self) -> dict[str, Any]:
        """The plan for JSON output, without launch template data (it holds user data)."""
        return {
            "options": {
                "force": self.options.force,
                "instances": self.options.instances.value,
                "min_healthy_percentage": self.options.min_healthy_percentage,
            },
            "new_versions": [
                {
                    "region": v.region,
                    "template_id": v.template_id,
                    "source_version": v.source_version,
                    "make_default": v.make_default,
                    "reuse": v.reuse,
                }
                for v in self.new_versions
            ],
            "new_templates": [
                {
                    "region": t.region,
                    "name": t.name,
                    "launch_configuration": t.launch_configuration,
                    "dropped": list(t.dropped),
                }
                for t in self.new_templates
            ],
            "groups": [
                {
                    "region": g.region,
                    "group": g.group,
                    "changes": [
                        {k: v for k, v in vars(c).items() if k not in ("region", "group")} for c in g.changes
                    ],
                    "instances_allowing_imdsv1": sorted(g.failing_instances),
                    "held_back": g.held_back,
                    "waiting": g.waiting(self.options),
                }
                for g in self.groups
            ],
            "skipped": [vars(skip) for skip in self.skipped],
        }


def plan_region(inventory: RegionInventory, usage_days: int, options: PlanOptions | None = None) -> Plan:
    return _RegionPlanner(inventory, usage_days, options or PlanOptions()).plan()


def plan_account(scan: AccountScan, usage_days: int, options: PlanOptions | None = None) -> Plan:
    """The plans of every region read, in region order."""
    chosen = options or PlanOptions()
    return merge_plans([plan_region(inventory, usage_days, chosen) for inventory in scan.inventories], chosen)


def merge_plans(parts: list[Plan], options: PlanOptions) -> Plan:
    """One plan of several regions' plans, in the order given (regions plan independently)."""
    plan = Plan(options=options)
    for part in parts:
        plan.new_versions += part.new_versions
        plan.new_templates += part.new_templates
        plan.groups += part.groups
        plan.skipped += part.skipped
    return plan


def required_data(version: TemplateVersion) -> dict[str, Any]:
    """The version's whole LaunchTemplateData with HttpTokens 'required'; every other field, and
    every other metadata option (hop limit, endpoint, tags access), is kept as it was. The full data
    is sent rather than relying on SourceVersion merging."""
    data = copy.deepcopy(version.data)
    data["MetadataOptions"] = lc_convert.required_options(data.get("MetadataOptions"))
    return data


class _RegionPlanner:
    def __init__(self, inventory: RegionInventory, usage_days: int, options: PlanOptions) -> None:
        self.inventory = inventory
        self.region = inventory.region
        self.days = usage_days
        self.options = options
        self.skipped: list[Skipped] = []
        self.new_templates: list[NewTemplate] = []
        self.held = {g.name: _held_back(inventory, g, usage_days) for g in inventory.groups}
        self.by_id = {
            version.template_id: versions
            for versions in inventory.templates.values()
            for version in versions.versions.values()
        }
        # Template id -> alias ($Latest / $Default) -> names of the groups launching it that way.
        self.alias_users: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for group in inventory.groups:
            for ref in group.launch_refs:
                version = self._resolve(ref)
                if version is not None and ref.version in (LATEST, DEFAULT):
                    self.alias_users[version.template_id][ref.version].add(group.name)

    def plan(self) -> Plan:
        groups = [planned for group in self._sorted_groups() if (planned := self._group(group)) is not None]
        groups = [self._with_conflicts(group) for group in groups]
        plan = Plan(options=self.options, groups=groups, new_templates=self.new_templates)
        plan.new_versions = self._new_versions(plan)
        plan.new_templates = [t for t in self.new_templates if self._needed_template(plan, t)]
        plan.skipped = sorted(self.skipped, key=lambda skip: skip.group)
        return plan

    def _sorted_groups(self) -> list[Group]:
        # Auto Scaling lists groups by name, moto by creation: sort so plans read the same everywhere.
        return sorted(self.inventory.groups, key=lambda group: group.name)

    def _group(self, group: Group) -> GroupPlan | None:
        changes: list[GroupChange] = []
        # A group has one launch source; moto keeps a stale LaunchConfigurationName after a group
        # moved to a template, so launch templates win.
        if group.launch_refs:
            changes = [c for ref in group.launch_refs if (c := self._template_change(group, ref))]
        elif group.launch_configuration:
            change = self._configuration_change(group, group.launch_configuration)
            changes = [change] if change else []
        failing = {
            instance: self.inventory.instances[instance]
            for instance in group.instance_ids
            if instance in self.inventory.instances
            and not judge_live_options(self.inventory.instances[instance]).passed
        }
        if not changes and not failing:
            return None
        return GroupPlan(
            self.region,
            group.name,
            tuple(changes),
            launch_spec=group.launch_spec,
            instance_count=len(group.instance_ids),
            failing_instances=failing,
            held_back=self.held[group.name],
        )

    def _template_change(self, group: Group, ref: LaunchRef) -> GroupChange | None:
        version = self._resolve(ref)
        if version is None:
            label = ref.template_id or ref.template_name or "?"
            self.skipped.append(
                Skipped(
                    self.region, group.name, f"{ref.source}: {label} version {ref.version} cannot be read"
                )
            )
            return None
        if judge_live_options(version.metadata_options).passed:
            return None
        after = ref.version if ref.version in (LATEST, DEFAULT) else NEW_VERSION
        reuse = self._reuse(version)
        if after == NEW_VERSION and reuse is not None:
            after = str(reuse)
        return GroupChange(
            self.region,
            group.name,
            ref.source,
            version.template_id,
            ref.version,
            after,
            ref.key,
            version.number,
        )

    def _configuration_change(self, group: Group, name: str) -> GroupChange | None:
        description = self.inventory.launch_configuration_data.get(name)
        if description is None:
            self.skipped.append(
                Skipped(self.region, group.name, f"launch configuration {name} was not found")
            )
            return None
        if judge_live_options(self.inventory.launch_configurations.get(name)).passed:
            return None
        template = lc_convert.template_name(name)
        if all(t.name != template for t in self.new_templates):
            conversion = lc_convert.template_data(description)
            self.new_templates.append(
                NewTemplate(self.region, template, name, conversion.data, conversion.dropped)
            )
        return GroupChange(self.region, group.name, LAUNCH_CONFIGURATION, template, name, NEW_VERSION)

    def _with_conflicts(self, group: GroupPlan) -> GroupPlan:
        """The group, blocked when one of its changes would change what a held-back group launches,
        or what a group on $Latest launches into something it did not launch before."""
        for change in group.changes:
            reason = self._conflict(group, change)
            if reason:
                return GroupPlan(
                    group.region,
                    group.group,
                    group.changes,
                    group.launch_spec,
                    group.instance_count,
                    group.failing_instances,
                    group.held_back,
                    blocked=reason,
                )
        return group

    def _conflict(self, group: GroupPlan, change: GroupChange) -> str | None:
        if change.source == LAUNCH_CONFIGURATION:
            return None
        template = change.template_id
        users = self.alias_users.get(template, {})
        if self._earlier_copy(change) is None:
            latest_users = sorted(users.get(LATEST, set()) - {group.group})
            latest = self._versions(template).latest
            if latest_users and change.source_version != latest:
                return (
                    f"a new version of {template} would become $Latest for {_names(latest_users)}, "
                    f"which launch version {latest} now; pin those groups or fix version "
                    f"{change.source_version} by hand"
                )
            held = self._held_users(latest_users)
            if held:
                return f"{template} is shared on $Latest with held-back {_names(held)}"
        if change.before == DEFAULT:
            held = self._held_users(sorted(users.get(DEFAULT, set()) - {group.group}))
            if held:
                return f"{template} is shared on $Default with held-back {_names(held)}"
        return None

    def _held_users(self, names: list[str]) -> list[str]:
        if self.options.force:
            return []
        return [name for name in names if self.held.get(name)]

    def _new_versions(self, plan: Plan) -> list[NewVersion]:
        needed: dict[tuple[str, int], list[GroupChange]] = defaultdict(list)
        for group in plan.acting():
            for change in group.changes:
                if change.source != LAUNCH_CONFIGURATION:
                    needed[change.version_key].append(change)
        versions: list[NewVersion] = []
        for (template, number), changes in needed.items():
            source = self._versions(template).versions[number]
            versions.append(
                NewVersion(
                    self.region,
                    template,
                    number,
                    required_data(source),
                    make_default=any(change.before == DEFAULT for change in changes),
                    reuse=self._reuse(source),
                    latest_before=self._versions(template).latest,
                    default_before=self._versions(template).default,
                )
            )
        # The copy of a template's latest version is made last, so that $Latest ends on it.
        return sorted(
            versions,
            key=lambda v: (v.template_id, v.source_version == v.latest_before, v.source_version),
        )

    def _needed_template(self, plan: Plan, template: NewTemplate) -> bool:
        return any(change.template_id == template.name for group in plan.acting() for change in group.changes)

    def _reuse(self, source: TemplateVersion) -> int | None:
        """A version an earlier run made from ``source``: the template's latest, when it is exactly
        ``source`` with HttpTokens "required" (so a rerun after a failure makes no second copy)."""
        latest = self._versions(source.template_id).resolve(LATEST)
        if latest is not None and latest.number != source.number and latest.data == required_data(source):
            return latest.number
        return None

    def _earlier_copy(self, change: GroupChange) -> int | None:
        return self._reuse(self._versions(change.template_id).versions[change.source_version])

    def _versions(self, template_id: str) -> TemplateVersions:
        return self.by_id[template_id]

    def _resolve(self, ref: LaunchRef) -> TemplateVersion | None:
        versions = self.inventory.templates.get(ref.key)
        return versions.resolve(ref.version) if versions else None


def _held_back(inventory: RegionInventory, group: Group, usage_days: int) -> str | None:
    """Groups whose instances still call IMDSv1 would break: they are held back unless forced."""
    calls = sum(inventory.no_token_calls.get(instance, 0.0) for instance in group.instance_ids)
    if calls > 0:
        return f"{calls:g} IMDSv1 calls (MetadataNoToken) in the last {usage_days} days"
    return None


def _names(groups: list[str]) -> str:
    return ("group " if len(groups) == 1 else "groups ") + ", ".join(groups)
