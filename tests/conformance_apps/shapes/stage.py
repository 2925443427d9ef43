"""Stages directly under the App (the multi-environment layout), one of them nested in another."""

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape, place


class Stages(Shape):
    name = "stage"
    description = "stack in a Stage under the App"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        stack = cdk.Stack(cdk.Stage(app, "Prod"), "Workload")
        return [place(self.name, case, stack) for case in cases]


SHAPE = Stages()
