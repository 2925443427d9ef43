"""Elastic Beanstalk CfnEnvironment without aws:autoscaling:launchconfiguration DisableIMDSv1.

Unfixable at synth: the switch lives in an option list FIX does not edit
(cdk_imds.cdk.enforcement.candidates.FIXABLE leaves Beanstalk to the plugin).
"""

from aws_cdk import aws_elasticbeanstalk as beanstalk
from constructs import Construct

from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    beanstalk.CfnEnvironment(
        scope,
        "Environment",
        application_name="conformance",
        solution_stack_name="64bit Amazon Linux 2023 v4.0.0 running Python 3.11",
    )


CASE = Case("Beanstalk", build, Verdict.UNFIXABLE, paths=("Environment",))
