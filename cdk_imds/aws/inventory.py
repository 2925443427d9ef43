"""Reading one region: Auto Scaling groups, what they launch, running instances and IMDSv1 usage.

Every read is paginated, and batched where the API batches, so that the number of calls grows with
pages and distinct launch templates, not with groups or instances. Nothing here judges anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from cdk_imds.aws.session import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client

LATEST = "$Latest"
DEFAULT = "$Default"
# DescribeLaunchConfigurations takes at most 50 names, GetMetricData at most 500 queries.
_LC_BATCH = 50
_METRIC_BATCH = 500
_LAUNCH_SPEC_KEYS = ("LaunchTemplate", "MixedInstancesPolicy", "LaunchConfigurationName")
# DescribeLaunchTemplateVersions without a template lists the $Latest and $Default versions of every
# template in the account, at most 200 a page (it takes no numbers and no template ids that way).
# From this many distinct templates on, that listing replaces one call per template.
_VERSIONS_PAGE = 200
_GROUPS_PAGE = 100
_LIST_ALL_FROM = 8
# IAM may allow reading named templates only; the listing is then skipped, not fatal.
_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException")


@dataclass(frozen=True)
class LaunchRef:
    """A launch template as a group names it; ``version`` is "$Latest", "$Default" or a number."""

    template_id: str | None
    template_name: str | None
    version: str
    source: str  # "group", "mixed instances policy" or "override for <instance type>"

    @property
    def key(self) -> str:
        return self.template_id or f"name:{self.template_name}"


@dataclass
class Group:
    name: str
    launch_refs: list[LaunchRef] = field(default_factory=list)
    launch_configuration: str | None = None
    instance_ids: list[str] = field(default_factory=list)
    # How the group names what it launches, as described (LaunchTemplate, MixedInstancesPolicy or
    # LaunchConfigurationName): remediation repeats it with only the versions changed.
    launch_spec: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateVersion:
    template_id: str
    template_name: str
    number: int
    is_default: bool
    metadata_options: dict[str, Any] | None
    # The whole LaunchTemplateData, kept for remediation plans (a new version repeats every field).
    # It holds user data: never print it, never put it in a finding.
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class TemplateVersions:
    """The versions read of one launch template, and what $Latest and $Default resolve to."""

    versions: dict[int, TemplateVersion] = field(default_factory=dict)
    latest: int | None = None
    default: int | None = None
    problem: str | None = None

    def resolve(self, version: str) -> TemplateVersion | None:
        if version == LATEST:
            number = self.latest
        elif version == DEFAULT:
            number = self.default
        else:
            number = int(version) if version.isdigit() else None
        return self.versions.get(number) if number is not None else None


@dataclass
class RegionInventory:
    region: str
    groups: list[Group] = field(default_factory=list)
    templates: dict[str, TemplateVersions] = field(default_factory=dict)
    # Launch configuration name -> its MetadataOptions (None: not set); missing key: not found.
    launch_configurations: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    instances: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # Launch configuration name -> the whole description, for remediation (a launch template is
    # made from it). It holds user data: never print it, never put it in a finding.
    launch_configuration_data: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # Instance id -> MetadataNoToken sum over the usage window (instances without data points: 0).
    no_token_calls: dict[str, float] = field(default_factory=dict)


def read_groups(autoscaling: AutoScalingClient) -> list[Group]:
    groups: list[Group] = []
    # 100 a page, the API's maximum (its default is 50): half the calls on large accounts.
    pages = autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
        PaginationConfig={"PageSize": _GROUPS_PAGE}
    )
    for page in _pages("autoscaling:DescribeAutoScalingGroups", pages):
        for raw in page["AutoScalingGroups"]:
            group = Group(
                name=raw["AutoScalingGroupName"],
                launch_configuration=raw.get("LaunchConfigurationName"),
                instance_ids=[instance["InstanceId"] for instance in raw.get("Instances", [])],
            )
            group.launch_refs = list(_launch_refs(dict(raw)))
            group.launch_spec = {key: raw[key] for key in _LAUNCH_SPEC_KEYS if raw.get(key)}
            groups.append(group)
    return groups


def _launch_refs(raw: dict[str, Any]) -> Iterator[LaunchRef]:
    if "LaunchTemplate" in raw:
        yield _ref(raw["LaunchTemplate"], "group")
    mixed = raw.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    base = mixed.get("LaunchTemplateSpecification")
    if base:
        yield _ref(base, "mixed instances policy")
    for override in mixed.get("Overrides", []):
        # An override without its own template launches the base one, already listed.
        if "LaunchTemplateSpecification" in override:
            label = override.get("InstanceType") or "instance requirements"
            yield _ref(override["LaunchTemplateSpecification"], f"override for {label}")


def _ref(spec: dict[str, Any], source: str) -> LaunchRef:
    # A group that names no version launches the template's default version.
    return LaunchRef(
        spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"), spec.get("Version") or DEFAULT, source
    )


def read_template_versions(ec2: EC2Client, refs: Iterable[LaunchRef]) -> dict[str, TemplateVersions]:
    """Every version the groups launch, plus each template's $Latest and $Default (the default
    version is what a bare RunInstances with the template launches, so it is audited too).

    From ``_LIST_ALL_FROM`` distinct templates on, the $Latest and $Default versions of the whole
    account are listed (200 a page), and only templates that are not in that listing, or whose
    groups pin another number, get a call of their own; below that, and when the listing runs
    past half as many pages as there are templates to read, one call per distinct template,
    however many groups use it."""
    wanted: dict[str, tuple[LaunchRef, set[str]]] = {}
    for ref in refs:
        wanted.setdefault(ref.key, (ref, {LATEST, DEFAULT}))[1].add(ref.version)
    listed = _list_latest_and_default(ec2, len(wanted)) if len(wanted) >= _LIST_ALL_FROM else {}
    templates: dict[str, TemplateVersions] = {}
    for key, (ref, versions) in wanted.items():
        own = listed.get(ref.template_id) if ref.template_id else listed.get(f"name:{ref.template_name}")
        templates[key] = _versions_of(ec2, ref, sorted(versions), own)
    return templates


def _list_latest_and_default(ec2: EC2Client, wanted: int) -> dict[str, list[Any]]:
    """The $Latest and $Default versions of every launch template in the region, by template id and
    by "name:<name>"; empty when IAM denies the listing or it runs past ``wanted // 2`` pages (an
    account with many more templates than groups launch: one call per template is cheaper)."""
    by_template: dict[str, list[Any]] = {}
    pages = ec2.get_paginator("describe_launch_template_versions").paginate(
        Versions=[LATEST, DEFAULT], PaginationConfig={"PageSize": _VERSIONS_PAGE}
    )
    with aws_errors("ec2:DescribeLaunchTemplateVersions"):
        try:
            for count, page in enumerate(pages, start=1):
                if count > max(1, wanted // 2):
                    return {}
                for raw in page["LaunchTemplateVersions"]:
                    by_template.setdefault(raw["LaunchTemplateId"], []).append(raw)
        except botocore.exceptions.ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in _DENIED:
                return {}
            raise
    listed: dict[str, list[Any]] = {}
    for template_id, raws in by_template.items():
        # Complete only with its default version (the latest is the highest number listed); a
        # template listed without one is read on its own.
        if any(raw.get("DefaultVersion") for raw in raws):
            listed[template_id] = raws
            if raws[0].get("LaunchTemplateName"):
                listed[f"name:{raws[0]['LaunchTemplateName']}"] = raws
    return listed


def _versions_of(
    ec2: EC2Client, ref: LaunchRef, versions: list[str], listed: list[Any] | None = None
) -> TemplateVersions:
    """``listed``: the template's $Latest and $Default versions, already read; only the numbers
    they do not cover are asked for then."""
    label = ref.template_id or ref.template_name or "?"
    if listed:
        known = {str(raw["VersionNumber"]) for raw in listed}
        versions = [version for version in versions if version not in (LATEST, DEFAULT, *known)]
        if not versions:
            return _parse_versions(listed)
    answer = _describe_versions(ec2, ref, versions)
    if isinstance(answer, str) and answer.endswith("VersionNotFound"):
        # One pinned number that no longer exists fails the whole call. The template's other
        # versions still deserve an answer: read the aliases together, then each number alone
        # (more calls, but only for templates in this state).
        pinned = [version for version in versions if version not in (LATEST, DEFAULT)]
        answer = list(listed) if listed else _describe_versions(ec2, ref, [LATEST, DEFAULT])
        missing: list[str] = []
        for number in pinned:
            one = _describe_versions(ec2, ref, [number]) if len(pinned) > 1 else "VersionNotFound"
            if isinstance(one, str):
                missing.append(number)
            elif not isinstance(answer, str):
                answer += one
        if not isinstance(answer, str):
            result = _parse_versions(answer)
            result.problem = f"version {', '.join(missing)} of {label} does not exist" if missing else None
            return result
    if isinstance(answer, str):
        return TemplateVersions(problem=f"{answer} when reading {label}")
    return _parse_versions([*(listed or []), *answer])


def _describe_versions(ec2: EC2Client, ref: LaunchRef, versions: list[str]) -> list[Any] | str:
    """The versions asked for, or the error code when the template or a version is not found (that
    concerns only the groups launching it, so it is reported on them rather than ending the run)."""
    name = (
        {"LaunchTemplateId": ref.template_id}
        if ref.template_id
        else {"LaunchTemplateName": ref.template_name}
    )
    try:
        response = ec2.describe_launch_template_versions(Versions=versions, **name)
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if "NotFound" in code or "Malformed" in code or "InvalidLaunchTemplate" in code:
            return code
        with aws_errors("ec2:DescribeLaunchTemplateVersions"):
            raise
    return list(response["LaunchTemplateVersions"])


def _parse_versions(raws: list[Any]) -> TemplateVersions:
    result = TemplateVersions()
    for raw in raws:
        data = raw.get("LaunchTemplateData", {})
        version = TemplateVersion(
            template_id=raw["LaunchTemplateId"],
            template_name=raw.get("LaunchTemplateName", ""),
            number=int(raw["VersionNumber"]),
            is_default=bool(raw.get("DefaultVersion")),
            metadata_options=dict(data["MetadataOptions"]) if "MetadataOptions" in data else None,
            data=dict(data),
        )
        result.versions[version.number] = version
        if version.is_default:
            result.default = version.number
    # $Latest was asked for, and no version is newer than the latest: the highest number is it.
    result.latest = max(result.versions, default=None)
    return result


def read_launch_configurations(
    autoscaling: AutoScalingClient,
    names: Iterable[str],
    descriptions: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any] | None]:
    """Each launch configuration's MetadataOptions; ``descriptions``, when given, also receives
    each whole description (for remediation)."""
    found: dict[str, dict[str, Any] | None] = {}
    unique = sorted(set(names))
    for start in range(0, len(unique), _LC_BATCH):
        batch = unique[start : start + _LC_BATCH]
        pages = autoscaling.get_paginator("describe_launch_configurations").paginate(
            LaunchConfigurationNames=batch
        )
        for page in _pages("autoscaling:DescribeLaunchConfigurations", pages):
            for raw in page["LaunchConfigurations"]:
                options = raw.get("MetadataOptions")
                found[raw["LaunchConfigurationName"]] = dict(options) if options else None
                if descriptions is not None:
                    descriptions[raw["LaunchConfigurationName"]] = dict(raw)
    return found


def read_running_instances(ec2: EC2Client) -> dict[str, dict[str, Any] | None]:
    instances: dict[str, dict[str, Any] | None] = {}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}]
    )
    for page in _pages("ec2:DescribeInstances", pages):
        for reservation in page["Reservations"]:
            for raw in reservation.get("Instances", []):
                options = raw.get("MetadataOptions")
                instances[raw["InstanceId"]] = dict(options) if options else None
    return instances


def read_no_token_calls(
    cloudwatch: CloudWatchClient, instance_ids: Iterable[str], days: int, now: datetime | None = None
) -> dict[str, float]:
    """``MetadataNoToken`` (IMDSv1 calls) summed over the last ``days`` days, per instance.

    One query per instance, 500 queries per GetMetricData call; the whole window is one period so
    each query answers with at most one data point.
    """
    # Rounded up to the minute: a data point stamped "now" (the current minute) is inside the window.
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(days=days)
    ids = sorted(set(instance_ids))
    sums = dict.fromkeys(ids, 0.0)
    for offset in range(0, len(ids), _METRIC_BATCH):
        batch = ids[offset : offset + _METRIC_BATCH]
        queries: list[Any] = [
            {
                "Id": f"q{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/EC2",
                        "MetricName": "MetadataNoToken",
                        "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                    },
                    "Period": days * 86400,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for index, instance_id in enumerate(batch)
        ]
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        )
        for page in _pages("cloudwatch:GetMetricData", pages):
            for result in page["MetricDataResults"]:
                instance_id = batch[int(result["Id"][1:])]
                sums[instance_id] += float(sum(result.get("Values", [])))
    return sums


def _pages(where: str, pages: Iterable[Any]) -> Iterator[Any]:
    iterator = iter(pages)
    while True:
        with aws_errors(where):
            page = next(iterator, None)
        if page is None:
            return
        yield page
