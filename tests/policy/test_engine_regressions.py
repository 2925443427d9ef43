"""Verdicts the specification pins down that the fixtures do not show well: small, direct inputs.

These were found while writing the conformance suite; each test states the expected verdict from
the specification and the reasoning, so that a failure points at the rule to fix.
"""

from __future__ import annotations

from typing import Any

import pytest

from cdk_imds.policy import Options, check_template

LT_REQUIRED: dict[str, Any] = {
    "Type": "AWS::EC2::LaunchTemplate",
    "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}},
}


def verdicts(template: dict[str, Any], options: Options | None = None) -> set[tuple[str, str, str]]:
    return {
        (f.logical_id, f.rule.value, f.severity.value)
        for f in check_template(template, "regression.json", options=options)
    }


def test_instance_optional_tokens_with_an_unresolvable_template_is_unverifiable_not_an_error() -> None:
    """Spec c + g: HttpEndpoint, which the instance does not set, comes from the template, which
    cannot be resolved; tokens 'optional' with an unknown endpoint is unverifiable (the same options
    on a launch template, with the endpoint from an unconstrained parameter, are judged so)."""
    template = {
        "Parameters": {"Endpoint": {"Type": "String"}},
        "Resources": {
            "Instance": {
                "Type": "AWS::EC2::Instance",
                "Properties": {
                    "MetadataOptions": {"HttpTokens": "optional"},
                    "LaunchTemplate": {"LaunchTemplateId": "lt-0123456789abcdef0", "Version": "$Latest"},
                },
            },
            "SameOptionsLT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": {"Ref": "Endpoint"}}
                    }
                },
            },
        },
    }
    assert verdicts(template) == {
        ("SameOptionsLT", "IMDSV2_UNVERIFIABLE", "error"),
        ("Instance", "IMDSV2_UNVERIFIABLE", "error"),
    }


UNKNOWN_ENTRY = {"Fn::ImportValue": "nobody-exports-this"}

UNKNOWN_LAUNCH_ENTRIES = {
    "ec2-fleet-config": {
        "Type": "AWS::EC2::EC2Fleet",
        "Properties": {
            "TargetCapacitySpecification": {"TotalTargetCapacity": 1},
            "LaunchTemplateConfigs": [UNKNOWN_ENTRY],
        },
    },
    "spot-fleet-config": {
        "Type": "AWS::EC2::SpotFleet",
        "Properties": {
            "SpotFleetRequestConfigData": {"TargetCapacity": 1, "LaunchTemplateConfigs": [UNKNOWN_ENTRY]}
        },
    },
    "asg-mixed-override": {
        "Type": "AWS::AutoScaling::AutoScalingGroup",
        "Properties": {
            "MinSize": "1",
            "MaxSize": "1",
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": {"LaunchTemplateId": {"Ref": "LT"}, "Version": "$Latest"},
                    "Overrides": [UNKNOWN_ENTRY],
                }
            },
        },
    },
    "batch-override": {
        "Type": "AWS::Batch::ComputeEnvironment",
        "Properties": {
            "Type": "MANAGED",
            "ComputeResources": {
                "Type": "EC2",
                "LaunchTemplate": {"LaunchTemplateId": {"Ref": "LT"}, "Overrides": [UNKNOWN_ENTRY]},
            },
        },
    },
}


@pytest.mark.parametrize("launcher", list(UNKNOWN_LAUNCH_ENTRIES.values()), ids=list(UNKNOWN_LAUNCH_ENTRIES))
def test_a_launch_entry_known_only_at_deploy_time_is_unverifiable(launcher: dict[str, Any]) -> None:
    """Spec f + g: an entry whose value is unknown (here an import nobody exports) may name any
    template, so the launcher cannot be verified; it must not pass silently."""
    template = {"Resources": {"LT": LT_REQUIRED, "Launcher": launcher}}
    assert verdicts(template) == {("Launcher", "IMDSV2_UNVERIFIABLE", "error")}


@pytest.mark.parametrize(
    ("hop_limit", "options", "severity"),
    [(2.0, None, "warning"), (3.0, Options(max_hop_limit=2), "error")],
    ids=["2.0", "3.0-over-max"],
)
def test_hop_limit_given_as_a_float_number_is_judged(hop_limit: float, options: Any, severity: str) -> None:
    """Spec h: the hop limit is judged as a number; JSON ``2.0`` is the number 2 (YAML ``2.0`` too)."""
    template = {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": hop_limit}
                    }
                },
            }
        }
    }
    assert verdicts(template, options) == {("LT", "IMDS_HOP_LIMIT", severity)}


def test_hop_limit_of_one_as_a_float_is_silent() -> None:
    template = {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1.0}
                    }
                },
            }
        }
    }
    assert verdicts(template) == set()


MALFORMED_LAUNCH_TEMPLATES = {
    "bare-ref": {"Ref": "LT"},
    "bare-id-string": "lt-0123456789abcdef0",
    "list": [{"LaunchTemplateId": {"Ref": "LT"}}],
    "number": 5,
}
LT_OPTIONAL: dict[str, Any] = {
    "Type": "AWS::EC2::LaunchTemplate",
    "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "optional"}}},
}


@pytest.mark.parametrize(
    "launch_template", list(MALFORMED_LAUNCH_TEMPLATES.values()), ids=list(MALFORMED_LAUNCH_TEMPLATES)
)
@pytest.mark.parametrize(
    ("kind", "properties"),
    [
        ("AWS::AutoScaling::AutoScalingGroup", {"MinSize": "1", "MaxSize": "1"}),
        ("AWS::EC2::Instance", {}),
        ("AWS::EC2::Instance", {"MetadataOptions": {"HttpTokens": "optional"}}),
    ],
    ids=["asg", "instance", "instance-optional-tokens"],
)
def test_a_launch_template_property_that_is_not_an_object_never_passes_silently(
    kind: str, properties: dict[str, Any], launch_template: Any
) -> None:
    """Spec f: a reference that cannot be resolved is IMDSV2_UNVERIFIABLE. A LaunchTemplate that
    is not a LaunchTemplateSpecification object resolves to nothing; the launcher (and an instance
    whose own HttpTokens is 'optional' above all) must not pass."""
    template = {
        "Resources": {
            "LT": LT_OPTIONAL,
            "Launcher": {"Type": kind, "Properties": {**properties, "LaunchTemplate": launch_template}},
        }
    }
    launcher = {
        (rule, severity) for logical_id, rule, severity in verdicts(template) if logical_id == "Launcher"
    }
    assert launcher & {("IMDSV2_UNVERIFIABLE", "error"), ("IMDSV2_REQUIRED", "error")}, launcher
