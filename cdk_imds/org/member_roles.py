"""The roles an organization audit or remediation assumes, as CDK constructs.

- ``ImdsMemberRolesStackSet``: rolls the member roles out to every account of the given OUs (or
  the root) through a service-managed StackSet with automatic deployment, so accounts that join
  the organization later get them too.
- ``ImdsMemberRoles``: the same roles in the current stack (one account, or the management
  account, which a service-managed StackSet never deploys to).
- ``ImdsCallerPolicy``: the caller's managed policy (list accounts, assume those roles).

The template deployed is ``cdk_imds.org.member_template.member_roles_template``, the same one
shipped as ``cdk_imds/policies/org-member-roles.template.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_imds.org.errors import GuardrailConfigurationError
from cdk_imds.org.member_template import (
    AUDIT_DESCRIPTION,
    AUDIT_ROLE_NAME,
    MAX_SESSION_SECONDS,
    REMEDIATE_DESCRIPTION,
    REMEDIATE_ROLE_NAME,
    caller_policy_document,
    member_roles_template,
    shipped_policy,
    trust_policy,
)

DEFAULT_STACK_SET_NAME = "cdk-imds-member-roles"
_OU_OR_ROOT = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")


class ImdsMemberRolesStackSet(Construct):
    """An ``AWS::CloudFormation::StackSet`` (service-managed, auto-deployment on) of the member roles.

    IAM roles are global: one region is enough, and more would collide on the role names. Deploy
    it from the management account, or from a delegated administrator with ``call_as``
    ``DELEGATED_ADMIN``; trusted access for StackSets must be enabled in the organization.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        organizational_unit_ids: Sequence[str],
        region: str = "us-east-1",
        caller_account_id: str | None = None,
        external_id: str | None = None,
        audit_role_name: str = AUDIT_ROLE_NAME,
        remediate_role_name: str | None = REMEDIATE_ROLE_NAME,
        stack_set_name: str = DEFAULT_STACK_SET_NAME,
        call_as: str = "SELF",
        max_concurrent_percentage: int = 25,
        failure_tolerance_percentage: int = 10,
    ) -> None:
        """Define the StackSet.

        :param organizational_unit_ids: the root (``r-...``) or OUs (``ou-...``) to deploy to.
        :param region: the one region the stack instances go to. Default: us-east-1.
        :param caller_account_id: the account cdk-imds runs from. Default: this stack's account.
        :param external_id: required of the caller when set (``--external-id``). It is a parameter
            value in the synthesized template: pass a token (a NoEcho ``CfnParameter``) to keep it out.
        :param remediate_role_name: None to deploy the read-only audit role only.
        :param call_as: ``SELF`` (management account) or ``DELEGATED_ADMIN``.
        """
        super().__init__(scope, id)
        targets = list(organizational_unit_ids)
        if not targets:
            raise GuardrailConfigurationError(
                "ImdsMemberRolesStackSet: organizational_unit_ids must name the root or OUs"
            )
        for target in targets:
            if not cdk.Token.is_unresolved(target) and not _OU_OR_ROOT.fullmatch(target):
                raise GuardrailConfigurationError(
                    f"ImdsMemberRolesStackSet: {target!r} is not a root (r-...) or an OU (ou-...-...); "
                    "a service-managed StackSet deploys to OUs"
                )
        if call_as not in ("SELF", "DELEGATED_ADMIN"):
            raise GuardrailConfigurationError(
                f"ImdsMemberRolesStackSet: call_as must be SELF or DELEGATED_ADMIN, not {call_as!r}"
            )
        template = member_roles_template(audit_role_name, remediate_role_name)
        parameters = [
            cloudformation.CfnStackSet.ParameterProperty(
                parameter_key="CallerAccountId",
                parameter_value=caller_account_id or cdk.Stack.of(self).account,
            ),
            cloudformation.CfnStackSet.ParameterProperty(
                parameter_key="ExternalId", parameter_value=external_id or ""
            ),
        ]
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "StackSet",
            stack_set_name=stack_set_name,
            description="cdk-imds member roles for organization audit and remediation",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            call_as=call_as,
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                max_concurrent_percentage=max_concurrent_percentage,
                failure_tolerance_percentage=failure_tolerance_percentage,
            ),
            parameters=parameters,
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=targets
                    ),
                    regions=[region],
                )
            ],
            template_body=json.dumps(template, separators=(",", ":")),
        )


class ImdsMemberRoles(Construct):
    """The member roles in this stack's account, trusting ``caller_account_id``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        caller_account_id: str,
        external_id: str | None = None,
        audit_role_name: str = AUDIT_ROLE_NAME,
        remediate_role_name: str | None = REMEDIATE_ROLE_NAME,
    ) -> None:
        super().__init__(scope, id)
        trust = trust_policy(caller_account_id, external_id)
        self.audit_role = self._role("AuditRole", audit_role_name, "audit-policy", AUDIT_DESCRIPTION, trust)
        self.remediate_role = (
            self._role("RemediateRole", remediate_role_name, "remediate-policy", REMEDIATE_DESCRIPTION, trust)
            if remediate_role_name is not None
            else None
        )

    def _role(
        self, id: str, name: str, policy: str, description: str, trust: dict[str, object]
    ) -> iam.CfnRole:
        return iam.CfnRole(
            self,
            id,
            role_name=name,
            description=description,
            max_session_duration=MAX_SESSION_SECONDS,
            assume_role_policy_document=trust,
            policies=[iam.CfnRole.PolicyProperty(policy_name=name, policy_document=shipped_policy(policy))],
        )


class ImdsCallerPolicy(Construct):
    """The caller's managed policy: ``organizations:ListAccounts`` and ``sts:AssumeRole`` on the
    member role names, attached to ``roles`` (names of roles in this account) when given."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role_names: Sequence[str] = (AUDIT_ROLE_NAME, REMEDIATE_ROLE_NAME),
        roles: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        self.policy = iam.CfnManagedPolicy(
            self,
            "Policy",
            description="cdk-imds organization runs: list accounts, assume the member roles",
            # The partition as a token: the same document works in GovCloud and China.
            policy_document=caller_policy_document(role_names, partition=cdk.Aws.PARTITION),
            roles=list(roles) or None,
        )
