"""Stacks of the example app: a web tier of IMDSv2-only instances behind an Application Load Balancer.

It mirrors the Terraform example of the article this project started from (an ``aws_launch_template``
with ``metadata_options { http_tokens = "required" }`` used by an ``aws_autoscaling_group``), written
with cdk-imds's constructs: the launch template, its metadata options and the instance refresh that
rolls them out to running instances all come from ``SecureAutoScalingGroup``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_imds import SecureAutoScalingGroup

# The article's root volume: /dev/xvda is the root device of Amazon Linux 2023.
ROOT_DEVICE = "/dev/xvda"
ROOT_VOLUME_GIB = 30


class WebStack(cdk.Stack):
    """A VPC with two public subnets, an internet-facing ALB, and an IMDSv2-only group behind it.

    Environment-agnostic on purpose: no account or region lookups, so it synthesizes offline and
    without AWS credentials (the AMI id is resolved at deploy time from an SSM parameter).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, environment_name: str = "dev", **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # Two AZs (the article's two subnets); public subnets only and no NAT gateways, so nothing
        # here costs money while idle.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ],
        )

        # The instances accept HTTP from the load balancer only: add_targets() below opens exactly
        # that, instead of the article's 0.0.0.0/0 (it had no load balancer in front).
        security_group = ec2.SecurityGroup(
            self,
            "WebSecurityGroup",
            vpc=self.vpc,
            description="Web instances: HTTP from the load balancer, everything out",
            allow_all_outbound=True,
        )

        # The article's instance role and profile; Session Manager replaces its SSH key pair.
        self.role = iam.Role(
            self,
            "WebServerRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Role of the web instances (Session Manager access only)",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )

        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            f'echo "cdk-imds example web instance ({environment_name}) started" > /tmp/user-data.log',
            # Something for the load balancer's health check to find.
            "dnf install -y nginx",
            "systemctl enable --now nginx",
        )

        self.asg = SecureAutoScalingGroup(
            self,
            "Web",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            # Public subnets without NAT: instances need a public address to reach the package repos.
            associate_public_ip_address=True,
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MEDIUM),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            role=self.role,
            security_group=security_group,
            user_data=user_data,
            instance_monitoring=autoscaling.Monitoring.DETAILED,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        ROOT_VOLUME_GIB,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                ),
            ],
            min_capacity=1,
            max_capacity=3,
            desired_capacity=1,
            health_checks=autoscaling.HealthChecks.ec2(grace_period=cdk.Duration.seconds(300)),
            # Metadata options (HttpTokens required, HttpEndpoint enabled, hop limit 1) and the
            # instance refresh on template changes are SecureAutoScalingGroup's defaults.
        )
        cdk.Annotations.of(self.asg).acknowledge_warning(
            "@aws-cdk/aws-autoscaling:desiredCapacitySet",
            "Mirrors the article (desired 1 = min); the group has no scaling policy to undo.",
        )

        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer", vpc=self.vpc, internet_facing=True
        )
        listener = self.load_balancer.add_listener("Http", port=80, open=True)
        listener.add_targets(
            "Web",
            port=80,
            targets=[self.asg],
            health_check=elbv2.HealthCheck(path="/", healthy_http_codes="200"),
        )
        cdk.CfnOutput(self, "Url", value=f"http://{self.load_balancer.load_balancer_dns_name}/")

        # Name on both: the group propagates it to instances at launch, the template to volumes.
        for tagged in (self.asg, self.asg.launch_template):
            cdk.Tags.of(tagged).add("Name", f"{construct_id}/web")
        cdk.Tags.of(self).add("Environment", environment_name)
