"""Carrying out a remediation plan (``remediate --apply``), group by group.

A group's steps run in order: the launch template versions (or the template made from its launch
configuration) it needs, the new default version when it launches ``$Default``, the group update
when it pins a number or moves off a launch configuration, then its instances (refresh or in
place). Versions and templates are shared: made once, for the first group that needs them. A step
that fails ends that group's turn only; the others go on, and every change is recorded as it
happens (``--plan FILE``) so ``--revert FILE`` can undo what was done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cdk_imds.aws import launch_spec, record
from cdk_imds.aws import session as aws_session
from cdk_imds.aws.account import RegionClients
from cdk_imds.aws.inventory import DEFAULT
from cdk_imds.aws.plan import LAUNCH_CONFIGURATION, GroupPlan, InstanceAction, Plan
from cdk_imds.aws.results import Outcome, Result
from cdk_imds.aws.steps import StepFailed, call, launch_label
from cdk_imds.policy.imds import TOKENS

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sts import STSClient

    from cdk_imds.aws.record import Recorder

# Called after each group: (group, groups done, groups in all).
Progress = Callable[[str, int, int], None]

SOURCE_TAG = "cdk-imds:launch-configuration"
# What ModifyInstanceMetadataOptions takes back from an instance's MetadataOptions.
_INSTANCE_OPTIONS = (
    "HttpTokens",
    "HttpPutResponseHopLimit",
    "HttpEndpoint",
    "HttpProtocolIpv6",
    "InstanceMetadataTags",
)
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")


def connect(
    profile: str | None, regions: Iterable[str], session: boto3.Session | None = None
) -> dict[str, RegionClients]:
    """Clients for the regions a run changes, from one session (the profile's, unless given), with
    the shared retry settings."""
    session = session or aws_session.new_session(profile)
    return {region: RegionClients.of(session, region) for region in sorted(set(regions))}


def account_of(
    clients: Mapping[str, RegionClients], profile: str | None, session: boto3.Session | None = None
) -> str:
    """The account the credentials belong to (a plan file must only be reverted in its own)."""
    session = session or aws_session.new_session(profile)
    region = next(iter(clients), None)
    sts: STSClient = aws_session.client(session, "sts", region)
    with aws_session.aws_errors("sts:GetCallerIdentity"):
        return str(sts.get_caller_identity()["Account"])


def apply_plan(
    plan: Plan,
    clients: Mapping[str, RegionClients],
    recorder: Recorder | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    results = [Result(s.region, f"group {s.group}", Outcome.SKIPPED, reason=s.reason) for s in plan.skipped]
    for group in plan.waiting():
        held = group.held_back and not group.blocked
        outcome = Outcome.HELD_BACK if held else Outcome.SKIPPED
        results.append(
            Result(group.region, f"group {group.group}", outcome, reason=group.waiting(plan.options) or "")
        )
    appliers = {
        region: _RegionApplier(region_clients, plan, recorder) for region, region_clients in clients.items()
    }
    acting = plan.acting()
    for done, group in enumerate(acting, start=1):
        results.append(appliers[group.region].apply(group))
        if progress is not None:
            progress(group.group, done, len(acting))
    results.sort(key=lambda result: (result.region, result.subject))
    return results


class _RegionApplier:
    def __init__(self, clients: RegionClients, plan: Plan, recorder: Recorder | None) -> None:
        self.clients = clients
        self.region = clients.region
        self.options = plan.options
        self.recorder = recorder
        self.new_versions = {v.key: v for v in plan.new_versions if v.region == self.region}
        self.new_templates = {t.name: t for t in plan.new_templates if t.region == self.region}
        # Shared steps, done once: their outcome (or the failure) for every later group.
        self.versions: dict[tuple[str, int], int | StepFailed] = {}
        self.defaults: dict[str, StepFailed | None] = {}
        self.templates: dict[str, tuple[str, int] | StepFailed] = {}

    def apply(self, group: GroupPlan) -> Result:
        done: list[str] = []
        try:
            replacements: dict[tuple[str, str], int] = {}
            target: tuple[str, int] | None = None
            for change in group.changes:
                if change.source == LAUNCH_CONFIGURATION:
                    target = self._shared(self.templates, change.template_id, self._template, done)
                    continue
                number = self._shared(self.versions, change.version_key, self._version, done)
                if change.before == DEFAULT:
                    self._default(change.template_id, number, done)
                if change.needs_update:
                    replacements[(change.ref_key, change.before)] = number
            if group.needs_update:
                self._update_group(group, replacements, target, done)
            self._instances(group, done)
        except StepFailed as failure:
            return Result(self.region, f"group {group.group}", Outcome.FAILED, tuple(done), str(failure))
        return Result(self.region, f"group {group.group}", Outcome.APPLIED, tuple(done))

    def _shared(
        self, memo: dict[Any, Any], key: Any, make: Callable[[Any, list[str]], Any], done: list[str]
    ) -> Any:
        if key not in memo:
            try:
                memo[key] = make(key, done)
            except StepFailed as failure:
                memo[key] = failure
                raise
            return memo[key]
        known = memo[key]
        if isinstance(known, StepFailed):
            raise StepFailed(f"{known} (for an earlier group)")
        done.append(f"uses {_shared_label(key, known)}, made for an earlier group")
        return known

    def _version(self, key: tuple[str, int], done: list[str]) -> int:
        new = self.new_versions[key]
        if new.reuse is not None:
            done.append(
                f"uses {new.template_id} version {new.reuse}, made from version {new.source_version} by an earlier run"
            )
            return new.reuse
        answer = call(
            "ec2:CreateLaunchTemplateVersion",
            self.clients.ec2.create_launch_template_version,
            LaunchTemplateId=new.template_id,
            LaunchTemplateData=new.data,
            VersionDescription=f"cdk-imds: version {new.source_version} with HttpTokens required",
        )
        number = int(answer["LaunchTemplateVersion"]["VersionNumber"])
        self._record(
            record.VERSION,
            template_id=new.template_id,
            source_version=new.source_version,
            version=number,
            latest_before=new.latest_before,
        )
        done.append(f"created {new.template_id} version {number} from version {new.source_version}")
        return number

    def _default(self, template_id: str, number: int, done: list[str]) -> None:
        if template_id in self.defaults:
            failure = self.defaults[template_id]
            if failure is not None:
                raise StepFailed(f"{failure} (for an earlier group)")
            return
        before = next(v.default_before for v in self.new_versions.values() if v.template_id == template_id)
        try:
            call(
                "ec2:ModifyLaunchTemplate",
                self.clients.ec2.modify_launch_template,
                LaunchTemplateId=template_id,
                DefaultVersion=str(number),
            )
        except StepFailed as failure:
            self.defaults[template_id] = failure
            raise
        self.defaults[template_id] = None
        self._record(record.DEFAULT_VERSION, template_id=template_id, before=before, after=number)
        done.append(f"made version {number} the default of {template_id} (was {before})")

    def _template(self, name: str, done: list[str]) -> tuple[str, int]:
        new = self.new_templates[name]
        extra: dict[str, Any] = {}
        if _TAG_VALUE.fullmatch(new.launch_configuration):
            # Where the template came from, for whoever finds it in the console.
            tag = {"Key": SOURCE_TAG, "Value": new.launch_configuration}
            extra["TagSpecifications"] = [{"ResourceType": "launch-template", "Tags": [tag]}]
        answer = call(
            "ec2:CreateLaunchTemplate",
            self.clients.ec2.create_launch_template,
            tolerate=("InvalidLaunchTemplateName.AlreadyExistsException",),
            LaunchTemplateName=name,
            LaunchTemplateData=new.data,
            VersionDescription=f"cdk-imds: launch configuration {new.launch_configuration[:200]}",
            **extra,
        )
        if answer is None:
            return self._existing_template(name, done)
        template_id = str(answer["LaunchTemplate"]["LaunchTemplateId"])
        number = int(answer["LaunchTemplate"]["LatestVersionNumber"])
        self._record_template(template_id, name, True, number)
        done.append(
            f"created launch template {name} ({template_id}) from launch configuration {new.launch_configuration}"
        )
        return template_id, number

    def _existing_template(self, name: str, done: list[str]) -> tuple[str, int]:
        """A rerun: the template was made before. Its latest version is used when it carries exactly
        the launch configuration's data, else a version with that data is added."""
        new = self.new_templates[name]
        answer = call(
            "ec2:DescribeLaunchTemplateVersions",
            self.clients.ec2.describe_launch_template_versions,
            LaunchTemplateName=name,
            Versions=["$Latest"],
        )
        [latest] = answer["LaunchTemplateVersions"]
        template_id = str(latest["LaunchTemplateId"])
        if latest.get("LaunchTemplateData") == new.data:
            number = int(latest["VersionNumber"])
            done.append(
                f"uses launch template {name} ({template_id}) version {number}, made by an earlier run"
            )
        else:
            created = call(
                "ec2:CreateLaunchTemplateVersion",
                self.clients.ec2.create_launch_template_version,
                LaunchTemplateId=template_id,
                LaunchTemplateData=new.data,
            )
            number = int(created["LaunchTemplateVersion"]["VersionNumber"])
            done.append(f"created version {number} of the existing launch template {name} ({template_id})")
        self._record_template(template_id, name, False, number)
        return template_id, number

    def _record_template(self, template_id: str, name: str, created: bool, number: int) -> None:
        self._record(
            record.TEMPLATE,
            template_id=template_id,
            template_name=name,
            launch_configuration=self.new_templates[name].launch_configuration,
            created=created,
            version=number,
        )

    def _update_group(
        self,
        group: GroupPlan,
        replacements: dict[tuple[str, str], int],
        target: tuple[str, int] | None,
        done: list[str],
    ) -> None:
        before = launch_spec.for_update(group.launch_spec)
        if target is not None:
            after: dict[str, Any] = {
                "LaunchTemplate": {"LaunchTemplateId": target[0], "Version": str(target[1])}
            }
        else:
            after = launch_spec.with_versions(before, replacements)
        call(
            "autoscaling:UpdateAutoScalingGroup",
            self.clients.autoscaling.update_auto_scaling_group,
            AutoScalingGroupName=group.group,
            **after,
        )
        self._record(record.GROUP, group=group.group, before=before, after=after)
        done.append(f"pointed the group at {launch_label(after)} (was {launch_label(before)})")

    def _instances(self, group: GroupPlan, done: list[str]) -> None:
        action = self.options.instances
        if action is InstanceAction.REFRESH and group.instance_count:
            self._refresh(group, done)
        elif action is InstanceAction.IN_PLACE and group.failing_instances:
            self._in_place(group, done)

    def _refresh(self, group: GroupPlan, done: list[str]) -> None:
        percentage = self.options.min_healthy_percentage
        answer = call(
            "autoscaling:StartInstanceRefresh",
            self.clients.autoscaling.start_instance_refresh,
            tolerate=("InstanceRefreshInProgress",),
            AutoScalingGroupName=group.group,
            Preferences={"MinHealthyPercentage": percentage},
        )
        if answer is None:
            done.append("an instance refresh is already in progress: none started")
            return
        refresh_id = str(answer["InstanceRefreshId"])
        self._record(record.REFRESH, group=group.group, refresh_id=refresh_id)
        done.append(f"started instance refresh {refresh_id} (min healthy {percentage}%)")

    def _in_place(self, group: GroupPlan, done: list[str]) -> None:
        changed: list[str] = []
        gone: list[str] = []
        for instance_id, options in sorted(group.failing_instances.items()):
            before = _instance_options(options)
            after = {**before, TOKENS: "required"}
            answer = call(
                "ec2:ModifyInstanceMetadataOptions",
                self.clients.ec2.modify_instance_metadata_options,
                tolerate=("InvalidInstanceID.NotFound",),
                InstanceId=instance_id,
                **after,
            )
            if answer is None:
                gone.append(instance_id)
                continue
            self._record(
                record.INSTANCE, group=group.group, instance_id=instance_id, before=before, after=after
            )
            changed.append(instance_id)
        if changed:
            done.append(f"HttpTokens 'required' on {', '.join(changed)}")
        if gone:
            done.append(f"no longer running: {', '.join(gone)}")

    def _record(self, kind: str, **fields: Any) -> None:
        if self.recorder is not None:
            self.recorder.add(kind, self.region, **fields)


def _instance_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    return {key: (options or {})[key] for key in _INSTANCE_OPTIONS if (options or {}).get(key) is not None}


def _shared_label(key: Any, known: Any) -> str:
    if isinstance(key, tuple):
        return f"{key[0]} version {known}"
    return f"launch template {key} ({known[0]}) version {known[1]}"
