"""Prints the conformance matrix (construct x shape x mode) of the last pytest run, with pass counts.

    .venv/bin/pytest tests/conformance_apps -p no:randomly      # runs the cells, records them
    .venv/bin/python -m tests.conformance_apps.matrix           # the matrix, as a Markdown table
    .venv/bin/python -m tests.conformance_apps.matrix --failures  # and why each failing cell failed

The results are read from pytest's cache (.pytest_cache/v/conformance/matrix), where
tests/conformance_apps/conftest.py writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".pytest_cache" / "v" / "conformance" / "matrix"
MODE_ORDER = ["fail", "fix", "warn", "fail-aspect", "fix-aspect"]
MARK = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}


def render(results: list[dict[str, Any]], failures: bool) -> str:
    modes = sorted(
        {r["mode"] for r in results}, key=lambda m: (MODE_ORDER.index(m) if m in MODE_ORDER else 99, m)
    )
    cells: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for result in results:
        cells[(result["case"], result["shape"])][result["mode"]] = result["outcome"]
    lines = [
        "| construct | shape | " + " | ".join(modes) + " |",
        "|---|---|" + "---|" * len(modes),
    ]
    for (case, shape), outcomes in sorted(cells.items()):
        marks = [MARK.get(outcomes[m], outcomes[m]) if m in outcomes else "-" for m in modes]
        lines.append(f"| {case} | {shape} | " + " | ".join(marks) + " |")
    lines.append("")
    for mode in modes:
        ran = [r for r in results if r["mode"] == mode]
        passed = sum(r["outcome"] == "passed" for r in ran)
        lines.append(f"{mode}: {passed}/{len(ran)} cells pass")
    for dimension in ("shape", "case"):
        values = sorted({r[dimension] for r in results})
        counts = [
            f"{value} {sum(r['outcome'] == 'passed' for r in results if r[dimension] == value)}"
            f"/{sum(r[dimension] == value for r in results)}"
            for value in values
        ]
        lines.append(f"by {'construct' if dimension == 'case' else dimension}: " + ", ".join(counts))
    total = sum(r["outcome"] == "passed" for r in results)
    lines.append(f"all: {total}/{len(results)} cells pass")
    runs = {r["run"]["label"]: r["run"]["seconds"] for r in results if r.get("run")}
    if runs:
        lines.append(
            "synth seconds: " + ", ".join(f"{label} {seconds}" for label, seconds in sorted(runs.items()))
        )
    if failures:
        lines.append("")
        for result in results:
            if result["outcome"] != "passed":
                lines.append(f"- {result['mode']}-{result['shape']}-{result['case']}: {result['reason']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--failures", action="store_true", help="list why each failing cell failed")
    parser.add_argument("--json", action="store_true", help="print the recorded results as JSON")
    arguments = parser.parse_args(argv)
    if not CACHE.exists():
        print(f"no results in {CACHE}: run `.venv/bin/pytest tests/conformance_apps` first", file=sys.stderr)
        return 2
    results = json.loads(CACHE.read_text(encoding="utf-8"))
    print(json.dumps(results, indent=1) if arguments.json else render(results, arguments.failures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
