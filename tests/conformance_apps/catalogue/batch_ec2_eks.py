"""Batch ManagedEc2EksComputeEnvironment on an imported cluster, without a launch template."""

from aws_cdk import aws_batch as batch
from aws_cdk import aws_eks as eks
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    # Imported by name: no kubectl layer, no lookup.
    cluster = eks.Cluster.from_cluster_attributes(scope, "Cluster", cluster_name="conformance")
    batch.ManagedEc2EksComputeEnvironment(
        scope, "ComputeEnv", vpc=_shared.vpc(scope), eks_cluster=cluster, kubernetes_namespace="batch"
    )


CASE = Case("BatchEc2Eks", build, Verdict.FIXABLE, paths=("ComputeEnv",), fix_note=("replace",))
