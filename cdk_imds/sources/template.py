"""Read one CloudFormation template file (JSON or YAML) into plain dicts and lists.

Error messages name the problem and where it is (line, column) but never quote the file: templates
can hold secrets, and the messages end up in CI logs.
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from cdk_imds.errors import TemplateError

_JSON_EXTENSIONS = frozenset({".json"})
_YAML_EXTENSIONS = frozenset({".yaml", ".yml"})

# The C loader is several times faster; PyYAML wheels without libyaml only have the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Short forms whose long form is "Fn::<Name>". Ref, GetAtt and Condition are not "Fn::" and are
# registered separately.
_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # deep=True: a tag's argument often holds further tags (!If [c, !Ref A, ...]) and they must be
    # finished values when the enclosing dict is built, not filled in later by PyYAML's generators.
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, "unexpected YAML node", node.start_mark)


def _intrinsic(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_value(loader, node)}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        # Attribute names may contain dots (Endpoint.Address); only the first dot ends the resource.
        return {"Fn::GetAtt": loader.construct_scalar(node).split(".", 1)}
    return {"Fn::GetAtt": _construct_value(loader, node)}


def _construct_plain_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation reads "2010-09-09" as a string; PyYAML would make it a datetime.date.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


class CloudFormationLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader that understands CloudFormation's short-form intrinsic tags."""


CloudFormationLoader.add_constructor("!Ref", _intrinsic("Ref"))
CloudFormationLoader.add_constructor("!Condition", _intrinsic("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _FN_TAGS:
    CloudFormationLoader.add_constructor(f"!{_name}", _intrinsic(f"Fn::{_name}"))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_plain_string)


def load_template(path: str) -> dict[str, Any]:
    """Read the CloudFormation template at ``path``; raise TemplateError if it is not one."""
    text = _read_text(path)
    if not text.strip():
        raise TemplateError(path, "file is empty")
    body = _parse(path, text)
    return _check_shape(path, body)


def _read_text(path: str) -> str:
    try:
        # utf-8-sig: editors on Windows like to start files with a byte order mark.
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except FileNotFoundError:
        raise TemplateError(path, "file not found") from None
    except IsADirectoryError:
        raise TemplateError(path, "is a directory") from None
    except PermissionError:
        raise TemplateError(path, "not readable (permission denied)") from None
    except UnicodeDecodeError as error:
        raise TemplateError(path, f"not a text file (invalid UTF-8 at byte {error.start})") from None
    except OSError as error:
        raise TemplateError(path, f"cannot read: {error.strerror or type(error).__name__}") from None


def _parse(path: str, text: str) -> Any:
    extension = os.path.splitext(path)[1].lower()
    if extension in _JSON_EXTENSIONS:
        return _parse_json(path, text)
    if extension in _YAML_EXTENSIONS:
        return _parse_yaml(path, text)
    # Unknown extension, and ".template", which CloudFormation uses for both formats. JSON first: it is
    # by far the faster parser, and a YAML file fails it at the first character.
    try:
        return _parse_json(path, text)
    except TemplateError as json_error:
        try:
            return _parse_yaml(path, text)
        except TemplateError as yaml_error:
            # Report in the language the author evidently meant to write.
            raise (json_error if text.lstrip().startswith(("{", "[")) else yaml_error) from None


def _parse_json(path: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg is json's fixed wording ("Expecting ',' delimiter"); str(error) would be the same
        # plus position, so nothing from the file leaks either way.
        raise TemplateError(
            path, f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise TemplateError(path, "malformed JSON: nested too deeply") from None


def _parse_yaml(path: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        # Not str(error): the pure-Python loader appends a snippet of the offending source lines.
        raise TemplateError(path, _describe_yaml_error(error)) from None
    except yaml.YAMLError as error:
        position = getattr(error, "position", None)
        where = f" at character {position}" if isinstance(position, int) else ""
        raise TemplateError(path, f"malformed YAML{where}") from None
    except (ValueError, TypeError):
        # Explicit standard tags with bad values (!!int abc) fail in Python's int()/float(), not in
        # PyYAML's error hierarchy.
        raise TemplateError(path, "malformed YAML: a value does not match its explicit tag") from None
    except RecursionError:
        raise TemplateError(path, "malformed YAML: nested too deeply") from None


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    problem = error.problem or error.context or "invalid syntax"
    return f"malformed YAML{where}: {problem}"


def _check_shape(path: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise TemplateError(
            path, f"not a CloudFormation template: top level is {_kind(body)}, expected a mapping"
        )
    resources = body.get("Resources")
    if resources is None:
        raise TemplateError(path, "not a CloudFormation template: no Resources section")
    if not isinstance(resources, dict):
        raise TemplateError(
            path, f"not a CloudFormation template: Resources is {_kind(resources)}, not a mapping"
        )
    return body


def _kind(value: Any) -> str:
    # Names the type, never the value.
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "empty"
    return f"a {type(value).__name__}"
