"""The Node.js that the tests give to jsii and the CDK CLI: the same choice the Makefile makes.

aws_cdk's jsii kernel and ``node_modules/.bin/cdk`` both run ``node`` from PATH. jsii supports Node 22
and 24 and prints a banner on every start under any other major, so a ``node`` of one of those majors
on PATH is kept; otherwise the project's pinned Node (``node_modules/.bin/node``, installed by
``make install`` from the npm registry) goes first on PATH. Under ``make`` PATH is already right and
this changes nothing; it is for a bare ``pytest``, and runs before any test imports aws_cdk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import MutableMapping
from pathlib import Path

SUPPORTED_MAJORS = frozenset({22, 24})
PROJECT_NODE_BIN = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"


def node_major(node: str) -> int | None:
    """The major version of the Node.js at ``node``, or None when it does not run."""
    try:
        completed = subprocess.run(
            [node, "-p", "process.versions.node.split('.')[0]"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return None
    output = completed.stdout.strip()
    return int(output) if completed.returncode == 0 and output.isdigit() else None


def use_supported_node(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put the project's Node first on ``environ["PATH"]`` unless PATH's node is supported."""
    path = environ.get("PATH", "")
    current = shutil.which("node", path=path)
    if current is not None and node_major(current) in SUPPORTED_MAJORS:
        return
    if (PROJECT_NODE_BIN / "node").exists():
        environ["PATH"] = f"{PROJECT_NODE_BIN}{os.pathsep}{path}" if path else str(PROJECT_NODE_BIN)
