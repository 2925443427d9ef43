"""An EKS managed node group L1 (the L2 needs a kubectl layer): what the node group cases share."""

from typing import Any

from aws_cdk import aws_eks as eks
from constructs import Construct

NODE_ROLE = "arn:aws:iam::111111111111:role/conformance-nodes"
SUBNETS = ["subnet-0123456789abcdef0"]


def nodegroup(scope: Construct, **extra: Any) -> None:
    eks.CfnNodegroup(
        scope, "Nodegroup", cluster_name="conformance", node_role=NODE_ROLE, subnets=SUBNETS, **extra
    )
