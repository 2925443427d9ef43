"""Guardrails beyond synth: organization policies, account defaults and a pipeline step.

The policy documents (``cdk_imds.org.documents``) and the custom resource's handler
(``cdk_imds.org.handler``) never import aws_cdk; the constructs here are imported on first use,
like the top-level package's, so that those two stay fast to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdk_imds.org.documents import (
    DECLARATIVE_POLICY_MAX_CHARACTERS,
    SCP_MAX_CHARACTERS,
    GuardrailOptions,
    declarative_policy_content,
    guardrail_policy_document,
)
from cdk_imds.org.errors import GuardrailConfigurationError, PolicyTooLargeError
from cdk_imds.org.member_template import caller_policy_document, member_roles_template

if TYPE_CHECKING:
    from cdk_imds.org.account_defaults import AccountImdsDefaults
    from cdk_imds.org.declarative_policy import Imdsv2DeclarativePolicy
    from cdk_imds.org.guardrail_policy import Imdsv2GuardrailPolicy
    from cdk_imds.org.member_roles import ImdsCallerPolicy, ImdsMemberRoles, ImdsMemberRolesStackSet
    from cdk_imds.org.pipeline_step import Imdsv2CheckStep

_CDK_NAMES = {
    "AccountImdsDefaults": "cdk_imds.org.account_defaults",
    "Imdsv2CheckStep": "cdk_imds.org.pipeline_step",
    "Imdsv2DeclarativePolicy": "cdk_imds.org.declarative_policy",
    "Imdsv2GuardrailPolicy": "cdk_imds.org.guardrail_policy",
    "ImdsCallerPolicy": "cdk_imds.org.member_roles",
    "ImdsMemberRoles": "cdk_imds.org.member_roles",
    "ImdsMemberRolesStackSet": "cdk_imds.org.member_roles",
}

__all__ = [
    "DECLARATIVE_POLICY_MAX_CHARACTERS",
    "SCP_MAX_CHARACTERS",
    "AccountImdsDefaults",
    "GuardrailConfigurationError",
    "GuardrailOptions",
    "ImdsCallerPolicy",
    "ImdsMemberRoles",
    "ImdsMemberRolesStackSet",
    "Imdsv2CheckStep",
    "Imdsv2DeclarativePolicy",
    "Imdsv2GuardrailPolicy",
    "PolicyTooLargeError",
    "caller_policy_document",
    "declarative_policy_content",
    "guardrail_policy_document",
    "member_roles_template",
]


def __getattr__(name: str) -> Any:
    module = _CDK_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'cdk_imds.org' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
