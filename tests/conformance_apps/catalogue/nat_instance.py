"""NAT instances: a VPC whose NAT provider is ec2.NatProvider.instance_v2."""

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    ec2.Vpc(
        scope,
        "NatVpc",
        max_azs=1,
        nat_gateways=1,
        nat_gateway_provider=ec2.NatProvider.instance_v2(instance_type=_shared.instance_type()),
    )


CASE = Case("NatInstance", build, Verdict.FIXABLE, paths=("NatVpc/PublicSubnet1/NatInstance",))
