"""EMR CfnCluster without a security configuration.

Unfixable at synth: IMDSv2 comes from a security configuration the cluster must reference, which
FIX does not invent (cdk_imds.cdk.enforcement.candidates.FIXABLE leaves EMR to the plugin).
"""

from aws_cdk import aws_emr as emr
from constructs import Construct

from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    emr.CfnCluster(
        scope,
        "Cluster",
        name="conformance",
        release_label="emr-7.0.0",
        job_flow_role="EMR_EC2_DefaultRole",
        service_role="EMR_DefaultRole",
        instances=emr.CfnCluster.JobFlowInstancesConfigProperty(
            master_instance_group=emr.CfnCluster.InstanceGroupConfigProperty(
                instance_count=1, instance_type="m5.xlarge"
            )
        ),
    )


CASE = Case("EmrCluster", build, Verdict.UNFIXABLE, paths=("Cluster",))
