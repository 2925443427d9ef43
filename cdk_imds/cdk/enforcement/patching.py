"""Wrapping an aws_cdk method once, however many times enforcement is switched on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

Method = Callable[..., Any]
_MARK = "_cdk_imds_patched"


def wrap_once(owner: type, name: str, wrapper: Callable[[Method], Method]) -> None:
    """Replaces ``owner.name`` by ``wrapper(original)``, unless it already was."""
    original = vars(owner)[name]
    if getattr(original, _MARK, False):
        return
    wrapped = functools.wraps(original)(wrapper(original))
    setattr(wrapped, _MARK, True)
    setattr(owner, name, wrapped)
