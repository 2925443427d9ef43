"""Intrinsics shaped to blow up evaluation: DAGs of shared nodes, deep chains, very wide templates.

The templates are built in Python, so one node object can sit under many parents, as a YAML alias
makes it (the loader tests in test_hostile_yaml.py cover the files). Evaluating along every path
through the shared nodes costs 2**depth; the engine must evaluate each node once, bound its results
and its work, and still give the verdict the values call for.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_imds.policy import Finding, RuleId, check_template
from cdk_imds.policy import index as policy_index
from cdk_imds.policy.values import MAX_TEXT_LENGTH, WORK_LIMIT

CONDITIONS = {"C": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
# P has no AllowedValues: its value is only known at deploy time.
PARAMETERS = {"P": {"Type": "String", "Default": "required"}}

# What a leaf is, and what it makes of the verdict when it is one of the values HttpTokens can take.
LEAVES: dict[str, Any] = {
    "required": "required",
    "optional": "optional",
    "parameter": {"Ref": "P"},
}

SHAPES = ("if", "select", "find-in-map-if")


def launch_template(tokens: Any) -> dict[str, Any]:
    return {
        "Parameters": PARAMETERS,
        "Conditions": CONDITIONS,
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": tokens}}},
            }
        },
    }


def choice(shape: str, first: Any, second: Any) -> dict[str, Any]:
    """One node that may take either child's values; both children may be the same object."""
    if shape == "if":
        return {"Fn::If": ["C", first, second]}
    if shape == "select":
        # The index depends on a condition, so either element may be selected.
        return {"Fn::Select": [{"Fn::If": ["C", 0, 1]}, [first, second]]}
    return {"Fn::If": ["C", {"Fn::Select": [0, [first]]}, second]}


def dag(shape: str, leaves: list[str], depth: int) -> tuple[dict[str, Any], set[str]]:
    """``depth`` levels of ``choice`` nodes, each reaching the level below twice (a DAG of 2**depth
    paths), with ``leaves`` at the bottom. Returns the top node and the leaves it can reach."""
    level: list[Any] = [LEAVES[name] for name in leaves]
    while len(level) > 1:
        level = [
            choice(shape, level[i], level[i + 1] if i + 1 < len(level) else level[i])
            for i in range(0, len(level), 2)
        ]
    node = level[0]
    for _ in range(depth):
        node = choice(shape, node, node)
    return node, set(leaves)


def expected_rule(leaves: set[str]) -> RuleId | None:
    """The verdict on HttpTokens, worked out from what the leaves are, not from the engine."""
    if "optional" in leaves:
        return RuleId.IMDSV2_REQUIRED
    if "parameter" in leaves:
        return RuleId.IMDSV2_UNVERIFIABLE
    return None


def rules_on_tokens(findings: list[Finding]) -> list[RuleId]:
    return [finding.rule for finding in findings if finding.rule is not RuleId.IMDS_HOP_LIMIT]


@settings(deadline=None, max_examples=60)
@given(
    shape=st.sampled_from(SHAPES),
    leaves=st.lists(st.sampled_from(sorted(LEAVES)), min_size=1, max_size=4, unique=True),
    depth=st.integers(min_value=0, max_value=36),
)
def test_shared_nodes_are_evaluated_once_and_judged_exactly(
    shape: str, leaves: list[str], depth: int
) -> None:
    if shape == "find-in-map-if":
        # Two nesting levels per choice on its first branch: keep within the 40 levels evaluated.
        depth = min(depth, 16)
    tokens, reachable = dag(shape, leaves, depth)
    findings = check_template(launch_template(tokens), "dag.json")
    expected = expected_rule(reachable)
    assert rules_on_tokens(findings) == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("shape", "depth", "expected"),
    [
        # 40 levels of choices is as deep as the engine evaluates: the leaf is still reached.
        ("if", 40, RuleId.IMDSV2_REQUIRED),
        # The last Select's index is one level deeper (41), and two levels per choice are past
        # the 40 evaluated: neither can be verified.
        ("select", 40, RuleId.IMDSV2_UNVERIFIABLE),
        ("find-in-map-if", 40, RuleId.IMDSV2_UNVERIFIABLE),
        ("if", 1_000, RuleId.IMDSV2_UNVERIFIABLE),
        ("select", 1_000, RuleId.IMDSV2_UNVERIFIABLE),
        ("find-in-map-if", 1_000, RuleId.IMDSV2_UNVERIFIABLE),
    ],
)
def test_the_issue_shapes_at_depth_40_and_1000(shape: str, depth: int, expected: RuleId) -> None:
    tokens, _ = dag(shape, ["optional"], depth)
    findings = check_template(launch_template(tokens), "dag.json")
    assert rules_on_tokens(findings) == [expected]
    if expected is RuleId.IMDSV2_UNVERIFIABLE:
        assert "nests too deeply" in findings[0].message


@given(depth=st.integers(min_value=1, max_value=1_000), part=st.sampled_from(["ab", "optional", "x" * 100]))
@settings(deadline=None, max_examples=40)
def test_joins_of_a_shared_node_stop_at_the_length_bound(depth: int, part: str) -> None:
    # &xN !Join ['', [*xN-1, *xN-1]]: the string doubles at every level.
    node: Any = part
    for _ in range(depth):
        node = {"Fn::Join": ["", [node, node]]}
    findings = check_template(launch_template(node), "join.json")
    length = len(part) * 2 ** min(depth, 64)
    if depth > 40:
        assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
    elif length > MAX_TEXT_LENGTH:
        assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
        assert f"longer than {MAX_TEXT_LENGTH:,} characters" in findings[0].message
    else:
        # A long literal, and not "required": it allows IMDSv1.
        assert rules_on_tokens(findings) == [RuleId.IMDSV2_REQUIRED]


def test_sub_of_a_shared_node_stops_at_the_length_bound() -> None:
    node: Any = "optional"
    for _ in range(30):
        node = {"Fn::Sub": ["${A}${B}", {"A": node, "B": node}]}
    findings = check_template(launch_template(node), "sub.json")
    assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
    assert "longer than" in findings[0].message


def test_many_values_are_unverifiable_with_the_reason() -> None:
    # 2**7 distinct strings: past the bound on how many values one expression may take.
    node: Any = {"Fn::If": ["C", "a", "b"]}
    for _ in range(6):
        node = {"Fn::Join": ["", [node, {"Fn::If": ["C", "a", "b"]}]]}
    findings = check_template(launch_template(node), "values.json")
    assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
    assert "more than 64 values" in findings[0].message


def test_a_template_past_its_work_budget_gets_a_finding_on_each_resource_left_to_evaluate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small budget stands in for a template built to spend the real one.
    monkeypatch.setattr(policy_index, "WORK_LIMIT", 50)
    template = budget_template()
    findings = check_template(template, "budget.json")
    # LT spends the budget; LT3 needs evaluating after that; LT2's literal needs no evaluation.
    assert [(f.logical_id, f.rule) for f in findings] == [
        ("LT", RuleId.IMDSV2_UNVERIFIABLE),
        ("LT3", RuleId.IMDSV2_UNVERIFIABLE),
    ]
    assert all(f"limit of {WORK_LIMIT:,} steps" in f.message for f in findings)


def budget_template() -> dict[str, Any]:
    template = launch_template({"Fn::If": ["C", "required", {"Fn::Join": ["", ["required"] + [""] * 200]}]})
    for logical_id, tokens in (("LT2", "required"), ("LT3", {"Fn::If": ["C", "required", "required"]})):
        template["Resources"][logical_id] = {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": tokens}}},
        }
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue"}
    return template


def test_the_same_template_within_budget_passes() -> None:
    # The control for the test above: with the real budget, the same resources pass.
    assert check_template(budget_template(), "budget.json") == []


@settings(deadline=None, max_examples=10)
@given(
    resources=st.integers(min_value=1, max_value=3_000),
    shared=st.booleans(),
)
def test_very_wide_templates_with_one_name_for_every_launch_template(resources: int, shared: bool) -> None:
    # Names are unique on AWS, so only a hostile template reuses one this way: every group that
    # launches by name would otherwise judge every template of that name.
    options: Any = {"HttpTokens": "optional"}
    body: dict[str, Any] = {}
    for number in range(resources):
        data = {"MetadataOptions": options if shared else {"HttpTokens": "optional"}}
        body[f"LT{number}"] = {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateName": "same", "LaunchTemplateData": data},
        }
        body[f"Asg{number}"] = {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {"LaunchTemplate": {"LaunchTemplateName": "same", "Version": "1"}},
        }
    findings = check_template({"Resources": body}, "wide.json")
    by_resource: dict[str, list[RuleId]] = {}
    for finding in findings:
        by_resource.setdefault(finding.logical_id, []).append(finding.rule)
    assert len(by_resource) == 2 * resources
    for number in range(resources):
        assert by_resource[f"LT{number}"] == [RuleId.IMDSV2_REQUIRED]
        asg = by_resource[f"Asg{number}"]
        if resources > 64:
            assert asg == [RuleId.IMDSV2_UNVERIFIABLE]
        else:
            assert RuleId.IMDSV2_REQUIRED in asg


def test_a_join_over_a_very_wide_list_is_judged() -> None:
    parts = ["x"] * 100_000
    findings = check_template(launch_template({"Fn::Join": ["", parts]}), "wide-join.json")
    assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
    assert "longer than" in findings[0].message


def test_a_mapping_read_with_unknown_keys_over_a_very_wide_mapping_is_judged() -> None:
    mapping = {f"k{i}": {f"v{j}": "required" for j in range(100)} for i in range(1_000)}
    mapping["k7"]["v7"] = "optional"
    template = launch_template({"Fn::FindInMap": ["M", {"Ref": "P"}, {"Ref": "P"}]})
    template["Mappings"] = {"M": mapping}
    findings = check_template(template, "wide-map.json")
    # 100,000 values, two of them distinct: judged exactly.
    assert rules_on_tokens(findings) == [RuleId.IMDSV2_REQUIRED]


def test_a_cycle_built_in_python_is_unverifiable_not_a_crash() -> None:
    node: dict[str, Any] = {"Fn::If": ["C", "required", None]}
    node["Fn::If"][2] = node
    findings = check_template(launch_template(node), "cycle.json")
    assert rules_on_tokens(findings) == [RuleId.IMDSV2_UNVERIFIABLE]
    assert "refers to itself" in findings[0].message
