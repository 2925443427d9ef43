"""What several cases need: one VPC per stack (cases share it) and an image found without a lookup."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

SHARED_VPC_ID = "SharedVpc"


def vpc(scope: Construct) -> ec2.IVpc:
    """The stack's shared VPC (created on first use): no NAT, public and isolated subnets."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(SHARED_VPC_ID)
    if isinstance(existing, ec2.Vpc):
        return existing
    return ec2.Vpc(
        stack,
        SHARED_VPC_ID,
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )


def image() -> ec2.IMachineImage:
    """Amazon Linux 2023 from its public SSM parameter: a template parameter, no context lookup."""
    return ec2.MachineImage.latest_amazon_linux2023()


def instance_type() -> ec2.InstanceType:
    return ec2.InstanceType("t3.micro")
