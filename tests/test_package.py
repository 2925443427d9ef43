"""The package's public face: names, lazy CDK import, version."""

from __future__ import annotations

import subprocess
import sys

import cdk_imds


def test_engine_users_do_not_start_node() -> None:
    # A fresh interpreter: this test process may already have imported aws_cdk for other tests.
    code = "import sys, cdk_imds; cdk_imds.check_template({'Resources': {}}); print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_constructs_are_exported_from_the_top_level() -> None:
    from cdk_imds.cdk import SecureAutoScalingGroup, SecureLaunchTemplate

    assert cdk_imds.SecureLaunchTemplate is SecureLaunchTemplate
    assert cdk_imds.SecureAutoScalingGroup is SecureAutoScalingGroup


def test_every_public_name_resolves() -> None:
    for name in cdk_imds.__all__:
        assert getattr(cdk_imds, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        cdk_imds.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("cdk_imds.NoSuchThing did not raise AttributeError")
