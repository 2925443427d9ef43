"""A plain stack directly under the App."""

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape, place


class Plain(Shape):
    name = "plain"
    description = "stack under the App"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        stack = cdk.Stack(app, "Plain")
        return [place(self.name, case, stack) for case in cases]


SHAPE = Plain()
