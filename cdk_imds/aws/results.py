"""What an applied run or a revert did, item by item: applied, held back, skipped, or failed.

Applying never raises for one item: each gets a result, so one failing group does not stop the
others and the summary says exactly what is left (a rerun completes it).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    APPLIED = "applied"
    HELD_BACK = "held back"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    region: str
    subject: str  # "group web", "instance i-...", "template lt-..."
    outcome: Outcome
    actions: tuple[str, ...] = ()
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The result in the JSON reports of one account and of an organization alike."""
        return {
            "region": self.region,
            "subject": self.subject,
            "outcome": self.outcome.value,
            "actions": list(self.actions),
            "reason": self.reason or None,
        }


@dataclass
class Run:
    account: str
    command: str  # "apply" or "revert"
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_file: str | None = None

    @property
    def complete(self) -> bool:
        """Everything the run was asked to do is done (nothing held back, skipped or failed)."""
        return all(result.outcome is Outcome.APPLIED for result in self.results)

    def counts(self) -> dict[Outcome, int]:
        counted = Counter(result.outcome for result in self.results)
        return {outcome: counted.get(outcome, 0) for outcome in Outcome}


_MARK = {Outcome.APPLIED: "ok  ", Outcome.HELD_BACK: "HOLD", Outcome.SKIPPED: "skip", Outcome.FAILED: "FAIL"}


def render_run_text(run: Run) -> str:
    title = "Remediation" if run.command == "apply" else "Revert"
    lines = [f"{title} of account {run.account}"]
    for region in sorted({result.region for result in run.results}):
        lines.append(region)
        for result in run.results:
            if result.region != region:
                continue
            why = f": {result.reason}" if result.reason else ""
            lines.append(f"  {_MARK[result.outcome]} {result.subject}{why}")
            lines += [f"         {action}" for action in result.actions]
    lines += [f"note: {note}" for note in run.notes]
    if run.plan_file:
        lines.append(f"plan file: {run.plan_file}")
    lines.append(summary(run))
    return "\n".join(lines) + "\n"


def summary(run: Run) -> str:
    counts = run.counts()
    return ", ".join(f"{counts[outcome]} {outcome.value}" for outcome in Outcome)


def render_run_json(run: Run) -> str:
    document: dict[str, Any] = {
        "account": run.account,
        "command": run.command,
        "dry_run": False,
        "complete": run.complete,
        "summary": {outcome.value: count for outcome, count in run.counts().items()},
        "results": [result.to_dict() for result in run.results],
        "notes": run.notes,
        "plan_file": run.plan_file,
    }
    return json.dumps(document, indent=2) + "\n"
