"""Live AWS accounts: the only part of cdk-imds that imports boto3.

``inventory`` reads what runs, ``audit`` judges it with the same policy engine as ``check``.
"""

from __future__ import annotations

# Readiness window: how many days of CloudWatch MetadataNoToken to sum. Defined here, away from
# boto3, so the CLI can show it in --help without importing the AWS code.
DEFAULT_USAGE_DAYS = 14
