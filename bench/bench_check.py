#!/usr/bin/env python3
"""Time ``cdk-imds check`` on a cloud assembly against a Python process that only json-loads it.

    python bench/bench_check.py ASSEMBLY [--repeat 5] [--json OUT] [--markdown] [--what-if] [--only]

Every measurement is a fresh subprocess of the same interpreter (this one, normally
``.venv/bin/python``), so interpreter start-up and imports count the same way for all of them:

  floor        bench/floor_load.py: json.load manifest.json, every template and every metadata side
               file the manifest names (the files cdk-imds reads); each dropped after parsing
  floor-keep   the same, keeping every parsed file in memory (what a cross-stack checker keeping everything does)
  load         bench/inprocess_check.py --load-only: import cdk-imds, then load_paths()
  check        bench/inprocess_check.py: import cdk-imds, load_paths(), check_sources()
  cli          python -m cdk_imds check ASSEMBLY --format json, stdout to a file (the whole command:
               argument parsing, loading, checking, rendering and writing the JSON report)
  check-gc     (--what-if only) ``check`` with the cyclic GC off while loading, then gc.freeze(),
               as the CLI did before it judged a stack at a time (cdk_imds.cli.check)

For each: the process's wall time (time.perf_counter around subprocess.run) and, for all but
``cli``, the time measured inside the process with time.perf_counter (from before the first file is
opened to after the last verdict, imports excluded), the process's CPU time, and the interpreter's
start-up and exit times (the child prints its own clock readings; CLOCK_MONOTONIC is shared). Runs
are interleaved round-robin after one untimed warm-up round (page cache, .pyc files under
bench/out/pycache), and reported as median and min of ``--repeat``.

Not ``-o /dev/null``: the CLI writes reports atomically (temporary file + rename), and run as root
that rename would replace the /dev/null device node with a regular file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Children may cache compiled modules, as an installed cdk-imds would have them (pip compiles on
# install), but under bench/out/pycache instead of __pycache__ folders next to the sources; the
# warm-up round fills it. PYTHONDONTWRITEBYTECODE, if set, would make every run compile cdk-imds again.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CHILD_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(HERE, "out", "pycache")


def commands(assembly: str, python: str, what_if: bool) -> dict[str, list[str]]:
    table = {
        "floor": [python, os.path.join(HERE, "floor_load.py"), assembly],
        "floor-keep": [python, os.path.join(HERE, "floor_load.py"), "--keep", assembly],
        "load": [python, os.path.join(HERE, "inprocess_check.py"), "--load-only", assembly],
        "check": [python, os.path.join(HERE, "inprocess_check.py"), assembly],
        "cli": [python, "-m", "cdk_imds", "check", assembly, "--format", "json"],
    }
    if what_if:
        table["check-gc"] = [python, os.path.join(HERE, "inprocess_check.py"), "--gc-tuned", assembly]
    return table


def run_once(name: str, command: list[str], report_path: str) -> dict[str, Any]:
    with open(report_path, "w", encoding="utf-8") as stdout:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(
            command, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, env=CHILD_ENV, check=False
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time (user + system) of the child: less disturbed than wall time when other work shares the
    # two cores, so it is reported beside it.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # cdk-imds exits 1 when it found errors, which this assembly has on purpose.
    is_cli = name.startswith("cli")
    allowed = (0, 1) if is_cli else (0,)
    if completed.returncode not in allowed:
        sys.stderr.write(completed.stderr.decode(errors="replace"))
        raise SystemExit(f"bench_check: {name} exited {completed.returncode}: {' '.join(command)}")
    with open(report_path, encoding="utf-8") as handle:
        output = json.load(handle)
    result: dict[str, Any] = {"wall": wall, "cpu": cpu}
    if is_cli:
        summary = output["summary"]
        result.update(
            findings=len(output["findings"]),
            errors=summary["errors"],
            warnings=summary["warnings"],
            resources=summary["resources"],
            templates=summary["templates"],
            problems=len(output["problems"]),
        )
    else:
        result.update(output)
        # Interpreter start-up (until the script's first line) and exit (after its last line: freeing
        # every object, and the final garbage collection), on the clock both processes share.
        result["startup_seconds"] = result.pop("started_at") - started
        result["exit_seconds"] = (started + wall) - result.pop("finished_at")
    return result


def summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"n": len(samples)}
    for key in (
        "wall",
        "cpu",
        "seconds",
        "startup_seconds",
        "import_seconds",
        "load_seconds",
        "check_seconds",
        "gc_seconds",
        "exit_seconds",
    ):
        values = [sample[key] for sample in samples if key in sample]
        if values:
            summary[key] = {"median": statistics.median(values), "min": min(values)}
    last = samples[-1]
    for key in ("findings", "errors", "warnings", "resources", "templates", "files", "by_rule", "problems"):
        if key in last:
            summary[key] = last[key]
    return summary


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assembly")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="interpreter for every subprocess")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table too")
    parser.add_argument(
        "--what-if", action="store_true", help="also time check with the GC change (check-gc)"
    )
    parser.add_argument(
        "--only",
        action="store_true",
        help="time only floor and cli (more rounds in the same time) and print their paired ratios",
    )
    arguments = parser.parse_args(argv)
    assembly = os.path.abspath(arguments.assembly)
    table = commands(assembly, arguments.python, arguments.what_if)
    if arguments.only:
        table = {name: table[name] for name in ("floor", "cli")}
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in table}
    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        for round_number in range(arguments.repeat + 1):
            for name, command in table.items():
                result = run_once(name, command, os.path.join(scratch, f"{name}.out"))
                if round_number:  # round 0 warms the page cache and writes .pyc files
                    samples[name].append(result)
            if round_number:
                print(f"bench_check: round {round_number}/{arguments.repeat} done", file=sys.stderr)
    results = {name: summarize(runs) for name, runs in samples.items()}
    # Each round runs floor and cli back to back: their ratio within a round cancels most of what
    # the machine's load does to both, which the ratio of two medians does not.
    paired = sorted(c["wall"] / f["wall"] for f, c in zip(samples["floor"], samples["cli"], strict=True))
    results["cli"]["paired_ratio"] = {
        "median": statistics.median(paired),
        "quartiles": statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3,
    }
    version = subprocess.run(
        [arguments.python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    ).stdout.strip()
    meta = {
        "assembly": assembly,
        "repeat": arguments.repeat,
        "python": version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    cli = results["cli"]
    for name, result in results.items():
        if "findings" in result and result["findings"] != cli["findings"]:
            raise SystemExit(f"bench_check: {name} found {result['findings']}, the CLI {cli['findings']}")
    pairs = results["cli"]["paired_ratio"]
    if arguments.only:
        for name in ("floor", "cli"):
            wall = results[name]["wall"]
            print(f"{name:6} wall median {wall['median']:.3f} s (min {wall['min']:.3f})")
    else:
        print_report(meta, results)
    print(
        f"cli/floor wall, paired by round: median {pairs['median']:.2f}x, quartiles "
        f"{pairs['quartiles'][0]:.2f}x-{pairs['quartiles'][2]:.2f}x over {arguments.repeat} rounds"
    )
    if arguments.markdown and not arguments.only:
        print()
        print(markdown(meta, results))
    if arguments.json:
        with open(arguments.json, "w", encoding="utf-8") as handle:
            json.dump({"meta": meta, "results": results}, handle, indent=2)
    return 0


def print_report(meta: dict[str, Any], results: dict[str, Any]) -> None:
    floor, keep = results["floor"], results["floor-keep"]
    print(
        f"assembly {meta['assembly']}: {floor['templates']} templates, {floor['resources']} resources, "
        f"{floor['files']} JSON files; Python {meta['python']}, {meta['cpus']} CPUs; "
        f"median (min) of {meta['repeat']} runs"
    )
    print(f"{'':12} {'process wall s':>20} {'process CPU s':>20} {'in-process s':>20}")
    for name, result in results.items():
        wall, cpu = result["wall"], result["cpu"]
        inner = result.get("seconds")
        inner_text = f"{inner['median']:.3f} ({inner['min']:.3f})" if inner else "-"
        print(
            f"{name:12} {wall['median']:>11.3f} ({wall['min']:.3f}) {cpu['median']:>11.3f} ({cpu['min']:.3f}) "
            f"{inner_text:>20}"
        )
    check, load, cli = results["check"], results["load"], results["cli"]
    for name in ("floor", "floor-keep", "check", "check-gc"):
        if name in results:
            r = results[name]
            print(
                f"{name}: start-up {r['startup_seconds']['median']:.3f} s, in-process {r['seconds']['median']:.3f} s, "
                f"exit {r['exit_seconds']['median']:.3f} s (medians)"
            )
    print(
        f"check: import {check['import_seconds']['median']:.3f} s, load {check['load_seconds']['median']:.3f} s, "
        f"rules {check['check_seconds']['median']:.3f} s, of which cyclic GC {check['gc_seconds']['median']:.3f} s; "
        f"{cli['findings']} findings ({cli['errors']} errors, {cli['warnings']} warnings) on "
        f"{cli['resources']} resources: {check['by_rule']}"
    )
    print(
        f"ratios, median (min): cli/floor wall {ratio(cli['wall']['median'], floor['wall']['median'])} "
        f"({ratio(cli['wall']['min'], floor['wall']['min'])}), "
        f"check/floor in-process {ratio(check['seconds']['median'], floor['seconds']['median'])} "
        f"({ratio(check['seconds']['min'], floor['seconds']['min'])}), "
        f"load/floor in-process {ratio(load['seconds']['median'], floor['seconds']['median'])}; "
        f"against floor-keep: cli {ratio(cli['wall']['median'], keep['wall']['median'])}, "
        f"check {ratio(check['seconds']['median'], keep['seconds']['median'])}; "
        f"CPU time: cli/floor {ratio(cli['cpu']['median'], floor['cpu']['median'])}"
    )


def markdown(meta: dict[str, Any], results: dict[str, Any]) -> str:
    floor, keep = results["floor"], results["floor-keep"]
    labels = {
        "floor": "floor: json.load manifest + templates (each dropped)",
        "floor-keep": "floor-keep: the same, all kept in memory",
        "load": "cdk-imds load only (`load_paths`)",
        "check": "cdk-imds load + check (`load_paths` + `check_sources`)",
        "cli": "cdk-imds CLI (`python -m cdk_imds check --format json`)",
        "check-gc": "load + check as the CLI loads: no GC while loading, then `gc.freeze()`",
    }
    lines = [
        "| what | process wall, median (min) | vs floor, median (min) | process CPU, median | vs floor "
        "| in-process, median (min) | vs floor, median (min) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in results.items():
        wall, inner = result["wall"], result.get("seconds")
        inner_text = f"{inner['median']:.3f} s ({inner['min']:.3f})" if inner else "n/a"
        inner_ratio = (
            f"{ratio(inner['median'], floor['seconds']['median'])} ({ratio(inner['min'], floor['seconds']['min'])})"
            if inner
            else "n/a"
        )
        lines.append(
            f"| {labels[name]} | {wall['median']:.3f} s ({wall['min']:.3f}) | "
            f"{ratio(wall['median'], floor['wall']['median'])} ({ratio(wall['min'], floor['wall']['min'])}) | "
            f"{result['cpu']['median']:.3f} s | {ratio(result['cpu']['median'], floor['cpu']['median'])} | "
            f"{inner_text} | {inner_ratio} |"
        )
    check, cli = results["check"], results["cli"]
    lines.append("")
    lines.append(
        f"Findings: {cli['findings']} ({cli['errors']} errors, {cli['warnings']} warnings) on "
        f"{cli['resources']} resources in {cli['templates']} templates; by rule {check['by_rule']}. "
        f"In-process split of load + check (median): import {check['import_seconds']['median']:.3f} s "
        f"(not in the in-process column), load {check['load_seconds']['median']:.3f} s, rules "
        f"{check['check_seconds']['median']:.3f} s; of load + check, {check['gc_seconds']['median']:.3f} s "
        f"is the cyclic garbage collector; process exit after the last line takes "
        f"{check['exit_seconds']['median']:.3f} s (floor {floor['exit_seconds']['median']:.3f} s). Against floor-keep: CLI "
        f"{ratio(cli['wall']['median'], keep['wall']['median'])} (wall), load + check "
        f"{ratio(check['seconds']['median'], keep['seconds']['median'])} (in-process)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
