"""ec2.Instance(require_imdsv2=True): CDK's own aspect makes the written template compliant."""

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
        require_imdsv2=True,
    )


CASE = Case("SecureInstance", build, Verdict.COMPLIANT, paths=("Instance",))
