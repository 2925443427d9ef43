"""``app.synth()`` of an enforced app: every Stage covered first, and a non-zero exit on errors.

Why the exit code is set here: when the CDK CLI runs the app, CDK writes the validation report and
leaves failing to the CLI, which counts only the stacks it selected; plain ``cdk synth`` selects
the App's own stacks, so errors in a Stage or a template asset passed (aws/aws-cdk#26844 and #27575
are older forms of this). And jsii runs the app's JavaScript in a child process, whose exit code
nobody reads. So after synthesis the Python process itself fails, with one line on stderr, when the
cdk-imds report of the app still fails after CDK applied acknowledgements; whatever the CLI selects.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import aws_cdk as cdk

from cdk_imds.cdk.enforcement.aspect import fixes_of
from cdk_imds.cdk.enforcement.javascript import raised_as
from cdk_imds.cdk.enforcement.patching import Method, wrap_once
from cdk_imds.cdk.enforcement.plugin import PLUGIN_NAME, plugin_of
from cdk_imds.cdk.enforcement.stages import cover_all, settings_for
from cdk_imds.cdk.errors import SynthesisFailed
from cdk_imds.wording import counted

REPORT_FILE = "validation-report.json"


def install() -> None:
    """Wraps ``App.synth`` once (jsii generates it on App itself, not only on Stage)."""
    wrap_once(cdk.App if "synth" in vars(cdk.App) else cdk.Stage, "synth", _synth_wrapper)


def _synth_wrapper(original: Method) -> Method:
    def synth(self: cdk.Stage, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(self, cdk.App):
            return original(self, *args, **kwargs)
        settings = settings_for(self)
        if settings is not None:
            cover_all(self, settings)
        plugin = plugin_of(self)
        if plugin is not None:
            plugin.reset()
        try:
            assembly = original(self, *args, **kwargs)
        except Exception as error:
            # Outside the CDK CLI, CDK itself throws on a failed report, having shown it already.
            failure = _failure(self)
            if failure is not None:
                _summarize_fixes(self)
                raise failure from error
            # An error of cdk-imds's own in an aspect (a bad context value, say) as it was raised,
            # not as the RuntimeError jsii makes of it.
            raised = raised_as(error)
            if raised is not None:
                raise raised from None
            raise
        failure = _failure(self)
        if failure is not None:
            # Under the CDK CLI nothing has shown the report: the CLI stops at the app's exit code.
            _summarize_fixes(self)
            for line in failure.violations:
                print(line, file=sys.stderr)
            raise failure
        _summarize_warnings(self)
        _summarize_fixes(self)
        return assembly

    return synth


def _failure(app: cdk.App) -> SynthesisFailed | None:
    """What to fail with, or None when cdk-imds's report passes (or no plugin ran)."""
    plugin = plugin_of(app)
    if plugin is None or not plugin.failed:
        return None
    report = os.path.join(app.outdir, REPORT_FILE)
    if plugin.crashed:
        return SynthesisFailed(
            f"cdk-imds: synthesis failed: the cdk-imds validation plugin could not judge the templates "
            f"(an internal error; please report it); its error is in the report: {_shown(report)}"
        )
    violations = _remaining_errors(report)
    if violations is not None and not violations:
        return None  # every error acknowledged (Validations.of(scope).acknowledge)
    count = plugin.errors if violations is None else len(violations)
    unfixed = " that FIX could not fix" if fixes_of(app) is not None else ""
    message = (
        f"cdk-imds: synthesis failed: {counted(count, 'IMDSv2 error')}{unfixed} in the "
        f"templates this app deploys (every Stage and template asset); report: {_shown(report)}"
    )
    return SynthesisFailed(message, violations or [])


def _summarize_warnings(app: cdk.App) -> None:
    """WARN mode: one line, since the CLI shows the report only for the stacks it selected."""
    plugin = plugin_of(app)
    if plugin is not None and not plugin.fails and plugin.errors:
        count = counted(plugin.errors, "IMDSv2 error")
        report = _shown(os.path.join(app.outdir, REPORT_FILE))
        print(
            f"cdk-imds (warn mode): {count} in the templates this app deploys, reported as warnings; "
            f"report: {report}",
            file=sys.stderr,
        )


def _summarize_fixes(app: cdk.App) -> None:
    """FIX mode: one line counting the changes (each is an info note on its construct, which the
    CLI prints only for the stacks it selected), naming those that replace capacity on deploy."""
    fixes = fixes_of(app)
    if fixes is None or not fixes.changed:
        return
    line = f"cdk-imds (fix mode): {counted(fixes.changed, 'resource')} changed to require IMDSv2"
    if fixes.replacing:
        line += f"; deploying replaces the capacity of {', '.join(fixes.replacing)} (see their notes)"
    print(line + "; each change is an aws:cdk:info note on its construct.", file=sys.stderr)


def _remaining_errors(report: str) -> list[str] | None:
    """One line per error left in cdk-imds's part of CDK's report; None if it cannot be read."""
    try:
        with open(report, encoding="utf-8") as handle:
            document = json.load(handle)
        plugin_reports = [
            entry for entry in document["pluginReports"] if entry.get("pluginName") == PLUGIN_NAME
        ]
        return [
            _line(violation, where)
            for entry in plugin_reports
            for violation in entry.get("violations") or []
            if violation.get("severity") in ("error", "fatal")
            for where in violation.get("violatingConstructs") or [{}]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _line(violation: dict[str, Any], where: dict[str, Any]) -> str:
    resource = where.get("cloudFormationResource") or {}
    place = where.get("constructPath") or (
        f"{resource.get('templatePath', '?')} {resource.get('logicalId', '?')}"
    )
    fix = f" Fix: {violation['suggestedFix']}" if violation.get("suggestedFix") else ""
    rule = f"{PLUGIN_NAME}::{violation.get('ruleName', '')}"
    return f"ERROR {place} [{rule}] {violation.get('description', '')}{fix}"


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
