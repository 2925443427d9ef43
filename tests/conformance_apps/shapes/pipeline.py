"""A CDK Pipelines stage: ``pipeline.add_stage(Stage(pipeline_stack, ...))``.

The source is a CodeStar connection (no lookup, nothing to fetch at synth).
"""

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import pipelines
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape, place

CONNECTION_ARN = (
    "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)


class Pipeline(Shape):
    name = "pipeline"
    description = "CDK Pipelines stage under its pipeline stack"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        pipeline_stack = cdk.Stack(app, "Pipeline")
        pipeline = pipelines.CodePipeline(
            pipeline_stack,
            "Pipeline",
            synth=pipelines.ShellStep(
                "Synth",
                input=pipelines.CodePipelineSource.connection(
                    "example/app", "main", connection_arn=CONNECTION_ARN
                ),
                commands=["npx cdk synth"],
            ),
        )
        stage = cdk.Stage(pipeline_stack, "Deploy")
        stack = cdk.Stack(stage, "Workload")
        placed = [place(self.name, case, stack) for case in cases]
        pipeline.add_stage(stage)
        return placed


SHAPE = Pipeline()
