"""``audit --organization -o DIR``: one report file per account as each finishes, plus a summary.

``DIR/summary.json`` is rewritten (atomically) after every account: the accounts done so far with
their counts, and what failed. An interrupted run therefore keeps every account it finished, and
``--resume`` reads the summary back and skips the accounts that were read completely (an account
with a failed region is read again). ``DIR/summary.txt`` holds the table for people (text format).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from cdk_imds.aws.organization.audit import AccountAudit, AccountRow
from cdk_imds.aws.organization.report import SCHEMA, OrgFormat, OrgReport, render, render_text
from cdk_imds.aws.organization.runner import Failure
from cdk_imds.errors import InputError

SUMMARY = "summary.json"


class ReportDirError(InputError):
    """The report directory cannot be used (not a directory, holds another run, unreadable)."""


class ReportDir:
    def __init__(self, path: str, fmt: OrgFormat, tool_version: str, resume: bool) -> None:
        self.path = path
        self.fmt = fmt
        self.tool_version = tool_version
        # The caller's account, known once the run has started.
        self.caller = ""
        if os.path.exists(path) and not os.path.isdir(path):
            raise ReportDirError(
                path, "not a directory (an organization run writes one file per account into -o DIR)"
            )
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as error:
            raise ReportDirError(path, f"cannot create the directory ({error.strerror})") from None
        summary = os.path.join(path, SUMMARY)
        if os.path.exists(summary) and not resume:
            raise ReportDirError(
                path,
                "holds an earlier run (summary.json): add --resume to continue it, or choose another directory",
            )
        # Accounts of the earlier run: kept when complete and their file is there, read again otherwise.
        self.earlier: dict[str, AccountRow] = {}
        if resume and os.path.exists(summary):
            for row in _read_rows(summary):
                if not row.failed and os.path.exists(self.account_file(row.account)):
                    self.earlier[row.account] = row
        self.rows: dict[str, AccountRow] = dict(self.earlier)
        self.failures: list[Failure] = []

    def account_file(self, account: str) -> str:
        return os.path.join(self.path, f"{account}.{self.fmt.extension}")

    def write_account(self, audit: AccountAudit) -> None:
        report = OrgReport.of_account(self.caller, audit)
        _write(self.account_file(audit.account.id), render(self.fmt, report, self.tool_version))
        self.rows[audit.account.id] = audit.row()
        self.failures += audit.failures
        self._write_summary()

    def finish(self) -> OrgReport:
        """The summary as written: every account's row, this run's failures."""
        report = self._report()
        if self.fmt is OrgFormat.TEXT:
            lines = render_text(OrgReport(report.caller, report.rows, [], [], report.resumed))
            failures = "".join(f"could not read: {failure.line()}\n" for failure in report.failures)
            _write(os.path.join(self.path, "summary.txt"), failures + lines)
        return report

    def _report(self) -> OrgReport:
        rows = sorted(self.rows.values(), key=lambda row: row.account)
        return OrgReport(self.caller, rows, [], list(self.failures), len(self.earlier))

    def _write_summary(self) -> None:
        report = self._report()
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "version": self.tool_version,
            "caller": self.caller,
            "format": self.fmt.value,
            "accounts": [row.to_dict() for row in report.rows],
            "failures": [failure.to_dict() for failure in report.failures],
        }
        _write(os.path.join(self.path, SUMMARY), json.dumps(document, indent=2) + "\n")


def _read_rows(path: str) -> list[AccountRow]:
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise ValueError(f"expected schema {SCHEMA!r}")
        return [AccountRow.from_dict(row) for row in document["accounts"]]
    except OSError as error:
        raise ReportDirError(path, f"cannot read the summary to resume ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ReportDirError(path, f"not a cdk-imds organization summary ({error})") from None


def _write(path: str, text: str) -> None:
    """The whole file or the old one: an interrupted run never leaves half a report."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".cdk-imds-", dir=directory)
    except OSError as error:
        raise ReportDirError(path, f"cannot write ({error.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise ReportDirError(path, f"cannot write ({error.strerror})") from None
