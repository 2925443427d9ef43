"""The engine's verdict on constructs before synthesis, for WARN mode's annotations.

Python cannot see a resource's final properties before templates are written: escape-hatch
overrides (``add_property_override``) are kept in JavaScript where jsii does not reach. WARN
therefore judges what the constructs' properties say, one partial template per stack holding the
candidates and the parameters they may reference; the written templates are only judged by the
validation plugin (FAIL and FIX modes) and by ``cdk-imds check``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk

from cdk_imds.policy import Finding, Options, Severity, check_template

_REPORTED = (Severity.ERROR, Severity.WARNING)


def judge_stack(
    stack: cdk.Stack, resources: Iterable[tuple[cdk.CfnResource, str]], options: Options
) -> list[tuple[cdk.CfnResource, Finding]]:
    """Findings (errors and warnings, suppressions applied) for ``resources`` of one stack."""
    by_logical_id: dict[str, cdk.CfnResource] = {}
    template: dict[str, Any] = {"Resources": {}, "Parameters": _parameters(stack)}
    for node, resource_type in resources:
        logical_id = str(stack.resolve(node.logical_id))
        by_logical_id[logical_id] = node
        entry: dict[str, Any] = {"Type": resource_type}
        # _cfn_properties / _render_properties are the L1's own (protected) view: no overrides.
        entry["Properties"] = stack.resolve(node._render_properties(node._cfn_properties))
        metadata = node.get_metadata("cdk-imds")
        if metadata is not None:
            entry["Metadata"] = {"cdk-imds": stack.resolve(metadata)}
        template["Resources"][logical_id] = entry
    findings = check_template(template, stack.node.path, stack=stack.stack_name, options=options)
    return [
        (by_logical_id[finding.logical_id], finding)
        for finding in findings
        if finding.severity in _REPORTED and finding.logical_id in by_logical_id
    ]


def _parameters(stack: cdk.Stack) -> dict[str, Any]:
    """Parameters, so that a constrained one (AllowedValues) is judged as the engine would."""
    parameters: dict[str, Any] = {}
    for child in stack.node.children:
        if isinstance(child, cdk.CfnParameter):
            body: dict[str, Any] = {"Type": child.type}
            if child.allowed_values:
                body["AllowedValues"] = stack.resolve(child.allowed_values)
            if child.default is not None:
                body["Default"] = stack.resolve(child.default)
            parameters[str(stack.resolve(child.logical_id))] = body
    return parameters
