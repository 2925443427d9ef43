#!/usr/bin/env python3
"""What importing cdk-imds costs an app, beyond aws_cdk itself.

    python bench/bench_import.py [--repeat 15]

Each run is a fresh interpreter that imports aws_cdk and aws_cdk.aws_ec2 (what an app with launch
templates imports anyway), then, timed with ``time.perf_counter``, everything an ``enforce`` run
imports from cdk-imds: ``from cdk_imds import Imdsv2Aspect, Mode, enforce`` and the modules
synthesis loads later (the validation plugin with the policy engine and the assembly reader, the
``app.synth()`` wrapper). Compiled modules are cached under bench/out/pycache, as an installed
package has them. Prints the median and min in milliseconds, and the modules imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = """
import json, sys, time
import aws_cdk, aws_cdk.aws_ec2
before = set(sys.modules)
start = time.perf_counter()
from cdk_imds import Imdsv2Aspect, Mode, enforce
import cdk_imds.cdk.enforcement.plugin, cdk_imds.cdk.enforcement.synthesis
import cdk_imds.policy.engine, cdk_imds.sources.assembly
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "modules": sorted(set(sys.modules) - before)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15)
    arguments = parser.parse_args()
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = os.path.join(HERE, "out", "pycache")
    runs = []
    for _ in range(arguments.repeat + 1):  # the first one compiles the cache: not counted
        output = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=environment
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    seconds = [run["seconds"] * 1000 for run in runs[1:]]
    modules = runs[-1]["modules"]
    ours = [name for name in modules if name.startswith("cdk_imds")]
    print(
        f"cdk-imds imports for an enforce run: median {statistics.median(seconds):.1f} ms "
        f"(min {min(seconds):.1f}) over {arguments.repeat} runs; {len(ours)} cdk_imds modules, "
        f"{len(modules) - len(ours)} others: {', '.join(name for name in modules if name not in ours)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
