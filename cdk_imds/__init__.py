"""cdk-imds: IMDSv2-only EC2 capacity for AWS CDK apps, enforced at synth time and on live accounts."""

from cdk_imds.policy import Finding, Options, RuleId, Severity, check_sources, check_template

__version__ = "0.1.0"

__all__ = ["Finding", "Options", "RuleId", "Severity", "__version__", "check_sources", "check_template"]
