"""Property tests: the engine judges any JSON-shaped input without raising or crashing a rule.

Templates are generated three ways: arbitrary JSON values; templates whose resources are EC2
capacity types with random properties full of intrinsic-looking dicts; and realistic skeletons of
every candidate type where any node may be swapped for a random value or an intrinsic. A run that
raises, or a finding with rule IMDS_RULE_CRASHED, is an engine bug.

Runs are derandomized in CI (the "ci" Hypothesis profile, tests/conftest.py: a fixed seed per test,
no example database) and random locally; max_examples stays moderate.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from cdk_imds.policy import Finding, Options, RuleId, Severity, check_sources, check_template
from cdk_imds.policy.rules import CANDIDATE_TYPES
from cdk_imds.sources import TemplateSource

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    # No explain phase: it re-runs a failing test many times to annotate it, which took minutes here.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Longest one example may take; a combinatorial blow-up fails the test instead of hanging CI.
TIME_LIMIT_SECONDS = 10

LOGICAL_IDS = ("LT", "LT2", "LC", "Asg", "Instance", "Fleet", "Sec", "Tmpl", "Child", "Bucket")
PARAMETERS = ("P", "Tokens", "Env")
MAPPINGS = ("M", "Imds")
CONDITIONS = ("C", "IsProd")
PSEUDO = ("AWS::NoValue", "AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::URLSuffix")
PROPERTY_NAMES = (
    "LaunchTemplateData",
    "MetadataOptions",
    "HttpTokens",
    "HttpEndpoint",
    "HttpPutResponseHopLimit",
    "LaunchTemplate",
    "LaunchTemplateId",
    "LaunchTemplateName",
    "LaunchConfigurationName",
    "LaunchTemplateSpecification",
    "Version",
    "MixedInstancesPolicy",
    "Overrides",
    "LaunchTemplateConfigs",
    "SpotFleetRequestConfigData",
    "LaunchSpecifications",
    "Id",
    "Name",
    "ComputeResources",
    "Type",
    "InstanceMetadataOptions",
    "InstanceMetadataServiceConfiguration",
    "MinimumInstanceMetadataServiceVersion",
    "OptionSettings",
    "Namespace",
    "OptionName",
    "Value",
    "TemplateName",
    "DisableIMDSV1",
    "SecurityConfiguration",
    "InstanceId",
)
# Strings the rules compare against, plus ones that have tripped numeric parsing.
INTERESTING_TEXT = (
    "required",
    "optional",
    "Required",
    "disabled",
    "enabled",
    "1",
    "2",
    " 3 ",
    "-1",
    "1.5",
    "²",
    "lt-0123456789abcdef0",
    "$Latest",
    "true",
    "false",
    "aws:autoscaling:launchconfiguration",
    "DisableIMDSv1",
    "FARGATE",
    "EC2",
    "{}",
    '{"InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": 2}}',
    "${AWS::Region}",
    "${LT}",
    "${LT.LaunchTemplateId}",
    "${!Literal}",
    "LT.LaunchTemplateId",
    "",
)

names = st.sampled_from(LOGICAL_IDS + PARAMETERS + PSEUDO) | st.text(max_size=8)
texts = st.sampled_from(INTERESTING_TEXT + PROPERTY_NAMES + LOGICAL_IDS) | st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)


def _intrinsics(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Intrinsic-looking dicts, well- and ill-formed, whose arguments are ``children``."""
    lists = st.lists(children, max_size=4)
    return st.one_of(
        st.builds(lambda n: {"Ref": n}, names | children),
        st.builds(lambda r, a: {"Fn::GetAtt": [r, a]}, names, texts | children),
        st.builds(lambda r, a: {"Fn::GetAtt": f"{r}.{a}"}, names, texts),
        st.builds(lambda c, a, b: {"Fn::If": [c, a, b]}, st.sampled_from(CONDITIONS), children, children),
        st.builds(lambda args: {"Fn::If": args}, lists),
        st.builds(
            lambda m, a, b: {"Fn::FindInMap": [m, a, b]},
            st.sampled_from(MAPPINGS) | children,
            texts | children,
            texts | children,
        ),
        st.builds(
            lambda m, a, b, d: {"Fn::FindInMap": [m, a, b, {"DefaultValue": d}]},
            st.sampled_from(MAPPINGS),
            texts | children,
            texts,
            children,
        ),
        st.builds(lambda s: {"Fn::Sub": s}, texts | children),
        st.builds(lambda s, v: {"Fn::Sub": [s, v]}, texts, st.dictionaries(names, children, max_size=3)),
        st.builds(lambda d, items: {"Fn::Join": [d, items]}, texts | children, lists | children),
        st.builds(lambda i, items: {"Fn::Select": [i, items]}, scalars | children, lists | children),
        st.builds(lambda n: {"Fn::ImportValue": n}, texts | children),
        st.builds(
            lambda k, v: {k: v},
            st.sampled_from(("Fn::Base64", "Fn::GetAZs", "Fn::Split", "Fn::Equals", "Condition")),
            children,
        ),
    )


json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(PROPERTY_NAMES) | st.text(max_size=8), children, max_size=4)
        | _intrinsics(children)
    ),
    max_leaves=12,
)
property_dicts = st.dictionaries(st.sampled_from(PROPERTY_NAMES), json_values, max_size=6)
intrinsic_values = _intrinsics(json_values)


def _resource(types: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    metadata = st.none() | st.fixed_dictionaries(
        {
            "cdk-imds": st.fixed_dictionaries(
                {
                    "suppress": st.lists(
                        st.fixed_dictionaries(
                            {"rule": st.sampled_from([r.value for r in RuleId]) | texts},
                            optional={"reason": scalars},
                        ),
                        max_size=2,
                    )
                    | json_values
                }
            )
        }
    )
    return (
        st.builds(
            lambda kind, properties, meta: {
                "Type": kind,
                "Properties": properties,
                **({"Metadata": meta} if meta is not None else {}),
            },
            types,
            property_dicts | json_values,
            metadata,
        )
        | json_values
    )


candidate_types = st.sampled_from([*sorted(CANDIDATE_TYPES), "AWS::EMR::SecurityConfiguration"])

templates = st.fixed_dictionaries(
    {"Resources": st.dictionaries(st.sampled_from(LOGICAL_IDS), _resource(candidate_types), max_size=6)},
    optional={
        "Parameters": st.dictionaries(
            st.sampled_from(PARAMETERS),
            st.fixed_dictionaries(
                {"Type": st.just("String")},
                optional={
                    "AllowedValues": st.lists(json_values, max_size=3) | json_values,
                    "Default": json_values,
                },
            )
            | json_values,
            max_size=3,
        ),
        "Mappings": st.dictionaries(
            st.sampled_from(MAPPINGS),
            st.dictionaries(texts, st.dictionaries(texts, json_values, max_size=3) | json_values, max_size=3),
            max_size=2,
        ),
        "Conditions": st.dictionaries(st.sampled_from(CONDITIONS), json_values, max_size=2),
        "Outputs": st.dictionaries(
            texts,
            st.fixed_dictionaries(
                {"Value": json_values},
                optional={"Export": st.fixed_dictionaries({"Name": texts | json_values})},
            )
            | json_values,
            max_size=3,
        ),
    },
)


# --------------------------------------------------------------------------------------------------
# Realistic skeletons: every rule's happy path, with any node swappable for noise.


class OneOf(tuple[Any, ...]):
    """A skeleton node that becomes one of its alternatives (each itself a skeleton)."""


REF_LT: Any = OneOf(
    (
        {"Ref": "LT"},
        {"Ref": "LT2"},
        {"Fn::GetAtt": ["LT", "LaunchTemplateId"]},
        {"Ref": "P"},
        {"Ref": "LC"},
        {"Fn::ImportValue": "shared-lt"},
        "lt-0123456789abcdef0",
    )
)
VERSION: Any = OneOf(("$Latest", "1", 2, {"Fn::GetAtt": ["LT", "LatestVersionNumber"]}, {"Ref": "P"}))
SPEC: Any = OneOf(
    (
        {"LaunchTemplateId": REF_LT, "Version": VERSION},
        {"LaunchTemplateName": OneOf(("lt", "other", {"Ref": "P"})), "Version": VERSION},
        {"Ref": "P"},
        {"Fn::FindInMap": ["M", {"Ref": "P"}, "Tokens"]},
    )
)
TOKENS: Any = OneOf(
    (
        "required",
        "optional",
        {"Ref": "P"},
        {"Fn::FindInMap": ["M", {"Ref": "P"}, "Tokens"]},
        {"Fn::Sub": "${P}"},
    )
)
HOPS: Any = OneOf((1, "2", 3, "²", {"Ref": "P"}, {"Fn::Select": [OneOf(("0", "²", 1)), ["1", "2"]]}))
OPTIONS: Any = OneOf(
    (
        {
            "HttpTokens": TOKENS,
            "HttpEndpoint": OneOf(("enabled", "disabled")),
            "HttpPutResponseHopLimit": HOPS,
        },
        {"Ref": "P"},
    )
)
SKELETONS: dict[str, Any] = {
    "AWS::EC2::LaunchTemplate": {
        "LaunchTemplateName": "lt",
        "LaunchTemplateData": {"MetadataOptions": OPTIONS},
    },
    "AWS::AutoScaling::LaunchConfiguration": {"LaunchConfigurationName": "lc", "MetadataOptions": OPTIONS},
    "AWS::EC2::Instance": {"LaunchTemplate": SPEC, "MetadataOptions": OPTIONS},
    "AWS::AutoScaling::AutoScalingGroup": {
        "LaunchTemplate": SPEC,
        "LaunchConfigurationName": {"Ref": "LC"},
        "InstanceId": "i-0123",
        "MixedInstancesPolicy": {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": SPEC,
                "Overrides": [{"InstanceType": "m5.large", "LaunchTemplateSpecification": SPEC}],
            }
        },
    },
    "AWS::EC2::EC2Fleet": {
        "LaunchTemplateConfigs": [
            {"LaunchTemplateSpecification": SPEC, "Overrides": [{"MetadataOptions": OPTIONS}]}
        ]
    },
    "AWS::EC2::SpotFleet": {
        "SpotFleetRequestConfigData": {
            "LaunchSpecifications": [{"ImageId": "ami-1"}],
            "LaunchTemplateConfigs": [
                {"LaunchTemplateSpecification": SPEC, "Overrides": [{"MetadataOptions": OPTIONS}]}
            ],
        }
    },
    "AWS::EKS::Nodegroup": {"LaunchTemplate": {"Id": REF_LT, "Name": "lt", "Version": "1"}},
    "AWS::Batch::ComputeEnvironment": {
        "ComputeResources": {
            "Type": "EC2",
            "LaunchTemplate": {"LaunchTemplateId": REF_LT, "Version": "1", "Overrides": [SPEC]},
        }
    },
    "AWS::ImageBuilder::InfrastructureConfiguration": {"InstanceMetadataOptions": OPTIONS},
    "AWS::SageMaker::NotebookInstance": {
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"}
    },
    "AWS::ElasticBeanstalk::Environment": {
        "TemplateName": {"Ref": "Tmpl"},
        "OptionSettings": [
            {
                "Namespace": "aws:autoscaling:launchconfiguration",
                "OptionName": "DisableIMDSv1",
                "Value": "true",
            }
        ],
    },
    "AWS::ElasticBeanstalk::ConfigurationTemplate": {
        "OptionSettings": [
            {
                "Namespace": "aws:autoscaling:launchconfiguration",
                "OptionName": "DisableIMDSv1",
                "Value": "true",
            }
        ]
    },
    "AWS::AppStream::Fleet": {"DisableIMDSV1": True},
    "AWS::AppStream::ImageBuilder": {"DisableIMDSV1": True},
    "AWS::EMR::Cluster": {"SecurityConfiguration": {"Ref": "Sec"}},
    "AWS::EMR::SecurityConfiguration": {
        "SecurityConfiguration": {
            "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": 2}
        }
    },
}


_ROLL = st.integers(min_value=0, max_value=11)
_KEEP = st.integers(min_value=0, max_value=5)
_COPIES = st.integers(min_value=0, max_value=2)
_CONDITION = st.sampled_from(CONDITIONS)


def _mutate(draw: st.DrawFn, node: Any) -> Any:
    """``node`` with any sub-node possibly dropped, duplicated, wrapped in Fn::If or replaced."""
    if isinstance(node, OneOf):
        return _mutate(draw, draw(st.sampled_from(node)))
    roll = draw(_ROLL)
    if roll == 0:
        return draw(json_values)
    if roll == 1:
        return {"Fn::If": [draw(_CONDITION), _mutate(draw, node), _mutate(draw, node)]}
    if roll == 2:
        return draw(intrinsic_values)
    if isinstance(node, dict):
        return {key: _mutate(draw, value) for key, value in node.items() if draw(_KEEP)}
    if isinstance(node, list):
        return [_mutate(draw, item) for item in node for _ in range(draw(_COPIES))]
    if roll in (3, 4):
        return draw(scalars)
    return node


@st.composite
def _mutated(draw: st.DrawFn, node: Any) -> Any:
    return _mutate(draw, node)


@st.composite
def skeleton_templates(draw: st.DrawFn) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for logical_id, kind in (
        ("LT", "AWS::EC2::LaunchTemplate"),
        ("LT2", "AWS::EC2::LaunchTemplate"),
        ("LC", "AWS::AutoScaling::LaunchConfiguration"),
        ("Tmpl", "AWS::ElasticBeanstalk::ConfigurationTemplate"),
        ("Sec", "AWS::EMR::SecurityConfiguration"),
    ):
        resources[logical_id] = {"Type": kind, "Properties": draw(_mutated(SKELETONS[kind]))}
    for kind in draw(st.lists(st.sampled_from(sorted(SKELETONS)), min_size=1, max_size=4, unique=True)):
        resources["R" + "".join(ch for ch in kind if ch.isalnum())] = {
            "Type": kind,
            "Properties": draw(_mutated(SKELETONS[kind])),
        }
    template: dict[str, Any] = {"Resources": resources}
    template["Parameters"] = {
        "P": draw(
            _mutated({"Type": "String", "AllowedValues": ["required", "optional"], "Default": "required"})
        )
    }
    template["Mappings"] = {
        "M": draw(_mutated({"prod": {"Tokens": "required"}, "dev": {"Tokens": "optional"}}))
    }
    return template


# --------------------------------------------------------------------------------------------------
# The properties


class _TooSlow(BaseException):
    """Not an Exception: the engine turns Exceptions inside rules into IMDS_RULE_CRASHED findings."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise _TooSlow(f"the engine took more than {seconds}s on one template")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _judge(template: Any, options: Options | None = None, *, sane: bool = True) -> list[Finding]:
    with _time_limit(TIME_LIMIT_SECONDS):
        findings = check_template(template, "generated.json", options=options)
    if sane:
        _assert_sane(findings, template)
    return findings


def _assert_sane(findings: Any, template: Any) -> None:
    assert isinstance(findings, list)
    resources = template.get("Resources") if isinstance(template, dict) else None
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.rule is not RuleId.IMDS_RULE_CRASHED, f"{finding.logical_id}: {finding.message}"
        assert isinstance(finding.severity, Severity)
        assert finding.message and finding.fix
        assert isinstance(resources, dict) and finding.logical_id in resources


@SETTINGS
@given(json_values)
@example({"Resources": {"X": {"Type": ["AWS::EC2::LaunchTemplate"]}}})
@example({"Resources": {"X": {"Type": {"Ref": "T"}}}})
def test_arbitrary_json_never_raises(value: Any) -> None:
    _judge(value)
    _judge({"Resources": value})
    _judge({"Resources": {"R": value}})


@SETTINGS
@given(templates, st.sampled_from([None, Options(max_hop_limit=1, unverifiable_as_warning=True)]))
@example(
    {
        "Parameters": {"P": {"Type": "String", "AllowedValues": [{"Ref": "LT"}]}},
        "Resources": {
            "LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {}},
            "Asg": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {"LaunchTemplate": {"Ref": "P"}},
            },
        },
    },
    None,
)
def test_candidate_resources_with_random_properties_never_crash(
    template: dict[str, Any], options: Any
) -> None:
    _judge(template, options)


@SETTINGS
@given(skeleton_templates(), st.sampled_from([None, Options(max_hop_limit=2)]))
@example(
    {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": "²"}
                    }
                },
            }
        }
    },
    None,
)
def test_mutated_realistic_templates_never_crash(template: dict[str, Any], options: Any) -> None:
    _judge(template, options)


@SETTINGS
@given(st.lists(templates | skeleton_templates(), min_size=1, max_size=3), st.data())
def test_assemblies_with_exports_and_nested_stacks_never_crash(
    bodies: list[Any], data: st.DataObject
) -> None:
    sources: list[TemplateSource] = []
    for number, body in enumerate(bodies):
        parent = data.draw(st.none() | st.sampled_from(sources)) if sources else None
        sources.append(
            TemplateSource(
                f"t{number}.json",
                body,
                stack=data.draw(st.none() | st.sampled_from(["Shared", "App"])),
                environment=data.draw(
                    st.none()
                    | st.sampled_from(
                        ["aws://111111111111/us-east-1", "aws://unknown-account/unknown-region"]
                    )
                ),
                parent=parent,
                parent_logical_id=data.draw(st.sampled_from(LOGICAL_IDS)) if parent is not None else None,
            )
        )
    with _time_limit(TIME_LIMIT_SECONDS * 2):
        result = check_sources(sources)
    assert result.templates == len(sources)
    for finding in result.findings:
        assert finding.rule is not RuleId.IMDS_RULE_CRASHED, f"{finding.template} {finding.logical_id}"


@SETTINGS
@given(skeleton_templates())
def test_unverifiable_as_warning_only_downgrades_unverifiable_errors(template: dict[str, Any]) -> None:
    """The option changes severities of IMDSV2_UNVERIFIABLE only, never which findings exist."""
    plain = _judge(template, sane=False)  # crashes are the other properties' business
    lenient = _judge(template, Options(unverifiable_as_warning=True), sane=False)
    assert len(plain) == len(lenient)
    for before, after in zip(plain, lenient, strict=True):
        assert (before.logical_id, before.rule, before.related) == (
            after.logical_id,
            after.rule,
            after.related,
        )
        if before.rule is RuleId.IMDSV2_UNVERIFIABLE and before.severity is Severity.ERROR:
            assert after.severity is Severity.WARNING
        else:
            assert after.severity is before.severity


@SETTINGS
@given(skeleton_templates())
def test_judging_is_deterministic_and_independent_of_resource_order(template: dict[str, Any]) -> None:
    first = _judge(template, sane=False)
    again = _judge(template, sane=False)
    reversed_resources = dict(reversed(list(template["Resources"].items())))
    reordered = _judge({**template, "Resources": reversed_resources}, sane=False)

    def key(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
        return sorted((f.logical_id, f.rule.value, f.severity.value, f.related or "") for f in findings)

    assert key(first) == key(again) == key(reordered)


# --------------------------------------------------------------------------------------------------
# Inputs that crashed the engine (found while writing these properties). Kept as plain tests so the
# failure names the input directly.

_HOP = ("LaunchTemplateData", "MetadataOptions", "HttpPutResponseHopLimit")


def _lt_with_hop_limit(value: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required", _HOP[2]: value}}
                },
            }
        }
    }


CRASH_INPUTS = {
    # _check_scope looks the Type up in a dict outside the per-rule try: the whole run raises TypeError.
    "unhashable-resource-type": {"Resources": {"X": {"Type": ["AWS::EC2::LaunchTemplate"]}}},
    # str.isdigit() accepts '²' but int('²') raises ValueError (imds.hop_limits).
    "superscript-digit-hop-limit": _lt_with_hop_limit("²"),
    # int() refuses strings over 4300 digits (sys.get_int_max_str_digits) in imds.hop_limits.
    "huge-digit-string-hop-limit": _lt_with_hop_limit("9" * 5000),
    # Same isdigit/int mismatch in values._select.
    "superscript-digit-select-index": _lt_with_hop_limit({"Fn::Select": ["²", ["1", "2"]]}),
    # Parameter AllowedValues are returned unexpanded; an intrinsic-shaped one reaches
    # references._resolve_spec, which then indexes spec["LaunchTemplateId"]: KeyError.
    "intrinsic-in-allowed-values": {
        "Parameters": {"P": {"Type": "String", "AllowedValues": [{"Ref": "LT"}]}},
        "Resources": {
            "LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {}},
            "Asg": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {"LaunchTemplate": {"Ref": "P"}},
            },
        },
    },
}


@pytest.mark.parametrize("template", list(CRASH_INPUTS.values()), ids=list(CRASH_INPUTS))
def test_known_crash_inputs_are_judged_without_crashing(template: dict[str, Any]) -> None:
    _judge(template)


def test_self_referencing_mapping_does_not_explode_combinatorially() -> None:
    """MAX_CANDIDATES caps results, not work: a mapping value that looks itself up through Fn::If
    doubles the calls at each of the 40 nesting levels allowed (about 14 s here with two branches)."""
    lookup = {"Fn::FindInMap": ["M", "a", "b"]}
    template = {
        "Mappings": {"M": {"a": {"b": {"Fn::If": ["C", lookup, lookup]}}}},
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": lookup}}},
            }
        },
    }
    with _time_limit(3):
        findings = check_template(template, "cycle.json")
    assert [(f.logical_id, f.rule) for f in findings] == [("LT", RuleId.IMDSV2_UNVERIFIABLE)]


def test_self_referencing_exports_do_not_explode_combinatorially() -> None:
    import_a = {"Fn::ImportValue": "a"}
    shared = TemplateSource(
        "shared.json",
        {
            "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {"A": {"Value": {"Fn::If": ["C", import_a, import_a]}, "Export": {"Name": "a"}}},
        },
    )
    app = TemplateSource(
        "app.json",
        {
            "Resources": {
                "Asg": {
                    "Type": "AWS::AutoScaling::AutoScalingGroup",
                    "Properties": {"LaunchTemplate": {"LaunchTemplateId": import_a, "Version": "$Latest"}},
                }
            }
        },
    )
    with _time_limit(3):
        result = check_sources([shared, app])
    assert [(f.logical_id, f.rule) for f in result.findings] == [("Asg", RuleId.IMDSV2_UNVERIFIABLE)]
