"""How a SecureAutoScalingGroup replaces running instances when its launch template changes.

A new launch template version only affects instances launched afterwards; the instances already
running keep the metadata options they were launched with (IMDSv1 included) until replaced. So by
default the group gets an update policy that replaces them on every template change:

* an **instance refresh** (``AutoScalingInstanceRefresh``) that launches before it terminates
  (MinHealthyPercentage 100, MaxHealthyPercentage 110): replacements must pass the group's own
  health checks (EC2 or ELB) and warm-up before old instances go, the group never drops below its
  *current* desired capacity (whatever scaling made it), and it exceeds it by about 10% at most;
* a **rolling update** instead when the group has ``signals`` (an instance refresh does not wait
  for cfn-signal) or ``migrate_to_launch_template`` (aws-cdk-lib requires a rolling update for that
  migration): batches of one, keeping the group's desired (else minimum) capacity in service, as
  far as MaxSize allows.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling

from cdk_imds.cdk.errors import ConfigurationError

# Launch before terminating. These are also the service's defaults for a Rolling refresh without an
# instance maintenance policy (per aws-cdk-lib's docs); spelled out so the intent is in the template.
LAUNCH_BEFORE_TERMINATE_MIN_HEALTHY = 100
LAUNCH_BEFORE_TERMINATE_MAX_HEALTHY = 110
ROLLING_BATCH_SIZE = 1
CAPACITY_WARNING_ID = "cdk-imds:updatePolicyCapacity"


@dataclass(frozen=True)
class UpdatePolicyChoice:
    """The policy to give the group (None: none at all), and a warning to attach to it, if any."""

    policy: autoscaling.UpdatePolicy | None
    warning: str | None = None


@dataclass(frozen=True)
class GroupShape:
    """The group arguments the default policy depends on (numbers may be tokens)."""

    min_capacity: float | None = None
    max_capacity: float | None = None
    desired_capacity: float | None = None
    signals: bool = False
    migrating: bool = False
    maintenance_policy: bool = False


def choose_update_policy(
    subject: str,
    *,
    update_policy: autoscaling.UpdatePolicy | None,
    replace_instances_on_template_change: bool,
    shape: GroupShape,
) -> UpdatePolicyChoice:
    """The caller's policy if given, none if switched off, else the default described above."""
    if not replace_instances_on_template_change:
        if update_policy is not None:
            raise ConfigurationError(
                f"{subject}: update_policy was given but replace_instances_on_template_change=False "
                "switches update policies off; drop one of the two."
            )
        return UpdatePolicyChoice(None)
    if update_policy is not None:
        return UpdatePolicyChoice(update_policy)
    if shape.signals or shape.migrating:
        return _rolling_update(shape)
    return UpdatePolicyChoice(_instance_refresh(shape))


def _instance_refresh(shape: GroupShape) -> autoscaling.UpdatePolicy:
    if shape.maintenance_policy:
        # The group's own instance maintenance policy (min/max_healthy_percentage) is what an
        # instance refresh falls back to: leave the percentages to it.
        return autoscaling.UpdatePolicy.instance_refresh(strategy=autoscaling.InstanceRefreshStrategy.ROLLING)
    return autoscaling.UpdatePolicy.instance_refresh(
        strategy=autoscaling.InstanceRefreshStrategy.ROLLING,
        min_healthy_percentage=LAUNCH_BEFORE_TERMINATE_MIN_HEALTHY,
        max_healthy_percentage=LAUNCH_BEFORE_TERMINATE_MAX_HEALTHY,
    )


def _rolling_update(shape: GroupShape) -> UpdatePolicyChoice:
    wanted, floor = rolling_update_floor(shape)
    warning = None
    if floor is None:
        floor = 0
        warning = (
            "The group's capacities are tokens, so the rolling update keeps no instance in service "
            "(MinInstancesInService 0). Pass update_policy=UpdatePolicy.rolling_update(...) to set it."
        )
    elif floor < wanted:
        warning = (
            f"A rolling update can keep at most MaxSize - 1 instances in service, so it keeps {floor} "
            f"of {wanted} while replacing instances. Raise max_capacity to keep capacity."
        )
    policy = autoscaling.UpdatePolicy.rolling_update(
        max_batch_size=ROLLING_BATCH_SIZE, min_instances_in_service=floor
    )
    return UpdatePolicyChoice(policy, warning)


def rolling_update_floor(shape: GroupShape) -> tuple[int, int | None]:
    """(instances to keep in service, what a rolling update can keep); None when unknowable.

    Capacities default the way aws-cdk-lib's group does: min 1, max = desired, else max(min, 1).
    CloudFormation refuses MinInstancesInService >= MaxSize, hence the cap.
    """
    values = (shape.min_capacity, shape.max_capacity, shape.desired_capacity)
    if any(value is not None and cdk.Token.is_unresolved(value) for value in values):
        return 0, None
    minimum = int(shape.min_capacity if shape.min_capacity is not None else 1)
    desired = int(shape.desired_capacity) if shape.desired_capacity is not None else None
    if shape.max_capacity is not None:
        maximum = int(shape.max_capacity)
    else:
        maximum = desired if desired is not None else max(minimum, 1)
    wanted = desired if desired is not None else minimum
    return wanted, max(0, min(wanted, maximum - 1))
