#!/usr/bin/env python3
"""Time ``cdk-imds audit`` on 1,000 Auto Scaling groups and 1,000 launch templates, and count its API calls.

    python bench/bench_audit.py [--repeat 3] [--groups 1000] [--templates 1000] [--no-cli]
                                [--moto both|paged|stock] [--json OUT] [--markdown]

Never real AWS: the script starts its own ``moto_server`` on 127.0.0.1 (a free port), with fake
credentials, no shared AWS config, and ``AWS_ENDPOINT_URL`` pointing at it; it refuses any other
endpoint. It seeds one region (us-east-1) with launch templates (about half with ``HttpTokens:
required``, some ``optional``, some without ``MetadataOptions``, hop limit 2, endpoint disabled;
several versions on some, the default moved on some), Auto Scaling groups (``$Latest``,
``$Default``, no version, pinned numbers, a few pinned to a version that does not exist,
mixed-instances policies with overrides, launch configurations; a tenth of them with 1 to 5
running instances), a few stand-alone instances, and ``MetadataNoToken`` data points in
``AWS/EC2``. Seeding uses threads and is not timed.

Then, ``--repeat`` times, interleaved:

  in-process   ``cdk_imds.aws.audit.run_audit(None, ["us-east-1"], False)``, timed with
               ``time.perf_counter``; every API call counted by a botocore ``before-call`` hook (one
               per operation call) and every HTTP request by a ``before-send`` hook (retries too)
  cli          ``python -m cdk_imds audit --region us-east-1 --format json`` as a subprocess, stdout to
               a file: the whole command, interpreter start-up and imports included

moto 5.2.5 does not page ``DescribeLaunchTemplateVersions``: asked for every template's ``$Latest``
and ``$Default`` (no template named), it returns the first ``MaxResults`` versions and no
``NextToken``. The server this script starts is moto's own (``moto.server.main``) with one optional
change, switched by a flag file: that listing answers in pages of ``MaxResults`` (1 to 200, as the
EC2 API documents; anything else is an error) with a ``NextToken``, as AWS does. ``--moto both``
(the default) measures moto as shipped ("stock") and with the paging listing ("paged") on the same
seeded account, and checks that both give the same findings.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
REGION = "us-east-1"
IMAGE_ID = "ami-12c6146b"  # one of moto's built-in AMIs
FLAG_ENV = "BENCH_AUDIT_MOTO_PAGING_FLAG"

REQUIRED = {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1}
OPTIONAL = {"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1}
HOP_2 = {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2}
DISABLED = {"HttpTokens": "optional", "HttpEndpoint": "disabled"}


# --- the server ---------------------------------------------------------------------------------


def serve_moto(argv: list[str]) -> None:
    """moto's server, with DescribeLaunchTemplateVersions paging its account-wide listing while the
    flag file named by $BENCH_AUDIT_MOTO_PAGING_FLAG exists (moto as shipped otherwise)."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidParameterValue
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.server import main

    flag = os.environ[FLAG_ENV]
    shipped = LaunchTemplates.describe_launch_template_versions

    def describe_launch_template_versions(self: Any) -> Any:
        named = self._get_param("LaunchTemplateName") or self._get_param("LaunchTemplateId")
        if named or not os.path.exists(flag):
            return shipped(self)
        page_size = self._get_int_param("MaxResults", 200)
        if not 1 <= page_size <= 200:
            raise InvalidParameterValue("MaxResults must be between 1 and 200")
        start = int(self._get_param("NextToken") or 0)
        everything = self.ec2_backend.describe_launch_template_versions(
            template_name=None,
            template_id=None,
            versions=self._get_param("Versions", []),
            min_version=None,
            max_version=None,
            max_results=sys.maxsize,
        )
        result: dict[str, Any] = {
            "LaunchTemplateVersions": [
                {
                    "CreateTime": version.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersion": template.is_default(version),
                    "LaunchTemplateData": version.data,
                    "LaunchTemplateId": template.id,
                    "LaunchTemplateName": template.name,
                    "VersionDescription": version.description,
                    "VersionNumber": version.number,
                }
                for template, version in everything[start : start + page_size]
            ]
        }
        if start + page_size < len(everything):
            result["NextToken"] = str(start + page_size)
        return ActionResult(result)

    LaunchTemplates.describe_launch_template_versions = describe_launch_template_versions  # type: ignore[method-assign]
    main(argv)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def moto_server(flag: str) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, **{FLAG_ENV: flag})
    log = open(os.path.join(OUT, "audit-moto-server.log"), "w", encoding="utf-8")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve-moto", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"moto_server did not start (see {log.name})") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def fake_aws_environment(endpoint: str) -> dict[str, str]:
    """This process's environment, every AWS_* variable replaced: fake keys, the local endpoint,
    no shared config or credential files; proxies bypassed for the loopback address."""
    if not endpoint.startswith("http://127.0.0.1:"):
        raise SystemExit(f"refusing endpoint {endpoint}: this benchmark only talks to 127.0.0.1")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    return env


# --- seeding ------------------------------------------------------------------------------------


class Seeder:
    """Arranges the fake account. Each resource's choices come from its own Random(seed, index), so
    the account is the same whatever order the threads run in."""

    def __init__(self, templates: int, groups: int, seed: int, threads: int) -> None:
        import boto3
        from botocore.config import Config

        config = Config(max_pool_connections=threads * 2, retries={"mode": "standard", "max_attempts": 5})
        session = boto3.session.Session()
        self.ec2 = session.client("ec2", region_name=REGION, config=config)
        self.autoscaling = session.client("autoscaling", region_name=REGION, config=config)
        self.cloudwatch = session.client("cloudwatch", region_name=REGION, config=config)
        self.n_templates = templates
        self.n_groups = groups
        self.seed = seed
        self.threads = threads
        self.template_ids: list[str] = []
        self.versions: list[int] = []  # number of versions of each template
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{index}")

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def map(self, function: Callable[[int], Any], n: int) -> list[Any]:
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(function, range(n)))

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        made = self.map(self.template, self.n_templates)
        self.template_ids = [template_id for template_id, _ in made]
        self.versions = [versions for _, versions in made]
        self.map(self.launch_configuration, self.n_groups)
        self.map(self.group, self.n_groups)
        loose = self.loose_instances()
        instances = self.running_instances()
        self.metric_data(instances)
        self.counts["running instances"] = len(instances)
        self.counts["stand-alone instances"] = loose
        return {"seconds": time.perf_counter() - started, "counts": dict(sorted(self.counts.items()))}

    @staticmethod
    def options(rng: random.Random) -> tuple[str, dict[str, Any] | None]:
        roll = rng.random()
        if roll < 0.50:
            return "required", REQUIRED
        if roll < 0.70:
            return "optional", OPTIONAL
        if roll < 0.85:
            return "no MetadataOptions", None
        if roll < 0.95:
            return "required, hop limit 2", HOP_2
        return "endpoint disabled", DISABLED

    @staticmethod
    def data(rng: random.Random, options: dict[str, Any] | None, user_data: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ImageId": IMAGE_ID,
            "InstanceType": rng.choice(["t3.micro", "t3.small", "m5.large", "c5.large"]),
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": f"team-{rng.randrange(20)}"}]}
            ],
        }
        if user_data:
            data["UserData"] = base64.b64encode(b"#!/bin/bash\necho bench-audit\n").decode()
        if options is not None:
            data["MetadataOptions"] = options
        return data

    def template(self, index: int) -> tuple[str, int]:
        rng = self.rng("template", index)
        kind, options = self.options(rng)
        answer = self.ec2.create_launch_template(
            LaunchTemplateName=f"bench-lt-{index:04}", LaunchTemplateData=self.data(rng, options)
        )
        template_id: str = answer["LaunchTemplate"]["LaunchTemplateId"]
        self.count(f"launch templates: v1 {kind}")
        versions = 1
        if rng.random() < 0.30:
            # Later versions: mostly the migration (tokens required), sometimes not.
            for _ in range(rng.randint(1, 3)):
                _, later = ("required", REQUIRED) if rng.random() < 0.6 else self.options(rng)
                self.ec2.create_launch_template_version(
                    # No user data: moto 5.2.5 stores a new version's UserData undecoded, and then
                    # fails to launch a group's instances from it.
                    LaunchTemplateId=template_id,
                    LaunchTemplateData=self.data(rng, later, user_data=False),
                )
                versions += 1
            self.count("launch templates with several versions")
            self.count("launch template versions beyond v1", versions - 1)
            if rng.random() < 0.4:
                self.ec2.modify_launch_template(
                    LaunchTemplateId=template_id, DefaultVersion=str(rng.randint(2, versions))
                )
                self.count("launch templates whose default moved")
        return template_id, versions

    def is_lc_group(self, index: int) -> bool:
        return self.rng("group", index).random() < 0.05

    def launch_configuration(self, index: int) -> None:
        if not self.is_lc_group(index):
            return
        rng = self.rng("lc", index)
        extra = {"MetadataOptions": REQUIRED} if rng.random() < 0.5 else {}
        self.autoscaling.create_launch_configuration(
            LaunchConfigurationName=f"bench-lc-{index:04}",
            ImageId=IMAGE_ID,
            InstanceType="t3.micro",
            **extra,
        )
        self.count("launch configurations" + (" (tokens required)" if extra else " (no MetadataOptions)"))

    def group(self, index: int) -> None:
        rng = self.rng("group", index)
        roll = rng.random()  # the same first draw as is_lc_group
        position = index % self.n_templates
        template_id, versions = self.template_ids[position], self.versions[position]
        launch: dict[str, Any]
        if roll < 0.05:
            launch = {"LaunchConfigurationName": f"bench-lc-{index:04}"}
            label = "launch configuration"
            self.count("groups: launch configuration")
        else:
            spec: dict[str, Any] = {"LaunchTemplateId": template_id}
            pick = rng.random()
            if pick < 0.50:
                spec["Version"] = "$Latest"
                label = "$Latest"
            elif pick < 0.72:
                spec["Version"] = "$Default"
                label = "$Default"
            elif pick < 0.75:
                label = "no version ($Default)"
            elif pick < 0.997:
                spec["Version"] = str(rng.randint(1, versions))
                label = "pinned number"
            else:
                spec["Version"] = str(versions + 5)
                label = "pinned to a version that does not exist"
            if roll < 0.15:
                other = self.template_ids[(index * 7 + 3) % self.n_templates]
                launch = {
                    "MixedInstancesPolicy": {
                        "LaunchTemplate": {
                            "LaunchTemplateSpecification": spec,
                            "Overrides": [
                                {"InstanceType": "t3.micro"},
                                {
                                    "InstanceType": "m6g.large",
                                    "LaunchTemplateSpecification": {
                                        "LaunchTemplateId": other,
                                        "Version": "$Latest",
                                    },
                                },
                            ],
                        },
                        "InstancesDistribution": {
                            "OnDemandBaseCapacity": 0,
                            "OnDemandPercentageAboveBaseCapacity": 50,
                        },
                    }
                }
                self.count("groups: mixed instances policy with overrides")
            else:
                launch = {"LaunchTemplate": spec}
            self.count(f"groups: launch template {label}")
        # A tenth of the groups run 1 to 5 instances; none that launch a version that does not exist.
        desired = rng.randint(1, 5) if rng.random() < 0.10 else 0
        if label == "pinned to a version that does not exist":
            desired = 0
        self.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"bench-asg-{index:04}",
            MinSize=0,
            MaxSize=max(desired, 1),
            DesiredCapacity=desired,
            AvailabilityZones=[f"{REGION}a"],
            **launch,
        )
        if desired:
            self.count("groups with running instances")

    def loose_instances(self) -> int:
        """Instances launched without a group, by their own MetadataOptions."""
        options_cycle = [REQUIRED, OPTIONAL, None, HOP_2] * 5
        for options in options_cycle:
            extra = {"MetadataOptions": options} if options is not None else {}
            self.ec2.run_instances(ImageId=IMAGE_ID, MinCount=1, MaxCount=1, InstanceType="t3.micro", **extra)
        return len(options_cycle)

    def running_instances(self) -> list[str]:
        ids: list[str] = []
        for page in self.ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["running"]}]
        ):
            ids.extend(i["InstanceId"] for r in page["Reservations"] for i in r["Instances"])
        return sorted(ids)

    def metric_data(self, instances: list[str]) -> None:
        """MetadataNoToken data points for a fifth of the running instances (some zero)."""
        now = datetime.now(UTC)
        datums: list[dict[str, Any]] = []
        for index, instance_id in enumerate(instances):
            rng = self.rng("metric", index)
            if rng.random() >= 0.2:
                continue
            for _ in range(rng.randint(1, 3)):
                datums.append(
                    {
                        "MetricName": "MetadataNoToken",
                        "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                        "Timestamp": now - timedelta(hours=rng.uniform(1, 24 * 10)),
                        "Value": float(rng.choice([0, 0, 1, 3, 12, 40])),
                        "Unit": "Count",
                    }
                )
        for start in range(0, len(datums), 500):
            self.cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=datums[start : start + 500])
        self.count("MetadataNoToken data points", len(datums))
        self.count("instances with MetadataNoToken data", len({d["Dimensions"][0]["Value"] for d in datums}))


# --- measuring ----------------------------------------------------------------------------------


class CallCounter:
    """botocore handlers: ``before-call`` fires once per operation call, ``before-send`` once per HTTP
    request (retries included)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # wall time from before-call to after-call
        self.requests = 0
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}

    def before_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[_operation(model)] += 1
            self._started[threading.get_ident()] = time.perf_counter()

    def after_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            started = self._started.pop(threading.get_ident(), None)
            if started is not None:
                self.seconds[_operation(model)] += time.perf_counter() - started

    def before_send(self, **_: Any) -> None:
        with self._lock:
            self.requests += 1


def _operation(model: Any) -> str:
    return f"{model.service_model.service_id.replace(' ', '')}:{model.name}"


@contextmanager
def counting(counter: CallCounter) -> Iterator[None]:
    """Register the counter on every session the audit code makes (as tests/aws/recording.py does)."""
    from cdk_imds.aws import session as aws_session

    original = aws_session.new_session

    def new_session(profile: str | None) -> Any:
        session = original(profile)
        session.events.register("before-call.*.*", counter.before_call)
        session.events.register("after-call.*.*", counter.after_call)
        session.events.register("before-send.*.*", counter.before_send)
        return session

    aws_session.new_session = new_session  # type: ignore[assignment]
    try:
        yield
    finally:
        aws_session.new_session = original  # type: ignore[assignment]


def findings_digest(findings: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    keys = ("rule", "resource_type", "resource_id", "message", "related")
    return sorted(tuple(str(f.get(key)) for key in keys) for f in findings)


def audit_in_process() -> dict[str, Any]:
    from cdk_imds.aws.audit import run_audit

    counter = CallCounter()
    with counting(counter):
        started = time.perf_counter()
        result = run_audit(None, [REGION], False)
        seconds = time.perf_counter() - started
    findings = [finding.to_dict() for finding in result.findings]
    return {
        "seconds": seconds,
        "calls": dict(sorted(counter.calls.items())),
        "call_seconds": dict(sorted(counter.seconds.items())),
        "requests": counter.requests,
        "resources": result.resources,
        "findings": findings,
    }


def audit_cli(env: dict[str, str], report_path: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "cdk_imds", "audit", "--region", REGION, "--format", "json"]
    with open(report_path, "w", encoding="utf-8") as stdout:
        started = time.perf_counter()
        completed = subprocess.run(
            command, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, env=env, check=False
        )
        seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"cdk-imds audit exited {completed.returncode}: {completed.stderr.decode()[-2000:]}")
    with open(report_path, encoding="utf-8") as report:
        findings = json.load(report)["findings"]
    return {"seconds": seconds, "exit": completed.returncode, "findings": findings}


def inventory_counts() -> dict[str, int]:
    """What one region's read returns, by kind (an untimed, uncounted extra read)."""
    from cdk_imds.aws.account import read_account

    scan = read_account(None, [REGION], False, 14)
    inventory = scan.inventories[0]
    versions = sum(len(t.versions) for t in inventory.templates.values())
    return {
        "groups": len(inventory.groups),
        "launch templates (launched by a group)": len(inventory.templates),
        "launch template versions read": versions,
        "launch configurations": len(inventory.launch_configurations),
        "running instances": len(inventory.instances),
        "instances with MetadataNoToken > 0": sum(1 for v in inventory.no_token_calls.values() if v > 0),
    }


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(args: argparse.Namespace, flag: str, env: dict[str, str]) -> dict[str, Any]:
    modes = ["stock", "paged"] if args.moto == "both" else [args.moto]

    def switch(mode: str) -> None:
        if mode == "paged":
            open(flag, "w").close()
        elif os.path.exists(flag):
            os.remove(flag)

    child_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    child_env["PYTHONPYCACHEPREFIX"] = os.path.join(OUT, "pycache")
    report = os.path.join(OUT, "audit-report.json")
    results: dict[str, Any] = {}
    for mode in modes:  # warm-up round: connection pools, page cache, .pyc files; also the counts
        switch(mode)
        first = audit_in_process()
        results[mode] = {
            "calls": first["calls"],
            "requests": first["requests"],
            "resources": first["resources"],
            "findings": len(first["findings"]),
            "by_rule": dict(sorted(Counter(f["rule"] for f in first["findings"]).items())),
            "by_severity": dict(sorted(Counter(f["severity"] for f in first["findings"]).items())),
            "inventory": inventory_counts(),
            "digest": findings_digest(first["findings"]),
            "in_process": [],
            "call_seconds": [],
            "cli": [],
        }
        if not args.no_cli:
            audit_cli(child_env, report)
    for round_ in range(args.repeat):
        for mode in modes:
            switch(mode)
            run = audit_in_process()
            entry = results[mode]
            if run["calls"] != entry["calls"] or findings_digest(run["findings"]) != entry["digest"]:
                raise SystemExit(f"{mode} round {round_}: calls or findings differ from the first run")
            entry["in_process"].append(run["seconds"])
            entry["call_seconds"].append(run["call_seconds"])
            if not args.no_cli:
                cli = audit_cli(child_env, report)
                if findings_digest(cli["findings"]) != entry["digest"]:
                    raise SystemExit(f"{mode} round {round_}: the CLI's findings differ from run_audit's")
                entry["cli"].append(cli["seconds"])
            print(
                f"  {mode} round {round_ + 1}: in-process {entry['in_process'][-1]:.2f} s"
                + (f", CLI {entry['cli'][-1]:.2f} s" if entry["cli"] else ""),
                file=sys.stderr,
            )
    switch("stock")
    if len(modes) == 2:
        same = results["stock"]["digest"] == results["paged"]["digest"]
        results["same_findings"] = same
        if not same:
            raise SystemExit("stock and paged moto gave different findings")
    for mode in modes:
        entry = results[mode]
        del entry["digest"]
        entry["total_calls"] = sum(entry["calls"].values())
        entry["calls_per_resource"] = entry["total_calls"] / entry["resources"]
        entry["in_process"] = summary(entry["in_process"])
        # Per operation: the median over the runs of the time spent waiting for its answers.
        entry["call_seconds"] = {
            op: statistics.median(run.get(op, 0.0) for run in entry["call_seconds"]) for op in entry["calls"]
        }
        entry["cli"] = summary(entry["cli"]) if entry["cli"] else None
    return results


def machine() -> dict[str, Any]:
    import boto3
    import moto

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), ""
            )
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "machine": platform.machine(),
        "moto": moto.__version__,
        "boto3": boto3.__version__,
        "load_average": os.getloadavg(),
    }


def markdown(report: dict[str, Any]) -> str:
    meta, seeded, results = report["meta"], report["seeded"], report["results"]
    modes = [mode for mode in ("stock", "paged") if mode in results]
    lines = [
        f"{meta['date']}; {meta['cpus']} CPUs ({meta['cpu_model']}), Python {meta['python']}, "
        f"moto {meta['moto']}, boto3 {meta['boto3']}; load average before the run "
        f"{meta['load_average'][0]:.2f}; median (min) of {meta['repeat']} runs",
        "",
        "Seeded (us-east-1):",
        "",
        "| what | count |",
        "| --- | --- |",
        *(f"| {what} | {count:,} |" for what, count in seeded["counts"].items()),
        "",
        f"Seeding took {seeded['seconds']:.0f} s (not timed below).",
        "",
    ]
    header = "| | " + " | ".join(f"moto {mode}" for mode in modes) + " |"
    rule = "| --- |" + " --- |" * len(modes)
    lines += ["What the audit read:", "", header, rule]
    for what in results[modes[0]]["inventory"]:
        lines.append(f"| {what} | " + " | ".join(f"{results[m]['inventory'][what]:,}" for m in modes) + " |")
    lines += [
        "",
        "API calls by operation (botocore `before-call`; in brackets the median time spent waiting for "
        "that operation's answers, in-process), wall time, findings:",
        "",
        header,
        rule,
    ]
    operations = sorted({op for m in modes for op in results[m]["calls"]})
    for op in operations:
        lines.append(
            f"| `{op}` | "
            + " | ".join(
                f"{results[m]['calls'].get(op, 0)} ({results[m]['call_seconds'].get(op, 0.0):.2f} s)"
                for m in modes
            )
            + " |"
        )

    def row(what: str, cell: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {what} | " + " | ".join(cell(results[m]) for m in modes) + " |")

    row("**API calls, total**", lambda r: f"**{r['total_calls']}**")
    row("HTTP requests (retries included)", lambda r: str(r["requests"]))
    row(
        "resources audited (groups + templates + launch configurations + instances)",
        lambda r: f"{r['resources']:,}",
    )
    row("**API calls per resource**", lambda r: f"**{r['calls_per_resource']:.3f}**")
    row(
        "in-process `run_audit`, wall median (min)",
        lambda r: f"{r['in_process']['median']:.2f} s ({r['in_process']['min']:.2f})",
    )
    if results[modes[0]]["cli"]:
        row(
            "**CLI** `cdk-imds audit --region us-east-1 --format json`, wall median (min)",
            lambda r: f"**{r['cli']['median']:.2f} s** ({r['cli']['min']:.2f})",
        )
    row(
        "findings",
        lambda r: ", ".join(f"{n} {rule}" for rule, n in r["by_rule"].items()) + f" ({r['findings']})",
    )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-moto":
        serve_moto(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--templates", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8, help="seeding threads")
    parser.add_argument("--moto", choices=["both", "stock", "paged"], default="both")
    parser.add_argument("--no-cli", action="store_true", help="time run_audit in-process only")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown (default)")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    flag = os.path.join(OUT, "audit-moto-paging.flag")
    if os.path.exists(flag):
        os.remove(flag)
    with moto_server(flag) as endpoint:
        env = fake_aws_environment(endpoint)
        os.environ.clear()
        os.environ.update(env)
        print(f"bench_audit: moto_server at {endpoint}; seeding ...", file=sys.stderr)
        seeded = Seeder(args.templates, args.groups, args.seed, args.threads).run()
        print(f"bench_audit: seeded in {seeded['seconds']:.0f} s; measuring ...", file=sys.stderr)
        meta = machine() | {"repeat": args.repeat, "templates": args.templates, "groups": args.groups}
        results = measure(args, flag, env)
    report = {"meta": meta, "seeded": seeded, "results": results}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1)
    print(markdown(report))


if __name__ == "__main__":
    main()
