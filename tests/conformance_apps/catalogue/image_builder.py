"""Image Builder CfnInfrastructureConfiguration without InstanceMetadataOptions."""

from aws_cdk import aws_imagebuilder as imagebuilder
from constructs import Construct

from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    imagebuilder.CfnInfrastructureConfiguration(
        scope, "Infrastructure", name="conformance", instance_profile_name="conformance-builder"
    )


CASE = Case("ImageBuilder", build, Verdict.FIXABLE, paths=("Infrastructure",))
