"""Synthesizing the conformance apps with the real CDK CLI, and reading what each run said.

A run is one ``cdk synth`` of one app (a case set) in one mode. The tests ask for runs by key;
``Runs.prefetch`` starts every run the collected tests need, two at a time (the CLI is slow and
mostly waits on one core), so each is synthesized once per test session.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.conformance_apps.app import ENTRY_KEY, EXPECTATIONS, SET_KEY, SHAPES_KEY
from tests.conformance_apps.deployed import Deployed, deployed_templates
from tests.e2e.cdk_cli import synth

APP = "python3 -m tests.conformance_apps.app"
PLUGIN = "cdk-imds"
# What a crash leaves in the CLI's output: a Python traceback, or jsii's error from Node.js.
CRASH_SIGNS = re.compile(
    r"Traceback \(most recent call last\)|RuntimeError|jsii\.errors|JavaScriptError|^Error: ", re.M
)
# The CLI's rendering of the validation report: "ERROR <message> (cdk-imds)" and, below it, the path.
_REPORT_BLOCK = re.compile(r"^(ERROR|WARNING|INFO) .*\(cdk-imds\)\n\s+(\S+) ", re.M)
# Construct annotations: "[Warning at /Plain/X] cdk-imds: ..." (one line each).
_ANNOTATION = re.compile(r"^\[(Error|Warning|Info) at /([^\]\s]+)\] (.*)$", re.M)
# FIX's notes as the CLI renders annotations: "INFO cdk-imds: set ..." and, below it, the path.
_NOTE_BLOCK = re.compile(r"^INFO (cdk-imds: .*)\n\s+(\S+)", re.M)
# cdk-imds's own lines: "ERROR <where>: IMDSV2_REQUIRED: <message naming the constructs>".
_OWN_LINE = re.compile(r"^(ERROR|WARNING) (.*(?:IMDSV2_|IMDS_|cdk-imds).*)$", re.M)


@dataclass(frozen=True)
class RunKey:
    """One synth: the case set, the mode, how cdk-imds is switched on, and the stack selection."""

    case_set: str
    mode: str  # "fail", "fix", "warn", or "baseline" (no cdk-imds)
    entry: str = "enforce"
    selection: tuple[str, ...] = ()
    shapes: tuple[str, ...] = ()  # empty: every shape

    @property
    def label(self) -> str:
        parts = [self.case_set, self.mode]
        if self.entry not in ("enforce", "none"):
            parts.append(self.entry)
        if self.selection:
            parts.append("select=" + ",".join(self.selection))
        return "-".join(parts)

    def arguments(self) -> list[str]:
        entry = "none" if self.mode == "baseline" else self.entry
        arguments = ["-c", f"{SET_KEY}={self.case_set}", "-c", f"{ENTRY_KEY}={entry}"]
        if self.mode != "baseline":
            arguments += ["-c", f"cdk-imds:mode={self.mode}"]
        if self.shapes:
            arguments += ["-c", f"{SHAPES_KEY}={','.join(self.shapes)}"]
        return [*arguments, *self.selection]


@dataclass
class Run:
    key: RunKey
    returncode: int
    output: str
    outdir: Path
    seconds: float
    expectations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def crash(self) -> list[str]:
        return [match.group(0) for match in CRASH_SIGNS.finditer(self.output)]

    @cached_property
    def plugin_violations(self) -> list[dict[str, Any]]:
        """cdk-imds's violations from every validation report under the output directory."""
        violations: list[dict[str, Any]] = []
        for report in sorted(self.outdir.rglob("validation-report.json")) if self.outdir.exists() else []:
            for plugin in json.loads(report.read_text(encoding="utf-8")).get("pluginReports", []):
                if plugin.get("pluginName") == PLUGIN:
                    violations.extend(plugin.get("violations", []))
        return violations

    @cached_property
    def reported(self) -> list[tuple[str, str]]:
        """(severity, construct path) for everything cdk-imds reported, from the report and the output."""
        found = [
            (violation.get("severity", "error").lower(), construct["constructPath"])
            for violation in self.plugin_violations
            for construct in violation.get("violatingConstructs", [])
        ]
        found += [(severity.lower(), path) for severity, path in _REPORT_BLOCK.findall(self.output)]
        found += [
            (severity.lower(), path)
            for severity, path, message in _ANNOTATION.findall(self.output)
            if PLUGIN in message
        ]
        return found

    @cached_property
    def messages(self) -> list[tuple[str, str]]:
        """(severity, text) of every cdk-imds finding: a construct named in the text is reported too
        (an asset template's finding names the product that deploys it in its message)."""
        found = [
            (
                violation.get("severity", "error").lower(),
                f"{violation.get('description', '')} {violation.get('suggestedFix', '')}",
            )
            for violation in self.plugin_violations
        ]
        found += [(severity.lower(), text) for severity, text in _OWN_LINE.findall(self.output)]
        found += [
            (severity.lower(), message)
            for severity, _, message in _ANNOTATION.findall(self.output)
            if PLUGIN in message
        ]
        return found

    def notes_under(self, path: str) -> list[str]:
        """FIX's notes (info annotations) on ``path`` or a construct below it."""
        notes = [(note, where) for note, where in _NOTE_BLOCK.findall(self.output)]
        notes += [
            (message, where)
            for severity, where, message in _ANNOTATION.findall(self.output)
            if severity == "Info" and message.startswith("cdk-imds:")
        ]
        notes += self.assembly_notes
        return [note for note, where in notes if under(where, path)]

    @cached_property
    def assembly_notes(self) -> list[tuple[str, str]]:
        """(note, construct path) of cdk-imds's info annotations in the cloud assembly's metadata,
        every nested assembly included: the CLI does not always print them."""
        found: list[tuple[str, str]] = []
        files = sorted(self.outdir.rglob("*.metadata.json")) if self.outdir.exists() else []
        for file in files:
            for where, entries in json.loads(file.read_text(encoding="utf-8")).items():
                found += [
                    (entry["data"], where.lstrip("/"))
                    for entry in entries
                    if entry.get("type") == "aws:cdk:info"
                    and isinstance(entry.get("data"), str)
                    and entry["data"].startswith("cdk-imds:")
                ]
        return found

    @cached_property
    def report_text(self) -> str:
        """The CLI's output and cdk-imds's violations as text: where a name must appear."""
        return self.output + "\n" + json.dumps(self.plugin_violations)

    def reported_under(self, path: str, severities: Iterable[str]) -> list[str]:
        """What cdk-imds reported, at one of ``severities``, on ``path`` or a construct below it."""
        wanted = set(severities)
        named = re.compile(r"(?<![\w/.-])" + re.escape(path) + r"(?![\w.-])")
        evidence = {p for severity, p in self.reported if severity in wanted and under(p, path)}
        evidence |= {
            f"{path} (named: {text[:120]})"
            for severity, text in self.messages
            if severity in wanted and named.search(text)
        }
        return sorted(evidence)

    @cached_property
    def deployed(self) -> list[Deployed]:
        return deployed_templates(self.outdir)


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class Runs:
    """Every run of the session, synthesized at most once, two at a time."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cdk-synth")
        self._futures: dict[RunKey, Future[Run]] = {}

    def prefetch(self, keys: Iterable[RunKey]) -> None:
        for key in keys:
            if key not in self._futures:
                self._futures[key] = self._executor.submit(self._synth, key)

    def get(self, key: RunKey) -> Run:
        self.prefetch([key])
        return self._futures[key].result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _synth(self, key: RunKey) -> Run:
        directory = self._root / key.label
        directory.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        result = synth(APP, directory / "cdk.out", *key.arguments())
        seconds = time.monotonic() - started
        expectations_file = directory / EXPECTATIONS
        expectations = (
            json.loads(expectations_file.read_text(encoding="utf-8")) if expectations_file.exists() else []
        )
        return Run(
            key,
            result.returncode,
            result.stdout + result.stderr,
            directory / "cdk.out",
            seconds,
            expectations,
        )


def check(run: Run) -> list[dict[str, Any]]:
    """``cdk-imds check --format json`` on the run's assembly and every asset template it deploys."""
    assets = sorted({str(d.file) for d in run.deployed if ":" in d.identity})
    result = subprocess.run(
        [sys.executable, "-m", "cdk_imds", "check", "--format", "json", str(run.outdir), *assets],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise AssertionError(f"cdk-imds check exited {result.returncode}: {result.stderr.strip()}")
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    # Included templates and asset templates may carry no path metadata: the assembly knows the path.
    by_file = {d.file.resolve(): d for d in run.deployed}
    for finding in findings:
        if not finding.get("construct_path") and finding.get("template"):
            deployed = by_file.get(Path(finding["template"]).resolve()) or by_file.get(
                (run.outdir / finding["template"]).resolve()
            )
            if deployed is not None:
                finding["construct_path"] = deployed.construct_path(finding["logical_id"])
    return findings


def cfn_lint(run: Run) -> list[dict[str, Any]]:
    """cfn-lint's errors (not warnings) on every deployed template, each with its template's identity."""
    files = {str(d.file): d for d in run.deployed}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "json",
            "--regions",
            "us-east-1",
            "--",
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not result.stdout.strip():
        raise AssertionError(f"cfn-lint printed nothing (exit {result.returncode}): {result.stderr.strip()}")
    errors: list[dict[str, Any]] = []
    for match in json.loads(result.stdout):
        if match.get("Level") != "Error":
            continue
        deployed = files[match["Filename"]]
        location = match.get("Location", {}).get("Path") or []
        logical_id = location[1] if len(location) > 1 and location[0] == "Resources" else None
        errors.append(
            {
                "template": deployed.identity,
                "rule": match["Rule"]["Id"],
                "path": "/".join(str(part) for part in location),
                "logical_id": logical_id,
                "construct_path": deployed.construct_path(logical_id) if logical_id else None,
                "message": match.get("Message", ""),
            }
        )
    return errors
