"""ECS cluster.add_capacity: an Auto Scaling group of ECS-optimized instances."""

from aws_cdk import aws_ecs as ecs
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    cluster = ecs.Cluster(scope, "Cluster", vpc=_shared.vpc(scope))
    cluster.add_capacity("Capacity", instance_type=_shared.instance_type())


CASE = Case("EcsAddCapacity", build, Verdict.FIXABLE, paths=("Cluster/Capacity",))
