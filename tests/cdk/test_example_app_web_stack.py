"""example_app's WebStack: the article's web tier, built with SecureAutoScalingGroup behind an ALB."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from cdk_imds.cdk import SecureLaunchTemplate
from cdk_imds.policy import check_template
from example_app.stacks import WebStack


@dataclass(frozen=True)
class Built:
    stack: WebStack
    template: Template
    json: dict[str, Any]

    def resource(self, construct: Any) -> dict[str, Any]:
        resource: dict[str, Any] = self.json["Resources"][
            self.stack.get_logical_id(construct.node.default_child)
        ]
        return resource


@pytest.fixture(scope="module")
def built(synth_compliant: Any) -> Built:
    stack = WebStack(cdk.App(), "WebStack", environment_name="staging")
    template = synth_compliant(stack)
    return Built(stack, template, template.to_json())


def test_no_findings_at_all(built: Built) -> None:
    assert check_template(built.json) == []


def test_no_launch_configuration_and_one_secure_launch_template(built: Built) -> None:
    assert isinstance(built.stack.asg.launch_template, SecureLaunchTemplate)
    built.template.resource_count_is("AWS::AutoScaling::LaunchConfiguration", 0)
    built.template.resource_count_is("AWS::EC2::LaunchTemplate", 1)


def test_launch_template_mirrors_the_article(built: Built) -> None:
    # metadata_options { http_endpoint = "enabled", http_tokens = "required", http_put_response_hop_limit = 1 }
    data = built.resource(built.stack.asg.launch_template)["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpPutResponseHopLimit": 1,
        "HttpTokens": "required",
    }
    # monitoring { enabled = true }
    assert data["Monitoring"] == {"Enabled": True}
    # block_device_mappings: /dev/xvda, 30 GiB gp3, encrypted, deleted with the instance
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"},
        }
    ]
    # iam_instance_profile, and user data writing a log line
    assert "Arn" in data["IamInstanceProfile"]
    assert "> /tmp/user-data.log" in data["UserData"]["Fn::Base64"]
    assert data["InstanceType"] == "t3.medium"


def test_group_mirrors_the_article(built: Built) -> None:
    resource = built.resource(built.stack.asg)
    properties = resource["Properties"]
    # min 1 / max 3 / desired 1 across two subnets, EC2 health check with a 300 s grace period
    assert (properties["MinSize"], properties["MaxSize"], properties["DesiredCapacity"]) == ("1", "3", "1")
    assert len(properties["VPCZoneIdentifier"]) == 2
    assert (properties["HealthCheckType"], properties["HealthCheckGracePeriod"]) == ("EC2", 300)
    # Name and Environment propagated at launch
    assert {"Key": "Name", "Value": "WebStack/web", "PropagateAtLaunch": True} in properties["Tags"]
    assert {"Key": "Environment", "Value": "staging", "PropagateAtLaunch": True} in properties["Tags"]
    # and the step the article stresses: running instances are replaced when the template changes
    assert resource["UpdatePolicy"]["AutoScalingInstanceRefresh"]["Strategy"] == "Rolling"


def test_volumes_are_tagged_like_the_instances(built: Built) -> None:
    data = built.resource(built.stack.asg.launch_template)["Properties"]["LaunchTemplateData"]
    volume_tags = next(spec["Tags"] for spec in data["TagSpecifications"] if spec["ResourceType"] == "volume")
    assert {"Key": "Name", "Value": "WebStack/web"} in volume_tags
    assert {"Key": "Environment", "Value": "staging"} in volume_tags


def test_the_load_balancer_forwards_http_to_the_group(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing", "Type": "application"}
    )
    built.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 80, "Protocol": "HTTP"}
    )
    target_groups = built.resource(built.stack.asg)["Properties"]["TargetGroupARNs"]
    assert len(target_groups) == 1
    # instances take HTTP from the load balancer only, not from anywhere
    built.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress", {"FromPort": 80, "SourceSecurityGroupId": Match.any_value()}
    )
    instance_group = built.template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("^Web instances")}},
    )
    (only,) = instance_group.values()
    assert "SecurityGroupIngress" not in only["Properties"]


def test_no_unacknowledged_warnings(built: Built) -> None:
    Annotations.from_stack(built.stack).has_no_warning("*", Match.any_value())
