"""``cdk-imds audit``: read every region asked for, in parallel, and judge what runs.

Judging uses the policy engine's ``judge_live_options``, the same rule ``check`` applies to
templates; this module only decides which resource a verdict is reported on and how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cdk_imds.aws import DEFAULT_USAGE_DAYS
from cdk_imds.aws.account import Progress, read_account
from cdk_imds.aws.inventory import Group, LaunchRef, RegionInventory, TemplateVersion
from cdk_imds.policy.imds import hop_limits, judge_live_options, live_option_set
from cdk_imds.policy.model import Finding, RuleId, Severity

ASG = "AWS::AutoScaling::AutoScalingGroup"
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"
INSTANCE = "AWS::EC2::Instance"


@dataclass
class AuditResult:
    account: str
    regions: list[str]
    findings: list[Finding] = field(default_factory=list)
    resources: int = 0


def run_audit(
    profile: str | None,
    regions: Sequence[str],
    all_regions: bool,
    usage_days: int = DEFAULT_USAGE_DAYS,
    progress: Progress | None = None,
) -> AuditResult:
    scan = read_account(profile, regions, all_regions, usage_days, progress)
    result = AuditResult(account=scan.account, regions=scan.regions)
    for inventory in scan.inventories:
        findings, resources = judge_region(inventory, scan.account, usage_days)
        result.findings.extend(findings)
        result.resources += resources
    # Regions finish in any order; the report should not.
    result.findings.sort(key=lambda f: (f.region or "", f.resource_type, f.resource_id or "", f.rule.value))
    return result


def judge_region(inventory: RegionInventory, account: str, usage_days: int) -> tuple[list[Finding], int]:
    """Findings of one region, and how many resources were judged."""
    judge = _RegionJudge(inventory, account, usage_days)
    for group in inventory.groups:
        judge.group(group)
    judge.template_defaults()
    launched = {
        g.launch_configuration for g in inventory.groups if g.launch_configuration and not g.launch_refs
    }
    for name in sorted(launched):
        judge.launch_configuration(name)
    for instance_id in sorted(inventory.instances):
        judge.instance(instance_id)
    resources = (
        len(inventory.groups)
        + len(inventory.templates)
        + len(inventory.launch_configurations)
        + len(inventory.instances)
    )
    return judge.findings, resources


class _RegionJudge:
    def __init__(self, inventory: RegionInventory, account: str, usage_days: int) -> None:
        self.inventory = inventory
        self.account = account
        self.days = usage_days
        self.findings: list[Finding] = []
        self.group_of = {i: g.name for g in inventory.groups for i in g.instance_ids}
        # (template id, version number) of every version a group launches, filled by ``group``.
        self.launched: set[tuple[str, int]] = set()

    def group(self, group: Group) -> None:
        usage = self._usage(group.instance_ids)
        for ref in group.launch_refs:
            self._group_template(group, ref, usage)
        # A group launches from one source. One that also reports a launch configuration name next
        # to its launch template (a stale name: moto keeps it after a group moved to a template) is
        # judged by the template it launches, as remediate plans it.
        if group.launch_configuration and not group.launch_refs:
            self._group_configuration(group, group.launch_configuration, usage)

    def _group_template(self, group: Group, ref: LaunchRef, usage: tuple[float | None, int]) -> None:
        versions = self.inventory.templates.get(ref.key)
        version = versions.resolve(ref.version) if versions else None
        template = ref.template_id or ref.template_name or "?"
        if version is not None:
            self.launched.add((version.template_id, version.number))
        if version is None:
            why = versions.problem if versions and versions.problem else "the version was not returned"
            self._add(
                RuleId.IMDSV2_UNVERIFIABLE,
                ASG,
                group.name,
                f"{ref.source} launches {template} version {ref.version}, which cannot be read ({why})",
                "point the group at an existing launch template version that requires IMDSv2",
                related=f"{template} version {ref.version}",
            )
            return
        related = f"{version.template_id} version {version.number}"
        launched = f"{ref.source} launches {related}" + ("" if ref.version.isdigit() else f" ({ref.version})")
        judgement = judge_live_options(version.metadata_options)
        if not judgement.passed:
            self._add(
                RuleId.IMDSV2_REQUIRED,
                ASG,
                group.name,
                f"{launched}: {judgement.reason}; {_readiness(usage, self.days)}",
                "create a launch template version with HttpTokens 'required' (every other field kept), "
                "point the group at it, then start an instance refresh",
                related=related,
                extra=_extra(usage, self.days),
            )
        self._hop_limit(ASG, group.name, version.metadata_options, f"{launched}: ", related)

    def _group_configuration(self, group: Group, name: str, usage: tuple[float | None, int]) -> None:
        related = f"launch configuration {name}"
        if name not in self.inventory.launch_configurations:
            self._add(
                RuleId.IMDSV2_UNVERIFIABLE,
                ASG,
                group.name,
                f"the group launches {related}, which was not found",
                "move the group to a launch template that requires IMDSv2",
                related=related,
            )
            return
        judgement = judge_live_options(self.inventory.launch_configurations[name])
        if not judgement.passed:
            self._add(
                RuleId.IMDSV2_REQUIRED,
                ASG,
                group.name,
                f"the group launches {related}: {judgement.reason}; {_readiness(usage, self.days)}",
                "move the group to a launch template with HttpTokens 'required' (launch configurations "
                "cannot be changed), then start an instance refresh",
                related=related,
                extra=_extra(usage, self.days),
            )

    def template_defaults(self) -> None:
        """A template's default version is what RunInstances launches when no version is named.

        An error while a group launches it (the group's error says so too, and ``remediate`` fixes
        both); a warning with the fix once no group does, which is what ``remediate --apply`` leaves
        behind when it moves a pinned or ``$Latest`` group to a new version: audit and remediate
        agree that no group launches IMDSv1 any more, and the warning still says what else would."""
        seen: set[str] = set()
        for versions in self.inventory.templates.values():
            default = versions.resolve("$Default")
            # A template named by id and by name by different groups is listed twice.
            if default is None or default.template_id in seen:
                continue
            seen.add(default.template_id)
            judgement = judge_live_options(default.metadata_options)
            if judgement.passed:
                continue
            launched = (default.template_id, default.number) in self.launched
            label = f"default version {default.number} of {_template_label(default)}: {judgement.reason}"
            self._add(
                RuleId.IMDSV2_REQUIRED,
                LAUNCH_TEMPLATE,
                default.template_id,
                label
                if launched
                else f"{label}; no Auto Scaling group launches it, but RunInstances, "
                "EC2 Fleet or Spot Fleet naming the template without a version would",
                "create a version with HttpTokens 'required' (every other field kept) and make it "
                f"the default: aws ec2 modify-launch-template --launch-template-id {default.template_id} "
                "--default-version <that version>",
                related=f"{default.template_id} version {default.number}",
                severity=Severity.ERROR if launched else Severity.WARNING,
            )

    def launch_configuration(self, name: str) -> None:
        if name not in self.inventory.launch_configurations:
            return
        judgement = judge_live_options(self.inventory.launch_configurations[name])
        if not judgement.passed:
            self._add(
                RuleId.IMDSV2_REQUIRED,
                LAUNCH_CONFIGURATION,
                name,
                f"launch configuration {name}: {judgement.reason}",
                "replace it with a launch template that requires IMDSv2",
            )

    def instance(self, instance_id: str) -> None:
        options = self.inventory.instances[instance_id]
        usage = self._usage([instance_id])
        group = self.group_of.get(instance_id)
        where = f" (in group {group})" if group else ""
        judgement = judge_live_options(options)
        if not judgement.passed:
            self._add(
                RuleId.IMDSV2_REQUIRED,
                INSTANCE,
                instance_id,
                f"running instance{where}: {judgement.reason}; {_readiness(usage, self.days)}",
                "replace it from a launch template that requires IMDSv2 (instance refresh), or once "
                "MetadataNoToken stays at 0: aws ec2 modify-instance-metadata-options --http-tokens required",
                related=group,
                extra=_extra(usage, self.days),
            )
        self._hop_limit(INSTANCE, instance_id, options, f"running instance{where}: ", group)

    def _hop_limit(
        self,
        resource_type: str,
        resource_id: str,
        options: dict[str, Any] | None,
        prefix: str,
        related: str | None,
    ) -> None:
        limits = [limit for limit in hop_limits([live_option_set(options)]) if limit > 1]
        if limits:
            self._add(
                RuleId.IMDS_HOP_LIMIT,
                resource_type,
                resource_id,
                f"{prefix}HttpPutResponseHopLimit is {max(limits)}, so IMDS answers travel beyond the instance",
                "use a hop limit of 1 unless containers on the host need 2",
                related=related,
                severity=Severity.WARNING,
            )

    def _usage(self, instance_ids: list[str]) -> tuple[float | None, int]:
        measured = [
            self.inventory.no_token_calls[i] for i in instance_ids if i in self.inventory.no_token_calls
        ]
        return (sum(measured) if measured else None), len(measured)

    def _add(
        self,
        rule: RuleId,
        resource_type: str,
        resource_id: str,
        message: str,
        fix: str,
        related: str | None = None,
        extra: dict[str, Any] | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.findings.append(
            Finding(
                rule=rule,
                severity=severity,
                resource_type=resource_type,
                logical_id="",
                template="",
                message=message,
                fix=fix,
                related=related,
                resource_id=resource_id,
                region=self.inventory.region,
                account=self.account,
                extra=extra or {},
            )
        )


def _template_label(version: TemplateVersion) -> str:
    return (
        f"{version.template_id} ({version.template_name})" if version.template_name else version.template_id
    )


def _readiness(usage: tuple[float | None, int], days: int) -> str:
    total, instances = usage
    if total is None:
        return "readiness unknown: no running instances to measure MetadataNoToken on"
    calls = f"{total:g} IMDSv1 call{'' if total == 1 else 's'}"
    window = f"in the last {days} days on {instances} instance{'' if instances == 1 else 's'}"
    if total > 0:
        return f"not ready: {calls} (MetadataNoToken) {window}; update those applications first"
    return f"ready: 0 IMDSv1 calls (MetadataNoToken) {window}"


def _extra(usage: tuple[float | None, int], days: int) -> dict[str, Any]:
    total, instances = usage
    return {"metadata_no_token": total, "usage_days": days, "measured_instances": instances}
