"""How SecureAutoScalingGroup picks its update policy, without synthesis (the synthesized form is
tested in test_secure_auto_scaling_group.py)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling

from cdk_imds.cdk import ConfigurationError
from cdk_imds.cdk.constructs.update_policy import GroupShape, choose_update_policy, rolling_update_floor


@pytest.mark.parametrize(
    ("shape", "wanted", "floor"),
    [
        # aws-cdk-lib's defaults: min 1, max 1; MinInstancesInService must stay below MaxSize
        (GroupShape(), 1, 0),
        (GroupShape(min_capacity=1, max_capacity=3), 1, 1),
        (GroupShape(min_capacity=1, max_capacity=3, desired_capacity=2), 2, 2),
        (GroupShape(min_capacity=2, max_capacity=4, desired_capacity=4), 4, 3),
        (GroupShape(min_capacity=3, max_capacity=3), 3, 2),
        # max defaults to desired
        (GroupShape(min_capacity=1, desired_capacity=2), 2, 1),
        (GroupShape(min_capacity=0, max_capacity=2), 0, 0),
    ],
)
def test_rolling_update_keeps_desired_else_minimum_capacity_below_max(
    shape: GroupShape, wanted: int, floor: int
) -> None:
    assert rolling_update_floor(shape) == (wanted, floor)


def test_rolling_update_floor_is_unknown_for_token_capacities() -> None:
    shape = GroupShape(min_capacity=cdk.Token.as_number({"Ref": "Min"}), max_capacity=4)
    assert rolling_update_floor(shape) == (0, None)


def test_a_given_policy_is_used_as_is() -> None:
    given = autoscaling.UpdatePolicy.replacing_update()
    choice = choose_update_policy(
        "S/G", update_policy=given, replace_instances_on_template_change=True, shape=GroupShape()
    )
    assert choice.policy is given
    assert choice.warning is None


def test_switched_off_means_no_policy() -> None:
    choice = choose_update_policy(
        "S/G", update_policy=None, replace_instances_on_template_change=False, shape=GroupShape()
    )
    assert choice.policy is None


def test_switched_off_with_a_policy_is_a_contradiction() -> None:
    with pytest.raises(
        ConfigurationError, match="update_policy was given but replace_instances_on_template_change=False"
    ):
        choose_update_policy(
            "S/G",
            update_policy=autoscaling.UpdatePolicy.rolling_update(),
            replace_instances_on_template_change=False,
            shape=GroupShape(),
        )


@pytest.mark.parametrize(
    ("shape", "warning"),
    [
        (GroupShape(signals=True, min_capacity=1, max_capacity=3), None),
        (GroupShape(migrating=True, min_capacity=1, max_capacity=3), None),
        (GroupShape(signals=True, min_capacity=2, max_capacity=2), "keeps 1 of 2"),
        (GroupShape(signals=True, min_capacity=cdk.Token.as_number({"Ref": "Min"})), "tokens"),
    ],
)
def test_signalled_and_migrating_groups_get_a_rolling_update_and_a_warning_when_capacity_dips(
    shape: GroupShape, warning: str | None
) -> None:
    choice = choose_update_policy(
        "S/G", update_policy=None, replace_instances_on_template_change=True, shape=shape
    )
    assert choice.policy is not None
    if warning is None:
        assert choice.warning is None
    else:
        assert choice.warning is not None and warning in choice.warning
