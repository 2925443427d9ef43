"""Batch ManagedEc2EcsComputeEnvironment without a launch template: the service's default template."""

from aws_cdk import aws_batch as batch
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    batch.ManagedEc2EcsComputeEnvironment(scope, "ComputeEnv", vpc=_shared.vpc(scope))


CASE = Case("BatchEc2Ecs", build, Verdict.FIXABLE, paths=("ComputeEnv",), fix_note=("replace",))
