#!/usr/bin/env python3
"""cdk-imds in one process, timed from inside with time.perf_counter.

    python bench/inprocess_check.py ASSEMBLY              # import + load_paths + check_sources
    python bench/inprocess_check.py --load-only ASSEMBLY  # import + load_paths
    python bench/inprocess_check.py --gc-tuned ASSEMBLY   # what-if: no GC while loading, then freeze
    python -m cProfile -s cumtime bench/inprocess_check.py ASSEMBLY   # where the time goes

Prints one JSON line: seconds to import the loader and engine, to load, to check, the templates and
resources checked and the findings by rule (proof that the run judged something). No report is
rendered: that is the CLI's part, timed by bench_check.py as a whole process. ``--gc-tuned`` is a
what-if for the engine, not what cdk-imds does today (see bench/README.md).
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import gc  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402

from cdk_imds.policy import check_sources  # noqa: E402
from cdk_imds.sources.loader import load_paths  # noqa: E402

_IMPORTED = time.perf_counter()

# Time spent in the cyclic garbage collector, measured with gc.callbacks (start/stop of each collection).
_GC = {"seconds": 0.0, "collections": [0, 0, 0], "started": 0.0}


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _GC["started"] = time.perf_counter()
    else:
        _GC["seconds"] += time.perf_counter() - _GC["started"]
        _GC["collections"][info["generation"]] += 1


gc.callbacks.append(_gc_callback)


def main() -> int:
    arguments = sys.argv[1:]
    load_only = "--load-only" in arguments
    # What-if for the engine: the cyclic GC walks the whole growing heap of parsed templates again and
    # again while loading, and once more at exit. Not collecting while loading, then freezing what was
    # loaded (gc.freeze: later collections, the one at exit included, skip it) removes both.
    gc_tuned = "--gc-tuned" in arguments
    paths = [a for a in arguments if a not in ("--load-only", "--gc-tuned")]
    started = time.perf_counter()
    if gc_tuned:
        gc.disable()
    loaded = load_paths(paths)
    if gc_tuned:
        gc.freeze()
        gc.enable()
    loaded_at = time.perf_counter()
    result = {
        "import_seconds": _IMPORTED - _START,
        "load_seconds": loaded_at - started,
        "templates": len(loaded.sources),
        "problems": [str(problem) for problem in loaded.problems],
    }
    if not load_only:
        checked = check_sources(loaded.sources)
        checked_at = time.perf_counter()
        result.update(
            check_seconds=checked_at - loaded_at,
            resources=checked.resources,
            findings=len(checked.findings),
            by_rule=dict(sorted(Counter(f.rule.value for f in checked.findings).items())),
        )
    result["seconds"] = time.perf_counter() - started
    # time.perf_counter is CLOCK_MONOTONIC on Linux, the same clock in every process: bench_check.py
    # subtracts these from its own readings to get interpreter start-up and exit (teardown) times.
    result["started_at"] = _START
    result["finished_at"] = time.perf_counter()
    result["gc_seconds"] = _GC["seconds"]
    result["gc_collections"] = _GC["collections"]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
