"""Where a SecureAutoScalingGroup launches from: a SecureLaunchTemplate it creates, or the caller's.

aws-cdk-lib's group refuses instance-level arguments (instance type, image, role, ...) next to a
launch template, so SecureAutoScalingGroup routes them here, into a template it creates itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_imds.cdk.constructs.launch_template import SecureLaunchTemplate
from cdk_imds.cdk.errors import ConfigurationError, InsecureConfigurationError


@dataclass(frozen=True)
class InstanceArguments:
    """The group's instance-level arguments; None (False for the opt-in) means not given."""

    instance_type: ec2.InstanceType | None = None
    machine_image: ec2.IMachineImage | None = None
    user_data: ec2.UserData | None = None
    role: iam.IRole | None = None
    security_group: ec2.ISecurityGroup | None = None
    allow_all_outbound: bool | None = None
    key_pair: ec2.IKeyPair | None = None
    block_devices: Sequence[ec2.BlockDevice] | None = None
    associate_public_ip_address: bool | None = None
    instance_monitoring: autoscaling.Monitoring | None = None
    spot_price: str | None = None
    http_put_response_hop_limit: int | None = None
    allow_hop_limit_above_2: bool = False
    http_endpoint: bool | None = None
    http_protocol_ipv6: bool | None = None
    instance_metadata_tags: bool | None = None

    def given(self) -> list[str]:
        """Names of the arguments the caller gave, sorted."""
        # Not dataclasses.astuple: it deep-copies values, and these are jsii object references.
        return sorted(field.name for field in fields(self) if getattr(self, field.name) != field.default)


def own_launch_template(
    subject: str,
    instance: InstanceArguments,
    launch_template: ec2.ILaunchTemplate | None,
    mixed_instances_policy: autoscaling.MixedInstancesPolicy | None,
) -> SecureLaunchTemplate:
    """The caller's main template, once every template given is known to be a SecureLaunchTemplate."""
    if launch_template is not None and mixed_instances_policy is not None:
        raise ConfigurationError(f"{subject}: give launch_template or mixed_instances_policy, not both.")
    given = instance.given()
    if given:
        raise ConfigurationError(
            f"{subject}: {', '.join(given)} cannot be combined with launch_template or "
            "mixed_instances_policy; set them on the SecureLaunchTemplate instead."
        )
    templates = (
        _policy_templates(mixed_instances_policy)
        if mixed_instances_policy is not None
        else iter([("launch_template", launch_template)])
    )
    main: SecureLaunchTemplate | None = None
    for argument, template in templates:
        if not isinstance(template, SecureLaunchTemplate):
            raise InsecureConfigurationError(
                f"{subject}: {argument} is a {type(template).__name__}, not a SecureLaunchTemplate, "
                "so cdk-imds cannot guarantee that it requires IMDSv2. Build it with "
                "cdk_imds.SecureLaunchTemplate."
            )
        main = main or template
    assert main is not None  # the first template always exists: launch_template or the policy's
    return main


def _policy_templates(
    policy: autoscaling.MixedInstancesPolicy,
) -> Iterator[tuple[str, ec2.ILaunchTemplate | None]]:
    yield "mixed_instances_policy.launch_template", policy.launch_template
    for index, override in enumerate(policy.launch_template_overrides or ()):
        if override.launch_template is not None:
            argument = f"mixed_instances_policy.launch_template_overrides[{index}].launch_template"
            yield argument, override.launch_template


def check_instance_arguments(
    subject: str, instance: InstanceArguments, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection | None
) -> None:
    """Refuse what would only fail later, inside aws-cdk-lib, with a less helpful message."""
    for name in ("instance_type", "machine_image"):
        if getattr(instance, name) is None:
            raise ConfigurationError(
                f"{subject}: {name} is required unless launch_template or mixed_instances_policy is given."
            )
    if instance.associate_public_ip_address and not _has_public_subnets(vpc, vpc_subnets):
        # aws-cdk-lib's group checks this only when it receives the argument itself.
        raise ConfigurationError(
            f"{subject}: associate_public_ip_address=True needs public subnets "
            "(vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))."
        )
    if instance.spot_price is not None:
        try:
            float(instance.spot_price)
        except ValueError:
            raise ConfigurationError(
                f"{subject}: spot_price must be a price such as '0.05', got {instance.spot_price!r}."
            ) from None


def create_launch_template(
    scope: Construct, group_id: str, instance: InstanceArguments, vpc: ec2.IVpc
) -> SecureLaunchTemplate:
    """A SecureLaunchTemplate next to the group, with the defaults aws-cdk-lib's group would use.

    Call :func:`check_instance_arguments` first.
    """
    assert instance.instance_type is not None and instance.machine_image is not None
    return SecureLaunchTemplate(
        scope,
        f"{group_id}LaunchTemplate",
        instance_type=instance.instance_type,
        machine_image=instance.machine_image,
        # ec2.LaunchTemplate leaves user data unset unless a feature flag says otherwise; the
        # group's add_user_data() and CloudFormation init need it.
        user_data=instance.user_data or instance.machine_image.get_image(scope).user_data,
        role=instance.role
        or iam.Role(scope, f"{group_id}InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
        # The group's connections (load balancer targets, allow_from) are the template's.
        security_group=instance.security_group
        or ec2.SecurityGroup(
            scope,
            f"{group_id}InstanceSecurityGroup",
            vpc=vpc,
            allow_all_outbound=instance.allow_all_outbound is not False,
        ),
        key_pair=instance.key_pair,
        block_devices=instance.block_devices,
        associate_public_ip_address=instance.associate_public_ip_address,
        detailed_monitoring=None
        if instance.instance_monitoring is None
        else instance.instance_monitoring == autoscaling.Monitoring.DETAILED,
        # aws-cdk-lib's group refuses spot_price next to a template: the price goes into it.
        spot_options=None
        if instance.spot_price is None
        else ec2.LaunchTemplateSpotOptions(max_price=float(instance.spot_price)),
        http_put_response_hop_limit=instance.http_put_response_hop_limit,
        allow_hop_limit_above_2=instance.allow_hop_limit_above_2,
        http_endpoint=instance.http_endpoint,
        http_protocol_ipv6=instance.http_protocol_ipv6,
        instance_metadata_tags=instance.instance_metadata_tags,
    )


def _has_public_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> bool:
    chosen = selection or ec2.SubnetSelection()
    return vpc.select_subnets(
        availability_zones=chosen.availability_zones,
        one_per_az=chosen.one_per_az,
        subnet_filters=chosen.subnet_filters,
        subnet_group_name=chosen.subnet_group_name,
        subnets=chosen.subnets,
        subnet_type=chosen.subnet_type,
    ).has_public
