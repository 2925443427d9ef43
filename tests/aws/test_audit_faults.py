"""Scale and failure: pagination, batching, retries after throttling and 5xx, unusable access."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config

from cdk_imds.aws import session as aws_session
from cdk_imds.aws.audit import run_audit
from cdk_imds.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, main
from tests.aws.conftest import OPTIONAL, REQUIRED, Account, Client
from tests.aws.recording import CallLog, FailFirst, ec2_error, hook_sessions, query_error


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard retries keep their attempt count but the test does not sleep between attempts."""
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)


def test_groups_are_paginated_and_templates_read_once_each(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Auto Scaling groups are read 100 a page (MaxRecords); launch templates it does not page
    # beyond 15 without a NextToken, so nothing here relies on listing them.
    good = account.template("good", REQUIRED)
    legacy = account.template("legacy", OPTIONAL)
    for index in range(120):
        template = legacy if index % 10 == 0 else good
        account.group(
            f"group-{index:03}", LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"}
        )
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    findings = run_audit(None, [], False).findings

    groups = {f.resource_id for f in findings if f.resource_type == "AWS::AutoScaling::AutoScalingGroup"}
    assert groups == {f"group-{index:03}" for index in range(0, 120, 10)}
    assert log.count("DescribeAutoScalingGroups") == 2
    # One call per distinct template, not per group.
    assert log.count("DescribeLaunchTemplateVersions") == 2
    assert len(log.calls) < 120 / 10


def test_launch_configurations_are_read_in_batches(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(60):
        name = f"lc-{index:02}"
        account.autoscaling.create_launch_configuration(
            LaunchConfigurationName=name, ImageId="ami-12c6146b", InstanceType="t3.micro"
        )
        account.group(f"group-{index:02}", LaunchConfigurationName=name)
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    findings = run_audit(None, [], False).findings

    assert len({f.resource_id for f in findings if f.resource_type.endswith("LaunchConfiguration")}) == 60
    # 60 names: two batches of at most 50.
    assert log.count("DescribeLaunchConfigurations") == 2


def test_metric_queries_are_batched_per_500_instances(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.ec2.run_instances(ImageId="ami-12c6146b", MinCount=501, MaxCount=501, MetadataOptions=REQUIRED)
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    assert run_audit(None, [], False).findings == []
    assert log.count("GetMetricData") == 2


@pytest.mark.parametrize(
    ("event", "status", "body"),
    [
        ("before-send.auto-scaling.DescribeAutoScalingGroups", 400, query_error("Throttling")),
        ("before-send.auto-scaling.DescribeAutoScalingGroups", 503, query_error("ServiceUnavailable")),
        ("before-send.ec2.DescribeLaunchTemplateVersions", 503, ec2_error("RequestLimitExceeded")),
        ("before-send.ec2.DescribeInstances", 500, ec2_error("InternalError")),
        ("before-send.cloudwatch.GetMetricData", 503, b""),
        ("before-send.sts.GetCallerIdentity", 502, b""),
    ],
)
def test_throttling_and_server_errors_are_retried(
    account: Account, monkeypatch: pytest.MonkeyPatch, no_backoff: None, event: str, status: int, body: bytes
) -> None:
    lt = account.template("legacy", OPTIONAL)
    account.group("web", desired=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"})
    failing = FailFirst(times=3, status=status, body=body)
    hook_sessions(monkeypatch, (event, failing))

    code = main(["audit"])

    assert code == EXIT_FINDINGS
    assert failing.sent == 4


def test_an_error_that_persists_is_one_line_and_exit_2(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    denied = FailFirst(times=1, status=403, body=query_error("AccessDenied"))
    hook_sessions(monkeypatch, ("before-send.auto-scaling.DescribeAutoScalingGroups", denied))

    code = main(["audit"])

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert (
        err == "cdk-imds: error: autoscaling:DescribeAutoScalingGroups: AccessDenied: injected by the test\n"
    )


def test_missing_credentials_are_one_line_and_exit_2(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code = main(["audit"])

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert err.startswith("cdk-imds: error: sts:GetCallerIdentity: no AWS credentials found")
    assert err.count("\n") == 1


def test_unknown_profile_is_one_line_and_exit_2(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--profile", "no-such-profile"])

    assert code == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "cdk-imds: error: session: The config profile (no-such-profile) could not be found\n"
    )


def test_unreachable_endpoint_is_one_line_and_exit_2(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(aws_session, "CLIENT_CONFIG", Config(retries={"mode": "standard", "max_attempts": 1}))

    code = main(["audit"])

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert err.startswith(
        'cdk-imds: error: sts:GetCallerIdentity: Could not connect to the endpoint URL: "http://127.0.0.1:9/"'
    )
    assert err.count("\n") == 1


def test_no_region_is_bad_input(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    assert main(["audit"]) == EXIT_BAD_INPUT
    assert "no AWS region" in capsys.readouterr().err


def test_region_flags_exclude_each_other(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--all-regions", "--region", "us-east-1"]) == EXIT_BAD_INPUT
    assert "exclude each other" in capsys.readouterr().err


def test_all_regions_reads_every_region(
    account: Account, make_client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an insecure group in a region other than the session's
    far = Account(make_client, "ap-southeast-2")
    far.group("far-away", LaunchTemplate={"LaunchTemplateId": far.template("legacy", OPTIONAL)})
    regions = {region["RegionName"] for region in account.ec2.describe_regions()["Regions"]}
    read: set[tuple[str, str]] = set()

    def record(model: Any, context: dict[str, Any], **_: Any) -> None:
        read.add((context["client_region"], model.name))

    hook_sessions(monkeypatch, ("before-call.*.*", record))

    # When every region is audited
    code = main(["audit", "--all-regions", "--format", "json"])

    # Then groups and instances are read in each region, and the far
    # region's group is found there
    assert code == EXIT_FINDINGS
    assert len(regions) > 10
    for operation in ("DescribeAutoScalingGroups", "DescribeInstances"):
        assert {region for region, name in read if name == operation} == regions, operation
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [
        (f["resource_id"], f["region"])
        for f in findings
        if f["resource_type"] == "AWS::AutoScaling::AutoScalingGroup"
    ] == [("far-away", "ap-southeast-2")]


def test_many_templates_are_read_with_one_account_wide_listing(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From eight distinct templates on, the $Latest and $Default versions of every template come
    # from one listing (200 a page); only a pinned number the listing does not cover costs a call.
    templates = [
        account.template(f"t{index:02}", OPTIONAL if index % 4 == 0 else REQUIRED) for index in range(12)
    ]
    # t01: versions 2 and 3 drop the tokens requirement and 3 becomes the default, but its group
    # pins version 1 (compliant), which the listing of latest and default versions does not hold.
    # t02: the default moves to version 2 (optional) while its group pins it by number.
    account.version(templates[1], OPTIONAL)
    account.version(templates[1], OPTIONAL)
    account.ec2.modify_launch_template(LaunchTemplateId=templates[1], DefaultVersion="3")
    account.version(templates[2], OPTIONAL)
    account.ec2.modify_launch_template(LaunchTemplateId=templates[2], DefaultVersion="2")
    versions = {1: "1", 2: "2"}
    for index, template in enumerate(templates):
        account.group(
            f"group-{index:02}",
            LaunchTemplate={"LaunchTemplateId": template, "Version": versions.get(index, "$Latest")},
        )
    log = CallLog()
    hook_sessions(monkeypatch, ("before-call.*.*", log))

    findings = run_audit(None, [], False).findings

    failing_groups = {
        f.resource_id for f in findings if f.resource_type == "AWS::AutoScaling::AutoScalingGroup"
    }
    assert failing_groups == {"group-00", "group-02", "group-04", "group-08"}
    failing_templates = {f.resource_id for f in findings if f.resource_type == "AWS::EC2::LaunchTemplate"}
    # Each template's default version is judged too.
    assert failing_templates == {templates[0], templates[1], templates[2], templates[4], templates[8]}
    # One listing, plus version 1 of t01 (pinned, neither its latest nor its default).
    assert log.count("DescribeLaunchTemplateVersions") == 2
