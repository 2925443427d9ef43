"""Judging an inventory, without AWS: the cases moto cannot arrange (deleted templates, vanished
launch configurations) and the progress display."""

from __future__ import annotations

import io

from cdk_imds.aws.audit import judge_region
from cdk_imds.aws.inventory import Group, LaunchRef, RegionInventory, TemplateVersion, TemplateVersions
from cdk_imds.cli.output import Progress as _Progress
from cdk_imds.policy.model import RuleId, Severity

OPTIONAL = {"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2}


def _inventory() -> RegionInventory:
    return RegionInventory(region="eu-west-1")


def test_a_template_that_cannot_be_read_is_unverifiable_not_clean() -> None:
    inventory = _inventory()
    inventory.groups = [Group("orphan", [LaunchRef("lt-gone", None, "$Latest", "group")])]
    inventory.templates = {
        "lt-gone": TemplateVersions(problem="InvalidLaunchTemplateId.NotFound when reading lt-gone")
    }

    findings, resources = judge_region(inventory, "111122223333", 14)

    assert [(f.rule, f.resource_id, f.related) for f in findings] == [
        (RuleId.IMDSV2_UNVERIFIABLE, "orphan", "lt-gone version $Latest")
    ]
    assert "InvalidLaunchTemplateId.NotFound" in findings[0].message
    assert resources == 2


def test_a_launch_configuration_that_is_gone_is_unverifiable() -> None:
    inventory = _inventory()
    inventory.groups = [Group("old", launch_configuration="deleted-lc")]

    findings, _ = judge_region(inventory, "111122223333", 14)

    assert [(f.rule, f.resource_type) for f in findings] == [
        (RuleId.IMDSV2_UNVERIFIABLE, "AWS::AutoScaling::AutoScalingGroup")
    ]


def test_a_template_named_only_by_name_resolves_and_hop_limits_warn() -> None:
    inventory = _inventory()
    inventory.groups = [Group("by-name", [LaunchRef(None, "web", "$Default", "group")], instance_ids=["i-1"])]
    version = TemplateVersion("lt-1", "web", 4, True, OPTIONAL)
    inventory.templates = {"name:web": TemplateVersions({4: version}, latest=4, default=4)}
    inventory.no_token_calls = {"i-1": 3.0}

    findings, _ = judge_region(inventory, "111122223333", 7)

    group = [f for f in findings if f.resource_id == "by-name"]
    assert [(f.rule, f.severity) for f in group] == [
        (RuleId.IMDSV2_REQUIRED, Severity.ERROR),
        (RuleId.IMDS_HOP_LIMIT, Severity.WARNING),
    ]
    assert group[0].related == "lt-1 version 4"
    assert group[0].extra == {"metadata_no_token": 3.0, "usage_days": 7, "measured_instances": 1}
    assert "not ready: 3 IMDSv1 calls (MetadataNoToken) in the last 7 days on 1 instance" in group[0].message


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = _Progress(stream)
        progress.region_done("us-east-1", 1, 2)
        progress.region_done("eu-west-1", 2, 2)
        progress.close()

    assert terminal.getvalue().endswith(
        "\rcdk-imds: audit [" + "#" * 30 + "] 2/2 regions (eu-west-1)\x1b[K\n"
    )
    assert log.getvalue() == "cdk-imds: audited us-east-1 (1/2)\ncdk-imds: audited eu-west-1 (2/2)\n"
