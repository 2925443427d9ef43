#!/usr/bin/env python3
"""One synthesis of a generated ~1,200-resource, 6-stack app, timed in-process; prints one JSON line.

    python bench/aspect_app.py VARIANT     VARIANT: none | enforce | aspect-on-app | aws-cdk-lib
                                                    | none-compliant | enforce-compliant

  none           no IMDS enforcement at all
  enforce        cdk_imds.enforce(app, "fix"): the aspect on one leaf, sweeping the app once, plus
                 the validation plugin judging the written templates
  aspect-on-app  cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX)): visited by every construct
  aws-cdk-lib    ec2.LaunchTemplateRequireImdsv2Aspect (a JavaScript aspect: no Python callbacks;
                 launch templates only, no fail mode, no plugin)
  *-compliant    the same app with every launch template already requiring tokens
                 (``http_tokens=REQUIRED``, in the template's own properties): what enforcement costs an app that needs no fix, the
                 usual case once a team has adopted it

CDK's built-in template validation is off (``builtin_cloud_formation_validation=False``) in every
variant: it is the same work in each, and it would only dilute the difference being measured.

The timed span starts before the variant's set-up (``enforce`` walks the app for Stages and adds
its plugin then) and ends when ``app.synth()`` returns. Besides wall-clock seconds it reports the
CPU seconds that this process and its children (the jsii Node.js process) spent in that span: on a
shared machine that varies much less than wall time.
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

from cdk_imds import Imdsv2Aspect, Mode, enforce

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


def main() -> int:
    (variant,) = sys.argv[1:]
    with tempfile.TemporaryDirectory() as outdir:
        compliant = variant.endswith("-compliant")
        app = build(outdir, compliant)
        variant = variant.removesuffix("-compliant")
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        if variant == "enforce":
            enforce(app, Mode.FIX)
        elif variant == "aspect-on-app":
            cdk.Aspects.of(app).add(Imdsv2Aspect(Mode.FIX), priority=Imdsv2Aspect.PRIORITY)
        elif variant == "aws-cdk-lib":
            cdk.Aspects.of(app).add(ec2.LaunchTemplateRequireImdsv2Aspect())
        elif variant != "none":
            raise SystemExit(f"unknown variant {variant!r}")
        assembly = app.synth()
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() - cpu_start
        templates = [stack.template for stack in assembly.stacks]
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
                "variant": sys.argv[1],
                "seconds": seconds,
                "cpu": cpu,
                "resources": resources,
                "required": required,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
