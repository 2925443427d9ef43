"""Just enough IAM policy evaluation to ask "is this request denied?" of the guardrail SCP.

Only the operators the guardrail uses, with IAM's documented treatment of a key missing from the
request context (IAM User Guide, "Condition operators"): a positive operator on a missing key
does not match; a negated one (StringNotEquals, ArnNotLike) does; ``Null: "false"`` matches only
when the key is present. Anything else raises, so a new operator cannot slip through untested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def _values(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _matches(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    wanted = _values(expected)
    present = key in context
    actual = context.get(key)
    if operator == "StringNotEquals":
        return not present or actual not in wanted
    if operator == "ArnNotLike":
        return not present or not any(fnmatchcase(str(actual), pattern) for pattern in wanted)
    if operator == "Null":
        return present == (wanted == ["false"])
    if not present:
        return False
    if operator == "NumericGreaterThan":
        return any(float(str(actual)) > float(item) for item in wanted)
    if operator == "NumericLessThan":
        return any(float(str(actual)) < float(item) for item in wanted)
    if operator == "Bool":
        return str(actual).lower() in [item.lower() for item in wanted]
    raise AssertionError(f"the test evaluator does not know condition operator {operator}")


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    actions = _values(statement["Action"])
    resources = _values(statement["Resource"])
    if not any(fnmatchcase(request.action, pattern) for pattern in actions):
        return False
    if not any(fnmatchcase(request.resource, pattern) for pattern in resources):
        return False
    condition: Mapping[str, Mapping[str, Any]] = statement.get("Condition", {})
    return all(
        _matches(operator, key, expected, request.context)
        for operator, keys in condition.items()
        for key, expected in keys.items()
    )


def denied_by(document: Mapping[str, Any], request: Request) -> list[str]:
    """The Sids of the Deny statements that match the request."""
    return [
        statement["Sid"]
        for statement in document["Statement"]
        if statement["Effect"] == "Deny" and statement_applies(statement, request)
    ]
