"""ECS AsgCapacityProvider over a user's Auto Scaling group."""

from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    vpc = _shared.vpc(scope)
    group = autoscaling.AutoScalingGroup(
        scope,
        "Group",
        vpc=vpc,
        instance_type=_shared.instance_type(),
        machine_image=ecs.EcsOptimizedImage.amazon_linux2023(),
    )
    cluster = ecs.Cluster(scope, "Cluster", vpc=vpc)
    cluster.add_asg_capacity_provider(ecs.AsgCapacityProvider(scope, "Provider", auto_scaling_group=group))


CASE = Case("EcsCapacityProvider", build, Verdict.FIXABLE, paths=("Group",))
