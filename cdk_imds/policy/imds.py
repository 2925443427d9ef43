"""Judging metadata options: the one place that decides what "requires IMDSv2" means.

A launch is IMDSv2-only when ``HttpTokens`` is ``"required"`` or the metadata endpoint is
``"disabled"``. The enum values are case-sensitive, as CloudFormation passes them to EC2 verbatim.
"""

from __future__ import annotations

import math
from enum import Enum

from cdk_imds.policy.values import ABSENT, ResourceRef, Unknown, as_text, lookup, whole_number
from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from cdk_imds.policy.index import Scope
    from cdk_imds.policy.values import Candidate

TOKENS = "HttpTokens"
ENDPOINT = "HttpEndpoint"
HOP_LIMIT = "HttpPutResponseHopLimit"


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Judgement(Record):
    __slots__ = ("verdict", "reason")

    def __init__(self, verdict: Verdict, reason: str = "") -> None:
        self.verdict = verdict
        self.reason = reason

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS


PASS = Judgement(Verdict.PASS)


class OptionSet(Record):
    """One way the metadata options can turn out: the candidates of each field."""

    __slots__ = ("tokens", "endpoint", "hop_limit", "object_absent")

    def __init__(
        self,
        tokens: tuple[Candidate, ...],
        endpoint: tuple[Candidate, ...],
        hop_limit: tuple[Candidate, ...],
        object_absent: bool = False,
    ) -> None:
        self.tokens = tokens
        self.endpoint = endpoint
        self.hop_limit = hop_limit
        self.object_absent = object_absent


NOT_SET = OptionSet((ABSENT,), (ABSENT,), (ABSENT,), object_absent=True)


def option_sets(candidates: Iterable[Candidate], scope: Scope) -> list[OptionSet]:
    """Option sets from the candidates of a ``MetadataOptions`` object."""
    sets: list[OptionSet] = []
    for candidate in candidates:
        if type(candidate) is dict:
            sets.append(
                OptionSet(
                    tuple(lookup(candidate, (TOKENS,), scope)),
                    tuple(lookup(candidate, (ENDPOINT,), scope)),
                    tuple(lookup(candidate, (HOP_LIMIT,), scope)),
                )
            )
        elif candidate is ABSENT or candidate is None:
            sets.append(NOT_SET)
        else:
            unknown = (
                candidate if isinstance(candidate, Unknown) else Unknown("MetadataOptions is not an object")
            )
            sets.append(OptionSet((unknown,), (unknown,), (unknown,)))
    return sets


def live_option_set(options: Mapping[str, Any] | None) -> OptionSet:
    """The option set of metadata options read from a live account (literal values only).

    ``None`` or an empty mapping means the launch sets no options, as an absent template property does.
    """
    if not options:
        return NOT_SET
    return OptionSet(
        (options.get(TOKENS, ABSENT),),
        (options.get(ENDPOINT, ABSENT),),
        (options.get(HOP_LIMIT, ABSENT),),
    )


def judge_live_options(options: Mapping[str, Any] | None) -> Judgement:
    """``judge_options`` for one set of live metadata options, so audit and check share the rule."""
    return judge_options([live_option_set(options)])


def merged(own: OptionSet, base: OptionSet) -> OptionSet:
    """Field by field, what ``own`` sets wins; what it leaves unset comes from ``base``."""

    def field(mine: tuple[Candidate, ...], theirs: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        kept = tuple(candidate for candidate in mine if candidate is not ABSENT)
        return kept + theirs if ABSENT in mine else kept

    return OptionSet(
        field(own.tokens, base.tokens),
        field(own.endpoint, base.endpoint),
        field(own.hop_limit, base.hop_limit),
        own.object_absent and base.object_absent,
    )


def judge_options(sets: Iterable[OptionSet]) -> Judgement:
    """FAIL if any combination allows IMDSv1; else UNKNOWN if any cannot be known; else PASS.

    Each field's candidates combine freely, but the verdict needs only the first token and endpoint
    candidates that could allow IMDSv1, and the first certain ones: linear in the candidates, where
    walking every pair of a merged option set could be millions of steps.
    """
    unknown: str | None = None
    for option_set in sets:
        if option_set.tokens == _REQUIRED or option_set.endpoint == _DISABLED:
            continue  # the usual compliant template, judged without building anything
        tokens = [candidate for candidate in option_set.tokens if candidate != "required"]
        if not tokens:
            continue
        endpoints = [candidate for candidate in option_set.endpoint if candidate != "disabled"]
        if not endpoints:
            continue
        certain_tokens = next((candidate for candidate in tokens if _doubt(candidate) is None), _NONE)
        certain_endpoint = any(_doubt(candidate) is None for candidate in endpoints)
        if certain_tokens is not _NONE and certain_endpoint:
            return Judgement(Verdict.FAIL, _why_tokens_fail(certain_tokens, option_set.object_absent))
        unknown = unknown or _doubt(tokens[0]) or _doubt(endpoints[0])
    return Judgement(Verdict.UNKNOWN, unknown) if unknown else PASS


_NONE = object()
_REQUIRED = ("required",)
_DISABLED = ("disabled",)


def judge_value(
    candidates: Iterable[Candidate], accept: Callable[[Candidate], bool], describe: Callable[[Candidate], str]
) -> Judgement:
    """The same three-way verdict for services whose IMDS switch is a single field."""
    unknown: str | None = None
    for candidate in candidates:
        if accept(candidate):
            continue
        doubt = _doubt(candidate)
        if doubt is None:
            return Judgement(Verdict.FAIL, describe(candidate))
        unknown = unknown or doubt
    return Judgement(Verdict.UNKNOWN, unknown) if unknown else PASS


def hop_limits(sets: Iterable[OptionSet]) -> list[int]:
    """Every literal hop limit, given as a number or a numeric string."""
    limits: list[int] = []
    for option_set in sets:
        for candidate in option_set.hop_limit:
            limit = whole_number(candidate)
            if limit is None and isinstance(candidate, float) and candidate > 0:
                limit = math.ceil(candidate)
            if limit is not None:
                limits.append(limit)
    return limits


def resource_options(scope: Scope, logical_id: str, path: tuple[str, ...]) -> list[OptionSet]:
    """Option sets of a resource's own MetadataOptions at ``path``, computed once per resource."""
    key = (logical_id, path)
    cached = scope.cache.get(key)
    if cached is None:
        resource = scope.resources.get(logical_id)
        properties: Any = resource.get("Properties", ABSENT) if isinstance(resource, dict) else ABSENT
        candidates = lookup(properties, path, scope) if properties is not ABSENT else [ABSENT]
        cached = option_sets(candidates, scope)
        scope.cache[key] = cached
    result: list[OptionSet] = cached
    return result


def short(value: Any) -> str:
    """A literal for a message: enum-like values only, cut short, never a whole structure."""
    text = as_text(value)
    if text is None:
        return "a non-text value"
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _doubt(candidate: Candidate) -> str | None:
    if isinstance(candidate, Unknown):
        return candidate.reason
    if isinstance(candidate, ResourceRef):
        return f"the value is an attribute of {candidate.logical_id}, known only at deploy time"
    return None


def _why_tokens_fail(tokens: Candidate, object_absent: bool) -> str:
    if object_absent:
        return (
            "MetadataOptions is not set, so instances fall back to the AMI's or the account's "
            "defaults, which may allow IMDSv1"
        )
    if tokens is ABSENT or tokens is None:
        return "HttpTokens is not set, so the AMI's or the account's default applies, which may allow IMDSv1"
    if isinstance(tokens, str) and tokens.lower() == "required":
        return f"HttpTokens is {short(tokens)}: CloudFormation values are case-sensitive, use 'required'"
    return f"HttpTokens is {short(tokens)}, which allows IMDSv1"


__all__ = [
    "ENDPOINT",
    "HOP_LIMIT",
    "NOT_SET",
    "PASS",
    "TOKENS",
    "Judgement",
    "OptionSet",
    "Verdict",
    "hop_limits",
    "judge_live_options",
    "judge_options",
    "judge_value",
    "live_option_set",
    "merged",
    "option_sets",
    "resource_options",
]
