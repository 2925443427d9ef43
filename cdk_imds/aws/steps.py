"""Shared by applying and reverting: one AWS call as one step, and how a group's launch reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import botocore.exceptions

from cdk_imds.aws import launch_spec
from cdk_imds.aws.session import aws_errors
from cdk_imds.errors import AwsAccessError


class StepFailed(Exception):
    """One step failed; the message is one line, ready for the report. It ends that item's turn
    only: the run goes on with the next group, template or instance."""


def call(where: str, operation: Callable[..., Any], tolerate: tuple[str, ...] = (), **arguments: Any) -> Any:
    """The answer of one AWS call; ``None`` when it failed with a ``tolerate``d error code;
    otherwise a failure becomes ``StepFailed`` with botocore's error on one line."""
    try:
        with aws_errors(where):
            try:
                return operation(**arguments)
            except botocore.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in tolerate:
                    return None
                raise
    except AwsAccessError as error:
        raise StepFailed(str(error)) from None


def launch_label(update: Mapping[str, Any]) -> str:
    """UpdateAutoScalingGroup launch arguments, for a person: "lt-1 version 3, lt-2 version $Default"."""
    if "LaunchConfigurationName" in update:
        return f"launch configuration {update['LaunchConfigurationName']}"
    specs = [update["LaunchTemplate"]] if "LaunchTemplate" in update else []
    launch = (update.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    specs += [launch.get("LaunchTemplateSpecification") or {}]
    specs += [
        override["LaunchTemplateSpecification"]
        for override in launch.get("Overrides") or []
        if override.get("LaunchTemplateSpecification")
    ]
    return (
        ", ".join(
            f"{launch_spec.template_key(spec).removeprefix('name:')} version {spec.get('Version', launch_spec.DEFAULT)}"
            for spec in specs
            if spec
        )
        or "nothing"
    )
