#!/usr/bin/env python3
"""jsii round trips (Python -> Node.js kernel requests) that the FIX aspect spends per construct.

    python bench/jsii_round_trips.py

Prints one JSON line: the requests sent while a FIX-mode Imdsv2Aspect, after its first visit,
visits a construct that is not a candidate (a Stack, an L2 queue, its L1, an L2 role), a
non-compliant launch template for the first time, and the same template again. Counted, not
timed: each round trip costs about 0.6 to 1.2 ms (README.md in this folder). Moved here from
tests/cdk/test_aspect_coverage.py, where exact counts made a test fail on any change of how the
aspect talks to jsii (issue 14); the test keeps only "a non-candidate costs none".
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from jsii._kernel.providers.process import _NodeProcess

from cdk_imds.cdk.enforcement.aspect import Imdsv2Aspect, Mode
from cdk_imds.cdk.enforcement.candidates import candidate_type


def main() -> None:
    sent: list[object] = []
    original = _NodeProcess.send

    def counting(self: Any, request: Any, response_type: Any) -> Any:
        sent.append(request)
        return original(self, request, response_type)

    app = cdk.App()
    stack = cdk.Stack(app, "S")
    queue = sqs.Queue(stack, "Queue")
    others = [
        stack,
        queue,
        queue.node.default_child,
        iam.Role(stack, "R", assumed_by=iam.AccountRootPrincipal()),
    ]
    aspect = Imdsv2Aspect(Mode.FIX)
    aspect.visit(app)
    template = ec2.CfnLaunchTemplate(stack, "LT", launch_template_data={})
    candidate_type(template)  # a candidate's class costs one call, once per process: not counted

    counts: dict[str, int] = {}
    _NodeProcess.send = counting  # type: ignore[method-assign]
    try:
        for node in others:
            aspect.visit(node)
        counts["non_candidates_4"] = len(sent)
        sent.clear()
        aspect.visit(template)
        counts["candidate_first_visit"] = len(sent)
        sent.clear()
        aspect.visit(template)
        counts["candidate_next_visit"] = len(sent)
    finally:
        _NodeProcess.send = original  # type: ignore[method-assign]
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
