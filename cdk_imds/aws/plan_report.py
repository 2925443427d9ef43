"""The dry-run plan as people and machines read it: text grouped by region, and JSON.

Neither holds launch template data: it carries user data.
"""

from __future__ import annotations

import json

from cdk_imds.aws.plan import LAUNCH_CONFIGURATION, NEW_VERSION, GroupChange, GroupPlan, InstanceAction, Plan
from cdk_imds.wording import counted


def render_plan_text(account: str, plan: Plan) -> str:
    lines = [f"Remediation plan for account {account} (dry run: nothing was changed)"]
    for region in _regions(plan):
        lines.append(region)
        lines += [f"  create   {v.describe()}" for v in plan.new_versions if v.region == region]
        lines += [f"  template {t.describe()}" for t in plan.new_templates if t.region == region]
        for group in plan.groups:
            if group.region == region:
                lines += _group_lines(plan, group)
        lines += [f"  skip     group {s.group}: {s.reason}" for s in plan.skipped if s.region == region]
    lines.append(_plan_summary(plan))
    return "\n".join(lines) + "\n"


def _group_lines(plan: Plan, group: GroupPlan) -> list[str]:
    waiting = group.waiting(plan.options)
    if waiting:
        verb = "HOLD    " if group.held_back and not plan.options.force and not group.blocked else "skip    "
        return [f"  {verb} group {group.group}: {waiting}"]
    lines = [f"  point    group {group.group} ({c.source}): {_pointer(c)}" for c in group.changes]
    instances = plan.options.instances
    if instances is InstanceAction.REFRESH and group.instance_count:
        lines.append(
            f"  refresh  group {group.group}: instance refresh of {counted(group.instance_count, 'instance')}, "
            f"min healthy {plan.options.min_healthy_percentage}%"
        )
    elif instances is InstanceAction.IN_PLACE and group.failing_instances:
        lines.append(
            f"  in-place group {group.group}: HttpTokens 'required' on {', '.join(sorted(group.failing_instances))}"
        )
    elif instances is InstanceAction.NONE and group.failing_instances:
        count = len(group.failing_instances)
        verb = "allows" if count == 1 else "allow"
        lines.append(
            f"  note     group {group.group}: {counted(count, 'running instance')} still {verb} IMDSv1 "
            "(--refresh replaces them, --in-place changes them)"
        )
    return lines


def _pointer(change: GroupChange) -> str:
    # Until it exists the new version has no number: "the new version", not "version new version".
    new = change.after == NEW_VERSION
    if change.source == LAUNCH_CONFIGURATION:
        after = f"the {NEW_VERSION}" if new else f"version {change.after}"
        return f"{change.before} -> launch template {change.template_id}, {after}"
    return f"{change.template_id} version {change.before} -> {f'the {NEW_VERSION}' if new else change.after}"


def _plan_summary(plan: Plan) -> str:
    held = sum(1 for group in plan.waiting() if group.held_back and not group.blocked)
    blocked = len(plan.waiting()) - held
    return (
        f"{counted(len(plan.new_versions), 'new version')}, {counted(len(plan.new_templates), 'new template')}, "
        f"{counted(len(plan.acting()), 'group')} to change, {held} held back, "
        f"{blocked + len(plan.skipped)} skipped"
    )


def _regions(plan: Plan) -> list[str]:
    return sorted(
        {v.region for v in plan.new_versions}
        | {t.region for t in plan.new_templates}
        | {g.region for g in plan.groups}
        | {s.region for s in plan.skipped}
    )


def render_plan_json(account: str, plan: Plan) -> str:
    return json.dumps({"account": account, "dry_run": True, **plan.to_dict()}, indent=2) + "\n"
