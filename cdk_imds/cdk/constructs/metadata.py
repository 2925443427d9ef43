"""The metadata-options rules both constructs share: IMDSv2 only, and a bounded hop limit.

Pure functions over the caller's arguments, so each rule is tested without synthesizing a stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from cdk_imds.cdk.errors import ConfigurationError, InsecureConfigurationError

DEFAULT_HOP_LIMIT = 1
# Containers on the instance (Docker bridge networking, EKS pods) sit one hop further away.
CONTAINER_HOP_LIMIT = 2
# The range EC2 accepts for HttpPutResponseHopLimit.
MIN_HOP_LIMIT = 1
MAX_HOP_LIMIT = 64


@dataclass(frozen=True)
class MetadataOptions:
    """Metadata options that passed the rules, ready for ``ec2.LaunchTemplate``.

    ``http_put_response_hop_limit`` is a float only for an unresolved token (opted into).
    """

    http_endpoint: bool
    http_put_response_hop_limit: int | float
    http_protocol_ipv6: bool | None
    instance_metadata_tags: bool | None


def secure_metadata_options(
    subject: str,
    *,
    http_tokens: ec2.LaunchTemplateHttpTokens | None,
    require_imdsv2: bool | None,
    http_endpoint: bool | None,
    http_put_response_hop_limit: int | float | None,
    allow_hop_limit_above_2: bool,
    http_protocol_ipv6: bool | None,
    instance_metadata_tags: bool | None,
) -> MetadataOptions:
    """Check the caller's metadata arguments; raise on anything that is not IMDSv2-only.

    ``subject`` names the construct in messages (its path). Tokens stay required in every case,
    including ``http_endpoint=False``: disabling the endpoint is stricter, not an exception.
    """
    refuse_imdsv1(subject, http_tokens=http_tokens, require_imdsv2=require_imdsv2)
    return MetadataOptions(
        http_endpoint=True if http_endpoint is None else http_endpoint,
        http_put_response_hop_limit=checked_hop_limit(
            subject, http_put_response_hop_limit, allow_hop_limit_above_2=allow_hop_limit_above_2
        ),
        http_protocol_ipv6=http_protocol_ipv6,
        instance_metadata_tags=instance_metadata_tags,
    )


def refuse_imdsv1(
    subject: str, *, http_tokens: ec2.LaunchTemplateHttpTokens | None, require_imdsv2: bool | None
) -> None:
    """Raise when an argument asks for IMDSv1; ``None`` and the IMDSv2 values are accepted."""
    if http_tokens is not None and http_tokens != ec2.LaunchTemplateHttpTokens.REQUIRED:
        raise InsecureConfigurationError(
            f"{subject}: http_tokens={http_tokens} would let instances use IMDSv1. cdk-imds always "
            "requires session tokens (IMDSv2): drop the argument or pass LaunchTemplateHttpTokens.REQUIRED."
        )
    if require_imdsv2 is False:
        raise InsecureConfigurationError(
            f"{subject}: require_imdsv2=False would let instances use IMDSv1. cdk-imds always requires "
            "IMDSv2: drop the argument (or pass True)."
        )


def checked_hop_limit(
    subject: str, value: int | float | None, *, allow_hop_limit_above_2: bool
) -> int | float:
    """The hop limit to synthesize: 1 by default, 2 freely, more only with the explicit opt-in.

    An unresolved token could be anything up to 64, so it needs the opt-in too.
    """
    if value is None:
        return DEFAULT_HOP_LIMIT
    if cdk.Token.is_unresolved(value):
        if not allow_hop_limit_above_2:
            raise InsecureConfigurationError(
                f"{subject}: http_put_response_hop_limit is a token, so cdk-imds cannot check that it "
                f"stays at or below {CONTAINER_HOP_LIMIT}. Pass a number, or allow_hop_limit_above_2=True "
                "to accept whatever it resolves to."
            )
        return value
    # bool is an int in Python, and 1.0-style floats are fine but 1.5 is not a hop count.
    if isinstance(value, bool) or not float(value).is_integer():
        raise ConfigurationError(
            f"{subject}: http_put_response_hop_limit must be a whole number of hops, got {value!r}."
        )
    hops = int(value)
    if not MIN_HOP_LIMIT <= hops <= MAX_HOP_LIMIT:
        raise ConfigurationError(
            f"{subject}: http_put_response_hop_limit must be from {MIN_HOP_LIMIT} to {MAX_HOP_LIMIT} "
            f"(the range EC2 accepts), got {hops}."
        )
    if hops > CONTAINER_HOP_LIMIT and not allow_hop_limit_above_2:
        raise InsecureConfigurationError(
            f"{subject}: http_put_response_hop_limit={hops} lets IMDS responses travel {hops} hops, "
            f"beyond containers on the instance ({CONTAINER_HOP_LIMIT}). Pass allow_hop_limit_above_2=True "
            "if this is intended."
        )
    return hops
