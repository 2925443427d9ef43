#!/usr/bin/env python3
"""The floor: read a cloud assembly's manifest and json-load every file cdk-imds reads, nothing else.

    python bench/floor_load.py [--keep] ASSEMBLY

Those files are ``manifest.json`` and each stack's ``templateFile``; Stage sub-assemblies are
followed the same way. (cdk-imds reads a stack's ``additionalMetadataFile`` only when a finding's
resource has no ``aws:cdk:path`` metadata, which templates synthesized by the CDK CLI always have.) Prints one JSON line: seconds spent (time.perf_counter, from before the
manifest is opened to after the last file is parsed), files, bytes, and the resources counted.
By default each parsed file is dropped at once, the literal "only json-loads" floor. ``--keep`` holds
every parsed file in memory to the end, as a checker that follows references across stacks naively does:
that costs more, because the heap grows (new memory, and the cyclic GC walks the growing heap).
Only the standard library is imported, so interpreter start-up is the same as any Python process.
"""

from __future__ import annotations

import json
import os
import sys
import time

_START = time.perf_counter()


def load(path: str) -> object:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def walk(directory: str, totals: dict[str, float], kept: list[object] | None) -> None:
    manifest = load(os.path.join(directory, "manifest.json"))
    totals["files"] += 1
    for artifact in manifest.get("artifacts", {}).values():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == "aws:cloudformation:stack":
            template = load(os.path.join(directory, properties["templateFile"]))
            totals["files"] += 1
            totals["templates"] += 1
            totals["resources"] += len(template["Resources"])
            if kept is not None:
                kept.append(template)
        elif kind == "cdk:cloud-assembly":
            walk(os.path.join(directory, properties["directoryName"]), totals, kept)


def main() -> int:
    arguments = sys.argv[1:]
    kept: list[object] | None = [] if "--keep" in arguments else None
    (directory,) = [a for a in arguments if a != "--keep"]
    totals: dict[str, float] = {"files": 0, "templates": 0, "resources": 0}
    start = time.perf_counter()
    walk(directory, totals, kept)
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, **{k: int(v) for k, v in totals.items()}}
    # Same clock in every process on Linux (CLOCK_MONOTONIC): bench_check.py derives start-up and exit.
    result.update(started_at=_START, finished_at=time.perf_counter())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
