"""Read one CloudFormation template file (JSON or YAML) into plain dicts and lists.

Error messages name the problem and where it is (line, column) but never quote the file: templates
can hold secrets, and the messages end up in CI logs.
"""

from __future__ import annotations

import json
import os

from cdk_imds.errors import TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# CloudFormation accepts template files of at most 1 MB; eight times that leaves room for anything a
# user could mean to check, and bounds the memory one file can take once parsed (a JSON file of tiny
# nested objects grows about twentyfold in Python).
MAX_TEMPLATE_BYTES = 8 * 1024 * 1024

_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
_JSON_EXTENSIONS = frozenset({".json"})
_YAML_EXTENSIONS = frozenset({".yaml", ".yml"})


def load_template(path: str, *, stack: bool = False) -> dict[str, Any]:
    """Read the CloudFormation template at ``path``; raise TemplateError if it is not one.

    ``stack``: the file is a stack template CDK wrote, where a stack without resources is written
    without a Resources section; that is an empty stack, not a file of another kind.
    """
    text = _read_text(path)
    if not text.strip():
        raise TemplateError(path, "file is empty")
    body = _parse(path, text)
    if stack and isinstance(body, dict) and "Resources" not in body:
        body["Resources"] = {}
    return _check_shape(path, body)


def _read_text(path: str) -> str:
    try:
        # Bytes, decoded at once: a text file read with a size limit decodes 8 KB chunk by chunk.
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_TEMPLATE_BYTES:
                raise TemplateError(path, _too_large())
            # Read past the limit by one: a pipe or device has no size to ask for beforehand.
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise TemplateError(path, _too_large())
        # Editors on Windows like to start files with a byte order mark. (Not by decoding with
        # "utf-8-sig": that codec is one more module to import on every run.)
        return data[3:].decode() if data.startswith(_BYTE_ORDER_MARK) else data.decode()
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
    # PyYAML is imported only for YAML files: CDK writes JSON, and importing it costs ~15 ms.
    from cdk_imds.sources.yaml_template import parse_yaml

    return parse_yaml(path, text)


def _too_large() -> str:
    return (
        f"rejected: larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MiB "
        "(CloudFormation accepts template files of at most 1 MB)"
    )


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
