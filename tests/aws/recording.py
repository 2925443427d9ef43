"""Hooks into the sessions the audit code creates: record its API calls, inject failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

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
