"""EKS managed node group with RemoteAccess: EKS rejects a launch template with it (unfixable)."""

from aws_cdk import aws_eks as eks
from constructs import Construct

from tests.conformance_apps.catalogue import _eks
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    _eks.nodegroup(scope, remote_access=eks.CfnNodegroup.RemoteAccessProperty(ec2_ssh_key="conformance"))


CASE = Case("EksRemoteAccess", build, Verdict.UNFIXABLE, paths=("Nodegroup",))
