"""SecureAutoScalingGroup: its launch template, pass-through arguments, update policy and refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from constructs import IConstruct

from cdk_imds.cdk import (
    ConfigurationError,
    InsecureConfigurationError,
    SecureAutoScalingGroup,
    SecureLaunchTemplate,
)
from cdk_imds.cdk.constructs.update_policy import CAPACITY_WARNING_ID

LAUNCH_TEMPLATE_FLAG = "@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig"
REQUIRED_ONE_HOP = {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
LAUNCH_BEFORE_TERMINATE = {
    "Strategy": "Rolling",
    "Preferences": {"MinHealthyPercentage": 100, "MaxHealthyPercentage": 110},
}
T3_MICRO = ec2.InstanceType("t3.micro")


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    # Public and isolated subnets, no NAT gateway: small to synthesize, and both kinds to select.
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )


def _image() -> ec2.IMachineImage:
    return ec2.MachineImage.latest_amazon_linux2023()


def _logical_id(construct: IConstruct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return str(cdk.Stack.of(resource).get_logical_id(resource))


@dataclass(frozen=True)
class Synthesized:
    stack: cdk.Stack
    template: Template
    json: dict[str, Any]
    groups: dict[str, SecureAutoScalingGroup]

    def group(self, name: str, resource_of: Any) -> dict[str, Any]:
        resource: dict[str, Any] = resource_of(self.json, self.groups[name])
        return resource

    def launch_data(self, name: str, resource_of: Any) -> dict[str, Any]:
        data: dict[str, Any] = resource_of(self.json, self.groups[name].launch_template)["Properties"][
            "LaunchTemplateData"
        ]
        return data


# --- defaults ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_group(synth_compliant: Any) -> Synthesized:
    """The smallest group: vpc, instance type and image."""
    stack = cdk.Stack(cdk.App(), "Defaults")
    group = SecureAutoScalingGroup(
        stack, "Web", vpc=_vpc(stack), instance_type=T3_MICRO, machine_image=_image()
    )
    template = synth_compliant(stack)
    return Synthesized(stack, template, template.to_json(), {"Web": group})


def test_defaults_launch_from_a_secure_template_it_creates(default_group: Synthesized) -> None:
    # given the smallest group / when synthesized / then one template, required tokens, one hop
    template = default_group.template
    template.resource_count_is("AWS::EC2::LaunchTemplate", 1)
    template.resource_count_is("AWS::AutoScaling::LaunchConfiguration", 0)
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {"LaunchTemplateData": Match.object_like({"MetadataOptions": REQUIRED_ONE_HOP})},
    )
    group = default_group.groups["Web"]
    assert isinstance(group.launch_template, SecureLaunchTemplate)
    assert group.launch_template.node.path == "Defaults/WebLaunchTemplate"


def test_defaults_reference_the_latest_template_version(default_group: Synthesized, resource_of: Any) -> None:
    lt_id = _logical_id(default_group.groups["Web"].launch_template)
    properties = default_group.group("Web", resource_of)["Properties"]
    assert properties["LaunchTemplate"] == {
        "LaunchTemplateId": {"Ref": lt_id},
        "Version": {"Fn::GetAtt": [lt_id, "LatestVersionNumber"]},
    }


def test_defaults_replace_instances_by_launch_before_terminate_refresh(default_group: Synthesized) -> None:
    default_group.template.has_resource(
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "UpdatePolicy": {
                "AutoScalingInstanceRefresh": LAUNCH_BEFORE_TERMINATE,
                "AutoScalingScheduledAction": {"IgnoreUnmodifiedGroupSizeProperties": True},
            }
        },
    )


def test_defaults_create_role_security_group_and_user_data_like_aws_cdk_lib(
    default_group: Synthesized, resource_of: Any
) -> None:
    template = default_group.template
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]}
            )
        },
    )
    template.resource_count_is("AWS::IAM::InstanceProfile", 1)
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    data = default_group.launch_data("Web", resource_of)
    assert data["UserData"] == {"Fn::Base64": "#!/bin/bash"}
    assert "Arn" in data["IamInstanceProfile"]
    assert len(data["SecurityGroupIds"]) == 1


def test_defaults_name_instances_after_the_group(default_group: Synthesized, resource_of: Any) -> None:
    tags = default_group.group("Web", resource_of)["Properties"]["Tags"]
    assert {"Key": "Name", "Value": "Defaults/Web", "PropagateAtLaunch": True} in tags


def test_defaults_raise_no_warnings(default_group: Synthesized) -> None:
    Annotations.from_stack(default_group.stack).has_no_warning("*", Match.any_value())


def test_it_is_an_auto_scaling_group_with_the_templates_role_and_connections(
    default_group: Synthesized,
) -> None:
    group = default_group.groups["Web"]
    assert isinstance(group, autoscaling.AutoScalingGroup)
    assert group.role is group.launch_template.role
    assert group.connections.security_groups == group.launch_template.connections.security_groups


@pytest.mark.parametrize("flag", [True, False])
def test_never_a_launch_configuration_whatever_the_feature_flag(flag: bool, synth_compliant: Any) -> None:
    # given the flag that makes aws-cdk-lib's group emit a launch configuration when False
    stack = cdk.Stack(cdk.App(context={LAUNCH_TEMPLATE_FLAG: flag}), "Flag")
    SecureAutoScalingGroup(stack, "Web", vpc=_vpc(stack), instance_type=T3_MICRO, machine_image=_image())
    # when synthesized
    template = synth_compliant(stack)
    # then a secure launch template either way
    template.resource_count_is("AWS::AutoScaling::LaunchConfiguration", 0)
    template.resource_count_is("AWS::EC2::LaunchTemplate", 1)


# --- pass-through ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def variants(synth_compliant: Any) -> Synthesized:
    """Every other group the tests read, in one stack: one synthesis for all of them."""
    stack = cdk.Stack(cdk.App(), "Variants")
    vpc = _vpc(stack)
    public = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    security_group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("echo hello > /tmp/user-data.log")
    groups = {
        "Instance": SecureAutoScalingGroup(
            stack,
            "Instance",
            vpc=vpc,
            vpc_subnets=public,
            instance_type=T3_MICRO,
            machine_image=_image(),
            user_data=user_data,
            role=role,
            security_group=security_group,
            key_pair=ec2.KeyPair.from_key_pair_name(stack, "Key", "ops-key"),
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
            associate_public_ip_address=True,
            instance_monitoring=autoscaling.Monitoring.DETAILED,
            spot_price="0.05",
            http_put_response_hop_limit=2,
            http_protocol_ipv6=True,
            instance_metadata_tags=True,
            require_imdsv2=True,
        ),
        "NoEndpoint": SecureAutoScalingGroup(
            stack,
            "NoEndpoint",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            http_endpoint=False,
            allow_all_outbound=False,
            instance_monitoring=autoscaling.Monitoring.BASIC,
        ),
        "HopOptIn": SecureAutoScalingGroup(
            stack,
            "HopOptIn",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            http_put_response_hop_limit=3,
            allow_hop_limit_above_2=True,
        ),
        "Group": SecureAutoScalingGroup(
            stack,
            "Group",
            vpc=vpc,
            vpc_subnets=public,
            instance_type=T3_MICRO,
            machine_image=_image(),
            min_capacity=2,
            max_capacity=4,
            desired_capacity=2,
            health_checks=autoscaling.HealthChecks.ec2(grace_period=cdk.Duration.seconds(300)),
            auto_scaling_group_name="web",
            az_capacity_distribution_strategy=autoscaling.CapacityDistributionStrategy.BALANCED_BEST_EFFORT,
            capacity_rebalance=True,
            cooldown=cdk.Duration.seconds(120),
            default_instance_warmup=cdk.Duration.seconds(60),
            deletion_protection=autoscaling.DeletionProtection.PREVENT_ALL_DELETION,
            group_metrics=[autoscaling.GroupMetrics.all()],
            ignore_unmodified_size_properties=False,
            max_instance_lifetime=cdk.Duration.days(7),
            new_instances_protected_from_scale_in=True,
            notifications=[autoscaling.NotificationConfiguration(topic=sns.Topic(stack, "Topic"))],
            ssm_session_permissions=True,
            termination_policies=[
                autoscaling.TerminationPolicy.CUSTOM_LAMBDA_FUNCTION,
                autoscaling.TerminationPolicy.OLDEST_INSTANCE,
            ],
            termination_policy_custom_lambda_function_arn="arn:aws:lambda:us-east-1:111122223333:function:pick",
        ),
        # the group's instance maintenance policy: the refresh defers to it
        "Maintained": SecureAutoScalingGroup(
            stack,
            "Maintained",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            min_healthy_percentage=100,
            max_healthy_percentage=200,
            instance_lifecycle_policy=autoscaling.InstanceLifecyclePolicy(
                retention_triggers=autoscaling.RetentionTriggers(
                    terminate_hook_abandon=autoscaling.TerminateHookAbandonAction.RETAIN
                )
            ),
        ),
        # update policies
        "Tuned": SecureAutoScalingGroup(
            stack,
            "Tuned",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            update_policy=autoscaling.UpdatePolicy.instance_refresh(
                strategy=autoscaling.InstanceRefreshStrategy.ROLLING,
                min_healthy_percentage=90,
                max_healthy_percentage=150,
                instance_warmup=cdk.Duration.seconds(120),
                checkpoint_percentages=[50, 100],
            ),
        ),
        "Rolling": SecureAutoScalingGroup(
            stack,
            "Rolling",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            min_capacity=2,
            max_capacity=6,
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                max_batch_size=2, min_instances_in_service=2, pause_time=cdk.Duration.minutes(5)
            ),
        ),
        # aws-cdk-lib requires a rolling update to migrate a launch-configuration group
        "Migrating": SecureAutoScalingGroup(
            stack,
            "Migrating",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            max_capacity=2,
            migrate_to_launch_template=True,
        ),
        "Off": SecureAutoScalingGroup(
            stack,
            "Off",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            replace_instances_on_template_change=False,
        ),
        "Signalled": SecureAutoScalingGroup(
            stack,
            "Signalled",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            min_capacity=1,
            max_capacity=3,
            signals=autoscaling.Signals.wait_for_all(timeout=cdk.Duration.minutes(10)),
            init=ec2.CloudFormationInit.from_elements(ec2.InitCommand.shell_command("echo configured")),
            init_options=autoscaling.ApplyCloudFormationInitOptions(print_log=False),
        ),
        "Fixed": SecureAutoScalingGroup(
            stack,
            "Fixed",
            vpc=vpc,
            instance_type=T3_MICRO,
            machine_image=_image(),
            min_capacity=2,
            max_capacity=2,
            signals=autoscaling.Signals.wait_for_min_capacity(),
        ),
    }
    template = synth_compliant(stack)
    return Synthesized(stack, template, template.to_json(), groups)


def test_instance_arguments_go_into_the_launch_template(variants: Synthesized, resource_of: Any) -> None:
    # given a group with every instance-level argument / when synthesized
    data = variants.launch_data("Instance", resource_of)
    # then they are in its SecureLaunchTemplate
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpPutResponseHopLimit": 2,
        "HttpTokens": "required",
        "HttpProtocolIpv6": "enabled",
        "InstanceMetadataTags": "enabled",
    }
    assert data["InstanceType"] == "t3.micro"
    assert data["UserData"] == {"Fn::Base64": "#!/bin/bash\necho hello > /tmp/user-data.log"}
    assert data["KeyName"] == "ops-key"
    assert data["BlockDeviceMappings"][0]["Ebs"] == {"Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"}
    assert data["Monitoring"] == {"Enabled": True}
    assert data["InstanceMarketOptions"] == {"MarketType": "spot", "SpotOptions": {"MaxPrice": "0.05"}}
    interface = data["NetworkInterfaces"][0]
    assert interface["AssociatePublicIpAddress"] is True
    security_group_id = _logical_id(variants.stack.node.find_child("Sg"))
    assert interface["Groups"] == [{"Fn::GetAtt": [security_group_id, "GroupId"]}]
    # and the given role is the group's (no second role is made for it)
    group = variants.groups["Instance"]
    assert group.role is variants.stack.node.find_child("Role")
    assert variants.stack.node.try_find_child("InstanceInstanceRole") is None


def test_disabled_endpoint_and_basic_monitoring(variants: Synthesized, resource_of: Any) -> None:
    data = variants.launch_data("NoEndpoint", resource_of)
    assert data["MetadataOptions"] == {**REQUIRED_ONE_HOP, "HttpEndpoint": "disabled"}
    assert data["Monitoring"] == {"Enabled": False}


def test_allow_all_outbound_shapes_the_created_security_group(
    variants: Synthesized, resource_of: Any
) -> None:
    created = variants.stack.node.find_child("NoEndpointInstanceSecurityGroup")
    egress = resource_of(variants.json, created)["Properties"]["SecurityGroupEgress"]
    assert egress[0]["CidrIp"] == "255.255.255.255/32"  # aws-cdk-lib's "no egress" placeholder rule


def test_hop_limit_above_two_with_the_opt_in(variants: Synthesized, resource_of: Any) -> None:
    data = variants.launch_data("HopOptIn", resource_of)
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 3


def test_group_arguments_pass_through(variants: Synthesized, resource_of: Any) -> None:
    # given a group with AutoScalingGroup's group-level arguments / when synthesized
    properties = variants.group("Group", resource_of)["Properties"]
    # then they are on the group
    assert (properties["MinSize"], properties["MaxSize"], properties["DesiredCapacity"]) == ("2", "4", "2")
    assert (properties["HealthCheckType"], properties["HealthCheckGracePeriod"]) == ("EC2", 300)
    assert properties["AutoScalingGroupName"] == "web"
    assert properties["AvailabilityZoneDistribution"] == {
        "CapacityDistributionStrategy": "balanced-best-effort"
    }
    assert properties["CapacityRebalance"] is True
    assert properties["Cooldown"] == "120"
    assert properties["DefaultInstanceWarmup"] == 60
    assert properties["DeletionProtection"] == "prevent-all-deletion"
    assert properties["MetricsCollection"] == [{"Granularity": "1Minute"}]
    assert properties["MaxInstanceLifetime"] == 7 * 24 * 3600
    assert properties["NewInstancesProtectedFromScaleIn"] is True
    assert properties["NotificationConfigurations"][0]["NotificationTypes"]
    assert properties["TerminationPolicies"] == [
        "arn:aws:lambda:us-east-1:111122223333:function:pick",
        "OldestInstance",
    ]
    assert len(properties["VPCZoneIdentifier"]) == 2
    # ignore_unmodified_size_properties=False drops the scheduled-action policy
    assert "AutoScalingScheduledAction" not in variants.group("Group", resource_of)["UpdatePolicy"]
    # ssm_session_permissions attaches the managed policy to the created role
    variants.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "ManagedPolicyArns": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Fn::Join": Match.array_with(
                                [Match.array_with([":iam::aws:policy/AmazonSSMManagedInstanceCore"])]
                            )
                        }
                    )
                ]
            )
        },
    )


def test_instance_maintenance_policy_passes_through_and_the_refresh_defers_to_it(
    variants: Synthesized, resource_of: Any
) -> None:
    resource = variants.group("Maintained", resource_of)
    assert resource["Properties"]["InstanceMaintenancePolicy"] == {
        "MinHealthyPercentage": 100,
        "MaxHealthyPercentage": 200,
    }
    assert resource["UpdatePolicy"]["AutoScalingInstanceRefresh"] == {"Strategy": "Rolling"}
    assert resource["Properties"]["InstanceLifecyclePolicy"] == {
        "RetentionTriggers": {"TerminateHookAbandon": "retain"}
    }


def test_a_tuned_instance_refresh_is_used_as_given(variants: Synthesized, resource_of: Any) -> None:
    refresh = variants.group("Tuned", resource_of)["UpdatePolicy"]["AutoScalingInstanceRefresh"]
    assert refresh["Preferences"] == {
        "CheckpointPercentages": [50, 100],
        "InstanceWarmup": 120,
        "MaxHealthyPercentage": 150,
        "MinHealthyPercentage": 90,
    }


def test_a_tuned_rolling_update_is_used_as_given(variants: Synthesized, resource_of: Any) -> None:
    policy = variants.group("Rolling", resource_of)["UpdatePolicy"]
    assert "AutoScalingInstanceRefresh" not in policy
    rolling = policy["AutoScalingRollingUpdate"]
    assert (rolling["MaxBatchSize"], rolling["MinInstancesInService"], rolling["PauseTime"]) == (2, 2, "PT5M")


def test_migrating_groups_default_to_a_rolling_update(variants: Synthesized, resource_of: Any) -> None:
    policy = variants.group("Migrating", resource_of)["UpdatePolicy"]
    assert "AutoScalingInstanceRefresh" not in policy
    rolling = policy["AutoScalingRollingUpdate"]
    assert (rolling["MaxBatchSize"], rolling["MinInstancesInService"]) == (1, 1)


def test_replacement_can_be_switched_off(variants: Synthesized, resource_of: Any) -> None:
    policy = variants.group("Off", resource_of).get("UpdatePolicy", {})
    assert set(policy) <= {"AutoScalingScheduledAction"}


def test_signalled_groups_default_to_a_rolling_update_waiting_on_signals(
    variants: Synthesized, resource_of: Any
) -> None:
    # given signals (and CloudFormation init, which needs them) / when synthesized
    resource = variants.group("Signalled", resource_of)
    # then a rolling update in batches of one keeping the minimum capacity, waiting on signals
    rolling = resource["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert (rolling["MaxBatchSize"], rolling["MinInstancesInService"], rolling["WaitOnResourceSignals"]) == (
        1,
        1,
        True,
    )
    assert "AutoScalingInstanceRefresh" not in resource["UpdatePolicy"]
    assert resource["CreationPolicy"]["ResourceSignal"]["Count"] == 1
    assert "AWS::CloudFormation::Init" in resource["Metadata"]
    # and init went into the template's user data
    user_data = variants.launch_data("Signalled", resource_of)["UserData"]["Fn::Base64"]["Fn::Join"][1]
    assert any("cfn-init" in str(part) for part in user_data)


def test_a_fixed_size_signalled_group_is_warned_about(variants: Synthesized, resource_of: Any) -> None:
    rolling = variants.group("Fixed", resource_of)["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["MinInstancesInService"] == 1
    Annotations.from_stack(variants.stack).has_warning(
        "/Variants/Fixed", Match.string_like_regexp("keeps 1 of 2 while replacing instances")
    )
    Annotations.from_stack(variants.stack).has_warning(
        "/Variants/Fixed", Match.string_like_regexp(CAPACITY_WARNING_ID)
    )


# --- own launch sources ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_sources(synth_compliant: Any) -> Synthesized:
    stack = cdk.Stack(cdk.App(), "OwnSources")
    vpc = _vpc(stack)
    security_group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    main = SecureLaunchTemplate(
        stack,
        "Main",
        instance_type=T3_MICRO,
        machine_image=_image(),
        security_group=security_group,
        role=role,
    )
    arm = SecureLaunchTemplate(
        stack,
        "Arm",
        machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
        security_group=security_group,
        role=role,
        http_put_response_hop_limit=2,
    )
    groups = {
        "Single": SecureAutoScalingGroup(stack, "Single", vpc=vpc, launch_template=main, require_imdsv2=True),
        "Mixed": SecureAutoScalingGroup(
            stack,
            "Mixed",
            vpc=vpc,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=main,
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType("t3.small")),
                    autoscaling.LaunchTemplateOverrides(
                        instance_type=ec2.InstanceType("t4g.small"), launch_template=arm
                    ),
                ],
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_percentage_above_base_capacity=50
                ),
            ),
        ),
    }
    template = synth_compliant(stack)
    return Synthesized(stack, template, template.to_json(), groups)


def test_a_secure_launch_template_of_your_own_is_used(own_sources: Synthesized, resource_of: Any) -> None:
    main = own_sources.stack.node.find_child("Main")
    assert own_sources.groups["Single"].launch_template is main
    main_id = _logical_id(main)
    assert own_sources.group("Single", resource_of)["Properties"]["LaunchTemplate"]["LaunchTemplateId"] == {
        "Ref": main_id
    }
    # only the two templates defined above: the groups made none
    own_sources.template.resource_count_is("AWS::EC2::LaunchTemplate", 2)


def test_mixed_instances_with_secure_templates(own_sources: Synthesized, resource_of: Any) -> None:
    main, arm = (own_sources.stack.node.find_child(name) for name in ("Main", "Arm"))
    assert own_sources.groups["Mixed"].launch_template is main
    policy = own_sources.group("Mixed", resource_of)["Properties"]["MixedInstancesPolicy"]
    overrides = policy["LaunchTemplate"]["Overrides"]
    arm_id = _logical_id(arm)
    assert overrides[1]["LaunchTemplateSpecification"]["LaunchTemplateId"] == {"Ref": arm_id}
    assert policy["InstancesDistribution"] == {"OnDemandPercentageAboveBaseCapacity": 50}
    assert (
        own_sources.group("Mixed", resource_of)["UpdatePolicy"]["AutoScalingInstanceRefresh"]
        == LAUNCH_BEFORE_TERMINATE
    )


# --- refusals ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, ec2.Vpc]:
    """A stack never synthesized: refusals raise before adding anything to it."""
    stack = cdk.Stack(cdk.App(), "Scratch")
    return stack, _vpc(stack)


def _plain_template(stack: cdk.Stack, name: str) -> ec2.LaunchTemplate:
    return ec2.LaunchTemplate(
        stack, name, instance_type=T3_MICRO, machine_image=_image(), require_imdsv2=True
    )


def _refused(
    scratch: tuple[cdk.Stack, ec2.Vpc], error: type[Exception], match: str, **arguments: Any
) -> None:
    stack, vpc = scratch
    before = len(stack.node.children)
    with pytest.raises(error, match=match) as raised:
        SecureAutoScalingGroup(stack, "Refused", vpc=vpc, **arguments)
    assert str(raised.value).startswith("Scratch/Refused: ")
    assert len(stack.node.children) == before, "a refused group must leave nothing behind"


def test_imdsv1_is_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    _refused(
        scratch,
        InsecureConfigurationError,
        "require_imdsv2=False",
        instance_type=T3_MICRO,
        machine_image=_image(),
        require_imdsv2=False,
    )


def test_hop_limit_above_two_without_opt_in_is_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    _refused(
        scratch,
        InsecureConfigurationError,
        "allow_hop_limit_above_2",
        instance_type=T3_MICRO,
        machine_image=_image(),
        http_put_response_hop_limit=4,
    )


def test_a_plain_launch_template_is_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    # given a launch template cdk-imds did not build, even one that requires IMDSv2 today
    plain = _plain_template(scratch[0], "PlainSingle")
    # when / then
    _refused(
        scratch,
        InsecureConfigurationError,
        "launch_template is a LaunchTemplate, not a SecureLaunchTemplate",
        launch_template=plain,
    )


def test_an_imported_launch_template_is_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    imported = ec2.LaunchTemplate.from_launch_template_attributes(
        scratch[0], "Imported", launch_template_id="lt-0123"
    )
    _refused(scratch, InsecureConfigurationError, "not a SecureLaunchTemplate", launch_template=imported)


def test_mixed_instances_with_a_plain_main_template_are_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    policy = autoscaling.MixedInstancesPolicy(launch_template=_plain_template(scratch[0], "PlainMain"))
    _refused(
        scratch,
        InsecureConfigurationError,
        r"mixed_instances_policy\.launch_template is a LaunchTemplate",
        mixed_instances_policy=policy,
    )


def test_mixed_instances_with_a_plain_override_template_are_refused(
    scratch: tuple[cdk.Stack, ec2.Vpc],
) -> None:
    stack = scratch[0]
    policy = autoscaling.MixedInstancesPolicy(
        launch_template=SecureLaunchTemplate(
            stack, "SecureMain", instance_type=T3_MICRO, machine_image=_image()
        ),
        launch_template_overrides=[
            autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType("t3.small")),
            autoscaling.LaunchTemplateOverrides(
                instance_type=ec2.InstanceType("t3.large"),
                launch_template=_plain_template(stack, "PlainOverride"),
            ),
        ],
    )
    _refused(
        scratch,
        InsecureConfigurationError,
        r"mixed_instances_policy\.launch_template_overrides\[1\]\.launch_template",
        mixed_instances_policy=policy,
    )


def test_instance_arguments_with_an_own_template_are_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    own = SecureLaunchTemplate(scratch[0], "OwnWithExtras", instance_type=T3_MICRO, machine_image=_image())
    _refused(
        scratch,
        ConfigurationError,
        "http_put_response_hop_limit, instance_type cannot be combined with launch_template",
        launch_template=own,
        instance_type=T3_MICRO,
        http_put_response_hop_limit=2,
    )


def test_launch_template_and_mixed_instances_together_are_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    own = SecureLaunchTemplate(scratch[0], "OwnBoth", instance_type=T3_MICRO, machine_image=_image())
    _refused(
        scratch,
        ConfigurationError,
        "not both",
        launch_template=own,
        mixed_instances_policy=autoscaling.MixedInstancesPolicy(launch_template=own),
    )


@pytest.mark.parametrize("missing", ["instance_type", "machine_image"])
def test_instance_type_and_image_are_required_without_a_template(
    scratch: tuple[cdk.Stack, ec2.Vpc], missing: str
) -> None:
    arguments: dict[str, Any] = {"instance_type": T3_MICRO, "machine_image": _image()}
    del arguments[missing]
    _refused(scratch, ConfigurationError, f"{missing} is required", **arguments)


def test_public_addresses_in_isolated_subnets_are_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    _refused(
        scratch,
        ConfigurationError,
        "needs public subnets",
        instance_type=T3_MICRO,
        machine_image=_image(),
        associate_public_ip_address=True,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    )


def test_a_spot_price_that_is_not_a_price_is_refused(scratch: tuple[cdk.Stack, ec2.Vpc]) -> None:
    _refused(
        scratch,
        ConfigurationError,
        "spot_price must be a price",
        instance_type=T3_MICRO,
        machine_image=_image(),
        spot_price="cheap",
    )


def test_an_update_policy_with_replacement_switched_off_is_refused(
    scratch: tuple[cdk.Stack, ec2.Vpc],
) -> None:
    _refused(
        scratch,
        ConfigurationError,
        "replace_instances_on_template_change=False",
        instance_type=T3_MICRO,
        machine_image=_image(),
        update_policy=autoscaling.UpdatePolicy.rolling_update(),
        replace_instances_on_template_change=False,
    )
