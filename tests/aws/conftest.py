"""A real moto_server on 127.0.0.1 for the AWS tests; never real AWS.

The server starts once per session on a free loopback port; every test starts from an empty
account (moto's reset API) with fake credentials and the server as AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

REGION = "us-east-1"
_MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(_MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto_server did not start")
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A server holding many accounts' state can take long to stop on a loaded machine.
            server.kill()
            server.wait(timeout=30)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty fake account behind ``moto_endpoint``; yields the endpoint."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    # Generous: resetting after a large test (hundreds of instances) takes a while on a busy machine.
    urllib.request.urlopen(request, timeout=120).close()
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # No shared config or credentials of the machine running the tests may leak in.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    yield moto_endpoint


Client = Callable[..., Any]


@pytest.fixture
def make_client(aws: str) -> Client:
    """A boto3 client for arranging the fake account (not the code under test's client)."""

    def make(service: str, region: str = REGION) -> Any:
        return boto3.session.Session().client(service, region_name=region)

    return make


IMAGE_ID = "ami-12c6146b"  # one of moto's built-in AMIs
REQUIRED = {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1}
OPTIONAL = {"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1}


class Account:
    """Arranges the fake account: templates, versions, groups, instances, metric data points."""

    def __init__(self, make_client: Client, region: str = REGION) -> None:
        self.region = region
        self.ec2 = make_client("ec2", region)
        self.autoscaling = make_client("autoscaling", region)
        self.cloudwatch = make_client("cloudwatch", region)

    def template(self, name: str, options: dict[str, Any] | None) -> str:
        data: dict[str, Any] = {"ImageId": IMAGE_ID, "InstanceType": "t3.micro"}
        if options is not None:
            data["MetadataOptions"] = options
        answer = self.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)
        template_id: str = answer["LaunchTemplate"]["LaunchTemplateId"]
        return template_id

    def version(self, template_id: str, options: dict[str, Any] | None) -> int:
        data: dict[str, Any] = {"ImageId": IMAGE_ID, "InstanceType": "t3.micro"}
        if options is not None:
            data["MetadataOptions"] = options
        answer = self.ec2.create_launch_template_version(
            LaunchTemplateId=template_id, LaunchTemplateData=data
        )
        number: int = answer["LaunchTemplateVersion"]["VersionNumber"]
        return number

    def group(self, name: str, desired: int = 0, **launch: Any) -> None:
        self.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=0,
            MaxSize=max(desired, 1),
            DesiredCapacity=desired,
            AvailabilityZones=[f"{self.region}a"],
            **launch,
        )

    def instances_of(self, group: str) -> list[str]:
        answer = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group])
        return [instance["InstanceId"] for instance in answer["AutoScalingGroups"][0]["Instances"]]

    def instance(self, options: dict[str, Any] | None = None) -> str:
        extra = {"MetadataOptions": options} if options is not None else {}
        answer = self.ec2.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1, **extra)
        instance_id: str = answer["Instances"][0]["InstanceId"]
        return instance_id

    def no_token_calls(self, instance_id: str, value: float, hours_ago: float = 1) -> None:
        from datetime import UTC, datetime, timedelta

        self.cloudwatch.put_metric_data(
            Namespace="AWS/EC2",
            MetricData=[
                {
                    "MetricName": "MetadataNoToken",
                    "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                    "Timestamp": datetime.now(UTC) - timedelta(hours=hours_ago),
                    "Value": value,
                    "Unit": "Count",
                }
            ],
        )


@pytest.fixture
def account(make_client: Client) -> Account:
    return Account(make_client)
