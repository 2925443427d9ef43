"""Just enough IAM policy evaluation for the tests: "is this request denied / allowed?"

Used on the guardrail SCP (``denied_by``) and on the shipped identity policies
(``allowed``, ``allowing``). A request is one authorization AWS makes: an action, one resource ARN,
and the request context's keys (a call can make several, one per resource it touches).

Modelled: ``Effect``, ``Action`` and ``Resource`` (strings or lists, ``*`` and ``?`` wildcards),
and these condition operators, with IAM's documented treatment of a key missing from the request
context (IAM User Guide, "Condition operators"): a positive operator on a missing key does not
match; a negated one (StringNotEquals, ArnNotLike) does; ``Null: "false"`` matches only when the key
is present. An explicit Deny wins over any Allow; no matching Allow is an implicit deny.

Not modelled, and refused with an AssertionError where a policy uses it, so nothing slips through
untested: ``NotAction``, ``NotResource``, ``Principal`` / ``NotPrincipal`` (resource policies),
other condition operators, ``...IfExists``, ``ForAnyValue`` / ``ForAllValues`` (multi-valued keys),
policy variables (``${aws:username}``). Also not modelled: case-insensitive action names (IAM
ignores case in actions; the tests use botocore's spelling, which is the documented one), ``[`` in a
pattern (fnmatch reads it as a class, IAM as a character), permission boundaries, session policies,
SCPs combined with identity policies, and which requests AWS makes for a call: the caller says that
(tests/aws/iam_requests.py for the cdk-imds calls).

Why our own, weighed against PyPI's: parliament lints a policy (malformed or unknown actions, an
ARN of the wrong type for an action) and policy_sentry writes policies and queries its copy of the
IAM action tables; neither answers "is this action on this ARN with this context allowed?", which
is the question here. AWS's policy simulator would, but it is an online API the tests may not call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

_MODELLED_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


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
    if operator == "StringEquals":
        return actual in wanted
    if operator == "ArnLike":
        return any(fnmatchcase(str(actual), pattern) for pattern in wanted)
    if operator == "NumericGreaterThan":
        return any(float(str(actual)) > float(item) for item in wanted)
    if operator == "NumericLessThan":
        return any(float(str(actual)) < float(item) for item in wanted)
    if operator == "Bool":
        return str(actual).lower() in [item.lower() for item in wanted]
    raise AssertionError(f"the test evaluator does not know condition operator {operator}")


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    unknown = set(statement) - _MODELLED_KEYS
    if unknown:
        raise AssertionError(f"the test evaluator does not model {sorted(unknown)}")
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


def _matching(document: Mapping[str, Any], request: Request, effect: str) -> list[str]:
    return [
        str(statement.get("Sid", index))
        for index, statement in enumerate(document["Statement"])
        if statement["Effect"] == effect and statement_applies(statement, request)
    ]


def denied_by(document: Mapping[str, Any], request: Request) -> list[str]:
    """The Sids of the Deny statements that match the request."""
    return _matching(document, request, "Deny")


def allowing(document: Mapping[str, Any], request: Request) -> list[str]:
    """The Sids (or indexes) of the Allow statements that match the request."""
    return _matching(document, request, "Allow")


def allowed(document: Mapping[str, Any], request: Request) -> bool:
    """IAM's verdict for one identity policy: an Allow matches and no Deny does."""
    return bool(allowing(document, request)) and not denied_by(document, request)
