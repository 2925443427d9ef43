"""The app shapes: one module per shape, each with a ``SHAPE``. Modules named ``_*`` are helpers."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from tests.conformance_apps.model import Shape


def shapes() -> list[Shape]:
    return [
        import_module(f"{__name__}.{module.name}").SHAPE
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name)
        if not module.name.startswith("_")
    ]
