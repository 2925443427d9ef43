"""ec2.LaunchTemplate with a tag: tags make its tag specifications a lazy value (WARN crashed on it)."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    template = ec2.LaunchTemplate(
        scope, "Template", instance_type=_shared.instance_type(), machine_image=_shared.image()
    )
    cdk.Tags.of(template).add("team", "conformance")


CASE = Case("LaunchTemplate", build, Verdict.FIXABLE, paths=("Template",))
