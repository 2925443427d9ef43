"""Turn the paths a user gave (template files, cloud assembly directories) into templates to check."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from cdk_imds.errors import AssemblyError, InputError, TemplateError
from cdk_imds.sources import Loaded, TemplateSource, Unit
from cdk_imds.sources.assembly import is_assembly, iter_assembly
from cdk_imds.sources.template import load_template


def load_paths(paths: Sequence[str]) -> Loaded:
    """Load every path in order. Unreadable inputs become ``problems``; nothing here raises InputError."""
    loaded = Loaded()
    for unit in iter_paths(paths, loaded.problems):
        loaded.sources.extend(unit.sources)
    return loaded


def iter_paths(paths: Sequence[str], problems: list[InputError]) -> Iterator[Unit]:
    """``load_paths`` a unit at a time (a template file; a stack with its nested stacks), for
    ``check_units``, which can free each once judged. Problems are added to ``problems`` in order."""
    for path in paths:
        if os.path.isdir(path):
            yield from _directory_units(path, problems)
        else:
            try:
                body = load_template(path)
            except TemplateError as error:
                problems.append(error)
                continue
            yield Unit([TemplateSource(path=path, body=body)], partial(_reread_file, path))


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


def _reread_file(path: str) -> list[TemplateSource]:
    try:
        return [TemplateSource(path=path, body=load_template(path))]
    except TemplateError:
        return []  # reported when it was first read


def _directory_units(path: str, problems: list[InputError]) -> Iterator[Unit]:
    if not is_assembly(path):
        problems.append(AssemblyError(path, "not a cloud assembly (no manifest.json) or template file"))
        return
    try:
        units = iter_assembly(path, problems)
    except AssemblyError as error:
        problems.append(error)
        return
    yield from units
