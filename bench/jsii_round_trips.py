#!/usr/bin/env python3
"""Round trips between Python and the jsii kernel that FIX spends, on apps of 10 and of 600 templates.

    python bench/jsii_round_trips.py

Prints one JSON line: for ``enforce(app, "fix")`` and for the one-line aspect
(``Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=...)``), on an app of N raw
launch templates allowing IMDSv1 (N = 10 and 600, 100 a stack) and 100 queues a stack, the requests Python
sent to the kernel and the calls the kernel made into Python (callbacks: the aspect's, and the
validation plugin's) from the set-up to the end of ``app.synth()``, less those of the same app
synthesized without cdk-imds. Counted, not timed (one round trip costs 0.3 to 0.6 ms on an idle
machine): what matters is that the counts do not grow with N.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import jsii._kernel
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sqs as sqs
from jsii._kernel.providers.process import _NodeProcess

from cdk_imds import Imdsv2Aspect, Mode, enforce


def build(outdir: str, templates: int) -> cdk.App:
    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=False)
    for index in range(0, templates, 100):  # (CloudFormation allows 500 resources a stack)
        stack = cdk.Stack(app, f"S{index // 100}")
        for number in range(index, min(templates, index + 100)):
            ec2.CfnLaunchTemplate(
                stack, f"T{number}", launch_template_data={"metadataOptions": {"httpTokens": "optional"}}
            )
        for number in range(100):
            sqs.CfnQueue(stack, f"Q{number}")
    return app


def count(templates: int, set_up: Callable[[cdk.App], None]) -> dict[str, int]:
    requests: list[object] = []
    callbacks: list[str] = []
    send, handle = _NodeProcess.send, jsii._kernel._handle_callback

    def sending(self: Any, request: Any, response_type: Any) -> Any:
        requests.append(request)
        return send(self, request, response_type)

    def handling(kernel: Any, callback: Any) -> Any:
        callbacks.append(callback.cookie)
        return handle(kernel, callback)

    with tempfile.TemporaryDirectory() as outdir:
        app = build(outdir, templates)
        _NodeProcess.send = sending  # type: ignore[method-assign]
        jsii._kernel._handle_callback = handling
        try:
            set_up(app)
            app.synth()
        finally:
            _NodeProcess.send = send  # type: ignore[method-assign]
            jsii._kernel._handle_callback = handle
    return {"requests": len(requests), "callbacks": len(callbacks)}


def main() -> None:
    variants: dict[str, Callable[[cdk.App], None]] = {
        "enforce": lambda app: enforce(app, Mode.FIX),
        "aspect-on-app": lambda app: cdk.Aspects.of(app).add(
            Imdsv2Aspect(Mode.FIX), priority=Imdsv2Aspect.PRIORITY
        ),
    }
    # Once untimed: the first enforcement of a process also loads cdk-imds's JavaScript (one
    # request) and caches per-class answers.
    count(10, variants["enforce"])
    result: dict[str, dict[str, dict[str, int]]] = {}
    for name, set_up in variants.items():
        result[name] = {}
        for templates in (10, 600):
            base = count(templates, lambda app: None)
            used = count(templates, set_up)
            result[name][f"templates_{templates}"] = {key: used[key] - base[key] for key in used}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
