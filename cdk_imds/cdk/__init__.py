"""CDK glue: constructs that make IMDSv2-only the only state EC2 capacity can be in.

This package imports aws_cdk; the policy engine (``cdk_imds.policy``) never does.
"""

from cdk_imds.cdk.constructs import (
    ConfigurationError,
    InsecureConfigurationError,
    MetadataOptions,
    SecureAutoScalingGroup,
    SecureLaunchTemplate,
)

__all__ = [
    "ConfigurationError",
    "InsecureConfigurationError",
    "MetadataOptions",
    "SecureAutoScalingGroup",
    "SecureLaunchTemplate",
]
