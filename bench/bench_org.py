#!/usr/bin/env python3
"""Time ``cdk-imds audit --organization`` on 200 accounts x 2 regions x 5 groups, 10% denying the role.

    python bench/bench_org.py [--accounts 200] [--regions 2] [--groups 5] [--denied-percent 10]
                              [--workers 16] [--repeat 1] [--json OUT]

Never real AWS: the script starts its own ``moto_server`` on 127.0.0.1 (a free port) with fake
credentials, no shared AWS config, and ``AWS_ENDPOINT_URL`` pointing at it. It seeds (threads, not
timed) an organization of ``--accounts`` member accounts; in each account and region,
``--groups`` Auto Scaling groups, each on a launch template of its own: two of every five on
``HttpTokens: optional`` ($Latest and a pinned version 1), the rest ``required``.

Each measured run is a child process (``--run``) that calls the real CLI entry point,
``cdk_imds.cli.main(["audit", "--organization", "--region", ..., "--format", "json", "-o", DIR,
"--max-workers", N])``, after installing two botocore hooks: ``sts:AssumeRole`` into the denied
accounts (every tenth) is answered with AccessDenied (HTTP 403), as STS answers when the role's
trust policy refuses the caller (moto checks no trust policy), and every API call a member session
makes is counted per account. The child reports its wall time (``time.perf_counter`` around
``main``), peak RSS (VmHWM, the whole process: interpreter, boto3 and all), and
the counts; the parent checks the summary the run wrote: the denied accounts reported, every other
account complete (both regions, no failure) with the expected findings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
IMAGE_ID = "ami-12c6146b"
REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def fake_env(endpoint: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    os.makedirs(OUT, exist_ok=True)
    log = open(os.path.join(OUT, "org-moto-server.log"), "w", encoding="utf-8")  # noqa: SIM115
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
            return server, endpoint
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("moto_server did not start") from None
            time.sleep(0.1)


# --- seeding (not timed) --------------------------------------------------------------------------


def seed(accounts: int, regions: list[str], groups: int) -> list[str]:
    import boto3

    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    ids = [
        organizations.create_account(Email=f"a{index}@example.com", AccountName=f"account-{index:03}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for index in range(accounts)
    ]

    def one(account: str) -> None:
        sts = boto3.session.Session().client("sts", region_name="us-east-1")
        credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")[
            "Credentials"
        ]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        for region in regions:
            ec2 = session.client("ec2", region_name=region)
            autoscaling = session.client("autoscaling", region_name=region)
            for index in range(groups):
                tokens = "optional" if index % 5 in (0, 1) else "required"
                data = {
                    "ImageId": IMAGE_ID,
                    "InstanceType": "t3.micro",
                    "MetadataOptions": {"HttpTokens": tokens},
                }
                template = ec2.create_launch_template(LaunchTemplateName=f"t{index}", LaunchTemplateData=data)
                version = "1" if index % 5 == 1 else "$Latest"
                autoscaling.create_auto_scaling_group(
                    AutoScalingGroupName=f"g{index}",
                    MinSize=0,
                    MaxSize=1,
                    DesiredCapacity=0,
                    AvailabilityZones=[f"{region}a"],
                    LaunchTemplate={
                        "LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"],
                        "Version": version,
                    },
                )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, ids))
    return ids


# --- one measured run (child process) ----------------------------------------------------------------


def run_child(denied: list[str], regions: list[str], workers: int, directory: str) -> None:
    from botocore.awsrequest import AWSResponse

    from cdk_imds.aws import session as aws_session
    from cdk_imds.aws.organization import member
    from cdk_imds.cli import main

    calls: Counter[str] = Counter()
    lock = threading.Lock()
    denied_set = set(denied)

    class Body:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Any:
            yield self.body

    def deny(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        match = re.search(r"iam%3A%3A(\d{12})%3Arole", body)
        if match and match.group(1) in denied_set:
            error = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to "
                b"perform: sts:AssumeRole</Message></Error><RequestId>b</RequestId></ErrorResponse>"
            )
            return AWSResponse(request.url, 403, {}, Body(error))
        return None

    made = aws_session.new_session

    def caller_call(model: Any, **_: Any) -> None:
        with lock:
            calls[f"caller:{model.name}"] += 1

    def new_session(profile: str | None) -> Any:
        session = made(profile)
        session.events.register("before-send.sts.AssumeRole", deny)
        session.events.register("before-call.*.*", caller_call)
        return session

    aws_session.new_session = new_session  # type: ignore[assignment]
    assume = member.Caller.assume

    def counted_assume(self: Any, account_id: str) -> Any:
        session = assume(self, account_id)

        def count(**_: Any) -> None:
            with lock:
                calls[account_id] += 1

        session.events.register("before-call.*.*", count)
        return session

    member.Caller.assume = counted_assume  # type: ignore[method-assign]
    arguments = [
        "audit",
        "--organization",
        "--format",
        "json",
        "-o",
        directory,
        "--max-workers",
        str(workers),
    ]
    for region in regions:
        arguments += ["--region", region]
    started = time.perf_counter()
    code = main(arguments)
    wall = time.perf_counter() - started
    print(
        json.dumps({"exit": code, "wall": wall, "peak_rss_mib": peak_rss_kib() / 1024, "calls": dict(calls)})
    )


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM). Not ``getrusage``'s ru_maxrss: on Linux that
    survives exec, so a child forked from the parent after seeding would report the parent's."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")


# --- the parent ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--denied-percent", type=int, default=10)
    parser.add_argument("--workers", type=int, action="append", help="default: the CLI's default (16)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    options = parser.parse_args()
    regions = REGIONS[: options.regions]
    if options.run:
        spec = json.loads(options.run)
        run_child(spec["denied"], regions, spec["workers"], spec["directory"])
        return

    from cdk_imds.aws.organization import DEFAULT_MAX_WORKERS

    server, endpoint = start_moto()
    try:
        os.environ.update(fake_env(endpoint))
        started = time.perf_counter()
        ids = seed(options.accounts, regions, options.groups)
        seeding = time.perf_counter() - started
        step = max(1, round(100 / options.denied_percent)) if options.denied_percent else 0
        denied = ids[::step] if step else []
        results: dict[str, Any] = {
            "accounts": options.accounts,
            "regions": regions,
            "groups_per_region": options.groups,
            "denied": len(denied),
            "seeding_s": round(seeding, 1),
            "runs": [],
        }
        for workers in options.workers or [DEFAULT_MAX_WORKERS]:
            for _ in range(options.repeat):
                results["runs"].append(measure(ids, denied, workers, options))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # moto holding 200 accounts' state can take long to stop on a loaded machine.
            server.kill()
            server.wait(timeout=30)
    print(json.dumps(results, indent=2))
    if options.json:
        with open(options.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=2)


def measure(ids: list[str], denied: list[str], workers: int, options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-org-", dir=OUT) as directory:
        spec = json.dumps({"denied": denied, "workers": workers, "directory": directory})
        child = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--run", spec, "--regions", str(options.regions)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if child.returncode != 0:
            raise SystemExit(f"the measured run failed:\n{child.stderr[-3000:]}")
        report = json.loads(child.stdout.strip().splitlines()[-1])
        with open(os.path.join(directory, "summary.json"), encoding="utf-8") as stream:
            summary = json.load(stream)
        files = len([name for name in os.listdir(directory) if name.endswith(".json")]) - 1
    rows = {row["account"]: row for row in summary["accounts"]}
    failed = {failure["account"] for failure in summary["failures"]}
    members = [account for account in ids if account not in denied]
    per_account = [report["calls"].get(account, 0) for account in members]
    expected_errors = sum(1 for index in range(options.groups) if index % 5 in (0, 1)) * options.regions
    complete = [
        account
        for account in members
        if rows[account]["failed"] == []
        and len(rows[account]["regions"]) == options.regions
        and rows[account]["errors"] >= expected_errors
    ]
    management = [account for account in rows if account not in ids]
    result = {
        "workers": workers,
        "exit": report["exit"],
        "wall_s": round(report["wall"], 2),
        "peak_rss_mib": round(report["peak_rss_mib"], 1),
        "account_files": files,
        "accounts_reported": len(rows),
        "denied_reported": sorted(failed & set(denied)) == sorted(denied),
        "failed_accounts": len(failed),
        "members_complete": f"{len(complete)}/{len(members)}",
        "api_calls_per_member_account": {
            "median": statistics.median(per_account),
            "min": min(per_account),
            "max": max(per_account),
        },
        "api_calls_members_total": sum(per_account),
        "api_calls_caller": {
            key.split(":", 1)[1]: n for key, n in report["calls"].items() if key.startswith("caller:")
        },
        "findings_errors": sum(row["errors"] for row in summary["accounts"]),
        "findings_warnings": sum(row["warnings"] for row in summary["accounts"]),
        "management_account_rows": len(management),
    }
    print(json.dumps(result), file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
