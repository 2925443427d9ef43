"""autoscaling.AutoScalingGroup from instance type and image, with launch configurations still on.

The feature flag is set on the case's scope only: cdk.json turns it on for everything else, and
with it on the group gets a launch template instead (asg_launch_template.py).
"""

from aws_cdk import aws_autoscaling as autoscaling
from constructs import Construct

from tests.conformance_apps.catalogue import _shared
from tests.conformance_apps.model import Case, Verdict

LAUNCH_TEMPLATE_FLAG = "@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig"


def build(scope: Construct) -> None:
    autoscaling.AutoScalingGroup(
        scope,
        "Group",
        vpc=_shared.vpc(scope),
        instance_type=_shared.instance_type(),
        machine_image=_shared.image(),
    )


CASE = Case(
    "AsgLaunchConfig",
    build,
    Verdict.FIXABLE,
    paths=("Group",),
    context={LAUNCH_TEMPLATE_FLAG: False},
)
