#!/usr/bin/env python3
"""One run of a generated 1,200-resource, 6-stack CDK app; prints one JSON line.

    python bench/aspect_app.py [--l2] VARIANT

VARIANT is none | import | enforce | aspect-on-app | aws-cdk-lib, each optionally with
``-compliant``:

  none           no IMDS enforcement at all
  import         ``from cdk_imds import Imdsv2Aspect, Mode, enforce`` and nothing else
  enforce        ``cdk_imds.enforce(app, Mode.FIX)``
  aspect-on-app  ``cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=Imdsv2Aspect.PRIORITY)``
  aws-cdk-lib    ``ec2.LaunchTemplateRequireImdsv2Aspect`` (a JavaScript aspect; L2 launch templates
                 only, so it changes nothing in the raw app; no fail mode, no plugin)
  *-compliant    the same app with every launch template already requiring tokens

The app (issue 11's): 6 stacks, each with 100 raw ``CfnLaunchTemplate`` (20 of them
``HttpTokens: optional``, 80 ``required``) and 100 other L1 resources (SQS, SNS, S3, IAM): 1,200
resources, 600 launch templates. ``--l2``: the older benchmark app of L2 constructs (a VPC, 17
``ec2.LaunchTemplate`` without metadata options and 3 Auto Scaling groups per stack, 40 each of
queues, topics, roles and buckets; 1,122 resources).

CDK's built-in template validation is off (``builtin_cloud_formation_validation=False``) in every
variant: it is the same work in each, and it would only dilute the difference being measured.
cdk-imds is imported where an app imports it, before the app is built, so the whole process
(what ``cdk synth`` waits for) includes its import. Printed: ``seconds`` and ``cpu`` from the
variant's set-up to the end of ``app.synth()`` (CPU of this process and the jsii Node.js process
together); ``process_cpu``, the same CPU since this process started; and, read back from the
output files, the resources and how many launch templates require tokens (proof of the work).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

STACKS = 6


def cpu_seconds() -> float:
    """User and system CPU of this process and every live descendant (the Node.js kernel)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended while being listed
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, pending = 0.0, [os.getpid()]
    while pending:
        pid = pending.pop()
        total += used.get(pid, 0.0)
        pending.extend(child for child, parent in parents.items() if parent == pid)
    return total


def build(outdir: str, compliant: bool = False) -> cdk.App:
    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=False)
    image = ec2.MachineImage.generic_linux({"us-east-1": "ami-12345678"})
    for index in range(STACKS):
        stack = cdk.Stack(
            app, f"Stack{index}", env=cdk.Environment(account="111111111111", region="us-east-1")
        )
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=1,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
        )
        for number in range(14):
            # Plain L2 templates: no metadata options, so FIX has work to do (unless compliant).
            ec2.LaunchTemplate(
                stack,
                f"Template{number}",
                machine_image=image,
                instance_type=ec2.InstanceType("t3.micro"),
                http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED if compliant else None,
            )
        for number in range(3):
            template = ec2.LaunchTemplate(
                stack,
                f"GroupTemplate{number}",
                machine_image=image,
                instance_type=ec2.InstanceType("t3.micro"),
                http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED if compliant else None,
            )
            autoscaling.AutoScalingGroup(stack, f"Group{number}", vpc=vpc, launch_template=template)
        for number in range(40):
            sqs.Queue(stack, f"Queue{number}")
            sns.Topic(stack, f"Topic{number}")
            iam.Role(stack, f"Role{number}", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            s3.Bucket(stack, f"Bucket{number}")
    return app


RAW_STACKS, RAW_TEMPLATES, RAW_OPTIONAL, RAW_OTHERS = 6, 100, 20, 100


def build_raw(outdir: str, compliant: bool = False) -> cdk.App:
    """Issue 11's app: 6 stacks of 100 raw launch templates (20 of them ``optional``) and 100 other
    L1 resources each; 1,200 resources in all. ``compliant``: every template ``required``."""
    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=False)
    for index in range(RAW_STACKS):
        stack = cdk.Stack(
            app, f"Stack{index}", env=cdk.Environment(account="111111111111", region="us-east-1")
        )
        for number in range(RAW_TEMPLATES):
            tokens = "optional" if number < RAW_OPTIONAL and not compliant else "required"
            ec2.CfnLaunchTemplate(
                stack,
                f"Template{number}",
                launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
                    image_id="ami-12345678",
                    instance_type="t3.micro",
                    metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                        http_tokens=tokens, http_put_response_hop_limit=1
                    ),
                ),
            )
        for number in range(RAW_OTHERS // 4):
            sqs.CfnQueue(stack, f"Queue{number}", visibility_timeout=30)
            sns.CfnTopic(stack, f"Topic{number}", display_name=f"topic {number}")
            s3.CfnBucket(stack, f"Bucket{number}")
            iam.CfnRole(
                stack,
                f"Role{number}",
                assume_role_policy_document={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
            )
    return app


def main() -> int:
    arguments = sys.argv[1:]
    l2 = "--l2" in arguments
    (variant,) = [argument for argument in arguments if argument != "--l2"]
    compliant = variant.endswith("-compliant")
    variant = variant.removesuffix("-compliant")
    if variant not in ("none", "import", "enforce", "aspect-on-app", "aws-cdk-lib"):
        raise SystemExit(f"unknown variant {variant!r}")
    if variant in ("import", "enforce", "aspect-on-app"):
        # Where an app imports it: its cost is part of what every `cdk synth` pays.
        from cdk_imds import Imdsv2Aspect, Mode, enforce
    with tempfile.TemporaryDirectory() as outdir:
        app = (build if l2 else build_raw)(outdir, compliant)
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        if variant == "enforce":
            enforce(app, Mode.FIX)
        elif variant == "aspect-on-app":
            cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=Imdsv2Aspect.PRIORITY)
        elif variant == "aws-cdk-lib":
            cdk.Aspects.of(app).add(ec2.LaunchTemplateRequireImdsv2Aspect())
        app.synth()
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() - cpu_start
        # Read back as files, not through jsii: the same few milliseconds in every variant.
        templates = []
        for name in sorted(os.listdir(outdir)):
            if name.endswith(".template.json"):
                with open(os.path.join(outdir, name), encoding="utf-8") as file:
                    templates.append(json.load(file))
        resources = sum(len(template["Resources"]) for template in templates)
        required = sum(
            1
            for template in templates
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::EC2::LaunchTemplate"
            and resource["Properties"]["LaunchTemplateData"].get("MetadataOptions", {}).get("HttpTokens")
            == "required"
        )
    print(
        json.dumps(
            {
                "variant": sys.argv[-1],
                "seconds": seconds,
                "cpu": cpu,
                "process_cpu": cpu_seconds(),
                "resources": resources,
                "required": required,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
