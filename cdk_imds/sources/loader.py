"""Turn the paths a user gave (template files, cloud assembly directories) into templates to check."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cdk_imds.errors import AssemblyError, TemplateError
from cdk_imds.sources import Loaded, TemplateSource
from cdk_imds.sources.assembly import is_assembly, load_assembly
from cdk_imds.sources.template import load_template


def load_paths(paths: Sequence[str]) -> Loaded:
    """Load every path in order. Unreadable inputs become ``problems``; nothing here raises InputError."""
    loaded = Loaded()
    for path in paths:
        if os.path.isdir(path):
            _load_directory(path, loaded)
        else:
            _load_file(path, loaded)
    return loaded


def _load_directory(path: str, loaded: Loaded) -> None:
    if not is_assembly(path):
        loaded.problems.append(
            AssemblyError(path, "not a cloud assembly (no manifest.json) or template file")
        )
        return
    try:
        assembly = load_assembly(path)
    except AssemblyError as error:
        loaded.problems.append(error)
        return
    loaded.sources.extend(assembly.sources)
    loaded.problems.extend(assembly.problems)


def _load_file(path: str, loaded: Loaded) -> None:
    try:
        body = load_template(path)
    except TemplateError as error:
        loaded.problems.append(error)
        return
    loaded.sources.append(TemplateSource(path=path, body=body))
