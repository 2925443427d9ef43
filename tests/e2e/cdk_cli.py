"""Running the real CDK CLI (node_modules/.bin/cdk) from the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def synth(app: str, outdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`cdk synth --app APP --output OUTDIR ARGUMENTS...` from the repository root."""
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `make install` (make test does)")
    environment = {
        **os.environ,
        # The CLI runs the app with `python3`: the one of this test run, with cdk-imds installed.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    command = [
        str(CDK),
        "synth",
        "--quiet",
        "--no-notices",
        "--app",
        app,
        "--output",
        str(outdir),
        *arguments,
    ]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
