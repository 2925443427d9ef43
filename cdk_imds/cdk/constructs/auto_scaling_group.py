"""SecureAutoScalingGroup: an ``autoscaling.AutoScalingGroup`` that only launches IMDSv2-only instances."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_imds.cdk.constructs.launch_source import (
    InstanceArguments,
    check_instance_arguments,
    create_launch_template,
    own_launch_template,
)
from cdk_imds.cdk.constructs.launch_template import SecureLaunchTemplate, construct_path
from cdk_imds.cdk.constructs.metadata import secure_metadata_options
from cdk_imds.cdk.constructs.update_policy import CAPACITY_WARNING_ID, GroupShape, choose_update_policy


class SecureAutoScalingGroup(autoscaling.AutoScalingGroup):
    """An Auto Scaling group that launches only from a :class:`SecureLaunchTemplate`.

    It is an ``autoscaling.AutoScalingGroup`` (so an ``IAutoScalingGroup``: load balancer target,
    scaling policies, lifecycle hooks, ...) and takes the same arguments. The differences:

    * It never emits a launch configuration, whatever the feature flag
      ``@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig`` says. The
      instance-level arguments (``instance_type``, ``machine_image``, ``user_data``, ``role``,
      ``security_group``, ``key_pair``, ``block_devices``, ...) go into a SecureLaunchTemplate it
      creates next to the group, with id ``f"{id}LaunchTemplate"`` (with ``{id}InstanceRole`` and
      ``{id}InstanceSecurityGroup`` when no role or security group is given). It is
      :attr:`launch_template`.
    * A ``launch_template`` or ``mixed_instances_policy`` of your own is accepted only if every
      template in it is a SecureLaunchTemplate; the instance-level arguments then belong on that
      template and are refused here.
    * It replaces running instances when the template changes: see ``update_policy``.
    * It takes the IMDS arguments of SecureLaunchTemplate (hop limit, endpoint, tags, IPv6).

    Deprecated ``AutoScalingGroup`` arguments (``key_name``, ``health_check``) are not offered: use
    ``key_pair`` and ``health_checks``. The group's ``spot_price`` attribute stays None when
    ``spot_price`` is given, because the price lives in the template's Spot options.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        # instance-level: into the SecureLaunchTemplate this group creates
        instance_type: ec2.InstanceType | None = None,
        machine_image: ec2.IMachineImage | None = None,
        user_data: ec2.UserData | None = None,
        role: iam.IRole | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        allow_all_outbound: bool | None = None,
        key_pair: ec2.IKeyPair | None = None,
        block_devices: Sequence[ec2.BlockDevice] | None = None,
        associate_public_ip_address: bool | None = None,
        instance_monitoring: autoscaling.Monitoring | None = None,
        spot_price: str | None = None,
        http_put_response_hop_limit: int | None = None,
        allow_hop_limit_above_2: bool = False,
        http_endpoint: bool | None = None,
        http_protocol_ipv6: bool | None = None,
        instance_metadata_tags: bool | None = None,
        require_imdsv2: bool | None = None,
        # or a launch source of your own, made of SecureLaunchTemplates
        launch_template: ec2.ILaunchTemplate | None = None,
        mixed_instances_policy: autoscaling.MixedInstancesPolicy | None = None,
        # replacing instances when the template changes
        update_policy: autoscaling.UpdatePolicy | None = None,
        replace_instances_on_template_change: bool = True,
        # group-level: passed to AutoScalingGroup as is
        min_capacity: int | None = None,
        max_capacity: int | None = None,
        desired_capacity: int | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        health_checks: autoscaling.HealthChecks | None = None,
        signals: autoscaling.Signals | None = None,
        init: ec2.CloudFormationInit | None = None,
        init_options: autoscaling.ApplyCloudFormationInitOptions | None = None,
        auto_scaling_group_name: str | None = None,
        az_capacity_distribution_strategy: autoscaling.CapacityDistributionStrategy | None = None,
        capacity_rebalance: bool | None = None,
        cooldown: cdk.Duration | None = None,
        default_instance_warmup: cdk.Duration | None = None,
        deletion_protection: autoscaling.DeletionProtection | None = None,
        group_metrics: Sequence[autoscaling.GroupMetrics] | None = None,
        ignore_unmodified_size_properties: bool | None = None,
        instance_lifecycle_policy: autoscaling.InstanceLifecyclePolicy | None = None,
        max_healthy_percentage: int | None = None,
        min_healthy_percentage: int | None = None,
        max_instance_lifetime: cdk.Duration | None = None,
        migrate_to_launch_template: bool | None = None,
        new_instances_protected_from_scale_in: bool | None = None,
        notifications: Sequence[autoscaling.NotificationConfiguration] | None = None,
        ssm_session_permissions: bool | None = None,
        termination_policies: Sequence[autoscaling.TerminationPolicy] | None = None,
        termination_policy_custom_lambda_function_arn: str | None = None,
    ) -> None:
        """Define the group and, unless one is given, its launch template.

        :param vpc: the VPC to launch in. Required.

        Instance-level (only without ``launch_template`` / ``mixed_instances_policy``):

        :param instance_type: Required here.
        :param machine_image: the AMI. Required here.
        :param user_data: Default: the machine image's default user data (so ``add_user_data`` works).
        :param role: the instances' IAM role. Default: a new role ``{id}InstanceRole`` that EC2 can assume.
        :param security_group: Default: a new group ``{id}InstanceSecurityGroup`` in ``vpc``.
        :param allow_all_outbound: egress of that new security group. Default: True.
        :param key_pair: SSH key pair. Default: no SSH key.
        :param block_devices: Default: the AMI's block device mapping.
        :param associate_public_ip_address: needs public subnets. Default: the subnet's setting.
        :param instance_monitoring: ``Monitoring.DETAILED`` for 1-minute metrics. Default: not set (basic).
        :param spot_price: launch Spot instances at this maximum price. Default: On-Demand.
        :param http_put_response_hop_limit: IMDS hop limit, as for SecureLaunchTemplate. Default: 1.
        :param allow_hop_limit_above_2: accept a hop limit above 2. Default: False.
        :param http_endpoint: False disables IMDS (tokens still required). Default: True.
        :param http_protocol_ipv6: IMDS IPv6 endpoint. Default: not set (disabled).
        :param instance_metadata_tags: instance tags in IMDS. Default: not set (disabled).
        :param require_imdsv2: only True (or None) is accepted; IMDSv2 is always required.

        Launch source of your own:

        :param launch_template: a SecureLaunchTemplate. Default: one is created from the arguments above.
        :param mixed_instances_policy: whose launch template and override templates are all
            SecureLaunchTemplates. Default: none.

        Replacing running instances when the launch template changes:

        :param update_policy: the CloudFormation update policy to use, e.g.
            ``UpdatePolicy.instance_refresh(...)`` or ``UpdatePolicy.rolling_update(...)`` tuned to
            the workload. Default: an instance refresh that launches before it terminates
            (min 100% / max 110% healthy, or the group's min/max_healthy_percentage when set); with
            ``signals`` or ``migrate_to_launch_template``, a rolling update in batches of one that
            keeps the desired (else minimum) capacity in service, capped at ``max_capacity - 1``
            (a warning says when that cap bites).
        :param replace_instances_on_template_change: False gives the group no update policy: running
            instances keep their old launch template version until replaced some other way.
            Default: True.

        The remaining arguments are ``AutoScalingGroup``'s and keep its defaults: ``min_capacity``
        (1), ``max_capacity`` (desired, else max(min, 1)), ``desired_capacity`` (not set),
        ``vpc_subnets`` (private subnets), ``health_checks`` (EC2, no grace period), ``signals``,
        ``init``, ``init_options``, ``auto_scaling_group_name``, ``az_capacity_distribution_strategy``,
        ``capacity_rebalance``, ``cooldown``, ``default_instance_warmup``, ``deletion_protection``,
        ``group_metrics``, ``ignore_unmodified_size_properties``, ``instance_lifecycle_policy``,
        ``max_healthy_percentage``, ``min_healthy_percentage``, ``max_instance_lifetime``,
        ``migrate_to_launch_template``, ``new_instances_protected_from_scale_in``, ``notifications``,
        ``ssm_session_permissions``, ``termination_policies``,
        ``termination_policy_custom_lambda_function_arn``.
        """
        subject = construct_path(scope, id)
        # Every refusal comes before anything is created (the template, role and security group are
        # created next to the group, in scope), and names this group rather than its template.
        secure_metadata_options(
            subject,
            http_tokens=None,
            require_imdsv2=require_imdsv2,
            http_endpoint=http_endpoint,
            http_put_response_hop_limit=http_put_response_hop_limit,
            allow_hop_limit_above_2=allow_hop_limit_above_2,
            http_protocol_ipv6=http_protocol_ipv6,
            instance_metadata_tags=instance_metadata_tags,
        )
        choice = choose_update_policy(
            subject,
            update_policy=update_policy,
            replace_instances_on_template_change=replace_instances_on_template_change,
            shape=GroupShape(
                min_capacity=min_capacity,
                max_capacity=max_capacity,
                desired_capacity=desired_capacity,
                signals=signals is not None,
                migrating=bool(migrate_to_launch_template),
                maintenance_policy=min_healthy_percentage is not None or max_healthy_percentage is not None,
            ),
        )
        instance = InstanceArguments(
            instance_type=instance_type,
            machine_image=machine_image,
            user_data=user_data,
            role=role,
            security_group=security_group,
            allow_all_outbound=allow_all_outbound,
            key_pair=key_pair,
            block_devices=block_devices,
            associate_public_ip_address=associate_public_ip_address,
            instance_monitoring=instance_monitoring,
            spot_price=spot_price,
            http_put_response_hop_limit=http_put_response_hop_limit,
            allow_hop_limit_above_2=allow_hop_limit_above_2,
            http_endpoint=http_endpoint,
            http_protocol_ipv6=http_protocol_ipv6,
            instance_metadata_tags=instance_metadata_tags,
        )
        if launch_template is not None or mixed_instances_policy is not None:
            template = own_launch_template(subject, instance, launch_template, mixed_instances_policy)
        else:
            check_instance_arguments(subject, instance, vpc, vpc_subnets)
            template = create_launch_template(scope, id, instance, vpc)

        super().__init__(
            scope,
            id,
            vpc=vpc,
            launch_template=template if mixed_instances_policy is None else None,
            mixed_instances_policy=mixed_instances_policy,
            update_policy=choice.policy,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            desired_capacity=desired_capacity,
            vpc_subnets=vpc_subnets,
            health_checks=health_checks,
            signals=signals,
            init=init,
            init_options=init_options,
            auto_scaling_group_name=auto_scaling_group_name,
            az_capacity_distribution_strategy=az_capacity_distribution_strategy,
            capacity_rebalance=capacity_rebalance,
            cooldown=cooldown,
            default_instance_warmup=default_instance_warmup,
            deletion_protection=deletion_protection,
            group_metrics=group_metrics,
            ignore_unmodified_size_properties=ignore_unmodified_size_properties,
            instance_lifecycle_policy=instance_lifecycle_policy,
            max_healthy_percentage=max_healthy_percentage,
            min_healthy_percentage=min_healthy_percentage,
            max_instance_lifetime=max_instance_lifetime,
            migrate_to_launch_template=migrate_to_launch_template,
            new_instances_protected_from_scale_in=new_instances_protected_from_scale_in,
            notifications=notifications,
            ssm_session_permissions=ssm_session_permissions,
            termination_policies=termination_policies,
            termination_policy_custom_lambda_function_arn=termination_policy_custom_lambda_function_arn,
        )
        self._secure_launch_template = template
        if launch_template is None and mixed_instances_policy is None:
            # What aws-cdk-lib's group does when it builds its own launch configuration or template:
            # instances are named after the group (a tag propagated at launch).
            cdk.Tags.of(self).add("Name", self.node.path)
        if choice.warning is not None:
            cdk.Annotations.of(self).add_warning_v2(CAPACITY_WARNING_ID, choice.warning)

    @property
    def launch_template(self) -> SecureLaunchTemplate:
        """The SecureLaunchTemplate the group launches from (the mixed instances policy's main one)."""
        return self._secure_launch_template
