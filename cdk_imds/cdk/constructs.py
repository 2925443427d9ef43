"""The cdk-imds constructs in one import: secure launch templates and Auto Scaling groups.

They live in their own modules (``launch_template``, ``auto_scaling_group``); this module is the
place to import them from, next to the errors they raise.
"""

from __future__ import annotations

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
