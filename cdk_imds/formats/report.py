"""What every output format renders: the findings of one run and how the run went."""

from __future__ import annotations

from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cdk_imds.policy.model import Finding, Summary


class Report(Record):
    """One run's result, as handed to a formatter.

    ``problems`` are one-line descriptions of inputs that could not be read
    (``"cdk.out/Foo.template.json: malformed JSON at line 3 column 5"``); the run went on without
    them, so every format must say so rather than let a partial result pass for a clean one.
    ``command`` is ``"check"`` (templates) or ``"audit"`` (a live account).
    """

    __slots__ = ("findings", "summary", "problems", "tool_version", "command")

    def __init__(
        self, findings: list[Finding], summary: Summary, problems: list[str], tool_version: str, command: str
    ) -> None:
        self.findings = findings
        self.summary = summary
        self.problems = problems
        self.tool_version = tool_version
        self.command = command


def is_live(finding: Finding) -> bool:
    """Whether a finding is about a deployed resource rather than a template resource."""
    has_aws_coordinates = finding.account is not None or finding.region is not None
    return not finding.template and (has_aws_coordinates or finding.resource_id is not None)
