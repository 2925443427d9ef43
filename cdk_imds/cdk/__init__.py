"""CDK glue: constructs that make IMDSv2-only the only state EC2 capacity can be in.

This package imports aws_cdk; the policy engine (``cdk_imds.policy``) never does.
"""

from cdk_imds.cdk.auto_scaling_group import SecureAutoScalingGroup
from cdk_imds.cdk.errors import ConfigurationError, InsecureConfigurationError
from cdk_imds.cdk.launch_template import SecureLaunchTemplate
from cdk_imds.cdk.metadata import MetadataOptions

__all__ = [
    "ConfigurationError",
    "InsecureConfigurationError",
    "MetadataOptions",
    "SecureAutoScalingGroup",
    "SecureLaunchTemplate",
]
