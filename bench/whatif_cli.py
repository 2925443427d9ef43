#!/usr/bin/env python3
"""What-if: the ``cdk-imds`` command with the garbage-collector change this benchmark suggests.

    python bench/whatif_cli.py check ASSEMBLY --format json

Runs ``cdk_imds.cli.main`` unchanged except that loading runs with the cyclic GC disabled and what
was loaded is then frozen (``gc.freeze()``), so neither later collections nor the one at interpreter
exit walk the parsed templates again. Not what cdk-imds does today; timed by ``bench_check.py
--what-if`` as ``cli-gc`` to show what the change would buy for the whole command.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

import cdk_imds.cli
from cdk_imds.sources import Loaded

_load_paths = cdk_imds.cli.load_paths


def _load_paths_gc_tuned(paths: Sequence[str]) -> Loaded:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_paths(paths)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


cdk_imds.cli.load_paths = _load_paths_gc_tuned  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(cdk_imds.cli.main())
