"""The metadata-option rules shared by SecureLaunchTemplate and SecureAutoScalingGroup, without synthesis."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from cdk_imds.cdk import ConfigurationError, InsecureConfigurationError, MetadataOptions
from cdk_imds.cdk.constructs.metadata import checked_hop_limit, secure_metadata_options
from cdk_imds.errors import CdkImdsError

SUBJECT = "Stack/Thing"


def _options(**overrides: Any) -> MetadataOptions:
    arguments: dict[str, Any] = {
        "http_tokens": None,
        "require_imdsv2": None,
        "http_endpoint": None,
        "http_put_response_hop_limit": None,
        "allow_hop_limit_above_2": False,
        "http_protocol_ipv6": None,
        "instance_metadata_tags": None,
    }
    arguments.update(overrides)
    return secure_metadata_options(SUBJECT, **arguments)


def test_defaults_are_endpoint_enabled_and_one_hop() -> None:
    # given no metadata arguments / when checked
    options = _options()
    # then
    assert options == MetadataOptions(
        http_endpoint=True,
        http_put_response_hop_limit=1,
        http_protocol_ipv6=None,
        instance_metadata_tags=None,
    )


@pytest.mark.parametrize(
    "arguments",
    [
        {"http_tokens": ec2.LaunchTemplateHttpTokens.REQUIRED},
        {"require_imdsv2": True},
        {"http_tokens": ec2.LaunchTemplateHttpTokens.REQUIRED, "require_imdsv2": True},
    ],
)
def test_asking_for_imdsv2_explicitly_is_accepted(arguments: dict[str, Any]) -> None:
    assert _options(**arguments) == _options()


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (
            {"http_tokens": ec2.LaunchTemplateHttpTokens.OPTIONAL},
            "http_tokens=LaunchTemplateHttpTokens.OPTIONAL",
        ),
        ({"require_imdsv2": False}, "require_imdsv2=False"),
        # require_imdsv2=True does not make http_tokens=OPTIONAL acceptable
        (
            {"require_imdsv2": True, "http_tokens": ec2.LaunchTemplateHttpTokens.OPTIONAL},
            "http_tokens=LaunchTemplateHttpTokens.OPTIONAL",
        ),
    ],
)
def test_asking_for_imdsv1_is_refused_naming_the_argument(arguments: dict[str, Any], named: str) -> None:
    # given arguments that would allow IMDSv1 / when checked / then refused, never corrected
    with pytest.raises(InsecureConfigurationError) as raised:
        _options(**arguments)
    assert str(raised.value).startswith(f"{SUBJECT}: {named} ")
    assert "IMDSv1" in str(raised.value)


def test_disabling_the_endpoint_is_allowed_and_stricter() -> None:
    assert _options(http_endpoint=False).http_endpoint is False


def test_ipv6_and_instance_tags_pass_through() -> None:
    options = _options(http_protocol_ipv6=True, instance_metadata_tags=False)
    assert (options.http_protocol_ipv6, options.instance_metadata_tags) == (True, False)


@pytest.mark.parametrize(("given", "expected"), [(None, 1), (1, 1), (2, 2), (2.0, 2)])
def test_hop_limits_up_to_two_need_no_opt_in(given: float | None, expected: int) -> None:
    hops = checked_hop_limit(SUBJECT, given, allow_hop_limit_above_2=False)
    assert hops == expected
    assert type(hops) is int


@pytest.mark.parametrize("hops", [3, 64])
def test_hop_limits_above_two_need_the_opt_in(hops: int) -> None:
    # given a hop limit above 2 / when checked without the opt-in / then refused, naming both arguments
    with pytest.raises(InsecureConfigurationError) as raised:
        checked_hop_limit(SUBJECT, hops, allow_hop_limit_above_2=False)
    assert f"http_put_response_hop_limit={hops}" in str(raised.value)
    assert "allow_hop_limit_above_2=True" in str(raised.value)
    # and with it, accepted as given
    assert checked_hop_limit(SUBJECT, hops, allow_hop_limit_above_2=True) == hops


@pytest.mark.parametrize("hops", [0, -1, 65, 1.5, True])
def test_hop_limits_ec2_would_reject_are_refused_even_with_the_opt_in(hops: float) -> None:
    with pytest.raises(ConfigurationError) as raised:
        checked_hop_limit(SUBJECT, hops, allow_hop_limit_above_2=True)
    assert not isinstance(raised.value, InsecureConfigurationError)
    assert "http_put_response_hop_limit" in str(raised.value)


def test_a_token_hop_limit_needs_the_opt_in() -> None:
    # given a hop limit only known at deploy time
    token = cdk.Token.as_number({"Ref": "HopLimit"})
    # when checked without the opt-in / then refused: it could resolve to anything up to 64
    with pytest.raises(InsecureConfigurationError, match="is a token"):
        checked_hop_limit(SUBJECT, token, allow_hop_limit_above_2=False)
    # and with it, passed on unchanged
    assert checked_hop_limit(SUBJECT, token, allow_hop_limit_above_2=True) == token


def test_errors_are_value_errors_and_cdk_imds_errors() -> None:
    assert issubclass(InsecureConfigurationError, ConfigurationError)
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, CdkImdsError)
