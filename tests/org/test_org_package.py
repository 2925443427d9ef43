"""cdk_imds.org's public names: the constructs load on first use, the rest eagerly."""

from __future__ import annotations

import pytest

import cdk_imds.org as org


def test_every_public_name_resolves() -> None:
    for name in org.__all__:
        assert getattr(org, name) is not None, name


def test_constructs_are_the_modules_classes() -> None:
    from cdk_imds.org.account_defaults import AccountImdsDefaults
    from cdk_imds.org.pipeline_step import Imdsv2CheckStep

    assert org.AccountImdsDefaults is AccountImdsDefaults
    assert org.Imdsv2CheckStep is Imdsv2CheckStep


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchGuardrail"):
        org.NoSuchGuardrail  # noqa: B018
