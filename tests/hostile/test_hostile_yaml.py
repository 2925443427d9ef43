"""Hostile template files: YAML alias chains and bombs, deep nesting, very wide and very large files.

Each is loaded with ``load_template`` as ``cdk-imds check`` loads it. The outcome must be a template
the engine then judges, or a TemplateError: one line that names the file and says why, nothing
from the file quoted. ``test_cli_*`` run the real command on the shapes from the issue.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_imds.errors import TemplateError
from cdk_imds.policy import RuleId, check_template
from cdk_imds.sources.template import MAX_TEMPLATE_BYTES, load_template
from cdk_imds.sources.yaml_template import MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED_NODES, MAX_NODES

LAUNCH_TEMPLATE = """\
Resources:
  LT:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        MetadataOptions:
          HttpTokens: {tokens}
"""

KINDS = ("if", "join", "list")


def chain(kind: str, depth: int, fan_out: int = 2, leaf: str = "optional") -> str:
    """``depth`` anchors, each naming the one before ``fan_out`` times; HttpTokens is the last."""
    lines = ["Conditions:", "  C: !Equals [a, b]", "Chain:", f"  - &x0 {leaf}"]
    for n in range(1, depth):
        aliases = ", ".join([f"*x{n - 1}"] * fan_out)
        if kind == "if":
            body = f"!If [C, {aliases}]" if fan_out == 2 else f"!If [C, *x{n - 1}, [{aliases}]]"
        elif kind == "join":
            body = f"!Join ['', [{aliases}]]"
        else:
            body = f"[{aliases}]"
        lines.append(f"  - &x{n} {body}")
    return "\n".join(lines) + "\n" + LAUNCH_TEMPLATE.format(tokens=f"*x{depth - 1}")


def expanded_size(kind: str, depth: int, fan_out: int) -> int:
    """Nodes the chain's last anchor holds once every alias is copied out (the oracle)."""
    size = 1
    for _ in range(1, depth):
        if kind == "if" and fan_out == 2:
            size = 2 + 2 * size  # the sequence, "C", two copies
        elif kind == "if":
            size = 3 + (fan_out + 1) * size  # [C, *x, [*x ...]]
        elif kind == "join":
            size = 3 + fan_out * size  # ['', [...]]: outer sequence, '', inner sequence
        else:
            size = 1 + fan_out * size
        if size > 10 * MAX_EXPANDED_NODES:
            break
    return size


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_clean_rejection(error: TemplateError, path: str, reason: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}: rejected: ")
    assert reason in message
    assert "\n" not in message


@settings(deadline=None, max_examples=40)
@given(
    kind=st.sampled_from(KINDS),
    depth=st.integers(min_value=2, max_value=1_000),
    fan_out=st.integers(min_value=2, max_value=9),
)
def test_alias_chains_load_only_within_the_expansion_limit(
    tmp_path_factory: pytest.TempPathFactory, kind: str, depth: int, fan_out: int
) -> None:
    path = write(tmp_path_factory.mktemp("chain"), "chain.yaml", chain(kind, depth, fan_out))
    size = expanded_size(kind, depth, fan_out)
    # The chain's copies of x0..xN sit side by side in the list, and HttpTokens holds one more
    # copy of the last: about twice the last anchor's size, plus the small rest of the template.
    if size > MAX_EXPANDED_NODES:
        with pytest.raises(TemplateError) as caught:
            load_template(path)
        assert_clean_rejection(caught.value, path, "an alias bomb")
    elif 2 * size + 100 < MAX_EXPANDED_NODES:
        findings = check_template(load_template(path), path)
        assert [finding.logical_id for finding in findings] == ["LT"]
        assert findings[0].rule in (RuleId.IMDSV2_REQUIRED, RuleId.IMDSV2_UNVERIFIABLE)


@pytest.mark.parametrize("kind", ["if", "join"])
def test_a_short_chain_of_the_issue_shape_is_judged_exactly(tmp_path: Path, kind: str) -> None:
    # 12 levels: 2**12 copies, well within the limits, so the engine judges it.
    path = write(tmp_path, "chain.yaml", chain(kind, 12))
    findings = check_template(load_template(path), path)
    # !If of 'optional' with itself is 'optional'; joins make a long string that is not 'required'.
    assert [(f.logical_id, f.rule) for f in findings] == [("LT", RuleId.IMDSV2_REQUIRED)]


@settings(deadline=None, max_examples=20)
@given(aliases=st.integers(min_value=1, max_value=3 * MAX_ALIASES))
def test_alias_count_is_limited(tmp_path_factory: pytest.TempPathFactory, aliases: int) -> None:
    # Many aliases of one scalar: harmless in size, but past the count it is rejected all the same.
    text = "Shared: &s required\nMany: [" + ", ".join(["*s"] * aliases) + "]\n"
    text += LAUNCH_TEMPLATE.format(tokens="*s")
    path = write(tmp_path_factory.mktemp("aliases"), "aliases.yaml", text)
    if aliases + 1 > MAX_ALIASES:
        with pytest.raises(TemplateError) as caught:
            load_template(path)
        assert_clean_rejection(caught.value, path, f"more than {MAX_ALIASES:,} YAML aliases")
    else:
        assert check_template(load_template(path), path) == []


@pytest.mark.parametrize(
    "text",
    [
        "Resources:\n  A: &a\n    Type: T\n    Properties: [*a]\n",
        "Resources: &r\n  A: !If [C, *r, x]\n",
        "X: &x [1, [2, [3, *x]]]\nResources: {}\n",
    ],
    ids=["sequence", "tag", "nested"],
)
def test_an_alias_inside_the_node_it_names_is_rejected(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "cycle.yaml", text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_clean_rejection(caught.value, path, "is inside the node it names")


@settings(deadline=None, max_examples=25)
@given(depth=st.integers(min_value=1, max_value=2_000), flow=st.booleans())
def test_deep_nesting_loads_up_to_the_depth_limit(
    tmp_path_factory: pytest.TempPathFactory, depth: int, flow: bool
) -> None:
    if flow:
        nested = "[" * depth + "required" + "]" * depth
    else:
        nested = "".join(f"\n{'  ' * (level + 4)}k:" for level in range(depth)) + " required"
    text = "Deep: " + nested + "\n" + LAUNCH_TEMPLATE.format(tokens="required")
    path = write(tmp_path_factory.mktemp("deep"), "deep.yaml", text)
    # The top-level mapping is one level, "Deep"'s value is nested ``depth`` levels below it.
    if depth + 1 > MAX_DEPTH:
        with pytest.raises(TemplateError) as caught:
            load_template(path)
        message = str(caught.value)
        # libyaml stops at its own limit (1,000 levels) while parsing, before the depth is measured.
        assert message == f"{path}: rejected: nested more than {MAX_DEPTH} levels deep" or (
            message.startswith(f"{path}: malformed YAML at line 1 column ")
            and message.endswith(": exceeded maximum nesting depth")
        )
    else:
        assert check_template(load_template(path), path) == []


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_clean_error(tmp_path: Path, depth: int) -> None:
    text = '{"Resources": {}, "Deep": ' + "[" * depth + "]" * depth + "}"
    path = write(tmp_path, "deep.json", text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert str(caught.value) == f"{path}: malformed JSON: nested too deeply"


@settings(deadline=None, max_examples=5)
@given(resources=st.integers(min_value=1, max_value=20_000))
def test_very_wide_yaml_templates_are_judged(
    tmp_path_factory: pytest.TempPathFactory, resources: int
) -> None:
    # Up to 160,000 nodes written (8 per resource): within MAX_NODES, so every resource is judged.
    lines = ["Resources:"]
    for number in range(resources):
        lines.append(
            f"  LT{number}: {{Type: AWS::EC2::LaunchTemplate, Properties: {{LaunchTemplateData: {{}}}}}}"
        )
    path = write(tmp_path_factory.mktemp("wide"), "wide.yaml", "\n".join(lines) + "\n")
    findings = check_template(load_template(path), path)
    assert len(findings) == resources
    assert {finding.rule for finding in findings} == {RuleId.IMDSV2_REQUIRED}


def test_too_many_yaml_nodes_are_rejected_before_they_are_built(tmp_path: Path) -> None:
    text = "Resources: {}\nMany: [" + ",".join(["1"] * MAX_NODES) + "]\n"
    path = write(tmp_path, "many.yaml", text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert_clean_rejection(caught.value, path, f"more than {MAX_NODES:,} YAML nodes")


@pytest.mark.parametrize("name", ["big.json", "big.yaml", "big.template"])
def test_files_over_the_size_limit_are_rejected_unread(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"Resources": {}, "Padding": "')
        handle.write("x" * MAX_TEMPLATE_BYTES)
        handle.write('"}')
    with pytest.raises(TemplateError) as caught:
        load_template(str(path))
    assert_clean_rejection(caught.value, str(path), "larger than 8 MiB")


def test_a_file_just_under_the_size_limit_is_read(tmp_path: Path) -> None:
    # The control: the limit is on size, not on the shape of the file above.
    prefix, suffix = '{"Resources": {}, "Padding": "', '"}'
    path = tmp_path / "big.json"
    path.write_text(
        prefix + "x" * (MAX_TEMPLATE_BYTES - len(prefix) - len(suffix)) + suffix, encoding="utf-8"
    )
    assert load_template(str(path))["Resources"] == {}


# --- the command, on the shapes the issue reported ---------------------------------------------------


def run_check(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk_imds", "check", path, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("kind", ["if", "join"])
@pytest.mark.parametrize("depth", [40, 1_000])
def test_cli_rejects_the_issue_alias_chains_with_one_line(tmp_path: Path, kind: str, depth: int) -> None:
    path = write(tmp_path, f"{kind}{depth}.yaml", chain(kind, depth))
    result = run_check(path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"cdk-imds: error: {path}: rejected: {_bomb_reason()}"]
    report = json.loads(result.stdout)
    assert report["problems"] == [f"{path}: rejected: {_bomb_reason()}"]


def _bomb_reason() -> str:
    return f"its aliases expand it to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb)"


def test_cli_judges_a_short_alias_chain(tmp_path: Path) -> None:
    path = write(tmp_path, "if12.yaml", chain("if", 12))
    result = run_check(path)
    assert result.returncode == 1
    assert result.stderr == ""
    findings = json.loads(result.stdout)["findings"]
    assert [(f["logical_id"], f["rule"]) for f in findings] == [("LT", "IMDSV2_REQUIRED")]
