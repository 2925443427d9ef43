"""Aspect settings: constructor arguments first, then CDK context (cdk.json or ``-c``), then defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from constructs import IConstruct

from cdk_imds.cdk.errors import ConfigurationError
from cdk_imds.policy import Options
from cdk_imds.record import Record

MODE_KEY = "cdk-imds:mode"
MAX_HOP_LIMIT_KEY = "cdk-imds:maxHopLimit"
UNVERIFIABLE_AS_WARNING_KEY = "cdk-imds:unverifiableAsWarning"


class Mode(StrEnum):
    """What the aspect does with a non-compliant resource."""

    FAIL = "fail"
    """Synthesis fails (policy-validation plugin) naming each resource, its rule and the fix."""
    FIX = "fix"
    """HttpTokens is set to 'required'; what cannot be fixed still fails synthesis."""
    WARN = "warn"
    """Acknowledgeable warnings; ``cdk synth`` exits 0, ``cdk synth --strict`` fails."""

    def __str__(self) -> str:
        return self.value


DEFAULT_MODE = Mode.FAIL


class ContextValueError(ConfigurationError):
    """A cdk-imds setting given as an argument or in CDK context has a value that cannot be used."""


class Settings(Record):
    __slots__ = ("mode", "options")

    def __init__(self, mode: Mode, options: Options) -> None:
        self.mode = mode
        self.options = options


def parse_mode(value: Any, source: str = "mode") -> Mode:
    if isinstance(value, Mode):
        return value
    if isinstance(value, str):
        try:
            return Mode(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(mode.value) for mode in Mode)
    raise ContextValueError(f"{source}: {value!r} is not a cdk-imds mode (expected one of {choices})")


def parse_hop_limit(value: Any, source: str = "max_hop_limit") -> int:
    # bool is an int subclass, and `true` in cdk.json is certainly not a hop limit.
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ContextValueError(f"{source}: {value!r} is not a whole number")
    if not 1 <= number <= 64:
        raise ContextValueError(f"{source}: {number} is outside 1..64 (EC2's hop limit range)")
    return number


def parse_flag(value: Any, source: str = "unverifiable_as_warning") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ContextValueError(f"{source}: {value!r} is not true or false")


def resolve_settings(
    scope: IConstruct,
    mode: Mode | str | None,
    max_hop_limit: int | None,
    unverifiable_as_warning: bool | None,
) -> Settings:
    """Arguments win; a missing argument is read from the scope's context, then defaulted."""
    node = scope.node
    if mode is None:
        context_mode = node.try_get_context(MODE_KEY)
        mode = DEFAULT_MODE if context_mode is None else parse_mode(context_mode, f"context {MODE_KEY}")
    else:
        mode = parse_mode(mode)
    if max_hop_limit is None:
        context_limit = node.try_get_context(MAX_HOP_LIMIT_KEY)
        if context_limit is not None:
            max_hop_limit = parse_hop_limit(context_limit, f"context {MAX_HOP_LIMIT_KEY}")
    else:
        max_hop_limit = parse_hop_limit(max_hop_limit)
    if unverifiable_as_warning is None:
        context_flag = node.try_get_context(UNVERIFIABLE_AS_WARNING_KEY)
        unverifiable_as_warning = (
            False
            if context_flag is None
            else parse_flag(context_flag, f"context {UNVERIFIABLE_AS_WARNING_KEY}")
        )
    else:
        unverifiable_as_warning = parse_flag(unverifiable_as_warning)
    return Settings(
        mode, Options(max_hop_limit=max_hop_limit, unverifiable_as_warning=unverifiable_as_warning)
    )
