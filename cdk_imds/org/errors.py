"""Errors the organization guardrails raise while an app is being constructed.

They derive from ``ValueError`` (a bad argument) and from cdk-imds's own base error, like the
construct errors in ``cdk_imds.cdk.errors``; they live here so that building a policy document
never imports aws_cdk.
"""

from __future__ import annotations

from cdk_imds.errors import CdkImdsError


class GuardrailConfigurationError(CdkImdsError, ValueError):
    """Arguments to a guardrail that are out of range or cannot work together."""


class PolicyTooLargeError(GuardrailConfigurationError):
    """A policy document over the size AWS Organizations accepts for its type.

    Raised at synth time: Organizations would refuse it at deploy time, after the stack had
    started to change.
    """

    def __init__(self, policy_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"{policy_type} document is {size} characters, over the {limit} AWS Organizations accepts; "
            "exempt fewer principals or split the statements across two policies"
        )
        self.policy_type = policy_type
        self.size = size
        self.limit = limit
