"""load_template: JSON and YAML CloudFormation templates, short-form tags, and its error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cdk_imds.errors import TemplateError
from cdk_imds.sources.template import load_template
from cdk_imds.sources.yaml_template import CloudFormationLoader

SECRET = "hunter2-do-not-print"


def write(directory: Path, name: str, text: str | bytes) -> str:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def yaml_value(tmp_path: Path, value_yaml: str) -> Any:
    """Load ``value_yaml`` as the value of one resource property and return what it became."""
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      P: " + value_yaml + "\n"
    return load_template(write(tmp_path, "t.yaml", text))["Resources"]["R"]["Properties"]["P"]


def assert_clean_error(error: TemplateError, path: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}: ")
    assert error.path == path
    assert "\n" not in message
    assert "Traceback" not in message
    assert SECRET not in message
    # Raised "from None": no chained exception for a traceback printer to show.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# --- JSON ------------------------------------------------------------------------------------------


def test_json_template_loads_as_plain_data(tmp_path: Path) -> None:
    body = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"Hop": 2, "On": True}}},
    }
    assert load_template(write(tmp_path, "t.json", json.dumps(body))) == body


def test_json_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "t.json", b"\xef\xbb\xbf" + b'{"Resources": {}}')
    assert load_template(path) == {"Resources": {}}


def test_json_extension_is_not_parsed_as_yaml(tmp_path: Path) -> None:
    # Valid YAML, invalid JSON: a .json file must be judged as JSON only.
    path = write(tmp_path, "t.json", "Resources: {}\n")
    with pytest.raises(TemplateError, match="malformed JSON"):
        load_template(path)


@pytest.mark.parametrize("name", ["t.template", "t.txt", "template"])
def test_other_extensions_accept_json(tmp_path: Path, name: str) -> None:
    assert load_template(write(tmp_path, name, '{"Resources": {"A": {"Type": "X"}}}')) == {
        "Resources": {"A": {"Type": "X"}}
    }


@pytest.mark.parametrize("name", ["t.template", "t.txt", "template", "t.YML"])
def test_other_extensions_accept_yaml(tmp_path: Path, name: str) -> None:
    body = load_template(
        write(tmp_path, name, "Resources:\n  A:\n    Type: X\n    Properties: {P: !Ref B}\n")
    )
    assert body == {"Resources": {"A": {"Type": "X", "Properties": {"P": {"Ref": "B"}}}}}


# --- YAML short forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_yaml", "expected"),
    [
        ("!Ref MyParam", {"Ref": "MyParam"}),
        ('!Ref "AWS::Region"', {"Ref": "AWS::Region"}),
        ("!GetAtt Res.Attr", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!GetAtt [Res, Attr]", {"Fn::GetAtt": ["Res", "Attr"]}),
        ("!Sub 'arn:${AWS::Partition}:s3:::b'", {"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}),
        ("!If [Cond, a, b]", {"Fn::If": ["Cond", "a", "b"]}),
        ("!Join ['-', [a, b]]", {"Fn::Join": ["-", ["a", "b"]]}),
        ("!Select [1, [a, b]]", {"Fn::Select": [1, ["a", "b"]]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!FindInMap [Map, Key, Value]", {"Fn::FindInMap": ["Map", "Key", "Value"]}),
        ("!ImportValue SharedName", {"Fn::ImportValue": "SharedName"}),
        ("!Base64 '#!/bin/bash'", {"Fn::Base64": "#!/bin/bash"}),
        ("!GetAZs us-east-1", {"Fn::GetAZs": "us-east-1"}),
        ("!GetAZs ''", {"Fn::GetAZs": ""}),
        ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!And [x, y]", {"Fn::And": ["x", "y"]}),
        ("!Or [x, y]", {"Fn::Or": ["x", "y"]}),
        ("!Not [x]", {"Fn::Not": ["x"]}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        (
            "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
            {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
        ),
        ("!ToJsonString {a: 1}", {"Fn::ToJsonString": {"a": 1}}),
        ("!Length [a, b]", {"Fn::Length": ["a", "b"]}),
    ],
)
def test_short_form_tag(tmp_path: Path, value_yaml: str, expected: Any) -> None:
    assert yaml_value(tmp_path, value_yaml) == expected


def test_get_att_scalar_splits_at_first_dot_only(tmp_path: Path) -> None:
    assert yaml_value(tmp_path, "!GetAtt Db.Endpoint.Address") == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}


def test_nested_short_forms_are_fully_constructed(tmp_path: Path) -> None:
    value = yaml_value(tmp_path, '!If [UseIt, !Ref A, !Ref "AWS::NoValue"]')
    assert value == {"Fn::If": ["UseIt", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]}


def test_sub_with_variable_mapping(tmp_path: Path) -> None:
    text = """\
Resources:
  R:
    Type: T
    Properties:
      P: !Sub
        - "${Name}-${Az}"
        - Name: !Ref Prefix
          Az: !Select [0, !GetAZs ""]
"""
    body = load_template(write(tmp_path, "t.yaml", text))
    assert body["Resources"]["R"]["Properties"]["P"] == {
        "Fn::Sub": [
            "${Name}-${Az}",
            {"Name": {"Ref": "Prefix"}, "Az": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}},
        ]
    }


def test_tags_inside_block_mapping_and_condition_section(tmp_path: Path) -> None:
    text = """\
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Both: !And [!Condition IsProd, !Not [!Equals [!Ref Env, dev]]]
Resources:
  LT:
    Type: AWS::EC2::LaunchTemplate
    Condition: IsProd
    Properties:
      LaunchTemplateData:
        MetadataOptions:
          HttpTokens: !If
            - IsProd
            - required
            - !Ref Tokens
"""
    body = load_template(write(tmp_path, "t.yaml", text))
    assert body["Conditions"] == {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "Both": {
            "Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, "dev"]}]}]
        },
    }
    options = body["Resources"]["LT"]["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert options == {"HttpTokens": {"Fn::If": ["IsProd", "required", {"Ref": "Tokens"}]}}


def test_anchors_and_aliases_still_work(tmp_path: Path) -> None:
    text = "Resources:\n  A: &shape\n    Type: T\n    Properties: {P: !Ref X}\n  B: *shape\n"
    body = load_template(write(tmp_path, "t.yaml", text))
    assert body["Resources"]["B"] == {"Type": "T", "Properties": {"P": {"Ref": "X"}}}


@pytest.mark.parametrize(
    ("value_yaml", "expected"),
    [
        ("2010-09-09", "2010-09-09"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("2002-12-14 10:00:00", "2002-12-14 10:00:00"),
        ("!!timestamp 2010-09-09", "2010-09-09"),
    ],
)
def test_dates_stay_strings(tmp_path: Path, value_yaml: str, expected: str) -> None:
    assert yaml_value(tmp_path, value_yaml) == expected


def test_template_format_version_stays_a_string(tmp_path: Path) -> None:
    body = load_template(write(tmp_path, "t.yml", "AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n"))
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"


def test_other_yaml_scalars_keep_their_types(tmp_path: Path) -> None:
    # Dates are the only implicit type switched off; numbers and booleans still mean what they say.
    assert yaml_value(tmp_path, "[2, 1.5, true, null, '2']") == [2, 1.5, True, None, "2"]


def test_uses_the_c_loader_when_pyyaml_has_it() -> None:
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert issubclass(CloudFormationLoader, base)


# --- errors ----------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.json")
    with pytest.raises(TemplateError, match="file not found") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="is a directory") as caught:
        load_template(str(tmp_path))
    assert_clean_error(caught.value, str(tmp_path))


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PermissionError(13, "Permission denied"), "not readable (permission denied)"),
        (OSError(5, "Input/output error"), "cannot read: Input/output error"),
    ],
)
def test_read_failures_become_template_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, reason: str
) -> None:
    # Faked, since this suite runs as root in CI, where chmod cannot deny reads.
    def failing_open(*args: Any, **kwargs: Any) -> Any:
        raise error

    path = write(tmp_path, "t.json", '{"Resources": {}}')
    monkeypatch.setattr("cdk_imds.sources.template.open", failing_open, raising=False)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert caught.value.reason == reason
    assert_clean_error(caught.value, path)


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "t.json", '{\n  "Resources": {\n    "Password": "' + SECRET + '",,\n  }\n}\n')
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert "malformed JSON at line 3 column" in str(caught.value)
    assert_clean_error(caught.value, path)


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", f"Resources:\n  A:\n    Password: {SECRET}\n   bad: [\n")
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert "malformed YAML at line 4" in str(caught.value)
    assert_clean_error(caught.value, path)


def test_malformed_json_in_ambiguous_file_reports_the_json_error(tmp_path: Path) -> None:
    # Unclosed braces: neither JSON nor YAML, and JSON is what the author was writing.
    path = write(tmp_path, "t.template", '{"Resources": {"A": "' + SECRET + '"')
    with pytest.raises(TemplateError, match="malformed JSON at line 1") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_malformed_yaml_in_ambiguous_file_reports_the_yaml_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.template", f"Resources:\n  A: {SECRET}\n  - b\n")
    with pytest.raises(TemplateError, match="malformed YAML at line 3") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_unknown_tag_is_a_yaml_error(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", f"Resources:\n  A: !NoSuchFn {SECRET}\n")
    with pytest.raises(TemplateError, match=r"malformed YAML at line 2 .*!NoSuchFn") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "Resources: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(TemplateError, match="malformed YAML") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_bad_explicit_standard_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", f"Resources:\n  A: !!int {SECRET}\n")
    with pytest.raises(TemplateError, match="malformed YAML") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "t.json", b'{"Resources": {"A": "\xff\xfe"}}')
    with pytest.raises(TemplateError, match="invalid UTF-8 at byte 21") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


@pytest.mark.parametrize("name", ["t.json", "t.yaml", "t.template"])
@pytest.mark.parametrize("text", ["", "  \n\n\t\n"])
def test_empty_file(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(TemplateError, match="file is empty") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("t.json", f'["{SECRET}"]', "a list"),
        ("t.yaml", f"- {SECRET}\n", "a list"),
        ("t.yaml", f"{SECRET}\n", "a string"),
        ("t.json", "42", "a int"),
        ("t.yaml", "---\n...\n", "empty"),
    ],
)
def test_top_level_not_a_mapping(tmp_path: Path, name: str, text: str, kind: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert caught.value.reason == f"not a CloudFormation template: top level is {kind}, expected a mapping"
    assert_clean_error(caught.value, path)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("t.json", json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Outputs": {"S": SECRET}})),
        ("t.yaml", f"Parameters:\n  P: {{Default: {SECRET}}}\n"),
        ("t.yaml", "Resources:\n"),  # Resources: null
    ],
)
def test_no_resources_section(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(TemplateError) as caught:
        load_template(path)
    assert caught.value.reason == "not a CloudFormation template: no Resources section"
    assert_clean_error(caught.value, path)


def test_resources_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "t.json", json.dumps({"Resources": [SECRET]}))
    with pytest.raises(TemplateError, match="Resources is a list, not a mapping") as caught:
        load_template(path)
    assert_clean_error(caught.value, path)


# --- JSON and YAML agree ---------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_bodies = st.fixed_dictionaries({"Resources": st.dictionaries(st.text(min_size=1, max_size=10), _values)})


@settings(max_examples=60, deadline=None)
@given(body=_bodies)
def test_json_and_yaml_renderings_load_to_the_same_data(
    tmp_path_factory: pytest.TempPathFactory, body: Any
) -> None:
    directory = tmp_path_factory.mktemp("roundtrip")
    assert load_template(write(directory, "t.json", json.dumps(body))) == body
    assert load_template(write(directory, "t.yaml", yaml.safe_dump(body))) == body
    # No extension: JSON first, and the YAML fallback must not be needed for valid JSON.
    assert load_template(write(directory, "t", json.dumps(body))) == body


def test_yaml_messages_leave_out_the_source_snippet() -> None:
    # PyYAML without libyaml falls back to the pure-Python parser, whose errors quote the source lines.
    from cdk_imds.sources.yaml_template import describe_yaml_error

    with pytest.raises(yaml.MarkedYAMLError) as caught:
        yaml.load(f"Resources:\n  A: x\n {SECRET}: [\n", Loader=yaml.SafeLoader)
    assert SECRET in str(caught.value)  # the premise: str() would leak
    message = describe_yaml_error(caught.value)
    assert message.startswith("malformed YAML at line 3 column")
    assert SECRET not in message
