"""Undoing a remediation run from its plan file (``remediate --revert FILE``).

What is undone:

- groups point at what they launched before (launch configuration, pinned number, overrides);
- templates whose default version the run changed get their previous default back;
- templates where the run created versions get ``$Latest`` back: a new version copying the
  version that was latest before the run (full data, no SourceVersion merging), because ``$Latest``
  always names the highest number;
- instances changed in place get their previous metadata options back.

What stays: the versions and launch templates the run created. Deleting them would need the
destructive ec2:DeleteLaunchTemplateVersions / ec2:DeleteLaunchTemplate permissions that nothing
else needs, would break anything that has pinned them since, and no group uses them after the
revert; a later ``--apply`` finds and reuses them. Instance refreshes cannot be undone (the
replaced instances are gone); the report says so.

Every undo first checks that the item is still as the run left it; one changed since then (a
deploy re-pointed the group, someone made another version) is left alone and reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cdk_imds.aws import launch_spec, record
from cdk_imds.aws.apply import Progress
from cdk_imds.aws.record import Record
from cdk_imds.aws.results import Outcome, Result
from cdk_imds.aws.session import aws_errors
from cdk_imds.aws.steps import StepFailed, call, launch_label
from cdk_imds.errors import AwsAccessError

if TYPE_CHECKING:
    from cdk_imds.aws.account import RegionClients

# DescribeAutoScalingGroups takes at most 100 names; fewer keeps answers small.
_GROUP_BATCH = 50


@dataclass(frozen=True)
class RevertStep:
    region: str
    subject: str
    kind: str
    change: dict[str, Any] = field(compare=False)

    def describe(self) -> str:
        change = self.change
        if self.kind == record.GROUP:
            return f"point the group back at {launch_label(change['before'])}"
        if self.kind == record.DEFAULT_VERSION:
            return f"make version {change['before']} the default again (version {change['after']} now)"
        if self.kind == _LATEST:
            return (
                f"make $Latest launch what version {change['latest_before']} launches: a copy of it "
                f"after version {change['version']}"
            )
        return f"HttpTokens back to {change['before'].get('HttpTokens', 'unset')!r}"


# Not a record kind: the step restoring a template's $Latest, made from its VERSION changes.
_LATEST = "latest_version"


def revert_steps(run: Record) -> list[RevertStep]:
    """The steps undoing ``run``, in the order they are taken. Pure."""
    steps = [
        RevertStep(c["region"], f"group {c['group']}", record.GROUP, c)
        for c in reversed(run.of_kind(record.GROUP))
    ]
    steps += [
        RevertStep(c["region"], f"template {c['template_id']}", record.DEFAULT_VERSION, c)
        for c in run.of_kind(record.DEFAULT_VERSION)
    ]
    steps += _latest_steps(run)
    steps += [
        RevertStep(c["region"], f"instance {c['instance_id']}", record.INSTANCE, c)
        for c in run.of_kind(record.INSTANCE)
    ]
    return steps


def _latest_steps(run: Record) -> list[RevertStep]:
    first: dict[tuple[str, str], dict[str, Any]] = {}
    last: dict[tuple[str, str], int] = {}
    for change in run.of_kind(record.VERSION):
        key = (change["region"], change["template_id"])
        first.setdefault(key, change)
        last[key] = max(last.get(key, 0), change["version"])
    return [
        RevertStep(
            region,
            f"template {template}",
            _LATEST,
            {
                "template_id": template,
                "latest_before": change["latest_before"],
                "version": last[(region, template)],
            },
        )
        for (region, template), change in first.items()
        if change["latest_before"] is not None
    ]


def kept_notes(run: Record) -> list[str]:
    versions = [f"{c['template_id']} version {c['version']}" for c in run.of_kind(record.VERSION)]
    templates = [
        f"{c['template_name']} ({c['template_id']})" for c in run.of_kind(record.TEMPLATE) if c["created"]
    ]
    notes = []
    if versions:
        notes.append(f"kept the versions the run created (no group launches them now): {', '.join(versions)}")
    if templates:
        notes.append(
            f"kept the launch templates the run created (a later --apply reuses them): {', '.join(templates)}"
        )
    notes += [
        f"instance refresh {c['refresh_id']} of group {c['group']} cannot be undone: the instances it "
        "replaced are gone (start another refresh to replace the ones it launched)"
        for c in run.of_kind(record.REFRESH)
    ]
    return notes


def apply_revert(
    steps: list[RevertStep], clients: Mapping[str, RegionClients], progress: Progress | None = None
) -> list[Result]:
    reverters = {
        region: _RegionReverter(
            region_clients,
            {s.change["group"] for s in steps if s.region == region and s.kind == record.GROUP},
        )
        for region, region_clients in clients.items()
    }
    results: list[Result] = []
    for done, step in enumerate(steps, start=1):
        results.append(reverters[step.region].revert(step))
        if progress is not None:
            progress(step.subject, done, len(steps))
    return results


class _RegionReverter:
    def __init__(self, clients: RegionClients, group_names: set[str]) -> None:
        self.clients = clients
        self.group_names = group_names
        self.region = clients.region
        self.groups: dict[str, dict[str, Any]] | None = None
        # Template id -> (default, latest) as read before this revert changed anything in it.
        self.pointers: dict[str, tuple[int, int]] = {}

    def revert(self, step: RevertStep) -> Result:
        try:
            outcome, action = self._revert(step)
        except StepFailed as failure:
            return Result(self.region, step.subject, Outcome.FAILED, reason=str(failure))
        if outcome is Outcome.APPLIED:
            return Result(self.region, step.subject, outcome, (action,))
        return Result(self.region, step.subject, outcome, reason=action)

    def _revert(self, step: RevertStep) -> tuple[Outcome, str]:
        change = step.change
        if step.kind == record.GROUP:
            return self._group(change)
        if step.kind == record.DEFAULT_VERSION:
            return self._default(change)
        if step.kind == _LATEST:
            return self._latest(change)
        return self._instance(change)

    def _group(self, change: dict[str, Any]) -> tuple[Outcome, str]:
        groups = self._read_groups()
        current = groups.get(change["group"])
        if current is None:
            return Outcome.SKIPPED, "the group no longer exists"
        now = launch_spec.for_update(current)
        if now != change["after"]:
            return Outcome.SKIPPED, f"changed since the run (it launches {launch_label(now)}); left as it is"
        call(
            "autoscaling:UpdateAutoScalingGroup",
            self.clients.autoscaling.update_auto_scaling_group,
            AutoScalingGroupName=change["group"],
            **change["before"],
        )
        return Outcome.APPLIED, f"pointed the group back at {launch_label(change['before'])}"

    def _default(self, change: dict[str, Any]) -> tuple[Outcome, str]:
        default, _ = self._pointers(change["template_id"])
        if default != change["after"]:
            return (
                Outcome.SKIPPED,
                f"the default version is {default} now, not {change['after']}; left as it is",
            )
        if change["before"] is None:
            return Outcome.SKIPPED, "the plan file does not say which version was the default"
        call(
            "ec2:ModifyLaunchTemplate",
            self.clients.ec2.modify_launch_template,
            LaunchTemplateId=change["template_id"],
            DefaultVersion=str(change["before"]),
        )
        return Outcome.APPLIED, f"made version {change['before']} the default again"

    def _latest(self, change: dict[str, Any]) -> tuple[Outcome, str]:
        template, before = change["template_id"], change["latest_before"]
        _, latest = self._pointers(template)
        if latest != change["version"]:
            return (
                Outcome.SKIPPED,
                f"$Latest is version {latest} now, which the run did not make; left as it is",
            )
        answer = call(
            "ec2:DescribeLaunchTemplateVersions",
            self.clients.ec2.describe_launch_template_versions,
            LaunchTemplateId=template,
            Versions=[str(before)],
        )
        [source] = answer["LaunchTemplateVersions"]
        created = call(
            "ec2:CreateLaunchTemplateVersion",
            self.clients.ec2.create_launch_template_version,
            LaunchTemplateId=template,
            LaunchTemplateData=source["LaunchTemplateData"],
            VersionDescription=f"cdk-imds revert: copy of version {before}",
        )
        number = created["LaunchTemplateVersion"]["VersionNumber"]
        return (
            Outcome.APPLIED,
            f"created version {number}, a copy of version {before}, so $Latest launches it again",
        )

    def _instance(self, change: dict[str, Any]) -> tuple[Outcome, str]:
        answer = call(
            "ec2:ModifyInstanceMetadataOptions",
            self.clients.ec2.modify_instance_metadata_options,
            tolerate=("InvalidInstanceID.NotFound",),
            InstanceId=change["instance_id"],
            **change["before"],
        )
        if answer is None:
            return Outcome.SKIPPED, "the instance no longer exists"
        return Outcome.APPLIED, f"HttpTokens back to {change['before'].get('HttpTokens')!r}"

    def _read_groups(self) -> dict[str, dict[str, Any]]:
        """The launch specs of every group this revert touches in the region, read once."""
        if self.groups is None:
            self.groups = {}
            paginator = self.clients.autoscaling.get_paginator("describe_auto_scaling_groups")
            names = sorted(self.group_names)
            for start in range(0, len(names), _GROUP_BATCH):
                pages = paginator.paginate(AutoScalingGroupNames=names[start : start + _GROUP_BATCH])
                try:
                    with aws_errors("autoscaling:DescribeAutoScalingGroups"):
                        raws = [raw for page in pages for raw in page["AutoScalingGroups"]]
                except AwsAccessError as error:
                    raise StepFailed(str(error)) from None
                self.groups.update((raw["AutoScalingGroupName"], dict(raw)) for raw in raws)
        return self.groups

    def _pointers(self, template_id: str) -> tuple[int, int]:
        if template_id not in self.pointers:
            answer = call(
                "ec2:DescribeLaunchTemplateVersions",
                self.clients.ec2.describe_launch_template_versions,
                LaunchTemplateId=template_id,
                Versions=["$Default", "$Latest"],
            )
            versions = answer["LaunchTemplateVersions"]
            default = next(int(v["VersionNumber"]) for v in versions if v.get("DefaultVersion"))
            latest = max(int(v["VersionNumber"]) for v in versions)
            self.pointers[template_id] = (default, latest)
        return self.pointers[template_id]


def render_revert_text(run: Record, steps: list[RevertStep]) -> str:
    lines = [f"Revert plan for account {run.account}, run of {run.started} (dry run: nothing was changed)"]
    for region in sorted({step.region for step in steps}):
        lines.append(region)
        lines += [f"  {step.subject}: {step.describe()}" for step in steps if step.region == region]
    lines += [f"note: {note}" for note in kept_notes(run)]
    if run.finished is None:
        lines.append("note: the run did not finish; its file records what it changed before it stopped")
    lines.append(f"{len(steps)} step{'' if len(steps) == 1 else 's'}; add --apply to take them")
    return "\n".join(lines) + "\n"


def render_revert_json(run: Record, steps: list[RevertStep]) -> str:
    document = {
        "account": run.account,
        "dry_run": True,
        "run_started": run.started,
        "run_finished": run.finished,
        "steps": [{"region": s.region, "subject": s.subject, "step": s.describe()} for s in steps],
        "notes": kept_notes(run),
    }
    return json.dumps(document, indent=2) + "\n"
