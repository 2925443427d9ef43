#!/usr/bin/env python3
"""Entry point of the example CDK app; cdk.json runs it as ``python3 example_app/app.py``."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts example_app/ (not the repository root) on sys.path; add the root so
# the app imports as the package `example_app`, the same way the tests import it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk

from cdk_imds import enforce
from example_app.legacy import LegacyStack
from example_app.stacks import WebStack


def main() -> None:
    app = cdk.App()
    environment_name = app.node.try_get_context("environment") or "dev"
    WebStack(app, "WebStack", environment_name=environment_name)
    LegacyStack(app, "LegacyStack")
    # IMDSv2 for every stack of the app; the mode comes from cdk.json ("cdk-imds:mode": "fix") or -c.
    enforce(app)
    app.synth()


if __name__ == "__main__":
    main()
