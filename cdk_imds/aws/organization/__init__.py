"""A whole AWS Organization: its active accounts, a role assumed in each, account x region in parallel.

``accounts`` lists and selects the accounts, ``member`` assumes the role in one of them, ``runner``
works through account x region with a bounded pool and reports each account as it finishes,
``audit`` and ``remediate`` are the two commands on top of it, ``report`` and ``report_dir``
render and write their results. Nothing here judges a resource: that stays ``cdk_imds.aws.audit``
and ``cdk_imds.aws.plan``, the same code a single-account run uses.
"""

from __future__ import annotations

# Workers for account x region work: each is a thread waiting on AWS, so more than cores helps;
# more than this mostly buys throttling in the caller's own account (sts:AssumeRole).
DEFAULT_MAX_WORKERS = 16
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
