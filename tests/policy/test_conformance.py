"""Data-driven conformance suite: every fixture template carries its own expected findings.

Each file in ``tests/fixtures/conformance/`` is a CloudFormation template (JSON, or YAML with
short-form tags) whose template-level ``Metadata["cdk-imds-test"]`` says what the engine must
report::

    {"description": "...",
     "options": {"max_hop_limit": 2, "unverifiable_as_warning": false},   # optional
     "expect": [[logical_id, rule, severity], ...],
     "related": [[logical_id, rule, related], ...]}                        # optional

``expect`` is compared as a set with the findings' (logical_id, rule, severity): a missing or an
extra finding fails. ``related``, where given, is compared as a multiset with every finding that
names a related template, so that "one finding per template at fault" is checked too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdk_imds.policy import Finding, Options, RuleId, Severity, check_template
from cdk_imds.sources.template import load_template

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conformance"
META_KEY = "cdk-imds-test"

FIXTURE_FILES = sorted(p for p in FIXTURES.iterdir() if p.suffix in {".json", ".yaml", ".yml"})

LAUNCHER_TYPES = frozenset(
    {
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::EC2::EC2Fleet",
        "AWS::EC2::SpotFleet",
        "AWS::EKS::Nodegroup",
        "AWS::Batch::ComputeEnvironment",
    }
)
TEMPLATE_TYPES = frozenset({"AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration"})

# The intrinsic forms the specification names; each must be exercised in JSON and in YAML.
INTRINSICS = ("Ref", "Fn::GetAtt", "Fn::If", "Fn::FindInMap", "Fn::Sub", "Fn::Join", "Fn::ImportValue")
# Every rule a template can trigger (IMDS_RULE_CRASHED is a bug, never an expectation).
EXPECTABLE_RULES = frozenset(RuleId) - {RuleId.IMDS_RULE_CRASHED}


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    metadata = body.get("Metadata")
    assert isinstance(metadata, dict) and isinstance(metadata.get(META_KEY), dict), (
        f"fixture has no template-level Metadata[{META_KEY!r}]"
    )
    meta: dict[str, Any] = metadata[META_KEY]
    return meta


def _options(meta: dict[str, Any]) -> Options:
    raw = meta.get("options") or {}
    assert set(raw) <= {"max_hop_limit", "unverifiable_as_warning"}, f"unknown options {sorted(raw)}"
    return Options(
        max_hop_limit=raw.get("max_hop_limit"),
        unverifiable_as_warning=bool(raw.get("unverifiable_as_warning", False)),
    )


def _expected(meta: dict[str, Any]) -> set[tuple[str, str, str]]:
    rows = meta.get("expect")
    assert isinstance(rows, list), "expect must be a list of [logical_id, rule, severity]"
    expected: set[tuple[str, str, str]] = set()
    for row in rows:
        assert isinstance(row, list) and len(row) == 3, f"malformed expectation {row!r}"
        logical_id, rule, severity = row
        RuleId(rule)  # an unknown rule name is a broken fixture, not a passing one
        Severity(severity)
        expected.add((logical_id, rule, severity))
    assert len(expected) == len(rows), "duplicate rows in expect"
    return expected


def _fmt(rows: Iterable[tuple[Any, ...]]) -> str:
    return "\n".join("    " + ", ".join(map(str, row)) for row in sorted(rows)) or "    (none)"


def _triples(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.logical_id, f.rule.value, f.severity.value) for f in findings}


def _run(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[Finding]]:
    body = load_template(str(path))
    meta = _meta(body)
    findings = check_template(body, str(path), options=_options(meta))
    return body, meta, findings


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_findings_match_expectations(path: Path) -> None:
    _, meta, findings = _run(path)
    assert isinstance(meta.get("description"), str) and meta["description"].strip()
    expected = _expected(meta)
    actual = _triples(findings)
    missing, extra = expected - actual, actual - expected
    assert not missing and not extra, (
        f"{path.name}: {meta['description']}\n  missing:\n{_fmt(missing)}\n  unexpected:\n{_fmt(extra)}\n"
        + "  messages:\n"
        + "\n".join(f"    {f.logical_id} {f.rule} {f.severity}: {f.message}" for f in findings)
    )

    if "related" in meta:
        wanted = Counter(tuple(row) for row in meta["related"])
        got = Counter((f.logical_id, f.rule.value, f.related) for f in findings if f.related is not None)
        assert got == wanted, (
            f"{path.name}: related templates differ\n  expected:\n{_fmt(list(wanted.elements()))}\n"
            f"  actual:\n{_fmt(list(got.elements()))}"
        )


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_findings_are_well_formed(path: Path) -> None:
    body, _, findings = _run(path)
    resources = body["Resources"]
    for finding in findings:
        where = f"{path.name}: {finding.logical_id} {finding.rule}"
        assert finding.rule is not RuleId.IMDS_RULE_CRASHED, f"{where}: the rule crashed"
        assert finding.template == str(path), where
        assert finding.logical_id in resources, where
        assert finding.resource_type == resources[finding.logical_id]["Type"], where
        assert finding.message.strip(), f"{where}: empty message"
        assert finding.fix.strip(), f"{where}: empty fix"
        assert finding.property_path.startswith(f"Resources/{finding.logical_id}/"), where
        assert finding.severity is not Severity.SUPPRESSED or finding.suppression_reason, where
        if finding.related is not None:
            # A related template is one defined in this template (single-template run).
            related = resources.get(finding.related)
            assert isinstance(related, dict) and related.get("Type") in TEMPLATE_TYPES, where
        service_default = finding.property_path.endswith("/LaunchTemplate") and "has no launch template" in (
            finding.message
        )
        if (
            finding.resource_type in LAUNCHER_TYPES
            and finding.rule is RuleId.IMDSV2_REQUIRED
            and not service_default
        ):
            # A launcher is at fault only through a template, and must name it (or, for Batch and EKS,
            # through the service's default template, which has no logical id to name).
            assert finding.related is not None, f"{where}: launcher finding names no template"


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_is_a_cloudformation_template(path: Path) -> None:
    body = load_template(str(path))
    resources = body["Resources"]
    assert resources, "a fixture needs resources"
    for logical_id, resource in resources.items():
        assert logical_id.isalnum(), f"{logical_id}: logical ids are alphanumeric"
        assert isinstance(resource, dict) and isinstance(resource.get("Type"), str), logical_id
    conditions = body.get("Conditions", {})
    for node in _walk(body["Resources"]):
        if isinstance(node, dict) and "Fn::If" in node:
            assert node["Fn::If"][0] in conditions, f"Fn::If on undeclared condition {node['Fn::If'][0]}"
    expected_ids = {row[0] for row in _meta(body)["expect"]}
    assert expected_ids <= set(resources), (
        f"expectations name unknown resources {expected_ids - set(resources)}"
    )


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.mark.parametrize("suffixes", [(".json",), (".yaml", ".yml")], ids=["json", "yaml"])
def test_every_rule_and_intrinsic_is_covered_in_each_format(suffixes: tuple[str, ...]) -> None:
    rules: set[str] = set()
    intrinsics: set[str] = set()
    options: set[str] = set()
    for path in FIXTURE_FILES:
        if path.suffix not in suffixes:
            continue
        body = load_template(str(path))
        meta = _meta(body)
        rules.update(row[1] for row in meta["expect"])
        options.update(key for key, value in (meta.get("options") or {}).items() if value)
        for node in _walk(body["Resources"]):
            if isinstance(node, dict) and len(node) == 1:
                intrinsics.update(set(node) & set(INTRINSICS))
    assert {rule.value for rule in EXPECTABLE_RULES} <= rules, sorted(
        {rule.value for rule in EXPECTABLE_RULES} - rules
    )
    assert set(INTRINSICS) <= intrinsics, sorted(set(INTRINSICS) - intrinsics)
    assert options == {"max_hop_limit", "unverifiable_as_warning"}


def test_yaml_fixtures_use_short_form_tags_and_no_aliases() -> None:
    """YAML twins exercise the short-form tags; anchors and aliases are not valid CloudFormation."""
    for path in FIXTURE_FILES:
        if path.suffix not in {".yaml", ".yml"}:
            continue
        tokens = list(yaml.scan(path.read_text(encoding="utf-8")))
        tags = {token.value[1] for token in tokens if isinstance(token, yaml.TagToken)}
        if _has_intrinsics(path):
            assert tags, f"{path.name}: use short-form tags (!Ref, !GetAtt, ...)"
        assert not any(isinstance(token, (yaml.AnchorToken, yaml.AliasToken)) for token in tokens), (
            f"{path.name}: CloudFormation rejects YAML anchors and aliases"
        )


def _has_intrinsics(path: Path) -> bool:
    body = load_template(str(path))
    return any(
        isinstance(node, dict) and len(node) == 1 and next(iter(node)) in INTRINSICS
        for node in _walk(body["Resources"])
    )


def test_every_fixture_has_a_twin_in_the_other_format() -> None:
    stems_by_suffix: dict[str, set[str]] = {".json": set(), ".yaml": set()}
    for path in FIXTURE_FILES:
        stems_by_suffix[".yaml" if path.suffix == ".yml" else path.suffix].add(path.stem)
    assert stems_by_suffix[".json"] == stems_by_suffix[".yaml"]


def test_harness_detects_a_missing_and_an_extra_finding() -> None:
    """The comparison must fail both ways, or a broken rule could pass the suite unnoticed."""
    _, meta, findings = _run(FIXTURES / "lt_http_tokens.json")
    expected = _expected(meta)
    assert _triples(findings) == expected
    assert _triples(findings) != expected - {next(iter(sorted(expected)))}
    assert _triples(findings) != expected | {("Required", "IMDSV2_REQUIRED", "error")}
