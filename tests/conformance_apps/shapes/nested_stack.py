"""A NestedStack inside a stack."""

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape, place


class NestedStack(Shape):
    name = "nested_stack"
    description = "NestedStack in a stack"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        nested = cdk.NestedStack(cdk.Stack(app, "Outer"), "Inner")
        return [place(self.name, case, nested) for case in cases]


SHAPE = NestedStack()
