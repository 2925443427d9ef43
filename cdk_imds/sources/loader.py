"""Turn the paths a user gave (template files, cloud assembly directories) into templates to check."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector while templates are loaded and judged.

    Parsed JSON holds no reference cycles: reference counting frees it when it is dropped. With
    the collector running, the objects alive while it loads are promoted generation by generation
    and, in a process that holds a large heap (a CDK app: aws_cdk's modules and every construct's
    proxy), they trigger a full collection of that heap soon after: 60 to 80 ms each time, after
    every synthesis of an enforced app (bench/README.md). Paused, they are never promoted.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
