"""CDK glue: constructs, the aspect and the validation plugin that keep EC2 capacity IMDSv2-only.

This package imports aws_cdk; the policy engine (``cdk_imds.policy``) never does. Each name is
imported from its module on first use, so ``enforce`` does not load the constructs' aws_cdk
modules (aws_ec2, aws_autoscaling, aws_iam: about 0.1 s) that only the constructs need.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdk_imds.cdk.constructs.auto_scaling_group import SecureAutoScalingGroup
    from cdk_imds.cdk.constructs.launch_template import SecureLaunchTemplate
    from cdk_imds.cdk.constructs.metadata import MetadataOptions
    from cdk_imds.cdk.enforcement.aspect import ASPECT_PRIORITY, Imdsv2Aspect, Mode
    from cdk_imds.cdk.enforcement.config import ContextValueError
    from cdk_imds.cdk.enforcement.enforce import enforce, enforce_stage
    from cdk_imds.cdk.enforcement.plugin import Imdsv2ValidationPlugin
    from cdk_imds.cdk.errors import ConfigurationError, InsecureConfigurationError, SynthesisFailed
    from cdk_imds.cdk.suppressions import SuppressionError, suppress

_MODULES = {
    "ASPECT_PRIORITY": "cdk_imds.cdk.enforcement.aspect",
    "ConfigurationError": "cdk_imds.cdk.errors",
    "ContextValueError": "cdk_imds.cdk.enforcement.config",
    "Imdsv2Aspect": "cdk_imds.cdk.enforcement.aspect",
    "Imdsv2ValidationPlugin": "cdk_imds.cdk.enforcement.plugin",
    "InsecureConfigurationError": "cdk_imds.cdk.errors",
    "MetadataOptions": "cdk_imds.cdk.constructs.metadata",
    "Mode": "cdk_imds.cdk.enforcement.aspect",
    "SecureAutoScalingGroup": "cdk_imds.cdk.constructs.auto_scaling_group",
    "SecureLaunchTemplate": "cdk_imds.cdk.constructs.launch_template",
    "SuppressionError": "cdk_imds.cdk.suppressions",
    "SynthesisFailed": "cdk_imds.cdk.errors",
    "enforce": "cdk_imds.cdk.enforcement.enforce",
    "enforce_stage": "cdk_imds.cdk.enforcement.enforce",
    "suppress": "cdk_imds.cdk.suppressions",
}

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
    "SynthesisFailed",
    "enforce",
    "enforce_stage",
    "suppress",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULES))
