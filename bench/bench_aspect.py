#!/usr/bin/env python3
"""Synthesis with and without cdk-imds enforcement, each variant in fresh processes.

    python bench/bench_aspect.py [--repeat 5] [--l2] [--markdown] [--variants NAME,...]

Runs bench/aspect_app.py for every variant, interleaved round-robin (so load on the machine hits
them alike), after one untimed warm-up round, and prints for each the median (and min) of:

* process: the whole ``python aspect_app.py`` run, start to exit, as the parent sees it: what a
  ``cdk synth`` waits for (interpreter, imports, building the app, synthesis, exit); and its CPU
  (the app's Python and its jsii Node.js process, from /proc at the end of the run);
* synth: from the variant's set-up (``enforce(...)``, ``Aspects.of(...).add(...)``) to the end of
  ``app.synth()``, measured inside the process, wall and CPU;

each as a ratio to the same app without cdk-imds (the ``-compliant`` variants to the compliant
app without it): the median of the ratios of the runs of one round (pairs, as issue 11 measured),
and how many launch templates came out requiring tokens (proof of the work).
The Node.js of ``node_modules/.bin`` is put first on PATH, as ``make`` does, and compiled modules
are cached under bench/out/pycache, as an installed package has them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VARIANTS = (
    "none",
    "import",
    "enforce",
    "aspect-on-app",
    "aws-cdk-lib",
    "none-compliant",
    "enforce-compliant",
    "aspect-on-app-compliant",
)
LABELS = {
    "none": "none (the app without cdk-imds)",
    "import": "`from cdk_imds import ...` only",
    "enforce": '`enforce(app, "fix")`',
    "aspect-on-app": "`Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=Imdsv2Aspect.PRIORITY)`",
    "aws-cdk-lib": "aws-cdk-lib `LaunchTemplateRequireImdsv2Aspect` (JavaScript)",
    "none-compliant": "none, every template already compliant",
    "enforce-compliant": '`enforce(app, "fix")`, every template already compliant',
    "aspect-on-app-compliant": "the one-line aspect, every template already compliant",
}


def run(variant: str, l2: bool, environment: dict[str, str]) -> dict[str, float]:
    command = [sys.executable, os.path.join(HERE, "aspect_app.py"), *(["--l2"] if l2 else []), variant]
    start = time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment).stdout
    process = time.perf_counter() - start
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    result["process"] = process
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--l2", action="store_true", help="the L2 app instead of issue 11's raw one")
    parser.add_argument("--markdown", action="store_true", help="print the table only")
    parser.add_argument(
        "--variants",
        metavar="NAME,...",
        help=f"only these (with the app without cdk-imds they are compared to): {', '.join(VARIANTS)}",
    )
    arguments = parser.parse_args()
    variants = VARIANTS
    if arguments.variants:
        chosen = set(arguments.variants.split(","))
        if chosen - set(VARIANTS):
            parser.error(f"unknown variants: {', '.join(sorted(chosen - set(VARIANTS)))}")
        chosen |= {"none-compliant" if name.endswith("-compliant") else "none" for name in chosen}
        variants = tuple(name for name in VARIANTS if name in chosen)
    environment = dict(os.environ)
    node_bin = os.path.join(ROOT, "node_modules", ".bin")
    if os.path.exists(os.path.join(node_bin, "node")):
        environment["PATH"] = node_bin + os.pathsep + environment.get("PATH", "")
    # Compiled modules cached, as an installed package has them (this machine sets
    # PYTHONDONTWRITEBYTECODE, which would make every run compile cdk-imds again).
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = os.path.join(HERE, "out", "pycache")
    for variant in variants:
        run(variant, arguments.l2, environment)  # warm-up: caches, compiled modules
    results: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
    for round_number in range(arguments.repeat):
        for variant in variants:
            results[variant].append(run(variant, arguments.l2, environment))
        print(f"bench_aspect: round {round_number + 1}/{arguments.repeat} done", file=sys.stderr)
    print(
        "| variant | process median (min) | vs none | process CPU vs none "
        "| synth median (min) | vs none | synth CPU vs none | resources | templates requiring tokens |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for variant, runs in results.items():
        base = results["none-compliant" if variant.endswith("-compliant") else "none"]
        cells = []
        for key in ("process", "process_cpu", "seconds", "cpu"):
            values = [r[key] for r in runs]
            # Each run against the run of the app without cdk-imds in the same round: a slow
            # stretch of the machine (minutes long on this shared host) then hits both.
            ratio = statistics.median(r[key] / b[key] for r, b in zip(runs, base, strict=True))
            if key in ("process", "seconds"):
                cells.append(f"{statistics.median(values):.2f} s ({min(values):.2f}) | {ratio:.2f}x")
            else:
                cells.append(f"{ratio:.2f}x")
        print(
            f"| {LABELS[variant]} | {' | '.join(cells)} | {int(runs[0]['resources'])} "
            f"| {int(runs[0]['required'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
