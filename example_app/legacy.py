"""A stack as older code writes it: a raw launch template with no metadata options at all.

It is here to show enforcement at work: with ``cdk-imds:mode`` "fix" (cdk.json), ``enforce``
adds ``HttpTokens: required`` before the template is written and says so in the synth output; with
``cdk synth -c cdk-imds:mode=fail`` the same app fails synthesis, naming ``LegacyStack/BatchTemplate``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk_imds import suppress


class LegacyStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        template = ec2.CfnLaunchTemplate(
            self,
            "BatchTemplate",
            launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                instance_type="t3.small",
                metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_put_response_hop_limit=2),
            ),
        )
        # Containers on the host need the second hop; accepted with a reason, visible in every report.
        suppress(template, "IMDS_HOP_LIMIT", "batch jobs run in Docker containers that read IMDS")
