"""Every value a CloudFormation expression can take at deploy time.

Intrinsic functions are not evaluated to one answer: ``expand`` returns the list of *candidates*
an expression may produce. ``Fn::If`` yields both branches, a parameter its ``AllowedValues``, a
mapping lookup every value its keys can reach. What cannot be known before deploy is an
``Unknown`` carrying the reason, so a verdict of "unverifiable" can say why. A rule passes only if
every candidate passes; that is what makes the engine exact where others trust a default.

Templates can be hostile, so the work is bounded, not only the results:

* each intrinsic node is evaluated once per template (``Scope.values``, keyed by the node's
  identity). A YAML alias is one node reached along many paths; evaluating it once per path made
  40 nested ``!If [C, *x, *x]`` cost 2**40 evaluations;
* a value has at most ``MAX_CANDIDATES`` candidates and a string at most ``MAX_TEXT_LENGTH``
  characters; beyond that it is an ``Unknown`` that says so;
* every template has a budget of work (``WORK_LIMIT`` steps, charged by ``Scope.charge``). A
  template that spends it raises ``WorkLimitExceeded``, which the engine turns into an
  IMDSV2_UNVERIFIABLE finding on the resource being judged.
"""

from __future__ import annotations

import re
from functools import partial
from itertools import product

from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from cdk_imds.policy.index import Scope


class _Absent:
    """The property is not set (``AWS::NoValue``, or the key is missing)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


class Unknown(Record):
    """A value only known at deploy time, with the reason it is not known now."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class ResourceRef:
    """``Ref`` or ``Fn::GetAtt`` of a resource: the resource itself, not a value (equal only to itself)."""

    __slots__ = ("scope", "logical_id", "attribute")

    def __init__(self, scope: Scope, logical_id: str, attribute: str | None = None) -> None:
        self.scope = scope
        self.logical_id = logical_id
        self.attribute = attribute

    def __repr__(self) -> str:
        return f"ResourceRef({self.scope.label!r}, {self.logical_id!r}, {self.attribute!r})"

    @property
    def resource(self) -> dict[str, Any]:
        resource = self.scope.resources[self.logical_id]
        return resource if isinstance(resource, dict) else {}

    @property
    def type(self) -> str:
        resource_type = self.resource.get("Type")
        return resource_type if isinstance(resource_type, str) else ""


if TYPE_CHECKING:
    # A candidate is a plain JSON value, ABSENT, an Unknown or a ResourceRef.
    Candidate = Any

# Beyond this many candidates a value is treated as unknown rather than enumerated, so a
# pathological template cannot make the engine explode combinatorially.
MAX_CANDIDATES: Final = 64
# Longest string a Fn::Join or Fn::Sub may build. The values the rules read are enum-like settings,
# template names and, at most, an EMR security configuration document, all far shorter; nested
# joins of a shared node double the length at every level.
MAX_TEXT_LENGTH: Final = 32_768
# Steps of work one template may cost: an intrinsic evaluated, a candidate produced, a lookup,
# 32 characters of a string built. The 20,000-resource benchmark spends at most 125 steps on one
# template; a template that needs 8,000 times that is built to exhaust the checker.
WORK_LIMIT: Final = 1_000_000
_CHARACTERS_PER_STEP: Final = 32
_MAX_DEPTH: Final = 40


class WorkLimitExceeded(Exception):
    """A template spent its budget of work (``WORK_LIMIT``); its remaining values are not judged."""

    reason = (
        f"evaluating the template's expressions takes more than cdk-imds' limit of {WORK_LIMIT:,} "
        "steps, so the rest of it is not evaluated"
    )


if TYPE_CHECKING:
    _Handler = Callable[[Any, Scope, int], list[Candidate]]


def expand(node: Any, scope: Scope, depth: int = 0) -> list[Candidate]:
    """The candidates of one node; a non-intrinsic node is its own single candidate.

    The returned list may be shared with other callers (it is memoized): never modify it.
    """
    if type(node) is dict and len(node) == 1:
        key = next(iter(node))
        handler = _INTRINSICS.get(key)
        if handler is not None:
            return _evaluate(node, handler, scope, depth)
    return [node]


def _evaluate(node: dict[str, Any], handler: _Handler, scope: Scope, depth: int) -> list[Candidate]:
    values = scope.values
    node_id = id(node)
    known = values.get(node_id)
    if known is not None:
        return known[1]
    if depth > _MAX_DEPTH:
        return [Unknown("expression nests too deeply to evaluate")]
    if node_id in scope.evaluating:
        # Only a structure built in Python can contain itself; the loaders reject cycles.
        return [Unknown("the value refers to itself")]
    scope.evaluating.add(node_id)
    try:
        result = _capped(handler(next(iter(node.values())), scope, depth + 1))
    finally:
        scope.evaluating.discard(node_id)
    scope.charge(1 + len(result))
    # The node is kept with its result: while it is alive, no other object can take its id.
    values[node_id] = (node, result)
    return result


def lookup(node: Any, path: tuple[str, ...], scope: Scope, depth: int = 0) -> list[Candidate]:
    """Candidates of ``node[path[0]][path[1]]...``, expanding intrinsics at every level.

    Like ``expand``, the list returned may be shared: never modify it.
    """
    # Plain objects, the usual case: stepped into in a loop, without a list of one candidate.
    while path and type(node) is dict and (len(node) != 1 or next(iter(node)) not in _INTRINSICS):
        if path[0] not in node:
            return [ABSENT]
        node = node[path[0]]
        path = path[1:]
        depth += 1
    if not path:
        return expand(node, scope, depth)
    candidates = expand(node, scope, depth)
    if len(candidates) > 1:
        # Each candidate is looked into: shared nodes make this fan out, so it is charged.
        scope.charge(len(candidates))
    results: list[Candidate] = []
    for candidate in candidates:
        if type(candidate) is dict:
            if path[0] in candidate:
                results.extend(lookup(candidate[path[0]], path[1:], scope, depth + 1))
            else:
                results.append(ABSENT)
        elif candidate is ABSENT or candidate is None:
            results.append(ABSENT)
        elif isinstance(candidate, Unknown):
            results.append(candidate)
        else:
            results.append(Unknown(f"{'.'.join(path)} is read from a value that is not an object"))
    return _capped(results)


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def whole_number(candidate: Candidate) -> int | None:
    """A non-negative whole number given as a number or a numeric string, else None.

    ASCII digits only (``str.isdigit`` accepts '²', which ``int`` refuses), and short enough that
    ``int`` never meets Python's limit on digit strings; longer ones are not plausible settings.
    """
    if isinstance(candidate, bool):
        return None
    if isinstance(candidate, int):
        return candidate if candidate >= 0 else None
    if isinstance(candidate, float):
        return int(candidate) if candidate.is_integer() and candidate >= 0 else None
    if isinstance(candidate, str) and _WHOLE_NUMBER.fullmatch(candidate.strip()):
        return int(candidate.strip())
    return None


def is_literal(candidate: Candidate) -> bool:
    return not (candidate is ABSENT or isinstance(candidate, (Unknown, ResourceRef)))


def as_text(candidate: Candidate) -> str | None:
    """A scalar candidate as CloudFormation would turn it into a string, else None."""
    if isinstance(candidate, bool):
        return "true" if candidate else "false"
    if isinstance(candidate, (str, int, float)):
        return str(candidate)
    return None


def _capped(candidates: list[Candidate]) -> list[Candidate]:
    if len(candidates) <= MAX_CANDIDATES:
        return candidates
    unique: list[Candidate] = []
    seen: set[Any] = set()
    for candidate in candidates:
        key = _hash_key(candidate)
        if key is None or key not in seen:
            if key is not None:
                seen.add(key)
            unique.append(candidate)
    if len(unique) <= MAX_CANDIDATES:
        return unique
    return [Unknown(f"the expression can take more than {MAX_CANDIDATES} values")]


def _hash_key(candidate: Candidate) -> Any:
    if isinstance(candidate, (str, int, float, bool)) or candidate is None:
        return (type(candidate), candidate)
    if candidate is ABSENT or isinstance(candidate, Unknown):
        return candidate
    return None


def _ref(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if not isinstance(argument, str):
        return [Unknown("Ref of a non-string")]
    return scope.ref(argument, depth)


def _get_att(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        logical_id, attribute_node = argument
        attributes = [a for a in expand(attribute_node, scope, depth) if isinstance(a, str)]
        if len(attributes) != 1:
            return [Unknown(f"Fn::GetAtt of {logical_id} with a computed attribute name")]
        attribute = attributes[0]
    else:
        return [Unknown("malformed Fn::GetAtt")]
    return scope.get_att(logical_id, attribute, depth)


def _if(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if not isinstance(argument, list) or len(argument) != 3:
        return [Unknown("malformed Fn::If")]
    return expand(argument[1], scope, depth) + expand(argument[2], scope, depth)


def _find_in_map(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if not isinstance(argument, list) or len(argument) not in (3, 4):
        return [Unknown("malformed Fn::FindInMap")]
    map_names = _keys(argument[0], scope, depth)
    results: list[Candidate] = []
    for map_name in map_names:
        if isinstance(map_name, Unknown):
            results.append(map_name)
            continue
        mapping = scope.mappings.get(map_name) if isinstance(map_name, str) else None
        if not isinstance(mapping, dict):
            results.extend(_map_default(argument, scope, depth, f"mapping {map_name!r} is not defined"))
            continue
        results.extend(_find_in_levels(mapping, argument, scope, depth))
    return results


def _find_in_levels(
    mapping: dict[str, Any], argument: list[Any], scope: Scope, depth: int
) -> list[Candidate]:
    results: list[Candidate] = []
    for top_key in _keys(argument[1], scope, depth):
        tops = list(mapping.values()) if isinstance(top_key, Unknown) else [mapping.get(str(top_key))]
        scope.charge(len(tops))
        for level in tops:
            if not isinstance(level, dict):
                results.extend(_map_default(argument, scope, depth, "mapping key is not defined"))
                continue
            for second_key in _keys(argument[2], scope, depth):
                if isinstance(second_key, Unknown):
                    values = list(level.values())
                elif str(second_key) in level:
                    values = [level[str(second_key)]]
                else:
                    results.extend(_map_default(argument, scope, depth, "mapping key is not defined"))
                    continue
                scope.charge(len(values))
                for value in values:
                    # Keyed by the value's identity: mappings that look themselves up (directly or
                    # through Fn::If) are evaluated once each, and a cycle ends as unknown.
                    key = ("map-value", id(value))
                    results.extend(scope.index.memo(scope, key, partial(expand, value, scope, depth)))
    return results


def _map_default(argument: list[Any], scope: Scope, depth: int, reason: str) -> list[Candidate]:
    # Fn::FindInMap's optional DefaultValue (AWS::LanguageExtensions) applies when a key is missing.
    if len(argument) == 4 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
        return expand(argument[3]["DefaultValue"], scope, depth)
    return [Unknown(reason)]


def _keys(node: Any, scope: Scope, depth: int) -> list[Any]:
    # Distinct keys only, and every unknown key as one: each unknown key reads a whole mapping level.
    keys: dict[Any, None] = {}
    for candidate in expand(node, scope, depth):
        text = as_text(candidate)
        keys[text if text is not None else _UNKNOWN_KEY] = None
    return list(keys)


_UNKNOWN_KEY: Final = Unknown("a mapping key known only at deploy time")


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if isinstance(argument, str):
        text, variables = argument, {}
    elif (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], dict)
    ):
        text, variables = argument[0], argument[1]
    else:
        return [Unknown("malformed Fn::Sub")]
    parts: list[list[Candidate]] = []
    position = 0
    for match in _SUB_VARIABLE.finditer(text):
        parts.append([text[position : match.start()]])
        name = match.group(1)
        if name.startswith("!"):
            parts.append(["${" + name[1:] + "}"])
        elif name in variables:
            parts.append(expand(variables[name], scope, depth))
        elif "." in name:
            parts.append(_get_att(name, scope, depth))
        else:
            parts.append(scope.ref(name, depth))
        position = match.end()
    parts.append([text[position:]])
    return _concatenate(parts, "", scope)


def _join(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[0], str):
        return [Unknown("malformed Fn::Join")]
    results: list[Candidate] = []
    for items in expand(argument[1], scope, depth):
        if isinstance(items, list):
            scope.charge(len(items))
            results.extend(_concatenate([expand(item, scope, depth) for item in items], argument[0], scope))
        elif isinstance(items, Unknown):
            results.append(items)
        else:
            results.append(Unknown("Fn::Join of something that is not a list"))
    return results


def _concatenate(parts: list[list[Candidate]], delimiter: str, scope: Scope) -> list[Candidate]:
    """Every string the parts can join to, in order; each built once, at the end (linear time)."""
    choices: list[list[str]] = []
    count = 1
    longest = -len(delimiter)
    for options in parts:
        texts: list[str] = []
        for option in options:
            text = as_text(option)
            if text is None:
                reason = option.reason if isinstance(option, Unknown) else "a part known only at deploy time"
                return [Unknown(reason)]
            texts.append(text)
        count *= len(texts)
        if count > MAX_CANDIDATES:
            return [Unknown(f"the string can take more than {MAX_CANDIDATES} values")]
        longest += len(delimiter) + max(map(len, texts), default=0)
        if longest > MAX_TEXT_LENGTH:
            return [Unknown(f"the string would be longer than {MAX_TEXT_LENGTH:,} characters")]
        choices.append(texts)
    scope.charge(len(parts) + count * (1 + max(longest, 0) // _CHARACTERS_PER_STEP))
    return [delimiter.join(combination) for combination in product(*choices)]


def _select(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    if not isinstance(argument, list) or len(argument) != 2:
        return [Unknown("malformed Fn::Select")]
    results: list[Candidate] = []
    for index_candidate in expand(argument[0], scope, depth):
        index = whole_number(index_candidate)
        if index is None:
            reason = "Fn::Select with an index known only at deploy time"
            results.append(index_candidate if isinstance(index_candidate, Unknown) else Unknown(reason))
            continue
        for items in expand(argument[1], scope, depth):
            if isinstance(items, list) and index < len(items):
                results.extend(expand(items[index], scope, depth))
            else:
                results.append(Unknown("Fn::Select from a list known only at deploy time"))
    return results


def _import_value(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
    results: list[Candidate] = []
    for name in expand(argument, scope, depth):
        if isinstance(name, str):
            results.extend(scope.import_value(name, depth))
        else:
            results.append(Unknown("Fn::ImportValue of a name known only at deploy time"))
    return results


def _opaque(name: str) -> _Handler:
    def handler(argument: Any, scope: Scope, depth: int) -> list[Candidate]:
        return [Unknown(f"{name} is only evaluated at deploy time")]

    return handler


_INTRINSICS: dict[str, _Handler] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::ImportValue": _import_value,
    **{
        name: _opaque(name)
        for name in (
            "Fn::Base64",
            "Fn::GetAZs",
            "Fn::Split",
            "Fn::Cidr",
            "Fn::Transform",
            "Fn::ToJsonString",
            "Fn::Length",
            "Fn::Equals",
            "Fn::And",
            "Fn::Or",
            "Fn::Not",
            "Fn::GetParam",
            "Condition",
        )
    },
}
