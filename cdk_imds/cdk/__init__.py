"""CDK glue: constructs, the aspect and the validation plugin that keep EC2 capacity IMDSv2-only.

This package imports aws_cdk; the policy engine (``cdk_imds.policy``) never does.
"""

from cdk_imds.cdk.constructs.auto_scaling_group import SecureAutoScalingGroup
from cdk_imds.cdk.constructs.launch_template import SecureLaunchTemplate
from cdk_imds.cdk.constructs.metadata import MetadataOptions
from cdk_imds.cdk.enforcement import enforce, enforce_stage
from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, Imdsv2Aspect, Mode
from cdk_imds.cdk.enforcement.config import ContextValueError
from cdk_imds.cdk.enforcement.plugin import Imdsv2ValidationPlugin
from cdk_imds.cdk.errors import ConfigurationError, InsecureConfigurationError
from cdk_imds.cdk.suppressions import SuppressionError, suppress

__all__ = [
    "ASPECT_PRIORITY",
    "ConfigurationError",
    "ContextValueError",
    "Imdsv2Aspect",
    "Imdsv2ValidationPlugin",
    "InsecureConfigurationError",
    "MetadataOptions",
    "Mode",
    "SecureAutoScalingGroup",
    "SecureLaunchTemplate",
    "SuppressionError",
    "enforce",
    "enforce_stage",
    "suppress",
]
