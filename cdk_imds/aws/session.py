"""boto3 sessions and clients, configured once: retries, timeouts, and errors turned into one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from cdk_imds.errors import AwsAccessError

# Adaptive retries rate-limit the client itself once AWS throttles it, so an audit of a large
# account slows down instead of failing; ten attempts ride out bursts of throttling and 5xx answers.
RETRIES: dict[str, Any] = {"mode": "adaptive", "max_attempts": 10}
CLIENT_CONFIG = Config(retries=RETRIES, connect_timeout=10, read_timeout=30)  # type: ignore[arg-type]


def new_session(profile: str | None) -> boto3.Session:
    """A fresh session. Sessions are not thread-safe, so every region's worker asks for its own.

    AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) is honoured by boto3 itself.
    """
    with aws_errors("session"):
        return boto3.Session(profile_name=profile)


def assumed_session(credentials: Any, region: str, loader: Any) -> boto3.Session:
    """A session on temporary credentials (sts:AssumeRole's ``Credentials``) that shares ``loader``,
    the loaded service models of the session it came from."""
    core = botocore.session.Session()
    core.register_component("data_loader", loader)
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
        botocore_session=core,
    )


def client(session: boto3.Session, service: str, region: str | None) -> Any:
    """A client with the shared retry configuration. Typed ``Any`` at the boundary: callers
    annotate with the ``mypy_boto3_*`` client types they use."""
    with aws_errors(service):
        return session.client(service, region_name=region, config=CLIENT_CONFIG)  # type: ignore[call-overload]


@contextmanager
def aws_errors(where: str) -> Iterator[None]:
    """Turn botocore's errors into an ``AwsAccessError`` whose message is one line and carries no
    credential (botocore messages name the profile or endpoint, never a key)."""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = _one_line(str(details.get("Message", "")))
        raise AwsAccessError(f"{where}: {code}: {message}".rstrip(": ")) from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsAccessError(
            f"{where}: no AWS credentials found (set AWS_PROFILE, pass --profile, or configure credentials)"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise AwsAccessError(f"{where}: {_one_line(str(error))}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())
