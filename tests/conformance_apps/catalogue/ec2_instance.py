"""ec2.Instance with its defaults: no metadata options, so IMDSv1 stays on."""

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    ec2.Instance(
        scope,
        "Instance",
        vpc=_shared.vpc(scope),
        instance_type=_shared.instance_type(),
        machine_image=_shared.image(),
    )


CASE = Case("Ec2Instance", build, Verdict.FIXABLE, paths=("Instance",))
