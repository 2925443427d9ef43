"""The caller (management account or delegated administrator) and the role it assumes in members."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdk_imds.aws import session as aws_session
from cdk_imds.errors import CdkImdsError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sts import STSClient

# IAM role names: 1-64 characters of these; a path is not part of what --role-name takes.
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
# sts:ExternalId: 2-1224 characters of these.
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


@dataclass(frozen=True)
class RoleSettings:
    role_name: str
    external_id: str | None = None
    # Goes into the role session name, which CloudTrail shows in every member account.
    command: str = "audit"

    @property
    def session_name(self) -> str:
        return f"cdk-imds-{self.command}"


class Caller:
    """The caller's own session: who it is, and a session in a member account per ``assume``."""

    def __init__(self, profile: str | None, region: str | None, role: RoleSettings) -> None:
        self.session = aws_session.new_session(profile)
        home = region or self.session.region_name
        if not home:
            raise CdkImdsError("no AWS region: pass --region or --all-regions, or set AWS_REGION")
        self.region: str = home
        self.role = role
        self.sts: STSClient = aws_session.client(self.session, "sts", region)
        with aws_session.aws_errors("sts:GetCallerIdentity"):
            identity = self.sts.get_caller_identity()
        self.account = str(identity["Account"])
        # aws, aws-cn or aws-us-gov: the member role's ARN is in the caller's partition.
        self.partition = str(identity["Arn"]).split(":")[1]
        # Every member session shares the caller's loaded service models: parsing the EC2 model
        # again for each of hundreds of accounts would cost more than reading the accounts.
        self._loader: Any = self.session._session.get_component("data_loader")

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.role.role_name}"

    def assume(self, account_id: str) -> boto3.Session:
        """A session acting in ``account_id`` through the role; ``AwsAccessError`` (one line) when
        the role cannot be assumed. The external id is sent, never printed."""
        arguments: dict[str, Any] = {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": self.role.session_name,
        }
        if self.role.external_id:
            arguments["ExternalId"] = self.role.external_id
        with aws_session.aws_errors("sts:AssumeRole"):
            credentials = self.sts.assume_role(**arguments)["Credentials"]
        return aws_session.assumed_session(credentials, self.region, self._loader)


def check_role_settings(role_name: str, external_id: str | None) -> None:
    if not ROLE_NAME.fullmatch(role_name):
        raise CdkImdsError(f"--role-name: {role_name!r} is not an IAM role name")
    if external_id is not None and not EXTERNAL_ID.fullmatch(external_id):
        # The value itself is not repeated: it is a shared secret of sorts.
        raise CdkImdsError("--external-id: 2 to 1224 characters of letters, digits and +=,.@:/-")
