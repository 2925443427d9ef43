"""The catalogue: one module per construct, each with a ``CASE``. Modules named ``_*`` are helpers.

Adding a construct is adding one module here: ``cases()`` finds it by name, sorted, so the test ids
and the apps do not depend on import order.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

from tests.conformance_apps.model import Case


def cases() -> list[Case]:
    found = [
        import_module(f"{__name__}.{module.name}").CASE
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name)
        if not module.name.startswith("_")
    ]
    names = [case.name for case in found]
    clashes = sorted({a for a in names for b in names if a != b and b.startswith(a)})
    if len(set(names)) != len(names) or clashes:
        raise ValueError(f"case names must be unique and no prefix of another: {clashes or names}")
    return found
