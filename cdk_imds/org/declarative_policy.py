"""Imdsv2DeclarativePolicy: IMDSv2 as every account's IMDS default, set by the organization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from cdk_imds.org.documents import DECLARATIVE_POLICY_EC2, check_target_ids, declarative_policy_content

DEFAULT_DECLARATIVE_NAME = "cdk-imds-imdsv2-defaults"


class Imdsv2DeclarativePolicy(Construct):
    """An ``AWS::Organizations::Policy`` of type ``DECLARATIVE_POLICY_EC2`` for IMDS defaults.

    Every account under the targets gets ``HttpTokens: required`` as its default for new
    instances, and its administrators cannot change it (EC2 reports the defaults as managed by a
    declarative policy). It sets defaults only: a launch that asks for
    ``HttpTokens: optional`` explicitly is not refused, which is what ``Imdsv2GuardrailPolicy`` is
    for. Use both.

    The organization must have declarative policies for EC2 enabled; deploy from the management
    account or a delegated administrator.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target_ids: Sequence[str] | None = None,
        policy_name: str = DEFAULT_DECLARATIVE_NAME,
        description: str | None = None,
        http_put_response_hop_limit: int | None = 1,
        http_endpoint: bool | None = None,
        instance_metadata_tags: bool | None = None,
        exception_message: str | None = None,
    ) -> None:
        """Define the policy.

        :param target_ids: roots (``r-...``), OUs (``ou-...``) or account ids to attach it to.
            Default: not attached.
        :param policy_name: the policy's name in Organizations. Default: ``cdk-imds-imdsv2-defaults``.
        :param description: Default: a sentence naming cdk-imds and the defaults.
        :param http_put_response_hop_limit: default hop limit, 1 to 64, or None to leave it
            unmanaged. Default: 1, as cdk-imds's own launch templates; AWS recommends 2 where
            containers on the instance must reach IMDS.
        :param http_endpoint: True or False to manage the default endpoint state. Default: None
            (not managed; the IMDS endpoint is enabled unless something else says otherwise).
        :param instance_metadata_tags: True or False to manage the default access to instance tags
            through IMDS. Default: None (not managed).
        :param exception_message: the message users see when the policy refuses a change (for
            example a link to your platform team's page). Default: AWS's own message.
        """
        content = declarative_policy_content(
            http_put_response_hop_limit=http_put_response_hop_limit,
            http_endpoint=http_endpoint,
            instance_metadata_tags=instance_metadata_tags,
            exception_message=exception_message,
        )
        targets = list(target_ids or [])
        check_target_ids(targets, resolved=[not cdk.Token.is_unresolved(target) for target in targets])
        super().__init__(scope, id)
        self._content = content
        self.policy = organizations.CfnPolicy(
            self,
            "Resource",
            name=policy_name,
            type=DECLARATIVE_POLICY_EC2,
            content=content,
            description=description
            or "cdk-imds: IMDSv2 (HttpTokens 'required') is the default for new EC2 instances.",
            target_ids=targets or None,
        )

    @property
    def content(self) -> dict[str, Any]:
        """The declarative policy content the template carries."""
        return self._content

    @property
    def policy_id(self) -> str:
        """The policy's id (``p-...``), known at deploy time."""
        return self.policy.attr_id
