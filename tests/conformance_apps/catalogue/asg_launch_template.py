"""autoscaling.AutoScalingGroup from instance type and image: CDK generates its launch template."""

from aws_cdk import aws_autoscaling as autoscaling
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.catalogue.asg_launch_config import LAUNCH_TEMPLATE_FLAG
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    autoscaling.AutoScalingGroup(
        scope,
        "Group",
        vpc=_shared.vpc(scope),
        instance_type=_shared.instance_type(),
        machine_image=_shared.image(),
    )


CASE = Case(
    "AsgLaunchTemplate",
    build,
    Verdict.FIXABLE,
    paths=("Group",),
    context={LAUNCH_TEMPLATE_FLAG: True},
)
