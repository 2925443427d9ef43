"""ec2.BastionHostLinux with its defaults (require_imdsv2 is off by default)."""

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    ec2.BastionHostLinux(scope, "Bastion", vpc=_shared.vpc(scope))


CASE = Case("BastionHost", build, Verdict.FIXABLE, paths=("Bastion",))
