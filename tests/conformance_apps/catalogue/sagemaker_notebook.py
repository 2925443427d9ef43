"""SageMaker CfnNotebookInstance without InstanceMetadataServiceConfiguration."""

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    sagemaker.CfnNotebookInstance(
        scope,
        "Notebook",
        instance_type="ml.t3.medium",
        role_arn="arn:aws:iam::111111111111:role/conformance-notebook",
    )


CASE = Case("SageMakerNotebook", build, Verdict.FIXABLE, paths=("Notebook",))
