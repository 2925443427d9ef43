"""Fixtures for the construct tests: synthesize once, and judge every template with the policy engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from constructs import IConstruct

from cdk_imds.policy import Severity, check_template

Synth = Callable[[cdk.Stack], assertions.Template]
ResourceOf = Callable[[dict[str, Any], IConstruct], dict[str, Any]]


@pytest.fixture(scope="session")
def synth_compliant() -> Synth:
    """Synthesize a stack and assert that cdk-imds finds nothing non-compliant in it."""

    def synth(stack: cdk.Stack) -> assertions.Template:
        template = assertions.Template.from_stack(stack)
        errors = [
            finding
            for finding in check_template(template.to_json(), stack=stack.stack_name)
            if finding.severity is Severity.ERROR
        ]
        assert errors == [], [finding.message for finding in errors]
        return template

    return synth


@pytest.fixture(scope="session")
def resource_of() -> ResourceOf:
    """The resource of a construct (its default child) in ``template.to_json()``.

    For stacks holding many alike constructs; takes the JSON so it is fetched from jsii once.
    """

    def find(template_json: dict[str, Any], construct: IConstruct) -> dict[str, Any]:
        cfn = construct.node.default_child
        assert isinstance(cfn, cdk.CfnElement), f"{construct.node.path} has no CloudFormation resource"
        logical_id = cdk.Stack.of(cfn).resolve(cfn.logical_id)
        resource: dict[str, Any] = template_json["Resources"][logical_id]
        return resource

    return find
