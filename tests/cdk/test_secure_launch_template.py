"""SecureLaunchTemplate: what it synthesizes, what it passes through, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from cdk_imds.cdk import ConfigurationError, InsecureConfigurationError, SecureLaunchTemplate
from cdk_imds.policy import RuleId, Severity, check_template

REQUIRED_ONE_HOP = {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}


@dataclass(frozen=True)
class Synthesized:
    stack: cdk.Stack
    template: Template
    json: dict[str, Any]
    templates: dict[str, SecureLaunchTemplate]

    def data(self, name: str, resource_of: Any) -> dict[str, Any]:
        launch_data: dict[str, Any] = resource_of(self.json, self.templates[name])["Properties"][
            "LaunchTemplateData"
        ]
        return launch_data


@pytest.fixture(scope="module")
def synthesized(synth_compliant: Any) -> Synthesized:
    """One stack holding every variant the tests read: one synthesis for the whole module."""
    stack = cdk.Stack(cdk.App(), "LaunchTemplates")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("echo pass-through")
    templates = {
        "Default": SecureLaunchTemplate(stack, "Default"),
        "ExplicitV2": SecureLaunchTemplate(
            stack, "ExplicitV2", http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED, require_imdsv2=True
        ),
        "Containers": SecureLaunchTemplate(stack, "Containers", http_put_response_hop_limit=2),
        "OptedIn": SecureLaunchTemplate(
            stack, "OptedIn", http_put_response_hop_limit=5, allow_hop_limit_above_2=True
        ),
        "Disabled": SecureLaunchTemplate(stack, "Disabled", http_endpoint=False),
        "TagsAndIpv6": SecureLaunchTemplate(
            stack, "TagsAndIpv6", instance_metadata_tags=True, http_protocol_ipv6=True
        ),
        # Every pass-through argument at once: EC2 would refuse some of these combinations at launch
        # (hibernation with Spot and enclaves), but synthesis is all this test is about.
        "Everything": SecureLaunchTemplate(
            stack,
            "Everything",
            associate_public_ip_address=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
            cpu_credits=ec2.CpuCredits.STANDARD,
            cpu_options=ec2.LaunchTemplateCpuOptions(core_count=2, threads_per_core=1),
            detailed_monitoring=True,
            disable_api_termination=True,
            ebs_optimized=True,
            hibernation_configured=True,
            instance_initiated_shutdown_behavior=ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
            instance_type=ec2.InstanceType("m5.large"),
            key_pair=ec2.KeyPair.from_key_pair_name(stack, "Key", "ops-key"),
            launch_template_name="everything",
            machine_image=ec2.MachineImage.generic_linux({"us-east-1": "ami-0123456789abcdef0"}),
            nitro_enclave_enabled=True,
            placement_group=ec2.PlacementGroup(
                stack, "Placement", strategy=ec2.PlacementGroupStrategy.SPREAD
            ),
            role=role,
            security_group=ec2.SecurityGroup(stack, "Sg", vpc=vpc),
            spot_options=ec2.LaunchTemplateSpotOptions(
                max_price=0.05, interruption_behavior=ec2.SpotInstanceInterruption.STOP
            ),
            user_data=user_data,
            version_description="first",
        ),
        "WithProfile": SecureLaunchTemplate(
            stack,
            "WithProfile",
            instance_profile=iam.InstanceProfile(stack, "Profile", role=role),
        ),
    }
    template = synth_compliant(stack)
    return Synthesized(stack, template, template.to_json(), templates)


def test_defaults_require_tokens_with_endpoint_enabled_and_one_hop(
    synthesized: Synthesized, resource_of: Any
) -> None:
    # given SecureLaunchTemplate(stack, "Default") / when synthesized
    data = synthesized.data("Default", resource_of)
    # then exactly the three options cdk-imds guarantees
    assert data["MetadataOptions"] == REQUIRED_ONE_HOP


def test_the_default_template_has_no_findings_at_all(synthesized: Synthesized) -> None:
    default = synthesized.templates["Default"].node.default_child
    assert isinstance(default, ec2.CfnLaunchTemplate)
    logical_id = synthesized.stack.get_logical_id(default)
    assert [finding for finding in check_template(synthesized.json) if finding.logical_id == logical_id] == []


def test_it_is_a_launch_template_for_aws_cdk_lib(synthesized: Synthesized) -> None:
    default = synthesized.templates["Default"]
    assert isinstance(default, ec2.LaunchTemplate)
    assert default.metadata_options.http_put_response_hop_limit == 1


def test_asking_for_imdsv2_explicitly_changes_nothing(synthesized: Synthesized, resource_of: Any) -> None:
    assert synthesized.data("ExplicitV2", resource_of)["MetadataOptions"] == REQUIRED_ONE_HOP


def test_hop_limit_two_is_allowed_for_containers_and_only_warned_about(
    synthesized: Synthesized, resource_of: Any
) -> None:
    options = synthesized.data("Containers", resource_of)["MetadataOptions"]
    assert options == {**REQUIRED_ONE_HOP, "HttpPutResponseHopLimit": 2}
    hop_findings = [
        finding
        for finding in check_template(synthesized.json)
        if finding.rule is RuleId.IMDS_HOP_LIMIT and finding.message.endswith("travel 2 hops.")
    ]
    assert [finding.severity for finding in hop_findings] == [Severity.WARNING]


def test_hop_limit_above_two_with_the_opt_in(synthesized: Synthesized, resource_of: Any) -> None:
    options = synthesized.data("OptedIn", resource_of)["MetadataOptions"]
    assert options == {**REQUIRED_ONE_HOP, "HttpPutResponseHopLimit": 5}


def test_disabled_endpoint_still_requires_tokens(synthesized: Synthesized, resource_of: Any) -> None:
    options = synthesized.data("Disabled", resource_of)["MetadataOptions"]
    assert options == {"HttpEndpoint": "disabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}


def test_instance_metadata_tags_and_ipv6_pass_through(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": Match.object_like(
                {
                    "MetadataOptions": {
                        **REQUIRED_ONE_HOP,
                        "HttpProtocolIpv6": "enabled",
                        "InstanceMetadataTags": "enabled",
                    }
                }
            )
        },
    )


def test_every_other_launch_template_argument_passes_through(
    synthesized: Synthesized, resource_of: Any
) -> None:
    # given a template using every ec2.LaunchTemplate argument / when synthesized
    resource = resource_of(synthesized.json, synthesized.templates["Everything"])
    data = resource["Properties"]["LaunchTemplateData"]
    # then each one is where aws-cdk-lib puts it, next to the secure metadata options
    assert resource["Properties"]["LaunchTemplateName"] == "everything"
    assert resource["Properties"]["VersionDescription"] == "first"
    assert data["MetadataOptions"] == REQUIRED_ONE_HOP
    assert data["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"}}
    ]
    assert data["CreditSpecification"] == {"CpuCredits": "standard"}
    assert data["CpuOptions"] == {"CoreCount": 2, "ThreadsPerCore": 1}
    assert data["Monitoring"] == {"Enabled": True}
    assert data["DisableApiTermination"] is True
    assert data["EbsOptimized"] is True
    assert data["HibernationOptions"] == {"Configured": True}
    assert data["InstanceInitiatedShutdownBehavior"] == "terminate"
    assert data["InstanceType"] == "m5.large"
    assert data["KeyName"] == "ops-key"
    assert "ImageId" in data
    assert data["EnclaveOptions"] == {"Enabled": True}
    assert "GroupName" in data["Placement"]
    assert "Arn" in data["IamInstanceProfile"]
    assert data["InstanceMarketOptions"]["SpotOptions"]["MaxPrice"] == "0.05"
    assert data["InstanceMarketOptions"]["SpotOptions"]["InstanceInterruptionBehavior"] == "stop"
    assert data["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    assert data["UserData"] == {"Fn::Base64": "#!/bin/bash\necho pass-through"}


def test_an_instance_profile_passes_through(synthesized: Synthesized, resource_of: Any) -> None:
    # given an existing instance profile instead of a role / when synthesized
    data = synthesized.data("WithProfile", resource_of)
    # then the template launches with that profile (and creates none of its own)
    profile = synthesized.stack.node.find_child("Profile").node.default_child
    assert isinstance(profile, iam.CfnInstanceProfile)
    assert data["IamInstanceProfile"] == {
        "Arn": {"Fn::GetAtt": [synthesized.stack.get_logical_id(profile), "Arn"]}
    }
    assert data["MetadataOptions"] == REQUIRED_ONE_HOP


def _template_and_peer(
    with_role_and_group: bool,
) -> tuple[cdk.Stack, SecureLaunchTemplate, ec2.SecurityGroup]:
    stack = cdk.Stack(cdk.App(), "Grants")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
    extra: dict[str, Any] = {}
    if with_role_and_group:
        extra["role"] = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
        extra["security_group"] = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    return stack, SecureLaunchTemplate(stack, "Lt", **extra), ec2.SecurityGroup(stack, "Peer", vpc=vpc)


def _id(stack: cdk.Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


def test_role_and_security_group_make_it_grantable_and_connectable() -> None:
    # Given a template with a role and a security group
    stack, template, peer = _template_and_peer(with_role_and_group=True)
    # When it is granted a read and opened to a peer
    iam.Grant.add_to_principal(grantee=template, actions=["s3:GetObject"], resource_arns=["arn:aws:s3:::b/*"])
    template.connections.allow_from(peer, ec2.Port.tcp(443))
    # Then the grant is a policy on that role, and the peer may reach its security group
    resources = Template.from_stack(stack).to_json()["Resources"]
    policies = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::IAM::Policy"]
    assert [(p["Roles"], p["PolicyDocument"]["Statement"]) for p in policies] == [
        (
            [{"Ref": _id(stack, stack.node.find_child("Role"))}],
            [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::b/*"}],
        )
    ]
    ingress = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert [(i["IpProtocol"], i["FromPort"], i["ToPort"]) for i in ingress] == [("tcp", 443, 443)]
    assert ingress[0]["GroupId"] == {"Fn::GetAtt": [_id(stack, stack.node.find_child("Sg")), "GroupId"]}
    assert ingress[0]["SourceSecurityGroupId"] == {"Fn::GetAtt": [_id(stack, peer), "GroupId"]}


def test_grant_and_connection_control_without_role_or_group_they_are_refused() -> None:
    # The control for the test above: a template without a role and a group is neither
    _, template, peer = _template_and_peer(with_role_and_group=False)
    with pytest.raises(RuntimeError, match="IGrantable if a role is provided"):
        iam.Grant.add_to_principal(grantee=template, actions=["s3:GetObject"], resource_arns=["*"])
    with pytest.raises(RuntimeError, match="IConnectable if a securityGroup is provided"):
        template.connections.allow_from(peer, ec2.Port.tcp(443))


# --- refusals: raised at construction, before anything is added to the tree --------------------------


@pytest.fixture
def scratch() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Scratch")


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"http_tokens": ec2.LaunchTemplateHttpTokens.OPTIONAL}, InsecureConfigurationError, "http_tokens"),
        ({"require_imdsv2": False}, InsecureConfigurationError, "require_imdsv2"),
        ({"http_put_response_hop_limit": 3}, InsecureConfigurationError, "http_put_response_hop_limit"),
        (
            {"http_put_response_hop_limit": cdk.Token.as_number({"Ref": "Hops"})},
            InsecureConfigurationError,
            "http_put_response_hop_limit",
        ),
        ({"http_put_response_hop_limit": 0}, ConfigurationError, "http_put_response_hop_limit"),
        (
            {"http_put_response_hop_limit": 65, "allow_hop_limit_above_2": True},
            ConfigurationError,
            "http_put_response_hop_limit",
        ),
    ],
)
def test_refused_arguments_raise_at_construction(
    scratch: cdk.Stack, arguments: dict[str, Any], error: type[Exception], named: str
) -> None:
    # given arguments cdk-imds will not build / when constructing
    with pytest.raises(error) as raised:
        SecureLaunchTemplate(scratch, "Refused", **arguments)
    # then the message names the construct and the argument, and nothing was added
    assert str(raised.value).startswith("Scratch/Refused: ")
    assert named in str(raised.value)
    assert scratch.node.try_find_child("Refused") is None
