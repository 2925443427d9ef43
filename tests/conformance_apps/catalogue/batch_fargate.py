"""Batch FargateComputeEnvironment: not EC2 capacity, never reported."""

from aws_cdk import aws_batch as batch
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    batch.FargateComputeEnvironment(scope, "ComputeEnv", vpc=_shared.vpc(scope))


CASE = Case("BatchFargate", build, Verdict.COMPLIANT, paths=("ComputeEnv",))
