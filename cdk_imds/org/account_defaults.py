"""AccountImdsDefaults: IMDSv2 as the account's default for new instances, in the stack's region."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources
from constructs import Construct

from cdk_imds.org.documents import check_hop_limit

# The handler's folder is the Lambda asset as is: it ships inside the wheel as a subpackage.
HANDLER_DIRECTORY = Path(__file__).resolve().with_name("handler")
HANDLER = "imds_defaults_handler.on_event"
RESOURCE_TYPE = "Custom::AccountImdsDefaults"
# Exactly what the handler calls. Neither action has a resource type in the Service
# Authorization Reference, so "*" is the narrowest resource there is.
HANDLER_ACTIONS = ("ec2:GetInstanceMetadataDefaults", "ec2:ModifyInstanceMetadataDefaults")


class AccountImdsDefaults(Construct):
    """A custom resource that sets the account's default IMDS settings in its stack's region.

    New instances whose launch does not set metadata options (console launches, AMIs without
    ``ImdsSupport: v2.0``, other tools) get ``HttpTokens: required``. With ``HttpTokensEnforced``
    the account also refuses launches that ask for IMDSv1 explicitly. Deleting the resource
    restores the defaults it found (see the handler's module docstring for how they are kept).

    One per account and region: two would each record the other's values. For the same reason
    keep its construct id and stack stable: a replacement is created before the old resource is
    deleted, and that delete restores the earlier defaults under the new resource's feet (remove
    the old one in one deployment, add the new one in the next). In an organization,
    ``Imdsv2DeclarativePolicy`` sets the same defaults for every account under its targets and
    those accounts can then no longer set them; this construct is for accounts outside such a
    policy (the management account, accounts outside an organization).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        http_put_response_hop_limit: int = 1,
        http_tokens_enforced: bool = True,
        http_endpoint: bool | None = None,
        instance_metadata_tags: bool | None = None,
    ) -> None:
        """Define the resource.

        ``HttpTokens`` is always ``required``.

        :param http_put_response_hop_limit: default hop limit, 1 to 64. Default: 1 (2 where
            containers on the instance must reach IMDS).
        :param http_tokens_enforced: also set ``HttpTokensEnforced: enabled``, so launches that
            ask for ``HttpTokens: optional`` fail. Skipped, and reported as
            ``http_tokens_enforced_applied == "false"``, if the Lambda runtime's boto3 predates the
            parameter. Default: True.
        :param http_endpoint: True or False to manage the default endpoint state. Default: None
            (left as it is).
        :param instance_metadata_tags: True or False to manage the default access to instance tags
            through IMDS. Default: None (left as it is).
        """
        check_hop_limit("http_put_response_hop_limit", http_put_response_hop_limit)
        super().__init__(scope, id)
        properties: dict[str, str | int] = {
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": http_put_response_hop_limit,
        }
        if http_tokens_enforced:
            properties["HttpTokensEnforced"] = "enabled"
        if http_endpoint is not None:
            properties["HttpEndpoint"] = "enabled" if http_endpoint else "disabled"
        if instance_metadata_tags is not None:
            properties["InstanceMetadataTags"] = "enabled" if instance_metadata_tags else "disabled"

        self.handler = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler=HANDLER,
            # __pycache__ appears once the tests import the handler; it must not change the asset.
            code=lambda_.Code.from_asset(str(HANDLER_DIRECTORY), exclude=["__pycache__", "*.pyc"]),
            timeout=cdk.Duration.minutes(1),
            description="cdk-imds: sets and restores the account's default IMDS settings",
        )
        self.handler.add_to_role_policy(iam.PolicyStatement(actions=list(HANDLER_ACTIONS), resources=["*"]))
        provider = custom_resources.Provider(self, "Provider", on_event_handler=self.handler)
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
        )

    @property
    def http_tokens_enforced_applied(self) -> str:
        """``"true"`` once ``HttpTokensEnforced: enabled`` was sent, ``"false"`` otherwise (deploy time)."""
        return self.resource.get_att_string("HttpTokensEnforcedApplied")

    @property
    def previous_http_tokens(self) -> str:
        """The account's default ``HttpTokens`` before this resource (``no-preference`` if unset)."""
        return self.resource.get_att_string("PreviousHttpTokens")
