"""Hooks into the sessions the audit code creates: record its API calls, inject failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from cdk_imds.aws import session as aws_session

Handler = tuple[str, Callable[..., Any]]


def hook_sessions(monkeypatch: pytest.MonkeyPatch, *handlers: Handler) -> None:
    """Register botocore event handlers on every session the audit code makes from now on."""
    original = aws_session.new_session

    def new_session(profile: str | None) -> boto3.Session:
        session = original(profile)
        for event, handler in handlers:
            session.events.register(event, handler)
        return session

    monkeypatch.setattr(aws_session, "new_session", new_session)


class CallLog:
    """Every operation called, as (service id, operation name), e.g. ("Auto Scaling", "DescribeAutoScalingGroups")."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.service_model.service_id, model.name))

    def count(self, operation: str) -> int:
        return sum(1 for _, name in self.calls if name == operation)


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def query_error(code: str) -> bytes:
    """An error body of the query protocol (Auto Scaling)."""
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        "<Message>injected by the test</Message></Error><RequestId>test</RequestId></ErrorResponse>"
    ).encode()


def ec2_error(code: str) -> bytes:
    """An error body of the EC2 protocol."""
    return (
        f"<Response><Errors><Error><Code>{code}</Code><Message>injected by the test</Message></Error>"
        "</Errors><RequestID>test</RequestID></Response>"
    ).encode()


class FailFirst:
    """A ``before-send`` handler (register it on ``before-send.<service>.<Operation>``): answers
    the first ``times`` requests with ``status`` and ``body``, as AWS does when it throttles or fails."""

    def __init__(self, times: int, status: int, body: bytes = b"") -> None:
        self.remaining = times
        self.status = status
        self.body = body
        self.sent = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        with self._lock:
            self.sent += 1
            if self.remaining <= 0:
                return None
            self.remaining -= 1
        return AWSResponse(request.url, self.status, {}, _Body(self.body))


class StubbedInstanceRefresh:
    """moto_server has no StartInstanceRefresh (it answers 500), so botocore's Stubber answers that
    one operation; every other call of the code under test still goes to moto_server.

    Register ``handlers`` with ``hook_sessions``: the first captures the call's parameters, the
    second answers it from a Stubber on a client of its own, which checks the parameters against
    ``expect``. Specific handlers run before wildcard ones, so a ``before-call.*.*`` recorder never
    sees this call: record on ``before-parameter-build.*.*`` instead.
    """

    def __init__(self) -> None:
        self.client = boto3.session.Session().client("autoscaling", region_name="us-east-1")
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.started: list[str] = []
        self._pending: dict[str, Any] = {}

    def expect(self, group: str, min_healthy: int = 90, refresh_id: str | None = None) -> str:
        answer = refresh_id or f"refresh-{group}"
        expected = {"AutoScalingGroupName": group, "Preferences": {"MinHealthyPercentage": min_healthy}}
        self.stubber.add_response("start_instance_refresh", {"InstanceRefreshId": answer}, expected)
        return answer

    def expect_in_progress(self, group: str) -> None:
        self.stubber.add_client_error(
            "start_instance_refresh",
            service_error_code="InstanceRefreshInProgress",
            service_message="An Instance Refresh is already in progress",
            http_status_code=400,
        )

    @property
    def handlers(self) -> tuple[Handler, Handler]:
        return (
            ("before-parameter-build.auto-scaling.StartInstanceRefresh", self._capture),
            ("before-call.auto-scaling.StartInstanceRefresh", self._answer),
        )

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self._pending = dict(params)

    def _answer(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        try:
            parsed: dict[str, Any] = self.client.start_instance_refresh(**self._pending)
        except botocore.exceptions.ClientError as error:
            parsed = dict(error.response)
            return AWSResponse("stub", 400, {}, None), parsed
        self.started.append(self._pending["AutoScalingGroupName"])
        return AWSResponse("stub", 200, {}, None), parsed


class FailUpdateOf:
    """A ``before-parameter-build.auto-scaling.UpdateAutoScalingGroup`` handler: the update of one
    group fails as AWS refuses it (a ClientError, not retried); every other update goes through."""

    def __init__(self, group: str, code: str = "ValidationError") -> None:
        self.group = group
        self.code = code
        self.refused = 0
        self.active = True

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if self.active and params.get("AutoScalingGroupName") == self.group:
            self.refused += 1
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": self.code, "Message": "injected by the test"}}, "UpdateAutoScalingGroup"
            )
