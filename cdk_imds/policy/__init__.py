"""The policy engine: pure Python over plain template dicts. It never imports aws_cdk or boto3."""

from cdk_imds.policy.context import Options
from cdk_imds.policy.engine import CheckResult, check_sources, check_template
from cdk_imds.policy.model import RULES, Finding, RuleId, RuleInfo, Severity, Summary

__all__ = [
    "RULES",
    "CheckResult",
    "Finding",
    "Options",
    "RuleId",
    "RuleInfo",
    "Severity",
    "Summary",
    "check_sources",
    "check_template",
]
