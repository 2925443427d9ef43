"""AWS services that launch EC2 capacity for you, each with its own IMDS switch."""

from __future__ import annotations

import json
from collections.abc import Iterator

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.imds import judge_value, resource_options, short
from cdk_imds.policy.model import Finding
from cdk_imds.policy.rules.common import judgement_findings, options_findings
from cdk_imds.policy.values import ABSENT, ResourceRef, Unknown, as_text, expand, lookup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cdk_imds.policy.values import Candidate

_BEANSTALK_NAMESPACE = "aws:autoscaling:launchconfiguration"
_BEANSTALK_OPTION = "DisableIMDSv1"


def image_builder_infrastructure(context: ResourceContext) -> Iterator[Finding]:
    path = ("InstanceMetadataOptions",)
    sets = resource_options(context.scope, context.logical_id, path)
    yield from options_findings(
        context,
        sets,
        path,
        "Image Builder infrastructure configuration",
        "Set InstanceMetadataOptions.HttpTokens to 'required'.",
    )


def sagemaker_notebook(context: ResourceContext) -> Iterator[Finding]:
    path = ("InstanceMetadataServiceConfiguration", "MinimumInstanceMetadataServiceVersion")
    values = lookup(context.properties, path, context.scope)
    judgement = judge_value(
        values, lambda value: as_text(value) == "2", _describe_version("the notebook instance")
    )
    yield from judgement_findings(
        context,
        judgement,
        "SageMaker notebook instance",
        "Set InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion to '2'.",
        context.path(*path),
    )


def appstream_disable_imdsv1(context: ResourceContext) -> Iterator[Finding]:
    values = lookup(context.properties, ("DisableIMDSV1",), context.scope)
    judgement = judge_value(values, _is_true, _describe_switch("DisableIMDSV1"))
    noun = "AppStream fleet" if context.type.endswith("Fleet") else "AppStream image builder"
    yield from judgement_findings(
        context, judgement, noun, "Set DisableIMDSV1 to true.", context.path("DisableIMDSV1")
    )


def beanstalk(context: ResourceContext) -> Iterator[Finding]:
    values = _beanstalk_values(context.properties, context)
    if context.type.endswith("::Environment") and all(value is ABSENT for value in values):
        values = _beanstalk_template_values(context) or values
    judgement = judge_value(values, _is_true, _describe_switch(f"{_BEANSTALK_NAMESPACE}:{_BEANSTALK_OPTION}"))
    noun = "Elastic Beanstalk " + (
        "environment" if context.type.endswith("Environment") else "configuration template"
    )
    yield from judgement_findings(
        context,
        judgement,
        noun,
        f"Add the option setting {_BEANSTALK_NAMESPACE} / {_BEANSTALK_OPTION} = true.",
        context.path("OptionSettings"),
    )


def emr_cluster(context: ResourceContext) -> Iterator[Finding]:
    values: list[Candidate] = []
    for reference in lookup(context.properties, ("SecurityConfiguration",), context.scope):
        values.extend(_emr_minimum_version(reference, context))
    judgement = judge_value(
        values, lambda value: as_text(value) == "2", _describe_version("the cluster's instances")
    )
    yield from judgement_findings(
        context,
        judgement,
        "EMR cluster",
        "Use a security configuration with InstanceMetadataServiceConfiguration."
        "MinimumInstanceMetadataServiceVersion 2.",
        context.path("SecurityConfiguration"),
    )


def _emr_minimum_version(reference: Candidate, context: ResourceContext) -> list[Candidate]:
    if reference is ABSENT:
        return [ABSENT]
    if isinstance(reference, ResourceRef) and reference.type == "AWS::EMR::SecurityConfiguration":
        configuration = reference.resource.get("Properties", {})
        document: list[Candidate] = lookup(configuration, ("SecurityConfiguration",), reference.scope)
        results: list[Candidate] = []
        for candidate in document:
            if isinstance(candidate, str):
                try:
                    candidate = json.loads(candidate)
                except ValueError:
                    results.append(Unknown("the EMR security configuration is not valid JSON"))
                    continue
            path = ("InstanceMetadataServiceConfiguration", "MinimumInstanceMetadataServiceVersion")
            results.extend(lookup(candidate, path, reference.scope))
        return results
    if isinstance(reference, Unknown):
        return [reference]
    return [Unknown("the EMR security configuration is not defined in this template")]


def _beanstalk_values(properties: Any, context: ResourceContext) -> list[Candidate]:
    values: list[Candidate] = []
    found = False
    for settings in lookup(properties, ("OptionSettings",), context.scope):
        if isinstance(settings, Unknown):
            values.append(settings)
            continue
        if not isinstance(settings, list):
            continue
        for setting in settings:
            for item in expand(setting, context.scope):
                if type(item) is not dict:
                    continue
                namespaces = lookup(item, ("Namespace",), context.scope)
                names = lookup(item, ("OptionName",), context.scope)
                if _BEANSTALK_NAMESPACE in namespaces and _BEANSTALK_OPTION in names:
                    found = True
                    values.extend(lookup(item, ("Value",), context.scope))
    return values if found or values else [ABSENT]


def _beanstalk_template_values(context: ResourceContext) -> list[Candidate]:
    """An environment inherits option settings from the configuration template it names."""
    values: list[Candidate] = []
    for reference in lookup(context.properties, ("TemplateName",), context.scope):
        if (
            isinstance(reference, ResourceRef)
            and reference.type == "AWS::ElasticBeanstalk::ConfigurationTemplate"
        ):
            values.extend(_beanstalk_values(reference.resource.get("Properties", {}), context))
        elif isinstance(reference, str):
            values.append(Unknown(f"configuration template {reference!r} is not referenced with Ref"))
    return values


def _is_true(value: Candidate) -> bool:
    text = as_text(value)
    return text is not None and text.lower() == "true"


def _describe_switch(option: str) -> Any:
    def describe(value: Candidate) -> str:
        if value is ABSENT or value is None:
            return f"{option} is not set, so IMDSv1 stays enabled"
        return f"{option} is {short(value)}, so IMDSv1 stays enabled"

    return describe


def _describe_version(subject: str) -> Any:
    def describe(value: Candidate) -> str:
        if value is ABSENT or value is None:
            return f"MinimumInstanceMetadataServiceVersion is not set, so {subject} accept IMDSv1"
        return f"MinimumInstanceMetadataServiceVersion is {short(value)}, so {subject} accept IMDSv1"

    return describe
