#!/usr/bin/env python3
"""Synthesis time with and without cdk-imds enforcement (FIX), each variant in fresh processes.

    python bench/bench_aspect.py [--repeat 5]

Runs bench/aspect_app.py for every variant, interleaved round-robin (so load on the machine hits
them alike), and prints median and min of the seconds from the variant's set-up to the end of
app.synth(), the ratio to no enforcement, the same for the CPU seconds of Python and Node.js
together in that span (steadier than wall time on a shared machine), and how many launch templates
came out with HttpTokens required (proof the variant did its work). The two "-compliant" variants
synthesize the same app with every template already requiring tokens; enforce-compliant is compared
with none-compliant.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("none", "enforce", "aspect-on-app", "aws-cdk-lib", "none-compliant", "enforce-compliant")


def run(variant: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, os.path.join(HERE, "aspect_app.py"), variant],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    for round_number in range(arguments.repeat):
        for variant in VARIANTS:
            results[variant].append(run(variant))
        print(f"bench_aspect: round {round_number + 1}/{arguments.repeat} done", file=sys.stderr)
    baseline = statistics.median(r["seconds"] for r in results["none"])
    cpu_baseline = statistics.median(r["cpu"] for r in results["none"])
    print(
        "| variant | set-up + app.synth() median (min) | vs none | CPU median (min) | vs none "
        "| resources | launch templates requiring tokens |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for variant, runs in results.items():
        if variant == "none-compliant":
            # The compliant app's variants are compared with the compliant app without enforcement.
            baseline = statistics.median(r["seconds"] for r in runs)
            cpu_baseline = statistics.median(r["cpu"] for r in runs)
        seconds = [r["seconds"] for r in runs]
        cpu = [r["cpu"] for r in runs]
        median, cpu_median = statistics.median(seconds), statistics.median(cpu)
        print(
            f"| {variant} | {median:.2f} s ({min(seconds):.2f}) | {median / baseline:.2f}x "
            f"| {cpu_median:.2f} s ({min(cpu):.2f}) | {cpu_median / cpu_baseline:.2f}x "
            f"| {int(runs[0]['resources'])} | {int(runs[0]['required'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
