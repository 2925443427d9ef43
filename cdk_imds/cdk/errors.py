"""Errors the cdk-imds constructs raise while an app is being constructed.

Both derive from ``ValueError`` (a bad argument) and from cdk-imds's own base error, so a runner
that reports cdk-imds errors as one line reports these the same way.
"""

from __future__ import annotations

from cdk_imds.errors import CdkImdsError


class ConfigurationError(CdkImdsError, ValueError):
    """Arguments that cannot work together or are out of range (not a security decision)."""


class InsecureConfigurationError(ConfigurationError):
    """Arguments that would let instances use IMDSv1, or widen IMDS beyond what was opted into.

    The constructs raise this instead of silently correcting the argument: the caller asked for
    something cdk-imds will not build, and should know.
    """


class SynthesisFailed(SystemExit):
    """``app.synth()`` of an enforced app whose templates still have IMDS errors.

    A ``SystemExit`` carrying its one-line message: uncaught, Python prints the line and exits 1,
    with no traceback (what the CDK CLI shows under the validation report). It is not an
    ``Exception``, so an app's own ``except Exception`` does not swallow it.
    """

    def __init__(self, message: str, violations: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # One line per error left in the report: "ERROR <construct path>: <rule>: <message> Fix: ...".
        self.violations = list(violations or [])
