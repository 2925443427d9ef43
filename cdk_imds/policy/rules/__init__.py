"""The explicit list of rules, by the CloudFormation resource type each one judges."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.model import Finding
from cdk_imds.policy.rules import instances, launch_templates, launchers, services

Rule = Callable[[ResourceContext], Iterable[Finding]]

RULES_BY_TYPE: dict[str, tuple[Rule, ...]] = {
    "AWS::EC2::LaunchTemplate": (launch_templates.launch_template,),
    "AWS::AutoScaling::LaunchConfiguration": (launch_templates.launch_configuration,),
    "AWS::EC2::Instance": (instances.instance,),
    "AWS::AutoScaling::AutoScalingGroup": (launchers.auto_scaling_group,),
    "AWS::EC2::EC2Fleet": (launchers.ec2_fleet,),
    "AWS::EC2::SpotFleet": (launchers.spot_fleet,),
    "AWS::EKS::Nodegroup": (launchers.eks_nodegroup,),
    "AWS::Batch::ComputeEnvironment": (launchers.batch_compute_environment,),
    "AWS::ImageBuilder::InfrastructureConfiguration": (services.image_builder_infrastructure,),
    "AWS::SageMaker::NotebookInstance": (services.sagemaker_notebook,),
    "AWS::ElasticBeanstalk::Environment": (services.beanstalk,),
    "AWS::ElasticBeanstalk::ConfigurationTemplate": (services.beanstalk,),
    "AWS::AppStream::Fleet": (services.appstream_disable_imdsv1,),
    "AWS::AppStream::ImageBuilder": (services.appstream_disable_imdsv1,),
    "AWS::EMR::Cluster": (services.emr_cluster,),
}

CANDIDATE_TYPES = frozenset(RULES_BY_TYPE)
