"""Stacks of the example app: a small web tier whose instances must use IMDSv2.

A later change replaces the plain CDK constructs here with cdk-imds's own constructs; until then
this is what a typical, already-compliant app looks like to ``cdk-imds check``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct


class WebStack(cdk.Stack):
    """A VPC with two public subnets, and an Auto Scaling group of IMDSv2-only instances in them.

    Environment-agnostic on purpose: no account or region lookups, so it synthesizes offline and
    without AWS credentials (the AMI id is resolved at deploy time from an SSM parameter).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, environment_name: str = "dev", **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # Public subnets only and no NAT gateways: nothing here costs money while idle.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ],
        )

        security_group = ec2.SecurityGroup(
            self,
            "WebSecurityGroup",
            vpc=self.vpc,
            description="Web instances: HTTP in, everything out",
            allow_all_outbound=True,
        )
        security_group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP from anywhere")

        self.role = iam.Role(
            self,
            "WebInstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Role of the web instances (Session Manager access only)",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )

        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            f'echo "cdk-imds example web instance ({environment_name})" > /etc/motd',
        )

        self.launch_template = ec2.LaunchTemplate(
            self,
            "WebLaunchTemplate",
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
            # IMDSv2 only, and a hop limit of 1 so containers on the host cannot reach the IMDS.
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            detailed_monitoring=True,
            associate_public_ip_address=True,
            security_group=security_group,
            role=self.role,
            user_data=user_data,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",  # root device of Amazon Linux 2023
                    volume=ec2.BlockDeviceVolume.ebs(
                        8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                ),
            ],
        )

        self.asg = autoscaling.AutoScalingGroup(
            self,
            "WebAsg",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            launch_template=self.launch_template,
            min_capacity=1,
            max_capacity=3,
        )

        cdk.Tags.of(self.asg).add("Name", f"{construct_id}/web")
        cdk.Tags.of(self).add("Environment", environment_name)
