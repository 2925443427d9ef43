#!/usr/bin/env python3
"""Hostile templates through the whole ``cdk-imds check`` command: time, peak memory, exit code.

    python bench/bench_hostile.py [--python PY] [--markdown]

Writes each shape at depth 40 and 1,000 into bench/out/hostile/ and runs
``/usr/bin/time -v PY -m cdk_imds check FILE --format json`` on it once, with a 60 s timeout.
Reports wall time and maximum resident set size as /usr/bin/time measures them (interpreter start-up
and imports included), the exit code, and whether stderr held a traceback. Issue 15 asks for every
shape: under 2 s, under 200 MB, exit 1 or 2, no traceback.

Shapes: the issue's YAML alias chains (``&xN !If [C, *xN-1, *xN-1]`` and
``&xN !Join ['', [*xN-1, *xN-1]]``), a YAML "billion laughs" list of 9 aliases a level, the same
chains with one alias a level (linear size, nested through aliases), flow-style and block-style
nesting, JSON nesting of Fn::If, and a JSON Fn::Join of 2**depth-long string parts (JSON cannot
share nodes, so its parts are written out; capped at 2**20 characters).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out", "hostile")

LAUNCH_TEMPLATE = """\
Resources:
  LT:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        MetadataOptions:
          HttpTokens: {tokens}
"""


def alias_chain(body: Callable[[int], str]) -> Callable[[int], str]:
    def text(depth: int) -> str:
        lines = ["Conditions:", "  C: !Equals [a, b]", "Chain:", "  - &x0 optional"]
        lines += [f"  - &x{n} {body(n)}" for n in range(1, depth)]
        return "\n".join(lines) + "\n" + LAUNCH_TEMPLATE.format(tokens=f"*x{depth - 1}")

    return text


def flow_nesting(depth: int) -> str:
    return LAUNCH_TEMPLATE.format(tokens="[" * depth + "optional" + "]" * depth)


def block_nesting(depth: int) -> str:
    nested = "".join(f"\n{'  ' * (level + 6)}k:" for level in range(depth)) + " optional"
    return LAUNCH_TEMPLATE.format(tokens=nested)


def json_if_nesting(depth: int) -> str:
    tokens = "optional"
    text = json.dumps(tokens)
    for _ in range(depth):
        text = '{"Fn::If": ["C", ' + text + ', "required"]}'
    return _json_template(text)


def json_wide_join(depth: int) -> str:
    part = json.dumps("o" * min(2 ** min(depth, 20), 2**20))
    return _json_template('{"Fn::Join": ["", [' + ", ".join([part] * 2) + "]]}")


def _json_template(tokens: str) -> str:
    return (
        '{"Conditions": {"C": {"Fn::Equals": ["a", "b"]}}, "Resources": {"LT": {"Type": '
        '"AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"MetadataOptions": '
        '{"HttpTokens": ' + tokens + "}}}}}}"
    )


SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "yaml !If chain, 2 aliases a level": ("yaml", alias_chain(lambda n: f"!If [C, *x{n - 1}, *x{n - 1}]")),
    "yaml !Join chain, 2 aliases a level": (
        "yaml",
        alias_chain(lambda n: f"!Join ['', [*x{n - 1}, *x{n - 1}]]"),
    ),
    "yaml billion laughs, 9 aliases a level": (
        "yaml",
        alias_chain(lambda n: "[" + ", ".join([f"*x{n - 1}"] * 9) + "]"),
    ),
    "yaml !If chain, 1 alias a level": ("yaml", alias_chain(lambda n: f"!If [C, *x{n - 1}, required]")),
    "yaml flow nesting": ("yaml", flow_nesting),
    "yaml block nesting": ("yaml", block_nesting),
    "json Fn::If nesting": ("json", json_if_nesting),
    "json Fn::Join of long parts": ("json", json_wide_join),
}

_ELAPSED = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")
_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def run(python: str, path: str) -> dict[str, object]:
    command = ["/usr/bin/time", "-v", python, "-m", "cdk_imds", "check", path, "--format", "json"]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return {"exit": "timeout", "seconds": 60.0, "mb": None, "traceback": None, "says": "timed out"}
    elapsed = _ELAPSED.search(completed.stderr)
    rss = _RSS.search(completed.stderr)
    assert elapsed and rss, completed.stderr[-2000:]
    hours, minutes, seconds = elapsed.groups()
    own = [line for line in completed.stderr.splitlines() if line.startswith("cdk-imds")]
    says = own[0] if own else _first_finding(completed.stdout)
    return {
        "exit": completed.returncode,
        "seconds": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "mb": int(rss.group(1)) / 1024,
        "traceback": "Traceback" in completed.stderr,
        "says": says.replace(path, os.path.basename(path)),
    }


def _first_finding(stdout: str) -> str:
    try:
        findings = json.loads(stdout)["findings"]
    except (ValueError, KeyError):
        return "(no report)"
    return f"{findings[0]['rule']}: {findings[0]['message']}" if findings else "(no findings)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--depths", type=int, nargs="+", default=[40, 1_000])
    arguments = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for name, (extension, make) in SHAPES.items():
        for depth in arguments.depths:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            path = os.path.join(OUT, f"{slug}-{depth}.{extension}")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(make(depth))
            result = run(arguments.python, path)
            rows.append((name, depth, os.path.getsize(path), result))
            print(f"bench_hostile: {name} at depth {depth}: {result}", file=sys.stderr)
    print("| shape | depth | file size | exit | wall | max RSS | traceback | what it says |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, depth, size, result in rows:
        mb = f"{result['mb']:.0f} MB" if result["mb"] is not None else "-"
        print(
            f"| {name} | {depth:,} | {size:,} B | {result['exit']} | {result['seconds']:.2f} s | {mb} | "
            f"{'yes' if result['traceback'] else 'no'} | {str(result['says'])[:140]} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
