"""The constructs where aws-cdk-lib expects its own: IAutoScalingGroup and ILaunchTemplate consumers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_batch as batch
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from cdk_imds.cdk import SecureAutoScalingGroup, SecureLaunchTemplate
from cdk_imds.policy import check_template

REQUIRED_ONE_HOP = {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}


@dataclass(frozen=True)
class Built:
    stack: cdk.Stack
    template: Template
    json: dict[str, Any]
    group: SecureAutoScalingGroup
    plain_group: autoscaling.AutoScalingGroup
    batch_template: SecureLaunchTemplate

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.get_logical_id(construct.node.default_child))


@pytest.fixture(scope="module")
def built(synth_compliant: Any) -> Built:
    stack = cdk.Stack(cdk.App(), "Consumers")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
    )
    public = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
    image = ec2.MachineImage.latest_amazon_linux2023()

    # IAutoScalingGroup consumers: an ALB target group and a step scaling policy
    group = SecureAutoScalingGroup(
        stack,
        "Web",
        vpc=vpc,
        vpc_subnets=public,
        instance_type=ec2.InstanceType("t3.micro"),
        machine_image=image,
        min_capacity=1,
        max_capacity=3,
    )
    listener = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True).add_listener(
        "Http", port=80
    )
    listener.add_targets("Web", port=80, targets=[group])
    group.scale_on_metric(
        "Cpu",
        metric=cloudwatch.Metric(
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
        ),
        scaling_steps=[
            autoscaling.ScalingInterval(upper=30, change=-1),
            autoscaling.ScalingInterval(lower=70, change=+1),
        ],
        adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    )
    # the group's role, user data and connections are its launch template's
    group.add_user_data("echo added later")
    group.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    group.connections.allow_from(ec2.Peer.ipv4("10.0.0.0/8"), ec2.Port.tcp(22))

    # ILaunchTemplate consumers: aws-cdk-lib's own group, and a Batch compute environment
    plain_group = autoscaling.AutoScalingGroup(
        stack,
        "Plain",
        vpc=vpc,
        vpc_subnets=public,
        launch_template=SecureLaunchTemplate(
            stack,
            "PlainTemplate",
            instance_type=ec2.InstanceType("t3.micro"),
            machine_image=image,
        ),
    )
    batch_template = SecureLaunchTemplate(stack, "BatchTemplate", http_put_response_hop_limit=2)
    batch.ManagedEc2EcsComputeEnvironment(
        stack, "Batch", vpc=vpc, vpc_subnets=public, launch_template=batch_template
    )

    template = synth_compliant(stack)
    return Built(stack, template, template.to_json(), group, plain_group, batch_template)


def test_an_alb_target_group_takes_the_group(built: Built) -> None:
    # given listener.add_targets(..., targets=[group]) / when synthesized
    properties = built.json["Resources"][built.logical_id(built.group)]["Properties"]
    # then the group registers with the target group
    assert len(properties["TargetGroupARNs"]) == 1
    target_group_id = properties["TargetGroupARNs"][0]["Ref"]
    assert built.json["Resources"][target_group_id]["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    # and the load balancer may reach the instances through the template's security group
    security_group_id = built.logical_id(built.group.launch_template.connections.security_groups[0])
    built.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": [security_group_id, "GroupId"]},
            "FromPort": 80,
            "SourceSecurityGroupId": Match.object_like({"Fn::GetAtt": Match.any_value()}),
        },
    )


def test_a_step_scaling_policy_takes_the_group(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "StepScaling",
            "AutoScalingGroupName": {"Ref": built.logical_id(built.group)},
            "AdjustmentType": "ChangeInCapacity",
        },
    )
    built.template.resource_count_is("AWS::CloudWatch::Alarm", 2)


def test_user_data_role_and_connections_reach_the_launch_template(built: Built) -> None:
    template_resource = built.json["Resources"][built.logical_id(built.group.launch_template)]
    assert template_resource["Properties"]["LaunchTemplateData"]["UserData"] == {
        "Fn::Base64": "#!/bin/bash\necho added later"
    }
    built.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Action": "s3:GetObject"})]}
            ),
            "Roles": [{"Ref": built.logical_id(built.group.role)}],
        },
    )
    security_group = built.json["Resources"][
        built.logical_id(built.group.launch_template.connections.security_groups[0])
    ]
    assert {
        "CidrIp": "10.0.0.0/8",
        "FromPort": 22,
        "ToPort": 22,
        "IpProtocol": "tcp",
    }.items() <= security_group["Properties"]["SecurityGroupIngress"][0].items()


def test_aws_cdk_libs_own_group_launches_from_a_secure_template(built: Built) -> None:
    properties = built.json["Resources"][built.logical_id(built.plain_group)]["Properties"]
    template_id = properties["LaunchTemplate"]["LaunchTemplateId"]["Ref"]
    data = built.json["Resources"][template_id]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == REQUIRED_ONE_HOP


def test_a_batch_compute_environment_launches_from_a_secure_template(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::Batch::ComputeEnvironment",
        {
            "ComputeResources": Match.object_like(
                {
                    "LaunchTemplate": Match.object_like(
                        {"LaunchTemplateId": {"Ref": built.logical_id(built.batch_template)}}
                    )
                }
            )
        },
    )


def test_the_whole_stack_has_no_imdsv2_findings_beyond_the_hop_limit_warning(built: Built) -> None:
    findings = check_template(built.json)
    assert [(finding.rule.value, finding.severity.value) for finding in findings] == [
        ("IMDS_HOP_LIMIT", "warning")
    ]
