"""Imdsv2GuardrailPolicy: the service control policy that keeps IMDSv1 out of an organization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from cdk_imds.org.documents import (
    SERVICE_CONTROL_POLICY,
    GuardrailOptions,
    check_target_ids,
    guardrail_policy_document,
    role_arn_pattern,
)

DEFAULT_GUARDRAIL_NAME = "cdk-imds-imdsv2-guardrail"


class Imdsv2GuardrailPolicy(Construct):
    """An ``AWS::Organizations::Policy`` of type ``SERVICE_CONTROL_POLICY`` that denies IMDSv1.

    It closes what synth-time checks cannot see: capacity launched from the console, the CLI or
    other IaC. Every member account under the targets is held to it; the management account
    never is (SCPs do not apply there), and service-linked roles (Auto Scaling launching for a
    group) are not either, which is why the launch template they use must require tokens.

    Deploy it from the management account or a delegated administrator, in a stack whose
    organization has service control policies enabled.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target_ids: Sequence[str] | None = None,
        policy_name: str = DEFAULT_GUARDRAIL_NAME,
        description: str | None = None,
        max_hop_limit: int | None = None,
        protect_account_defaults: bool = True,
        deny_imdsv1_role_credentials: bool = False,
        deny_launch_configurations: bool = False,
        require_pinned_launch_template_version: bool = False,
        break_glass_role_names: Sequence[str] = (),
        exempt_principal_arns: Sequence[str] = (),
    ) -> None:
        """Define the policy.

        :param target_ids: roots (``r-...``), OUs (``ou-...``) or account ids to attach it to.
            Default: not attached (attach it elsewhere, or later).
        :param policy_name: the policy's name in Organizations. Default: ``cdk-imds-imdsv2-guardrail``.
        :param description: Default: a sentence naming cdk-imds and what is denied.
        :param max_hop_limit: deny launching instances whose ``HttpPutResponseHopLimit`` is above
            this (1 to 64; 2 if containers must reach IMDS). Default: None (not limited).
        :param protect_account_defaults: deny setting an account's default ``HttpTokens`` to
            anything but ``required``. Default: True.
        :param deny_imdsv1_role_credentials: deny every call signed with instance role credentials
            fetched through IMDSv1, including from instances launched before the policy. Default:
            False (turn it on once ``cdk-imds audit`` reports no IMDSv1 calls).
        :param deny_launch_configurations: deny creating launch configurations and groups that use
            one. Default: False.
        :param require_pinned_launch_template_version: deny groups launching from ``$Latest`` or
            ``$Default``. Default: False.
        :param break_glass_role_names: IAM role names (any account) the launch and modify
            statements do not apply to. Default: none.
        :param exempt_principal_arns: further ``aws:PrincipalArn`` patterns exempted the same way,
            e.g. an IAM Identity Center role path. Default: none.
        """
        # The document is built, and refused, before anything joins the construct tree.
        options = GuardrailOptions(
            max_hop_limit=max_hop_limit,
            protect_account_defaults=protect_account_defaults,
            deny_imdsv1_role_credentials=deny_imdsv1_role_credentials,
            deny_launch_configurations=deny_launch_configurations,
            require_pinned_launch_template_version=require_pinned_launch_template_version,
            exempt_principal_arns=tuple(
                [role_arn_pattern(name) for name in break_glass_role_names] + list(exempt_principal_arns)
            ),
        )
        document = guardrail_policy_document(options)
        targets = list(target_ids or [])
        check_target_ids(targets, resolved=[not cdk.Token.is_unresolved(target) for target in targets])
        super().__init__(scope, id)
        self._document = document
        self._options = options
        self.policy = organizations.CfnPolicy(
            self,
            "Resource",
            name=policy_name,
            type=SERVICE_CONTROL_POLICY,
            # A JSON object, not a string, so that CloudFormation drift detection works on it.
            content=document,
            description=description
            or "cdk-imds: deny launching or changing EC2 instances to allow IMDSv1 (HttpTokens not 'required').",
            target_ids=targets or None,
        )

    @property
    def document(self) -> dict[str, Any]:
        """The policy document the template carries."""
        return self._document

    @property
    def options(self) -> GuardrailOptions:
        """The options the document was built from, exempted principals resolved to ARN patterns."""
        return self._options

    @property
    def policy_id(self) -> str:
        """The policy's id (``p-...``), known at deploy time."""
        return self.policy.attr_id

    @property
    def policy_arn(self) -> str:
        """The policy's ARN, known at deploy time."""
        return self.policy.attr_arn
