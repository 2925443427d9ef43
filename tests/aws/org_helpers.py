"""An organization on moto_server: accounts, resources arranged inside them, and failures injected.

moto_server keeps one backend per account: credentials from sts:AssumeRole into account X act in
account X (moto maps the temporary access key to the role ARN's account; the role need not exist).
What moto cannot do is refuse: its AssumeRole checks no trust policy, every region is enabled and
nothing throttles. Those answers are injected at the HTTP layer (``before-send``), as AWS sends
them, so botocore parses, retries and raises exactly as it would on real AWS; every other request
goes to moto_server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from cdk_imds.aws import session as aws_session
from tests.aws.conftest import IMAGE_ID, REGION
from tests.aws.recording import Handler, ec2_error, query_error

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/")
_ASSUMED_ARN = re.compile(r"arn:aws:sts::(\d{12}):assumed-role/")


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def hook_all_sessions(monkeypatch: pytest.MonkeyPatch, *handlers: Handler) -> None:
    """Register handlers on the caller's session and on every member session the code makes."""
    made = aws_session.new_session
    assumed = aws_session.assumed_session

    def new_session(profile: str | None) -> boto3.Session:
        session = made(profile)
        for event, handler in handlers:
            session.events.register(event, handler)
        return session

    def assumed_session(credentials: Any, region: str, loader: Any) -> boto3.Session:
        session = assumed(credentials, region, loader)
        for event, handler in handlers:
            session.events.register(event, handler)
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)
    monkeypatch.setattr(aws_session, "assumed_session", assumed_session)


class Organization:
    """The caller's (moto's default) account as management account, with member accounts."""

    def __init__(self) -> None:
        self.organizations = boto3.session.Session().client("organizations", region_name=REGION)
        self.organizations.create_organization(FeatureSet="ALL")
        self.management = self.organizations.describe_organization()["Organization"]["MasterAccountId"]

    def account(self, name: str) -> str:
        answer = self.organizations.create_account(Email=f"{name}@example.com", AccountName=name)
        account_id: str = answer["CreateAccountStatus"]["AccountId"]
        return account_id

    def member(self, account_id: str, region: str = REGION) -> Member:
        sts = boto3.session.Session().client("sts", region_name=REGION)
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/test-arranger", RoleSessionName="arrange"
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return Member(session, region)


class Member:
    """Arranges one member account's region, through credentials acting in that account."""

    def __init__(self, session: boto3.Session, region: str) -> None:
        self.region = region
        self.ec2 = session.client("ec2", region_name=region)
        self.autoscaling = session.client("autoscaling", region_name=region)
        self.sts = session.client("sts", region_name=region)
        self.cloudwatch = session.client("cloudwatch", region_name=region)

    def launch_configuration(self, name: str) -> None:
        self.autoscaling.create_launch_configuration(
            LaunchConfigurationName=name, ImageId=IMAGE_ID, InstanceType="t3.micro"
        )

    def launch(self, group: str) -> dict[str, Any]:
        """What the group launches, as described (LaunchTemplate or LaunchConfigurationName)."""
        [raw] = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])[
            "AutoScalingGroups"
        ]
        return {key: raw[key] for key in ("LaunchTemplate", "LaunchConfigurationName") if raw.get(key)}

    def no_token_calls(self, group: str, value: float) -> None:
        from datetime import UTC, datetime, timedelta

        [raw] = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])[
            "AutoScalingGroups"
        ]
        for instance in raw["Instances"]:
            self.cloudwatch.put_metric_data(
                Namespace="AWS/EC2",
                MetricData=[
                    {
                        "MetricName": "MetadataNoToken",
                        "Dimensions": [{"Name": "InstanceId", "Value": instance["InstanceId"]}],
                        "Timestamp": datetime.now(UTC) - timedelta(hours=1),
                        "Value": value,
                        "Unit": "Count",
                    }
                ],
            )

    def template(self, name: str, tokens: str) -> str:
        data = {"ImageId": IMAGE_ID, "InstanceType": "t3.micro", "MetadataOptions": {"HttpTokens": tokens}}
        answer = self.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)
        template_id: str = answer["LaunchTemplate"]["LaunchTemplateId"]
        return template_id

    def version(self, template_id: str, tokens: str) -> int:
        data = {"ImageId": IMAGE_ID, "InstanceType": "t3.micro", "MetadataOptions": {"HttpTokens": tokens}}
        answer = self.ec2.create_launch_template_version(
            LaunchTemplateId=template_id, LaunchTemplateData=data
        )
        number: int = answer["LaunchTemplateVersion"]["VersionNumber"]
        return number

    def group(self, name: str, desired: int = 0, **launch: Any) -> None:
        self.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=0,
            MaxSize=max(desired, 1),
            DesiredCapacity=desired,
            AvailabilityZones=[f"{self.region}a"],
            **launch,
        )


class AccountsOfKeys:
    """An ``after-call.sts.AssumeRole`` handler: which account each temporary access key acts in,
    read from the answer (the assumed role's ARN), so later handlers can tell accounts apart."""

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.assumed: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        arn = parsed.get("AssumedRoleUser", {}).get("Arn", "")
        match = _ASSUMED_ARN.match(arn)
        if match and "Credentials" in parsed:
            with self._lock:
                self.accounts[parsed["Credentials"]["AccessKeyId"]] = match.group(1)
                self.assumed.append(match.group(1))

    def of(self, request: Any) -> tuple[str | None, str | None]:
        """(account, region) a signed request acts in."""
        header = request.headers.get("Authorization", b"")
        text = header.decode() if isinstance(header, bytes) else str(header)
        match = _CREDENTIAL_SCOPE.search(text)
        if not match:
            return None, None
        return self.accounts.get(match.group(1)), match.group(2)


class DenyAssumeRole:
    """A ``before-send.sts.AssumeRole`` handler: AccessDenied (HTTP 403) for the roles of
    ``accounts``, as STS answers when the role's trust policy does not allow the caller (or the
    role does not exist); other accounts' requests go on to moto_server."""

    def __init__(self, accounts: set[str]) -> None:
        self.accounts = accounts
        self.denied: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        for account in self.accounts:
            if f"iam%3A%3A{account}%3Arole" in body or f"iam::{account}:role" in body:
                with self._lock:
                    self.denied.append(account)
                message = f"User: arn:aws:iam::123456789012:user/caller is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{account}:role/x"
                error = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    f"<Message>{message}</Message></Error><RequestId>test</RequestId></ErrorResponse>"
                ).encode()
                return AWSResponse(request.url, 403, {}, _Body(error))
        return None


class RefuseIn:
    """A ``before-send`` handler for EC2, Auto Scaling and CloudWatch: requests acting in one of
    ``places`` ((account, region) pairs) get ``answer(service)`` -> (status, body)."""

    def __init__(
        self, keys: AccountsOfKeys, places: set[tuple[str, str]], answer: Callable[[str], tuple[int, bytes]]
    ) -> None:
        self.keys = keys
        self.places = places
        self.answer = answer
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if self.keys.of(request) not in self.places:
            return None
        with self._lock:
            self.refused.append(event_name.split(".", 1)[1])
        status, body = self.answer(event_name.split(".")[1])
        return AWSResponse(request.url, status, {}, _Body(body))


def region_disabled(service: str) -> tuple[int, bytes]:
    """What a region the account has not opted in to answers: the credentials are unknown there."""
    if service == "ec2":
        return 401, ec2_error("AuthFailure")
    return 403, query_error("InvalidClientTokenId")


def throttled(service: str) -> tuple[int, bytes]:
    if service == "ec2":
        return 503, ec2_error("RequestLimitExceeded")
    return 400, query_error("Throttling")
