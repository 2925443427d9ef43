"""``suppress(construct, rule, reason)``: a cdk-imds suppression, stored where every reader sees it.

The suppression is CloudFormation ``Metadata`` on the resource (``{"cdk-imds": {"suppress": [...]}}``),
the form the policy engine honours, so ``cdk-imds check``, the validation plugin and the aspect all
agree on it.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

from cdk_imds.cdk.errors import ConfigurationError
from cdk_imds.policy import RuleId

METADATA_KEY = "cdk-imds"


class SuppressionError(ConfigurationError):
    """A suppression that cannot be recorded: no reason, an unknown rule, or no resource to hold it."""


def suppress(construct: IConstruct, rule: RuleId | str, reason: str) -> None:
    """Suppresses ``rule`` on ``construct``'s resource, with the reason shown in every report.

    :param construct: a CloudFormation resource, or a construct whose default child is one (an L2).
    :param rule: a rule id such as ``RuleId.IMDS_HOP_LIMIT`` or "IMDS_HOP_LIMIT".
    :param reason: why it is acceptable; required, and blank is not a reason.

    Suppressing the same rule again replaces its reason; other suppressions are kept.
    """
    path = construct.node.path
    rule_id = _rule(rule, path)
    if not isinstance(reason, str) or not reason.strip():
        raise SuppressionError(f"cdk-imds: suppressing {rule_id} on {path} needs a reason (got {reason!r})")
    resource = _resource(construct, path)
    current = resource.get_metadata(METADATA_KEY)
    settings: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
    entries = [
        entry
        for entry in settings.get("suppress") or []
        if not (isinstance(entry, dict) and entry.get("rule") == rule_id.value)
    ]
    entries.append({"rule": rule_id.value, "reason": reason.strip()})
    settings["suppress"] = entries
    resource.add_metadata(METADATA_KEY, settings)


def _rule(rule: RuleId | str, path: str) -> RuleId:
    try:
        return RuleId(rule)
    except ValueError:
        known = ", ".join(member.value for member in RuleId)
        raise SuppressionError(f"cdk-imds: {path}: unknown rule {rule!r} (known: {known})") from None


def _resource(construct: IConstruct, path: str) -> cdk.CfnResource:
    if isinstance(construct, cdk.CfnResource):
        return construct
    child = construct.node.default_child
    if isinstance(child, cdk.CfnResource):
        return child
    raise SuppressionError(
        f"cdk-imds: {path} is not a CloudFormation resource and has no default child resource to suppress on"
    )
