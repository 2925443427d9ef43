"""The IAM authorizations behind each AWS call cdk-imds makes, from the calls the tests record.

``CallRecorder`` records every call (service, operation, parameters, region) on the sessions the
code under test makes; ``authorizations`` turns one call into the requests IAM evaluates for it:
the action, the ARN of each resource it touches, and the condition keys in its context. Judged
with tests/org/iam_eval.py against the shipped policies.

Where the resource types, ARN formats and condition keys come from: the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/), pages "Amazon EC2",
"Amazon EC2 Auto Scaling", "Amazon CloudWatch" and "AWS STS", checked by hand for each operation
below; and, for what Auto Scaling checks on the caller's behalf, the Auto Scaling User Guide,
"Control the use of launch templates in Auto Scaling actions". An operation not in this file fails
the test, so a new call cannot go unchecked.

Not modelled: the group's UUID in its ARN (a fixed one stands in: the shipped policy matches it with
``*``); requests AWS makes for a launch template that tags what it launches or names an instance
profile (the tests' templates do neither: the policy statements for them are checked by shape).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tests.org.iam_eval import Request

# botocore's service ids -> IAM service prefixes.
IAM_PREFIX = {"Auto Scaling": "autoscaling", "EC2": "ec2", "CloudWatch": "cloudwatch", "STS": "sts"}
# SAR: these have no resource types (only "*") and no condition keys cdk-imds's policies use.
UNSCOPED = {
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeLaunchConfigurations",
    "cloudwatch:GetMetricData",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeRegions",
    "sts:GetCallerIdentity",
}
GROUP_UUID = "6a3d9c2e-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Call:
    action: str
    params: dict[str, Any]
    region: str


class CallRecorder:
    """A ``before-parameter-build.*.*`` handler: sees every call, before a Stubber answers it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def __call__(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        action = f"{IAM_PREFIX[model.service_model.service_id]}:{model.name}"
        with self._lock:
            self.calls.append(Call(action, dict(params), context["client_region"]))


def authorizations(call: Call, account: str) -> list[Request]:
    """The requests IAM evaluates for ``call`` made in ``account``."""
    ec2 = f"arn:aws:ec2:{call.region}:{account}"
    params = call.params
    if call.action in UNSCOPED:
        return [Request(call.action, "*")]
    if call.action == "ec2:CreateLaunchTemplate":
        # SAR: resource type launch-template; the new template's id is not known yet. Tags given
        # at creation are a second authorization, ec2:CreateTags with ec2:CreateAction.
        template = f"{ec2}:launch-template/*"
        requests = [Request(call.action, template)]
        if params.get("TagSpecifications"):
            requests.append(Request("ec2:CreateTags", template, {"ec2:CreateAction": "CreateLaunchTemplate"}))
        return requests
    if call.action in ("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"):
        return [Request(call.action, f"{ec2}:launch-template/{params['LaunchTemplateId']}")]
    if call.action == "ec2:ModifyInstanceMetadataOptions":
        context = {"ec2:Attribute/HttpTokens": params["HttpTokens"]} if "HttpTokens" in params else {}
        return [Request(call.action, f"{ec2}:instance/{params['InstanceId']}", context)]
    if call.action in ("autoscaling:UpdateAutoScalingGroup", "autoscaling:StartInstanceRefresh"):
        name = params["AutoScalingGroupName"]
        group = f"arn:aws:autoscaling:{call.region}:{account}:autoScalingGroup:{GROUP_UUID}:autoScalingGroupName/{name}"
        requests = [Request(call.action, group)]
        # The Auto Scaling guide: a request that names a launch template is also checked for
        # ec2:RunInstances with that template, on the caller's permissions.
        for template_id in _launch_templates(params):
            context = {"ec2:LaunchTemplate": f"{ec2}:launch-template/{template_id}"}
            requests.append(Request("ec2:RunInstances", f"{ec2}:instance/*", context))
        return requests
    raise AssertionError(f"{call.action}: not in tests/aws/iam_requests.py; add it from the SAR")


def _launch_templates(params: dict[str, Any]) -> list[str]:
    specifications = []
    if "LaunchTemplate" in params:
        specifications.append(params["LaunchTemplate"])
    mixed = params.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    if mixed:
        specifications.append(mixed.get("LaunchTemplateSpecification", {}))
        specifications += [
            o["LaunchTemplateSpecification"]
            for o in mixed.get("Overrides", [])
            if "LaunchTemplateSpecification" in o
        ]
    ids = [spec["LaunchTemplateId"] for spec in specifications if "LaunchTemplateId" in spec]
    assert len(ids) == len(specifications), f"a launch template named, not given by id: {params}"
    return ids
