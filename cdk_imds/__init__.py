"""cdk-imds: IMDSv2-only EC2 capacity for AWS CDK apps, enforced at synth time and on live accounts.

The policy engine's names are imported eagerly. The CDK constructs are imported on first use:
importing aws_cdk starts a Node.js process (about two seconds), which ``cdk-imds check`` and other
users of the engine alone should not pay for.
"""

from __future__ import annotations

from importlib import import_module

from cdk_imds.policy import Finding, Options, RuleId, Severity, check_sources, check_template

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cdk_imds.cdk import (
        ASPECT_PRIORITY,
        ConfigurationError,
        ContextValueError,
        Imdsv2Aspect,
        Imdsv2ValidationPlugin,
        InsecureConfigurationError,
        MetadataOptions,
        Mode,
        SecureAutoScalingGroup,
        SecureLaunchTemplate,
        SuppressionError,
        SynthesisFailed,
        enforce,
        enforce_stage,
        suppress,
    )
    from cdk_imds.org import (
        AccountImdsDefaults,
        GuardrailConfigurationError,
        ImdsCallerPolicy,
        ImdsMemberRoles,
        ImdsMemberRolesStackSet,
        Imdsv2CheckStep,
        Imdsv2DeclarativePolicy,
        Imdsv2GuardrailPolicy,
    )

__version__ = "0.1.0"

# Public names that import aws_cdk (or, for the organization's, a dozen modules that `cdk-imds check`
# never needs), by the module that holds them: imported on first use.
_LAZY_MODULES = {
    **dict.fromkeys(
        (
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
        ),
        "cdk_imds.cdk",
    ),
    **dict.fromkeys(
        (
            "AccountImdsDefaults",
            "GuardrailConfigurationError",
            "ImdsCallerPolicy",
            "ImdsMemberRoles",
            "ImdsMemberRolesStackSet",
            "Imdsv2CheckStep",
            "Imdsv2DeclarativePolicy",
            "Imdsv2GuardrailPolicy",
        ),
        "cdk_imds.org",
    ),
}

__all__ = [
    "ASPECT_PRIORITY",
    "AccountImdsDefaults",
    "ConfigurationError",
    "ContextValueError",
    "Finding",
    "GuardrailConfigurationError",
    "ImdsCallerPolicy",
    "ImdsMemberRoles",
    "ImdsMemberRolesStackSet",
    "Imdsv2Aspect",
    "Imdsv2CheckStep",
    "Imdsv2DeclarativePolicy",
    "Imdsv2GuardrailPolicy",
    "Imdsv2ValidationPlugin",
    "InsecureConfigurationError",
    "MetadataOptions",
    "Mode",
    "Options",
    "RuleId",
    "SecureAutoScalingGroup",
    "SecureLaunchTemplate",
    "Severity",
    "SuppressionError",
    "SynthesisFailed",
    "__version__",
    "check_sources",
    "check_template",
    "enforce",
    "enforce_stage",
    "suppress",
]


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'cdk_imds' has no attribute {name!r}")
    return getattr(import_module(module), name)
