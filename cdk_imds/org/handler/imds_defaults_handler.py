"""Custom resource handler: the account's default IMDS settings in one region, and their restore.

Called by aws-cdk-lib's ``custom_resources.Provider`` framework, which turns a returned dict into
the CloudFormation response and a raised exception into a FAILED one (the message is the reason
CloudFormation shows).

* Create reads the account's current defaults (``GetInstanceMetadataDefaults``), applies the
  requested ones, and records what it found in the physical resource id.
* Update applies the new values under the same physical resource id (a new id would make
  CloudFormation delete the old resource, restoring the defaults it is replacing). A field the
  template no longer manages goes back to what Create found.
* Delete restores, for the fields this resource managed, what Create found; a field that was not
  set at the account level goes back to ``no-preference``.

Why the physical resource id: CloudFormation gives Delete only the physical id and the resource
properties, never the data a handler returned. The id survives every update and needs no other
resource (an SSM parameter would need its own permissions and could be edited or lost
independently). The record is short, ``cdk-imds-account-imds-defaults:<region>:HttpTokens=optional,...``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

ID_PREFIX = "cdk-imds-account-imds-defaults"
MODIFY = "ModifyInstanceMetadataDefaults"
ENFORCED = "HttpTokensEnforced"

# The settings this handler manages, with the value that clears each one at the account level
# (API Reference, ModifyInstanceMetadataDefaults).
NO_PREFERENCE: dict[str, str | int] = {
    "HttpTokens": "no-preference",
    "HttpPutResponseHopLimit": -1,
    "HttpEndpoint": "no-preference",
    "InstanceMetadataTags": "no-preference",
    ENFORCED: "no-preference",
}
# What GetInstanceMetadataDefaults can report for each (and so what a record may hold).
_RECORDED_VALUE = {
    "HttpTokens": re.compile(r"optional|required"),
    "HttpPutResponseHopLimit": re.compile(r"[1-9]\d?"),
    "HttpEndpoint": re.compile(r"enabled|disabled"),
    "InstanceMetadataTags": re.compile(r"enabled|disabled"),
    ENFORCED: re.compile(r"enabled|disabled"),
}
# Errors meaning "not allowed": an SCP that forbids weakening the defaults, typically.
_DENIED = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})
_DECLARATIVE_POLICY = "declarative-policy"

Settings = dict[str, str | int]
# What a call can raise besides a proper AWS error: an endpoint answering something that is not
# EC2's XML (an HTTP 500 page) is a ResponseParserError, which is not a BotoCoreError.
_CALL_ERRORS = (BotoCoreError, ClientError, ResponseParserError)
# CloudFormation shows the reason in one line and truncates long ones.
_MAX_REASON = 300


class AccountDefaultsError(Exception):
    """A request the handler cannot carry out; the message is what CloudFormation shows."""


def on_event(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point: the client is for the function's own account and region."""
    client = boto3.client("ec2", config=Config(retries={"max_attempts": 3, "mode": "standard"}))
    return handle(event, client)


def handle(event: Mapping[str, Any], client: EC2Client) -> dict[str, Any]:
    """Carry out one CloudFormation request with ``client``."""
    request = event["RequestType"]
    if request == "Create":
        return _create(client, requested_settings(event["ResourceProperties"]))
    if request == "Update":
        return _update(client, event)
    if request == "Delete":
        return _delete(client, event)
    raise AccountDefaultsError(f"unknown CloudFormation request type {request!r}")


def requested_settings(properties: Mapping[str, Any]) -> Settings:
    """The settings in the resource properties (CloudFormation passes every value as a string)."""
    settings: Settings = {}
    for name in NO_PREFERENCE:
        if name in properties:
            value = str(properties[name])
            settings[name] = int(value) if name == "HttpPutResponseHopLimit" else value
    # The construct never sends anything else; a template edited by hand must not weaken IMDS.
    if settings.get("HttpTokens") != "required":
        raise AccountDefaultsError(
            f"HttpTokens must be 'required', not {properties.get('HttpTokens')!r}: "
            "this resource only ever makes IMDSv2 the default"
        )
    return settings


def encode_record(region: str, previous: Settings) -> str:
    """The physical resource id that carries the defaults found before this resource changed them."""
    fields = ",".join(f"{name}={previous[name]}" for name in NO_PREFERENCE if name in previous)
    return f"{ID_PREFIX}:{region}:{fields}"


def decode_record(physical_id: str) -> Settings | None:
    """The defaults recorded in ``physical_id``, or None if the id is not such a record.

    CloudFormation sends Delete with a physical id the handler never made when Create failed
    before returning one; None then means there is nothing to restore.
    """
    parts = physical_id.split(":", 2)
    if len(parts) != 3 or parts[0] != ID_PREFIX:
        return None
    previous: Settings = {}
    for field in filter(None, parts[2].split(",")):
        name, _, value = field.partition("=")
        pattern = _RECORDED_VALUE.get(name)
        if pattern is None or not pattern.fullmatch(value) or name in previous:
            return None
        previous[name] = int(value) if name == "HttpPutResponseHopLimit" else value
    return previous


def supports(client: EC2Client, member: str) -> bool:
    """Whether the client's SDK knows ``member`` of ModifyInstanceMetadataDefaults.

    The Lambda runtime's boto3 may predate a parameter (HttpTokensEnforced came late); botocore
    would refuse to send one it does not know.
    """
    shape = client.meta.service_model.operation_model(MODIFY).input_shape
    return shape is not None and member in shape.members


def _create(client: EC2Client, requested: Settings) -> dict[str, Any]:
    previous, managed_by = _read_defaults(client)
    if managed_by == _DECLARATIVE_POLICY:
        raise AccountDefaultsError(
            "this account's IMDS defaults are managed by an AWS Organizations declarative policy and "
            "cannot be set by the account; remove AccountImdsDefaults from this stack"
        )
    applied = _apply(client, requested)
    return {
        "PhysicalResourceId": encode_record(client.meta.region_name, previous),
        "Data": _data(applied, previous),
    }


def _update(client: EC2Client, event: Mapping[str, Any]) -> dict[str, Any]:
    physical_id: str = event["PhysicalResourceId"]
    previous = decode_record(physical_id) or {}
    settings = requested_settings(event["ResourceProperties"])
    old = event.get("OldResourceProperties", {})
    for name in NO_PREFERENCE:
        if name in old and name not in settings:
            settings[name] = previous.get(name, NO_PREFERENCE[name])
    applied = _apply(client, settings)
    return {"PhysicalResourceId": physical_id, "Data": _data(applied, previous)}


def _delete(client: EC2Client, event: Mapping[str, Any]) -> dict[str, Any]:
    physical_id: str = event["PhysicalResourceId"]
    previous = decode_record(physical_id)
    if previous is None:
        LOGGER.info("physical id %r is not a record of earlier defaults: nothing to restore", physical_id)
        return {"PhysicalResourceId": physical_id}
    managed = [name for name in NO_PREFERENCE if name in event["ResourceProperties"]]
    restore: Settings = {name: previous.get(name, NO_PREFERENCE[name]) for name in managed}
    _, managed_by = _read_defaults(client)
    if managed_by == _DECLARATIVE_POLICY:
        LOGGER.info("IMDS defaults are now managed by a declarative policy: nothing to restore")
        return {"PhysicalResourceId": physical_id}
    try:
        _apply(client, restore)
    except AccountDefaultsError as error:
        # A stack must stay deletable when the organization forbids weaker defaults: the stricter
        # ones stay, which is the safe direction.
        if not isinstance(error.__cause__, ClientError) or _code(error.__cause__) not in _DENIED:
            raise
        LOGGER.warning("restoring the earlier IMDS defaults was refused, they stay as they are: %s", error)
    return {"PhysicalResourceId": physical_id}


def _read_defaults(client: EC2Client) -> tuple[Settings, str | None]:
    try:
        answer = client.get_instance_metadata_defaults()
    except _CALL_ERRORS as error:
        raise AccountDefaultsError(f"GetInstanceMetadataDefaults failed: {_describe(error)}") from error
    level: Mapping[str, Any] = answer.get("AccountLevel", {})
    found: Settings = {name: level[name] for name in NO_PREFERENCE if name in level}
    return found, level.get("ManagedBy")


def _apply(client: EC2Client, settings: Settings) -> Settings:
    """Send ``settings`` (less what the SDK cannot send); return what was sent."""
    sendable = dict(settings)
    if ENFORCED in sendable and not supports(client, ENFORCED):
        LOGGER.warning("this boto3 cannot send %s; it is left as it is", ENFORCED)
        del sendable[ENFORCED]
    if not sendable:
        return sendable
    arguments: dict[str, Any] = dict(sendable)
    try:
        client.modify_instance_metadata_defaults(**arguments)
    except _CALL_ERRORS as error:
        raise AccountDefaultsError(f"{MODIFY} failed: {_describe(error)}") from error
    LOGGER.info("%s: %s", MODIFY, arguments)
    return sendable


def _data(applied: Settings, previous: Settings) -> dict[str, str]:
    # Attributes for Fn::GetAtt: CloudFormation wants strings.
    return {
        "HttpTokensEnforcedApplied": "true" if ENFORCED in applied else "false",
        "PreviousHttpTokens": str(previous.get("HttpTokens", "no-preference")),
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        text = f"{_code(error)}: {message}" if message else _code(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:_MAX_REASON]
