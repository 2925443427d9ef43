"""``python -m cdk_imds.run app.py [args...]``: enforce IMDSv2 on a Python CDK app without changing it.

For shared pipelines: ``cdk synth --app "python3 -m cdk_imds.run app.py"``. Every App the script
creates gets ``enforce(app)`` (mode from context ``cdk-imds:mode``, default FAIL), which covers
every Stage of it, then the script runs as ``__main__``. Context (``-c``, cdk.json)
and the output directory keep working: the App reads them from the environment the CLI sets.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence
from typing import Any

USAGE = "usage: python -m cdk_imds.run app.py [args...]"


def install() -> None:
    """Patches ``aws_cdk.App`` so that each new one is enforced on (its Stages follow from it)."""
    import aws_cdk as cdk

    from cdk_imds.cdk.enforcement import enforce
    from cdk_imds.cdk.enforcement.patching import Method, wrap_once

    def wrapper(original: Method) -> Method:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            enforce(self)

        return __init__

    wrap_once(cdk.App, "__init__", wrapper)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    script = arguments[0]
    if not os.path.isfile(script):
        print(f"cdk_imds.run: {script}: no such file (the CDK app to run); {USAGE}", file=sys.stderr)
        return 2
    install()
    sys.argv = arguments
    # As `python app.py` would: the script's own folder first on the import path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
