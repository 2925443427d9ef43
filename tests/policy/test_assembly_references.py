"""References across templates of one assembly: exports/imports and nested-stack parameters.

Each test builds ``TemplateSource`` objects by hand and runs ``check_sources`` over all of them, so
that a launcher in one template is judged on the launch template another template defines.
"""

from __future__ import annotations

from typing import Any

from cdk_imds.policy import CheckResult, Finding, Options, RuleId, Severity, check_sources
from cdk_imds.sources import TemplateSource

LT = "AWS::EC2::LaunchTemplate"
ASG = "AWS::AutoScaling::AutoScalingGroup"


def launch_template(tokens: Any = "required", **options: Any) -> dict[str, Any]:
    metadata = {"HttpTokens": tokens, **options} if tokens is not None else options
    return {"Type": LT, "Properties": {"LaunchTemplateData": {"MetadataOptions": metadata}}}


def asg(launch_template_id: Any, version: Any = "$Latest") -> dict[str, Any]:
    return {
        "Type": ASG,
        "Properties": {
            "MinSize": "1",
            "MaxSize": "1",
            "LaunchTemplate": {"LaunchTemplateId": launch_template_id, "Version": version},
        },
    }


def exporter(export_name: Any, value: Any, resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": resources,
        "Outputs": {"LaunchTemplateId": {"Value": value, "Export": {"Name": export_name}}},
    }


def triples(result: CheckResult) -> set[tuple[str, str, str, str]]:
    """(template path, logical id, rule, severity) of every finding."""
    return {(f.template, f.logical_id, f.rule.value, f.severity.value) for f in result.findings}


def on(result: CheckResult, logical_id: str, template: str) -> list[Finding]:
    return [f for f in result.findings if f.logical_id == logical_id and f.template == template]


def assert_well_formed(result: CheckResult, sources: list[TemplateSource]) -> None:
    paths = {source.path for source in sources}
    for finding in result.findings:
        assert finding.rule is not RuleId.IMDS_RULE_CRASHED, finding
        assert finding.template in paths
        assert finding.message.strip() and finding.fix.strip()


# --------------------------------------------------------------------------------------------------
# Fn::ImportValue


def test_import_of_a_compliant_template_passes() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter("shared-lt", {"Ref": "SharedLT"}, {"SharedLT": launch_template("required")}),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json", {"Resources": {"Asg": asg({"Fn::ImportValue": "shared-lt"})}}, stack="App"
    )
    result = check_sources([shared, app])
    assert_well_formed(result, [shared, app])
    assert result.findings == []
    assert result.templates == 2 and result.resources == 2


def test_import_of_a_non_compliant_template_names_it_in_the_exporting_stack() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter(
            "shared-lt",
            {"Fn::GetAtt": ["SharedLT", "LaunchTemplateId"]},
            {"SharedLT": launch_template("optional")},
        ),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json", {"Resources": {"Asg": asg({"Fn::ImportValue": "shared-lt"})}}, stack="App"
    )
    result = check_sources([app, shared])  # order of sources must not matter
    assert_well_formed(result, [shared, app])
    assert triples(result) == {
        ("shared.json", "SharedLT", "IMDSV2_REQUIRED", "error"),
        ("app.json", "Asg", "IMDSV2_REQUIRED", "error"),
    }
    [finding] = on(result, "Asg", "app.json")
    assert finding.related == "Shared/SharedLT"
    assert "Shared" in finding.message


def test_import_picks_the_exported_template_not_another_one_in_the_exporting_stack() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter(
            "shared-lt",
            {"Ref": "SecondLT"},
            {"FirstLT": launch_template("required"), "SecondLT": launch_template(None)},
        ),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json", {"Resources": {"Asg": asg({"Fn::ImportValue": "shared-lt"})}}, stack="App"
    )
    result = check_sources([shared, app])
    [finding] = on(result, "Asg", "app.json")
    assert (finding.rule, finding.related) == (RuleId.IMDSV2_REQUIRED, "Shared/SecondLT")


def test_import_with_an_export_name_built_by_fn_sub_from_the_stack_name() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter(
            {"Fn::Sub": "${AWS::StackName}-lt"},
            {"Ref": "SharedLT"},
            {"SharedLT": launch_template("optional")},
        ),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json",
        {"Resources": {"Asg": asg({"Fn::ImportValue": {"Fn::Join": ["-", ["Shared", "lt"]]}})}},
        stack="App",
    )
    result = check_sources([shared, app])
    [finding] = on(result, "Asg", "app.json")
    assert (finding.rule, finding.related) == (RuleId.IMDSV2_REQUIRED, "Shared/SharedLT")


def test_import_that_nobody_exports_is_unverifiable() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter("another-name", {"Ref": "SharedLT"}, {"SharedLT": launch_template("required")}),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json", {"Resources": {"Asg": asg({"Fn::ImportValue": "shared-lt"})}}, stack="App"
    )
    result = check_sources([shared, app])
    assert_well_formed(result, [shared, app])
    assert triples(result) == {("app.json", "Asg", "IMDSV2_UNVERIFIABLE", "error")}
    assert "shared-lt" in result.findings[0].message

    warned = check_sources([shared, app], Options(unverifiable_as_warning=True))
    assert triples(warned) == {("app.json", "Asg", "IMDSV2_UNVERIFIABLE", "warning")}


def test_import_from_another_account_does_not_resolve() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter("shared-lt", {"Ref": "SharedLT"}, {"SharedLT": launch_template("required")}),
        stack="Shared",
        environment="aws://111111111111/us-east-1",
    )
    app = TemplateSource(
        "app.json",
        {"Resources": {"Asg": asg({"Fn::ImportValue": "shared-lt"})}},
        stack="App",
        environment="aws://222222222222/us-east-1",
    )
    result = check_sources([shared, app])
    assert triples(result) == {("app.json", "Asg", "IMDSV2_UNVERIFIABLE", "error")}


def test_import_into_an_instance_and_a_nodegroup() -> None:
    shared = TemplateSource(
        "shared.json",
        exporter("shared-lt", {"Ref": "SharedLT"}, {"SharedLT": launch_template("optional")}),
        stack="Shared",
    )
    app = TemplateSource(
        "app.json",
        {
            "Resources": {
                "Instance": {
                    "Type": "AWS::EC2::Instance",
                    "Properties": {"LaunchTemplate": {"LaunchTemplateId": {"Fn::ImportValue": "shared-lt"}}},
                },
                "FixedInstance": {
                    "Type": "AWS::EC2::Instance",
                    "Properties": {
                        "LaunchTemplate": {"LaunchTemplateId": {"Fn::ImportValue": "shared-lt"}},
                        "MetadataOptions": {"HttpTokens": "required"},
                    },
                },
                "Nodegroup": {
                    "Type": "AWS::EKS::Nodegroup",
                    "Properties": {
                        "ClusterName": "c",
                        "NodeRole": "r",
                        "Subnets": ["s"],
                        "LaunchTemplate": {"Id": {"Fn::ImportValue": "shared-lt"}},
                    },
                },
            }
        },
        stack="App",
    )
    result = check_sources([shared, app])
    assert triples(result) == {
        ("shared.json", "SharedLT", "IMDSV2_REQUIRED", "error"),
        ("app.json", "Instance", "IMDSV2_REQUIRED", "error"),
        ("app.json", "Nodegroup", "IMDSV2_REQUIRED", "error"),
    }
    assert {f.related for f in result.findings if f.template == "app.json"} == {"Shared/SharedLT"}


# --------------------------------------------------------------------------------------------------
# Nested stacks


def nested(
    parent_resources: dict[str, Any],
    child_body: dict[str, Any],
    passed: dict[str, Any] | None = None,
) -> tuple[TemplateSource, TemplateSource]:
    stack_resource: dict[str, Any] = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://example.com/child.json"},
    }
    if passed is not None:
        stack_resource["Properties"]["Parameters"] = passed
    parent = TemplateSource(
        "parent.json", {"Resources": {**parent_resources, "Child": stack_resource}}, stack="Parent"
    )
    child = TemplateSource(
        "child.json", child_body, stack="ParentChild", parent=parent, parent_logical_id="Child"
    )
    return parent, child


CHILD_WITH_LT_PARAMETER: dict[str, Any] = {
    "Parameters": {"LaunchTemplateId": {"Type": "String"}, "LaunchTemplateVersion": {"Type": "String"}},
    "Resources": {"Asg": asg({"Ref": "LaunchTemplateId"}, {"Ref": "LaunchTemplateVersion"})},
}


def test_nested_parameter_passed_as_ref_resolves_to_the_parents_template() -> None:
    parent, child = nested(
        {"ParentLT": launch_template("optional")},
        CHILD_WITH_LT_PARAMETER,
        {
            "LaunchTemplateId": {"Ref": "ParentLT"},
            "LaunchTemplateVersion": {"Fn::GetAtt": ["ParentLT", "LatestVersionNumber"]},
        },
    )
    result = check_sources([parent, child])
    assert_well_formed(result, [parent, child])
    assert triples(result) == {
        ("parent.json", "ParentLT", "IMDSV2_REQUIRED", "error"),
        ("child.json", "Asg", "IMDSV2_REQUIRED", "error"),
    }
    [finding] = on(result, "Asg", "child.json")
    assert finding.related == "Parent/ParentLT"


def test_nested_parameter_passed_as_get_att_resolves_to_the_parents_compliant_template() -> None:
    parent, child = nested(
        {"ParentLT": launch_template("required"), "OtherLT": launch_template("optional")},
        CHILD_WITH_LT_PARAMETER,
        {
            "LaunchTemplateId": {"Fn::GetAtt": ["ParentLT", "LaunchTemplateId"]},
            "LaunchTemplateVersion": {"Fn::GetAtt": ["ParentLT", "LatestVersionNumber"]},
        },
    )
    result = check_sources([parent, child])
    assert triples(result) == {("parent.json", "OtherLT", "IMDSV2_REQUIRED", "error")}


def test_nested_parameter_passed_a_literal_version_pins_the_parents_template() -> None:
    parent, child = nested(
        {"ParentLT": launch_template("required")},
        CHILD_WITH_LT_PARAMETER,
        {"LaunchTemplateId": {"Ref": "ParentLT"}, "LaunchTemplateVersion": "1"},
    )
    result = check_sources([parent, child])
    assert triples(result) == {("child.json", "Asg", "IMDS_PINNED_VERSION", "warning")}
    assert result.findings[0].related == "Parent/ParentLT"


def test_nested_parameter_passed_through_from_a_constrained_parent_parameter() -> None:
    child_body = {
        "Parameters": {"Tokens": {"Type": "String"}},
        "Resources": {"ChildLT": launch_template({"Ref": "Tokens"})},
    }
    for allowed, expected in (
        (["required"], set()),
        (["required", "optional"], {("child.json", "ChildLT", "IMDSV2_REQUIRED", "error")}),
    ):
        parent, child = nested({}, child_body, {"Tokens": {"Ref": "ParentTokens"}})
        parent.body["Parameters"] = {"ParentTokens": {"Type": "String", "AllowedValues": allowed}}
        assert triples(check_sources([parent, child])) == expected, allowed


def test_nested_parameter_with_default_not_passed_is_final() -> None:
    child_body = {
        "Parameters": {
            "GoodTokens": {"Type": "String", "Default": "required"},
            "BadTokens": {"Type": "String", "Default": "optional"},
        },
        "Resources": {
            "GoodLT": launch_template({"Ref": "GoodTokens"}),
            "BadLT": launch_template({"Ref": "BadTokens"}),
        },
    }
    parent, child = nested({}, child_body, {})
    result = check_sources([parent, child])
    assert_well_formed(result, [parent, child])
    assert triples(result) == {("child.json", "BadLT", "IMDSV2_REQUIRED", "error")}

    # The same template deployed on its own: a Default proves nothing.
    alone = TemplateSource("alone.json", child_body, stack="Alone")
    assert triples(check_sources([alone])) == {
        ("alone.json", "GoodLT", "IMDSV2_UNVERIFIABLE", "error"),
        ("alone.json", "BadLT", "IMDSV2_UNVERIFIABLE", "error"),
    }


def test_nested_parameter_passed_by_the_parent_wins_over_its_default() -> None:
    child_body = {
        "Parameters": {"Tokens": {"Type": "String", "Default": "required"}},
        "Resources": {"ChildLT": launch_template({"Ref": "Tokens"})},
    }
    parent, child = nested({}, child_body, {"Tokens": "optional"})
    assert triples(check_sources([parent, child])) == {("child.json", "ChildLT", "IMDSV2_REQUIRED", "error")}


def test_nested_launch_template_default_id_not_passed_is_final_and_unverifiable() -> None:
    child_body = {
        "Parameters": {"LaunchTemplateId": {"Type": "String", "Default": "lt-0123456789abcdef0"}},
        "Resources": {"Asg": asg({"Ref": "LaunchTemplateId"})},
    }
    parent, child = nested({}, child_body, {})
    assert triples(check_sources([parent, child])) == {("child.json", "Asg", "IMDSV2_UNVERIFIABLE", "error")}


def test_parent_launches_from_a_template_in_the_child_via_its_output() -> None:
    child_body = {
        "Resources": {"ChildLT": launch_template("optional")},
        "Outputs": {"LaunchTemplateId": {"Value": {"Ref": "ChildLT"}}},
    }
    parent, child = nested({"Asg": asg({"Fn::GetAtt": ["Child", "Outputs.LaunchTemplateId"]})}, child_body)
    result = check_sources([parent, child])
    assert triples(result) == {
        ("child.json", "ChildLT", "IMDSV2_REQUIRED", "error"),
        ("parent.json", "Asg", "IMDSV2_REQUIRED", "error"),
    }
    [finding] = on(result, "Asg", "parent.json")
    assert finding.related == "ParentChild/ChildLT"


def test_nested_sibling_templates_with_the_same_logical_id_are_told_apart() -> None:
    """A nested stack may reuse its parent's logical ids: resolution must stay within the right scope."""
    parent, child = nested(
        {"LT": launch_template("required"), "Asg": asg({"Ref": "LT"})},
        {"Resources": {"LT": launch_template("optional"), "Asg": asg({"Ref": "LT"})}},
    )
    result = check_sources([parent, child])
    assert triples(result) == {
        ("child.json", "LT", "IMDSV2_REQUIRED", "error"),
        ("child.json", "Asg", "IMDSV2_REQUIRED", "error"),
    }
    assert all(f.severity is Severity.ERROR for f in result.findings)
    [finding] = on(result, "Asg", "child.json")
    assert finding.related == "LT"


def test_literal_launch_template_name_only_matches_within_the_same_template() -> None:
    """Spec f: a literal name finds a template of that name in the same template, not elsewhere."""
    named = launch_template("required")
    named["Properties"]["LaunchTemplateName"] = "shared-name"
    shared = TemplateSource("shared.json", {"Resources": {"SharedLT": named}}, stack="Shared")
    app = TemplateSource(
        "app.json",
        {
            "Resources": {
                "Asg": {
                    "Type": ASG,
                    "Properties": {
                        "MinSize": "1",
                        "MaxSize": "1",
                        "LaunchTemplate": {"LaunchTemplateName": "shared-name", "Version": "$Latest"},
                    },
                }
            }
        },
        stack="App",
    )
    result = check_sources([shared, app])
    assert triples(result) == {("app.json", "Asg", "IMDSV2_UNVERIFIABLE", "error")}
