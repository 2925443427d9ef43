"""A Stage inside a Stage (a region Stage holding an environment Stage)."""

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape, place


class NestedStage(Shape):
    name = "nested_stage"
    description = "stack in a Stage in a Stage"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        stack = cdk.Stack(cdk.Stage(cdk.Stage(app, "Region"), "Env"), "Workload")
        return [place(self.name, case, stack) for case in cases]


SHAPE = NestedStage()
