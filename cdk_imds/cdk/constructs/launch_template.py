"""SecureLaunchTemplate: an ``ec2.LaunchTemplate`` that can only launch IMDSv2-only instances."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces import aws_ec2 as ec2_interfaces
from constructs import Construct

from cdk_imds.cdk.constructs.metadata import MetadataOptions, secure_metadata_options


def construct_path(scope: Construct, construct_id: str) -> str:
    """The path a construct will have, for messages raised before it exists."""
    return f"{scope.node.path}/{construct_id}" if scope.node.path else construct_id


class SecureLaunchTemplate(ec2.LaunchTemplate):
    """A launch template whose instances always require IMDSv2 session tokens.

    It is an ``ec2.LaunchTemplate``, so it goes wherever aws-cdk-lib takes an ``ec2.ILaunchTemplate``
    (Auto Scaling groups, mixed instances policies, Batch compute environments, ...). The arguments
    are those of ``ec2.LaunchTemplate`` and pass through unchanged, except the metadata options:

    * ``MetadataOptions`` always carries ``HttpTokens: required`` and an explicit ``HttpEndpoint``
      (``enabled`` unless ``http_endpoint=False``), and ``HttpPutResponseHopLimit`` (1 by default);
    * asking for IMDSv1 (``http_tokens=LaunchTemplateHttpTokens.OPTIONAL`` or ``require_imdsv2=False``)
      raises :class:`InsecureConfigurationError` at construction; nothing is silently corrected;
    * a hop limit above 2 (or an unresolved one) needs ``allow_hop_limit_above_2=True``.

    Deprecated ``ec2.LaunchTemplate`` arguments (``key_name``) are not offered: use ``key_pair``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        http_put_response_hop_limit: int | None = None,
        allow_hop_limit_above_2: bool = False,
        http_endpoint: bool | None = None,
        http_protocol_ipv6: bool | None = None,
        instance_metadata_tags: bool | None = None,
        http_tokens: ec2.LaunchTemplateHttpTokens | None = None,
        require_imdsv2: bool | None = None,
        associate_public_ip_address: bool | None = None,
        block_devices: Sequence[ec2.BlockDevice] | None = None,
        cpu_credits: ec2.CpuCredits | None = None,
        cpu_options: ec2.LaunchTemplateCpuOptions | None = None,
        detailed_monitoring: bool | None = None,
        disable_api_termination: bool | None = None,
        ebs_optimized: bool | None = None,
        hibernation_configured: bool | None = None,
        instance_initiated_shutdown_behavior: ec2.InstanceInitiatedShutdownBehavior | None = None,
        instance_profile: iam.IInstanceProfile | None = None,
        instance_type: ec2.InstanceType | None = None,
        key_pair: ec2.IKeyPair | None = None,
        launch_template_name: str | None = None,
        machine_image: ec2.IMachineImage | None = None,
        nitro_enclave_enabled: bool | None = None,
        placement_group: ec2_interfaces.IPlacementGroupRef | None = None,
        role: iam.IRole | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        spot_options: ec2.LaunchTemplateSpotOptions | None = None,
        user_data: ec2.UserData | None = None,
        version_description: str | None = None,
    ) -> None:
        """Define the template.

        Metadata options (the part cdk-imds decides):

        :param http_put_response_hop_limit: IMDS response hop limit, 1 to 64. Default: 1 (the
            instance only). 2 lets containers on the instance reach IMDS; more needs
            ``allow_hop_limit_above_2``.
        :param allow_hop_limit_above_2: accept a hop limit above 2, or a token. Default: False.
        :param http_endpoint: False disables the metadata endpoint altogether (stricter; tokens are
            still required). Default: True (``HttpEndpoint: enabled``).
        :param http_protocol_ipv6: enable the IPv6 endpoint of IMDS. Default: not set (EC2: disabled).
        :param instance_metadata_tags: expose instance tags in IMDS. Default: not set (EC2: disabled).
        :param http_tokens: only ``LaunchTemplateHttpTokens.REQUIRED`` (or None) is accepted.
            Default: required.
        :param require_imdsv2: only True (or None) is accepted. Default: IMDSv2 is required anyway.

        Everything else is passed to ``ec2.LaunchTemplate`` as is, with its defaults:

        :param associate_public_ip_address: public IPv4 on the primary interface. Default: subnet's setting.
        :param block_devices: EBS and instance-store volumes. Default: the AMI's mapping.
        :param cpu_credits: burstable CPU credit mode. Default: the instance family's default.
        :param cpu_options: core count, threads per core, ... Default: the instance type's default.
        :param detailed_monitoring: 1-minute CloudWatch metrics. Default: not set (EC2: 5-minute).
        :param disable_api_termination: termination protection. Default: not set (EC2: off).
        :param ebs_optimized: EBS optimization. Default: not set (EC2: the type's default).
        :param hibernation_configured: enable hibernation. Default: not set (EC2: off).
        :param instance_initiated_shutdown_behavior: stop or terminate on OS shutdown. Default: stop.
        :param instance_profile: an existing instance profile; excludes ``role``. Default: none.
        :param instance_type: Default: none (set it here or where the template is used).
        :param key_pair: SSH key pair. Default: no SSH key.
        :param launch_template_name: physical name. Default: generated by CloudFormation.
        :param machine_image: the AMI. Default: none (set it here or where the template is used).
        :param nitro_enclave_enabled: enable Nitro Enclaves. Default: not set (EC2: off).
        :param placement_group: placement group. Default: none.
        :param role: IAM role; an instance profile is created for it. Default: no role.
        :param security_group: first security group (more via ``add_security_group``). Default: none.
        :param spot_options: request Spot capacity with these options. Default: On-Demand.
        :param user_data: user data script. Default: none (see aws-cdk-lib's feature flags).
        :param version_description: description of this template version. Default: none.
        """
        # Checked before the construct exists, so a refused template leaves nothing in the tree.
        options = secure_metadata_options(
            construct_path(scope, id),
            http_tokens=http_tokens,
            require_imdsv2=require_imdsv2,
            http_endpoint=http_endpoint,
            http_put_response_hop_limit=http_put_response_hop_limit,
            allow_hop_limit_above_2=allow_hop_limit_above_2,
            http_protocol_ipv6=http_protocol_ipv6,
            instance_metadata_tags=instance_metadata_tags,
        )
        super().__init__(
            scope,
            id,
            # aws-cdk-lib renders only the metadata options it is given (HttpEndpoint is left out
            # unless http_endpoint is passed), so every field cdk-imds guarantees is passed
            # explicitly. require_imdsv2 is not passed on: http_tokens already says it.
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_endpoint=options.http_endpoint,
            http_put_response_hop_limit=options.http_put_response_hop_limit,
            http_protocol_ipv6=options.http_protocol_ipv6,
            instance_metadata_tags=options.instance_metadata_tags,
            associate_public_ip_address=associate_public_ip_address,
            block_devices=block_devices,
            cpu_credits=cpu_credits,
            cpu_options=cpu_options,
            detailed_monitoring=detailed_monitoring,
            disable_api_termination=disable_api_termination,
            ebs_optimized=ebs_optimized,
            hibernation_configured=hibernation_configured,
            instance_initiated_shutdown_behavior=instance_initiated_shutdown_behavior,
            instance_profile=instance_profile,
            instance_type=instance_type,
            key_pair=key_pair,
            launch_template_name=launch_template_name,
            machine_image=machine_image,
            nitro_enclave_enabled=nitro_enclave_enabled,
            placement_group=placement_group,
            role=role,
            security_group=security_group,
            spot_options=spot_options,
            user_data=user_data,
            version_description=version_description,
        )
        self._metadata_options = options

    @property
    def metadata_options(self) -> MetadataOptions:
        """The metadata options this template synthesizes (HttpTokens is always ``required``)."""
        return self._metadata_options
