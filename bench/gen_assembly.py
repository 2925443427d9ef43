#!/usr/bin/env python3
"""Write a large, realistic CDK cloud assembly for benchmarking ``cdk-imds check``.

    python bench/gen_assembly.py OUTDIR [--stacks 100] [--resources 20000] [--seed 1]

The shape is copied from what aws-cdk-lib 2.x (cloud assembly schema 55.0.0) writes:

* ``manifest.json``: per stack an ``aws:cloudformation:stack`` artifact (``properties.templateFile``,
  ``displayName``, ``environment`` ``aws://unknown-account/unknown-region``, bootstrap role ARNs,
  ``dependencies``) with its ``aws:cdk:logicalId`` metadata in an ``additionalMetadataFile``
  (``<Stack>.metadata.json``), plus a ``cdk:asset-manifest`` artifact and a ``cdk:tree`` artifact.
  ``--inline-metadata`` puts the metadata in the manifest instead, as CDK did before 2.160.
* ``<Stack>.template.json``: pretty-printed with indent 1 as CDK writes it, with ``aws:cdk:path``
  resource metadata (the CLI turns it on), stack tags on every taggable resource, the
  ``CDKMetadata`` resource and its region condition, and the bootstrap version parameter and rule.

The mix is that of a real app: about 90% of resources are IAM roles and policies, S3 buckets, Lambda
functions, SQS queues, SNS topics, DynamoDB tables, log groups, security groups and VPC plumbing;
about 10% are EC2 capacity (launch templates, Auto Scaling groups, instances, launch configurations).
Most launch templates require IMDSv2; some do not, and some decide it through ``Fn::If``,
``Fn::FindInMap`` or a parameter. The first stack is a platform stack that exports a VPC and shared
launch templates; a few groups in other stacks launch from those through ``Fn::ImportValue``.

Output is a pure function of the arguments (``--seed``): running twice gives identical bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys
from typing import Any

SCHEMA_VERSION = "55.0.0"
ENVIRONMENT = "aws://unknown-account/unknown-region"
QUALIFIER = "hnb659fds"
AMI_PARAMETER = (
    "SsmParameterValueawsserviceamiamazonlinuxlatestal2023amikernel61x8664"
    "C96584B6F00A464EAD1953AFF4B05118Parameter"
)
REGIONS = [
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
]
DOMAINS = [
    "Orders",
    "Payments",
    "Catalog",
    "Search",
    "Identity",
    "Billing",
    "Shipping",
    "Inventory",
    "Reporting",
    "Notifications",
    "Analytics",
    "Media",
    "Ledger",
    "Pricing",
    "Support",
    "Fraud",
    "Accounts",
    "Loyalty",
    "Checkout",
    "Reviews",
]
COMPONENTS = ["Api", "Workers", "Ingest", "Etl", "Web", "Batch", "Stream", "Scheduler", "Gateway", "Cache"]
INSTANCE_TYPES = ("t3.micro", "t3.small", "t3.medium", "m5.large", "m6i.large", "c6i.xlarge", "r6i.large")
LAMBDA_RUNTIMES = ("python3.12", "nodejs20.x", "python3.11", "nodejs18.x", "java21")
CREATION_STACK = [
    "...jsii runtime, node internals...",
    "(no user code in 10 frames, use --stack-trace-limit to capture more)",
]
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def _hash8(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:8].upper()


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def arn_join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Statement": statements, "Version": "2012-10-17"}


def assume_role(service: str) -> dict[str, Any]:
    return policy_document(
        [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": service}}]
    )


class Stack:
    """One stack being written: its template sections and its manifest metadata."""

    def __init__(self, name: str, rng: random.Random, tags: dict[str, str]) -> None:
        self.name = name
        self.rng = rng
        self.tags = tags
        self.resources: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self.conditions: dict[str, Any] = {}
        self.mappings: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.metadata: dict[str, list[dict[str, Any]]] = {
            f"/{name}": [
                {"type": "aws:cdk:creationStack", "data": CREATION_STACK},
                {"type": "aws:cdk:templateFile", "data": f"{name}.template.json"},
                {
                    "type": "aws:cdk:stack-tags",
                    "data": [{"key": key, "value": value} for key, value in tags.items()],
                },
            ]
        }
        self.dependencies: set[str] = set()
        self.vpc: dict[str, Any] | None = None  # {"id": node, "subnets": [node, ...]}
        self.buckets: list[str] = []
        self.queues: list[str] = []
        self.tables: list[str] = []
        self.topics: list[str] = []
        self.count = 0
        self.uses_ami = False

    # ---------------------------------------------------------------------------------------------

    def add(
        self,
        path: str,
        resource_type: str,
        properties: dict[str, Any] | None = None,
        *,
        tagged: bool = True,
        extra: dict[str, Any] | None = None,
        name_tag: bool = False,
    ) -> str:
        """Add a resource at construct path ``path`` (relative to the stack); return its logical id."""
        parts = path.split("/")
        human = [p for p in parts if p not in ("Resource", "Default")]
        logical_id = _NOT_ALNUM.sub("", "".join(human))[:240] + _hash8(path)
        body: dict[str, Any] = {"Type": resource_type}
        if properties is not None:
            properties = dict(properties)
            if tagged:
                tags = [{"Key": k, "Value": v} for k, v in self.tags.items()]
                if name_tag:
                    tags.append({"Key": "Name", "Value": f"{self.name}/{'/'.join(parts[:-1]) or path}"})
                properties["Tags"] = sorted(tags, key=lambda tag: tag["Key"])
            body["Properties"] = dict(sorted(properties.items()))
        if extra:
            body.update(extra)
        full_path = f"{self.name}/{path}"
        body["Metadata"] = {"aws:cdk:path": full_path}
        assert logical_id not in self.resources, logical_id
        self.resources[logical_id] = body
        self.metadata[f"/{full_path}"] = [
            {"type": "aws:cdk:logicalId", "data": logical_id},
            {"type": "aws:cdk:creationStack", "data": CREATION_STACK},
        ]
        self.count += 1
        return logical_id

    def export(self, logical_id: str, attribute: str | None = None) -> str:
        """Export ``Ref``/``GetAtt`` of a resource the way CDK does for a cross-stack reference."""
        if attribute is None:
            key = f"ExportsOutputRef{logical_id}{_hash8(logical_id)}"
            value: Any = ref(logical_id)
        else:
            key = f"ExportsOutputFnGetAtt{logical_id}{attribute}{_hash8(logical_id + attribute)}"
            value = get_att(logical_id, attribute)
        name = f"{self.name}:{key}"
        self.outputs[key] = {"Value": value, "Export": {"Name": name}}
        return name

    def ami(self) -> dict[str, Any]:
        self.uses_ami = True
        return ref(AMI_PARAMETER)

    def stage_parameter(self) -> dict[str, Any]:
        if "Stage" not in self.parameters:
            self.parameters["Stage"] = {
                "Type": "String",
                "Default": "dev",
                "AllowedValues": ["dev", "staging", "prod"],
                "Description": "Deployment stage",
            }
        return ref("Stage")

    def is_prod(self) -> str:
        if "IsProd" not in self.conditions:
            self.conditions["IsProd"] = {"Fn::Equals": [self.stage_parameter(), "prod"]}
        return "IsProd"

    # ---------------------------------------------------------------------------------------------

    def template(self) -> dict[str, Any]:
        resources = dict(self.resources)
        resources["CDKMetadata"] = {
            "Type": "AWS::CDK::Metadata",
            "Properties": {
                "Analytics": "v2:deflate64:H4sIAAAAAAAA/"
                + hashlib.sha256(self.name.encode()).hexdigest()
                + "1WOwW7CMBBEv4X3xhuDDeWoqm0Q=",
            },
            "Metadata": {"aws:cdk:path": f"{self.name}/CDKMetadata/Default"},
            "Condition": "CDKMetadataAvailable",
        }
        self.metadata[f"/{self.name}/CDKMetadata/Default"] = [
            {"type": "aws:cdk:logicalId", "data": "CDKMetadata"}
        ]
        conditions = dict(self.conditions)
        equals = [{"Fn::Equals": [ref("AWS::Region"), region]} for region in REGIONS]
        conditions["CDKMetadataAvailable"] = {
            "Fn::Or": [{"Fn::Or": equals[i : i + 10]} for i in range(0, 30, 10)] + [equals[30]]
        }
        parameters = dict(self.parameters)
        if self.uses_ami:
            parameters[AMI_PARAMETER] = {
                "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                "Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
            }
        parameters["BootstrapVersion"] = {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": f"/cdk-bootstrap/{QUALIFIER}/version",
            "Description": "Version of the CDK Bootstrap resources in this environment, automatically "
            "retrieved from SSM Parameter Store. [cdk:skip]",
        }
        body: dict[str, Any] = {"Resources": resources}
        if self.mappings:
            body["Mappings"] = self.mappings
        if self.outputs:
            body["Outputs"] = self.outputs
        body["Parameters"] = parameters
        body["Conditions"] = conditions
        body["Rules"] = {
            "CheckBootstrapVersion": {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Not": [
                                {"Fn::Contains": [["1", "2", "3", "4", "5"], ref("BootstrapVersion")]}
                            ]
                        },
                        "AssertDescription": "CDK bootstrap stack version 6 required. Please run "
                        "'cdk bootstrap' with a recent version of the CDK CLI.",
                    }
                ]
            }
        }
        return body


# -------------------------------------------------------------------------------------------------
# Non-EC2 building blocks (what most of a real app is)


def unit_vpc(stack: Stack, name: str = "Vpc", azs: int = 2) -> int:
    before = stack.count
    vpc = stack.add(
        f"{name}/Resource",
        "AWS::EC2::VPC",
        {
            "CidrBlock": "10.0.0.0/16",
            "EnableDnsHostnames": True,
            "EnableDnsSupport": True,
            "InstanceTenancy": "default",
        },
        name_tag=True,
    )
    igw = stack.add(f"{name}/IGW", "AWS::EC2::InternetGateway", {}, name_tag=True)
    attachment = stack.add(
        f"{name}/VPCGW",
        "AWS::EC2::VPCGatewayAttachment",
        {"InternetGatewayId": ref(igw), "VpcId": ref(vpc)},
        tagged=False,
    )
    private_subnets = []
    for kind, public in (("Public", True), ("Private", False)):
        for az in range(azs):
            base = f"{name}/{kind}Subnet{az + 1}"
            subnet = stack.add(
                f"{base}/Subnet",
                "AWS::EC2::Subnet",
                {
                    "AvailabilityZone": {"Fn::Select": [az, {"Fn::GetAZs": ""}]},
                    "CidrBlock": f"10.0.{(0 if public else 128) + az * 32}.0/19",
                    "MapPublicIpOnLaunch": public,
                    "VpcId": ref(vpc),
                },
                name_tag=True,
            )
            table = stack.add(
                f"{base}/RouteTable", "AWS::EC2::RouteTable", {"VpcId": ref(vpc)}, name_tag=True
            )
            stack.add(
                f"{base}/RouteTableAssociation",
                "AWS::EC2::SubnetRouteTableAssociation",
                {"RouteTableId": ref(table), "SubnetId": ref(subnet)},
                tagged=False,
            )
            if public:
                stack.add(
                    f"{base}/DefaultRoute",
                    "AWS::EC2::Route",
                    {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": ref(igw), "RouteTableId": ref(table)},
                    tagged=False,
                    extra={"DependsOn": [attachment]},
                )
            else:
                private_subnets.append(ref(subnet))
    stack.vpc = {"id": ref(vpc), "subnets": private_subnets}
    return stack.count - before


def unit_bucket(stack: Stack, name: str) -> int:
    rng = stack.rng
    bucket = stack.add(
        f"{name}/Resource",
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            **(
                {
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "ExpirationInDays": rng.choice((30, 90, 365)),
                                "Id": "expire",
                                "Status": "Enabled",
                            }
                        ]
                    }
                }
                if rng.random() < 0.5
                else {}
            ),
        },
        extra={"UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"},
    )
    stack.buckets.append(bucket)
    stack.add(
        f"{name}/Policy/Resource",
        "AWS::S3::BucketPolicy",
        {
            "Bucket": ref(bucket),
            "PolicyDocument": policy_document(
                [
                    {
                        "Action": "s3:*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Resource": [get_att(bucket, "Arn"), arn_join(get_att(bucket, "Arn"), "/*")],
                    }
                ]
            ),
        },
        tagged=False,
    )
    return 2


def unit_queue(stack: Stack, name: str) -> int:
    dlq = stack.add(
        f"{name}Dlq/Resource",
        "AWS::SQS::Queue",
        {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        extra={"UpdateReplacePolicy": "Delete", "DeletionPolicy": "Delete"},
    )
    queue = stack.add(
        f"{name}/Resource",
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {"deadLetterTargetArn": get_att(dlq, "Arn"), "maxReceiveCount": 5},
            "SqsManagedSseEnabled": True,
            "VisibilityTimeout": stack.rng.choice((30, 60, 300, 900)),
        },
        extra={"UpdateReplacePolicy": "Delete", "DeletionPolicy": "Delete"},
    )
    stack.queues.append(queue)
    return 2


def unit_topic(stack: Stack, name: str) -> int:
    topic = stack.add(f"{name}/Resource", "AWS::SNS::Topic", {"DisplayName": name})
    stack.topics.append(topic)
    if stack.queues:
        queue = stack.rng.choice(stack.queues)
        stack.add(
            f"{name}/Subscription{queue[:12]}/Resource",
            "AWS::SNS::Subscription",
            {"Endpoint": get_att(queue, "Arn"), "Protocol": "sqs", "TopicArn": ref(topic)},
            tagged=False,
        )
        return 2
    return 1


def unit_table(stack: Stack, name: str) -> int:
    table = stack.add(
        f"{name}/Resource",
        "AWS::DynamoDB::Table",
        {
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
        extra={"UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"},
    )
    stack.tables.append(table)
    return 1


def unit_function(stack: Stack, name: str) -> int:
    rng = stack.rng
    role = stack.add(
        f"{name}/ServiceRole/Resource",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": assume_role("lambda.amazonaws.com"),
            "ManagedPolicyArns": [
                arn_join(
                    "arn:", ref("AWS::Partition"), ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                )
            ],
        },
    )
    statements: list[dict[str, Any]] = []
    environment: dict[str, Any] = {}
    if stack.buckets:
        bucket = rng.choice(stack.buckets)
        environment["BUCKET_NAME"] = ref(bucket)
        statements.append(
            {
                "Action": [
                    "s3:GetObject*",
                    "s3:GetBucket*",
                    "s3:List*",
                    "s3:DeleteObject*",
                    "s3:PutObject",
                    "s3:PutObjectLegalHold",
                    "s3:PutObjectRetention",
                    "s3:PutObjectTagging",
                    "s3:PutObjectVersionTagging",
                    "s3:Abort*",
                ],
                "Effect": "Allow",
                "Resource": [get_att(bucket, "Arn"), arn_join(get_att(bucket, "Arn"), "/*")],
            }
        )
    if stack.queues:
        queue = rng.choice(stack.queues)
        environment["QUEUE_URL"] = ref(queue)
        statements.append(
            {
                "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                "Effect": "Allow",
                "Resource": get_att(queue, "Arn"),
            }
        )
    if stack.tables:
        table = rng.choice(stack.tables)
        environment["TABLE_NAME"] = ref(table)
        statements.append(
            {
                "Action": [
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:Query",
                    "dynamodb:GetItem",
                    "dynamodb:Scan",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:DescribeTable",
                ],
                "Effect": "Allow",
                "Resource": [get_att(table, "Arn"), {"Ref": "AWS::NoValue"}],
            }
        )
    count = 1
    depends = [role]
    if statements:
        policy = stack.add(
            f"{name}/ServiceRole/DefaultPolicy/Resource",
            "AWS::IAM::Policy",
            {
                "PolicyDocument": policy_document(statements),
                "PolicyName": f"{name}ServiceRoleDefaultPolicy{_hash8(stack.name + name)}",
                "Roles": [ref(role)],
            },
            tagged=False,
        )
        depends.insert(0, policy)
        count += 1
    digest = hashlib.sha256(f"{stack.name}/{name}".encode()).hexdigest()
    environment["POWERTOOLS_SERVICE_NAME"] = name
    environment["LOG_LEVEL"] = rng.choice(("INFO", "DEBUG", "WARN"))
    function = stack.add(
        f"{name}/Resource",
        "AWS::Lambda::Function",
        {
            "Code": {
                "S3Bucket": {"Fn::Sub": f"cdk-{QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}"},
                "S3Key": f"{digest}.zip",
            },
            "Environment": {"Variables": dict(sorted(environment.items()))},
            "Handler": "index.handler",
            "MemorySize": rng.choice((128, 256, 512, 1024)),
            "Role": get_att(role, "Arn"),
            "Runtime": rng.choice(LAMBDA_RUNTIMES),
            "Timeout": rng.choice((3, 10, 30, 60, 300)),
            "TracingConfig": {"Mode": "Active"},
        },
        extra={"DependsOn": depends},
    )
    count += 1
    if rng.random() < 0.4:
        stack.add(
            f"{name}/LogGroup/Resource",
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": arn_join("/aws/lambda/", ref(function)),
                "RetentionInDays": rng.choice((7, 30, 90)),
            },
            extra={"UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"},
        )
        count += 1
    if stack.queues and rng.random() < 0.3:
        stack.add(
            f"{name}/SqsEventSource{stack.count}/Resource",
            "AWS::Lambda::EventSourceMapping",
            {
                "BatchSize": 10,
                "EventSourceArn": get_att(rng.choice(stack.queues), "Arn"),
                "FunctionName": ref(function),
            },
            tagged=False,
        )
        count += 1
    return count


def unit_security_group(stack: Stack, name: str, description: str | None = None) -> tuple[str, int]:
    if stack.vpc:
        vpc = stack.vpc["id"]
    else:
        vpc = {"Fn::ImportValue": "Platform:VpcId"}
        stack.dependencies.add("Platform")
    group = stack.add(
        f"{name}/Resource",
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": description or f"{stack.name}/{name}",
            "SecurityGroupEgress": [
                {
                    "CidrIp": "0.0.0.0/0",
                    "Description": "Allow all outbound traffic by default",
                    "IpProtocol": "-1",
                }
            ],
            "VpcId": vpc,
        },
        name_tag=True,
    )
    count = 1
    if stack.rng.random() < 0.5:
        port = stack.rng.choice((443, 8080, 5432, 6379))
        stack.add(
            f"{name}/from{name}:{port}",
            "AWS::EC2::SecurityGroupIngress",
            {
                "Description": f"from {stack.name}/{name}:{port}",
                "FromPort": port,
                "GroupId": get_att(group, "GroupId"),
                "IpProtocol": "tcp",
                "SourceSecurityGroupId": get_att(group, "GroupId"),
                "ToPort": port,
            },
            tagged=False,
        )
        count += 1
    return group, count


def unit_misc(stack: Stack, name: str) -> int:
    choice = stack.rng.random()
    if choice < 0.4:
        stack.add(
            f"{name}/Resource",
            "AWS::SSM::Parameter",
            {"Name": f"/{stack.name}/{name}", "Type": "String", "Value": _hash8(name).lower()},
        )
    elif choice < 0.7:
        stack.add(
            f"{name}/Resource",
            "AWS::Logs::LogGroup",
            {"RetentionInDays": stack.rng.choice((7, 30, 365))},
            extra={"UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"},
        )
    else:
        stack.add(f"{name}/Resource", "AWS::SNS::Topic", {"DisplayName": name})
    return 1


# -------------------------------------------------------------------------------------------------
# EC2 capacity (about 10% of resources)


def metadata_options(stack: Stack) -> tuple[Any, str]:
    """A launch template's MetadataOptions (or None) and what cdk-imds should say about it."""
    roll = stack.rng.random()
    if roll < 0.62:
        return {"HttpTokens": "required"}, "pass"
    if roll < 0.70:
        return {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"}, "pass"
    if roll < 0.75:  # container hosts
        return {"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2, "HttpTokens": "required"}, "pass+hop"
    if roll < 0.83:  # ec2.LaunchTemplate without require_imdsv2
        return None, "fail"
    if roll < 0.86:
        return {"HttpTokens": "optional"}, "fail"
    if roll < 0.89:  # stricter only in prod
        return {"HttpTokens": {"Fn::If": [stack.is_prod(), "required", "optional"]}}, "fail"
    if roll < 0.91:
        return {
            "Fn::If": [
                stack.is_prod(),
                {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"},
                {"HttpPutResponseHopLimit": 2, "HttpTokens": "required"},
            ]
        }, "pass+hop"
    if roll < 0.95:
        stack.mappings.setdefault(
            "ImdsSettings",
            {
                "dev": {"HttpTokens": "required", "HopLimit": 2},
                "staging": {"HttpTokens": "required", "HopLimit": 1},
                "prod": {"HttpTokens": "required", "HopLimit": 1},
            },
        )
        legacy = stack.rng.random() < 0.3
        if legacy:
            stack.mappings.setdefault(
                "LegacyImds",
                {
                    "dev": {"HttpTokens": "optional"},
                    "staging": {"HttpTokens": "required"},
                    "prod": {"HttpTokens": "required"},
                },
            )
        return {
            "HttpTokens": {
                "Fn::FindInMap": [
                    "LegacyImds" if legacy else "ImdsSettings",
                    stack.stage_parameter(),
                    "HttpTokens",
                ]
            }
        }, ("fail" if legacy else "pass")
    if roll < 0.97:
        stack.parameters.setdefault(
            "ImdsHttpTokens",
            {
                "Type": "String",
                "Default": "required",
                "AllowedValues": ["required"],
                "Description": "IMDS token requirement for instances",
            },
        )
        return {"HttpTokens": ref("ImdsHttpTokens")}, "pass"
    if roll < 0.985:
        stack.parameters.setdefault(
            "HttpTokensOverride",
            {"Type": "String", "Default": "required", "Description": "Override for HttpTokens"},
        )
        return {"HttpTokens": ref("HttpTokensOverride")}, "unknown"
    return {"HttpEndpoint": "disabled"}, "pass"


def _instance_role(stack: Stack, name: str) -> tuple[str, str, int]:
    role = stack.add(
        f"{name}/InstanceRole/Resource",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": assume_role("ec2.amazonaws.com"),
            "ManagedPolicyArns": [
                arn_join("arn:", ref("AWS::Partition"), ":iam::aws:policy/AmazonSSMManagedInstanceCore")
            ],
        },
        name_tag=True,
    )
    profile = stack.add(
        f"{name}/InstanceProfile", "AWS::IAM::InstanceProfile", {"Roles": [ref(role)]}, tagged=False
    )
    return role, profile, 2


def _launch_template(
    stack: Stack, name: str, group: str, profile: str, options: Any, *, named: bool = False
) -> str:
    data: dict[str, Any] = {
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {"Encrypted": True, "VolumeSize": stack.rng.choice((8, 20, 50)), "VolumeType": "gp3"},
            }
        ],
        "IamInstanceProfile": {"Arn": get_att(profile, "Arn")},
        "ImageId": stack.ami(),
        "InstanceType": stack.rng.choice(INSTANCE_TYPES),
        "Monitoring": {"Enabled": True},
        "SecurityGroupIds": [get_att(group, "GroupId")],
        "TagSpecifications": [
            {"ResourceType": kind, "Tags": [{"Key": "Name", "Value": f"{stack.name}/{name}"}]}
            for kind in ("instance", "volume")
        ],
        "UserData": {"Fn::Base64": f"#!/bin/bash\nset -euo pipefail\n/opt/bootstrap.sh {stack.name} {name}"},
    }
    if options is not None:
        data["MetadataOptions"] = options
    properties: dict[str, Any] = {
        "LaunchTemplateData": dict(sorted(data.items())),
        "TagSpecifications": [
            {"ResourceType": "launch-template", "Tags": [{"Key": "Name", "Value": f"{stack.name}/{name}"}]}
        ],
    }
    if named:
        properties["LaunchTemplateName"] = f"{stack.name}{name}"
    return stack.add(f"{name}/Resource", "AWS::EC2::LaunchTemplate", properties, tagged=False)


def _subnets(stack: Stack) -> list[Any]:
    if stack.vpc:
        return stack.vpc["subnets"]
    stack.dependencies.add("Platform")
    return [{"Fn::ImportValue": f"Platform:PrivateSubnet{az}"} for az in (1, 2)]


def _asg_properties(stack: Stack, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "MaxSize": str(maximum),
        "MinSize": str(minimum),
        "VPCZoneIdentifier": _subnets(stack),
    }


_ASG_EXTRA = {"UpdatePolicy": {"AutoScalingScheduledAction": {"IgnoreUnmodifiedGroupSizeProperties": True}}}


def _asg_tags(stack: Stack, name: str) -> list[dict[str, Any]]:
    tags = [{"Key": k, "PropagateAtLaunch": True, "Value": v} for k, v in stack.tags.items()]
    tags.append({"Key": "Name", "PropagateAtLaunch": True, "Value": f"{stack.name}/{name}"})
    return sorted(tags, key=lambda tag: tag["Key"])


def unit_lt_asg(stack: Stack, name: str) -> tuple[int, int]:
    """ec2.LaunchTemplate + autoscaling.AutoScalingGroup(launch_template=...)."""
    group, count = unit_security_group(stack, f"{name}Sg")
    _, profile, extra = _instance_role(stack, name)
    options, _ = metadata_options(stack)
    template = _launch_template(stack, f"{name}LaunchTemplate", group, profile, options)
    roll = stack.rng.random()
    if roll < 0.88:
        version: Any = get_att(template, "LatestVersionNumber")
    elif roll < 0.94:
        version = get_att(template, "DefaultVersionNumber")
    else:
        version = "1"  # pinned
    properties = _asg_properties(stack, 1, stack.rng.choice((2, 3, 6, 10)))
    properties["LaunchTemplate"] = {"LaunchTemplateId": ref(template), "Version": version}
    properties["Tags"] = _asg_tags(stack, name)
    stack.add(f"{name}/ASG", "AWS::AutoScaling::AutoScalingGroup", properties, tagged=False, extra=_ASG_EXTRA)
    return count + extra + 2, 2


def unit_mixed_asg(stack: Stack, name: str) -> tuple[int, int]:
    """An ASG with a mixed instances policy; one override launches from a second (arm64) template."""
    group, count = unit_security_group(stack, f"{name}Sg")
    _, profile, extra = _instance_role(stack, name)
    template = _launch_template(stack, f"{name}LaunchTemplate", group, profile, metadata_options(stack)[0])
    capacity = 2
    overrides: list[dict[str, Any]] = [{"InstanceType": t} for t in stack.rng.sample(INSTANCE_TYPES, 3)]
    if stack.rng.random() < 0.5:
        arm = _launch_template(
            stack, f"{name}Arm64LaunchTemplate", group, profile, metadata_options(stack)[0]
        )
        capacity += 1
        overrides.append(
            {
                "InstanceType": "m7g.large",
                "LaunchTemplateSpecification": {
                    "LaunchTemplateId": ref(arm),
                    "Version": get_att(arm, "LatestVersionNumber"),
                },
            }
        )
    properties = _asg_properties(stack, 0, 20)
    properties["MixedInstancesPolicy"] = {
        "InstancesDistribution": {
            "OnDemandBaseCapacity": 1,
            "OnDemandPercentageAboveBaseCapacity": 20,
            "SpotAllocationStrategy": "price-capacity-optimized",
        },
        "LaunchTemplate": {
            "LaunchTemplateSpecification": {
                "LaunchTemplateId": ref(template),
                "Version": get_att(template, "LatestVersionNumber"),
            },
            "Overrides": overrides,
        },
    }
    properties["Tags"] = _asg_tags(stack, name)
    stack.add(f"{name}/ASG", "AWS::AutoScaling::AutoScalingGroup", properties, tagged=False, extra=_ASG_EXTRA)
    return count + extra + capacity, capacity


def unit_instance(stack: Stack, name: str) -> tuple[int, int]:
    """ec2.Instance; with require_imdsv2 CDK adds a named launch template holding only MetadataOptions."""
    group, count = unit_security_group(stack, f"{name}InstanceSecurityGroup")
    _, profile, extra = _instance_role(stack, name)
    properties: dict[str, Any] = {
        "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "IamInstanceProfile": ref(profile),
        "ImageId": stack.ami(),
        "InstanceType": stack.rng.choice(INSTANCE_TYPES),
        "SecurityGroupIds": [get_att(group, "GroupId")],
        "SubnetId": _subnets(stack)[0],
        "UserData": {"Fn::Base64": "#!/bin/bash"},
    }
    capacity = 1
    if stack.rng.random() < 0.75:
        lt_name = f"{stack.name}{name}LaunchTemplate"
        template = stack.add(
            f"{name}/LaunchTemplate",
            "AWS::EC2::LaunchTemplate",
            {
                "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}},
                "LaunchTemplateName": lt_name,
            },
            tagged=False,
        )
        properties["LaunchTemplate"] = {
            "LaunchTemplateName": lt_name,
            "Version": get_att(template, "LatestVersionNumber"),
        }
        capacity += 1
    stack.add(
        f"{name}/Resource", "AWS::EC2::Instance", properties, name_tag=True, extra={"DependsOn": [profile]}
    )
    return count + extra + capacity, capacity


def unit_lc_asg(stack: Stack, name: str) -> tuple[int, int]:
    """A legacy launch configuration group (autoscaling.AutoScalingGroup with machine_image=...)."""
    group, count = unit_security_group(stack, f"{name}InstanceSecurityGroup")
    _, profile, extra = _instance_role(stack, name)
    properties: dict[str, Any] = {
        "IamInstanceProfile": ref(profile),
        "ImageId": stack.ami(),
        "InstanceType": stack.rng.choice(INSTANCE_TYPES),
        "SecurityGroups": [get_att(group, "GroupId")],
        "UserData": {"Fn::Base64": "#!/bin/bash"},
    }
    if stack.rng.random() < 0.6:
        properties["MetadataOptions"] = {
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 1,
            "HttpTokens": "required",
        }
    configuration = stack.add(
        f"{name}/LaunchConfig", "AWS::AutoScaling::LaunchConfiguration", properties, tagged=False
    )
    asg = _asg_properties(stack, 1, 4)
    asg["LaunchConfigurationName"] = ref(configuration)
    asg["Tags"] = _asg_tags(stack, name)
    stack.add(f"{name}/ASG", "AWS::AutoScaling::AutoScalingGroup", asg, tagged=False, extra=_ASG_EXTRA)
    return count + extra + 2, 2


def unit_imported_asg(stack: Stack, name: str, shared: list[tuple[str, str]]) -> tuple[int, int]:
    """An ASG launching from a launch template the platform stack exports (Fn::ImportValue)."""
    template_export, version_export = stack.rng.choice(shared)
    stack.dependencies.add("Platform")
    properties = _asg_properties(stack, 1, 4)
    properties["LaunchTemplate"] = {
        "LaunchTemplateId": {"Fn::ImportValue": template_export},
        "Version": {"Fn::ImportValue": version_export},
    }
    properties["Tags"] = _asg_tags(stack, name)
    stack.add(f"{name}/ASG", "AWS::AutoScaling::AutoScalingGroup", properties, tagged=False, extra=_ASG_EXTRA)
    return 1, 1


# -------------------------------------------------------------------------------------------------


def build_platform(stack: Stack, budget: int) -> list[tuple[str, str]]:
    """The shared stack: a VPC and launch templates that other stacks import."""
    unit_vpc(stack, azs=2)
    vpc = stack.vpc
    assert vpc is not None
    # CDK names exports after the reference; these friendlier names are what hand-written exports look like.
    stack.outputs["VpcId"] = {"Value": vpc["id"], "Export": {"Name": "Platform:VpcId"}}
    for index, subnet in enumerate(vpc["subnets"], start=1):
        stack.outputs[f"PrivateSubnet{index}"] = {
            "Value": subnet,
            "Export": {"Name": f"Platform:PrivateSubnet{index}"},
        }
    group, _ = unit_security_group(stack, "SharedInstancesSg")
    _, profile, _ = _instance_role(stack, "Shared")
    shared = []
    for index, options in enumerate(
        [
            {"HttpTokens": "required"},
            {"HttpPutResponseHopLimit": 2, "HttpTokens": "required"},
            {"HttpTokens": "required"},
            None,  # a legacy template that still allows IMDSv1: importers must be flagged
        ]
    ):
        template = _launch_template(stack, f"SharedLaunchTemplate{index}", group, profile, options)
        shared.append((stack.export(template), stack.export(template, "LatestVersionNumber")))
    fill(stack, budget, capacity_share=0.0, shared=[])
    return shared


def fill(stack: Stack, budget: int, capacity_share: float, shared: list[tuple[str, str]]) -> None:
    """Add building blocks until the stack has exactly ``budget`` resources (CDKMetadata excluded)."""
    rng = stack.rng
    capacity_target = round(budget * capacity_share)
    capacity = 0
    serial = 0
    imports_left = 1 if shared and rng.random() < 0.5 else 0
    while stack.count < budget:
        left = budget - stack.count
        serial += 1
        domain = rng.choice(COMPONENTS)
        if capacity < capacity_target and left >= 8:
            kind = rng.random()
            if imports_left and kind < 0.15:
                imports_left -= 1
                _, added = unit_imported_asg(stack, f"{domain}Shared{serial}", shared)
            elif kind < 0.55:
                _, added = unit_lt_asg(stack, f"{domain}Fleet{serial}")
            elif kind < 0.72:
                _, added = unit_mixed_asg(stack, f"{domain}Spot{serial}")
            elif kind < 0.90:
                _, added = unit_instance(stack, f"{domain}Host{serial}")
            else:
                _, added = unit_lc_asg(stack, f"{domain}Legacy{serial}")
            capacity += added
            continue
        kind = rng.random()
        if left >= 6 and kind < 0.40:
            unit_function(stack, f"{domain}Handler{serial}")
        elif left >= 2 and kind < 0.55:
            unit_bucket(stack, f"{domain}Bucket{serial}")
        elif left >= 2 and kind < 0.68:
            unit_queue(stack, f"{domain}Queue{serial}")
        elif left >= 2 and kind < 0.76:
            unit_topic(stack, f"{domain}Topic{serial}")
        elif kind < 0.84:
            unit_table(stack, f"{domain}Table{serial}")
        elif left >= 2 and kind < 0.92:
            unit_security_group(stack, f"{domain}Sg{serial}")
        else:
            unit_misc(stack, f"{domain}Item{serial}")


def stack_budgets(stacks: int, resources: int, rng: random.Random) -> list[int]:
    """Resources per stack (excluding each CDKMetadata): uneven like real apps, summing exactly."""
    total = resources - stacks  # every stack also gets its CDKMetadata resource
    weights = [rng.lognormvariate(0, 0.5) for _ in range(stacks)]
    scale = total / sum(weights)
    budgets = [max(30, int(w * scale)) for w in weights]
    index = 0
    while sum(budgets) != total:
        step = 1 if sum(budgets) < total else -1
        if budgets[index % stacks] + step >= 30:
            budgets[index % stacks] += step
        index += 1
    return budgets


def stack_artifact(stack: Stack, inline_metadata: bool) -> dict[str, Any]:
    def role(kind: str) -> str:
        return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/cdk-{QUALIFIER}-{kind}-${{AWS::AccountId}}-${{AWS::Region}}"

    digest = hashlib.sha256(stack.name.encode()).hexdigest()
    artifact: dict[str, Any] = {
        "type": "aws:cloudformation:stack",
        "environment": ENVIRONMENT,
        "properties": {
            "templateFile": f"{stack.name}.template.json",
            "terminationProtection": False,
            "tags": dict(stack.tags),
            "validateOnSynth": False,
            "assumeRoleArn": role("deploy-role"),
            "cloudFormationExecutionRoleArn": role("cfn-exec-role"),
            "stackTemplateAssetObjectUrl": f"s3://cdk-{QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}/{digest}.json",
            "requiresBootstrapStackVersion": 6,
            "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version",
            "additionalDependencies": [f"{stack.name}.assets"],
            "lookupRole": {
                "arn": role("lookup-role"),
                "requiresBootstrapStackVersion": 8,
                "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version",
            },
        },
        "dependencies": [*sorted(stack.dependencies), f"{stack.name}.assets"],
    }
    if inline_metadata:
        artifact["metadata"] = stack.metadata
    else:
        artifact["additionalMetadataFile"] = f"{stack.name}.metadata.json"
    artifact["displayName"] = stack.name
    return artifact


def asset_manifest(stack: Stack) -> dict[str, Any]:
    digest = hashlib.sha256(stack.name.encode()).hexdigest()
    return {
        "version": SCHEMA_VERSION,
        "files": {
            digest: {
                "displayName": f"{stack.name} Template",
                "source": {"path": f"{stack.name}.template.json", "packaging": "file"},
                "destinations": {
                    "current_account-current_region": {
                        "bucketName": f"cdk-{QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}",
                        "objectKey": f"{digest}.json",
                        "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/"
                        f"cdk-{QUALIFIER}-file-publishing-role-${{AWS::AccountId}}-${{AWS::Region}}",
                    }
                },
            }
        },
        "dockerImages": {},
    }


def generate(
    outdir: str, stacks: int, resources: int, seed: int, inline_metadata: bool = False
) -> dict[str, Any]:
    if stacks < 2:
        raise SystemExit("gen_assembly: need at least 2 stacks (one is the platform stack)")
    if resources < stacks * 31:
        raise SystemExit(f"gen_assembly: need at least {stacks * 31} resources for {stacks} stacks")
    rng = random.Random(seed)
    budgets = stack_budgets(stacks, resources, rng)
    built: list[Stack] = []
    platform = Stack(
        "Platform", random.Random(f"{seed}/Platform"), {"Team": "platform", "CostCenter": "cc-1000"}
    )
    shared = build_platform(platform, budgets[0])
    built.append(platform)
    for index in range(1, stacks):
        domain = DOMAINS[(index - 1) % len(DOMAINS)]
        component = COMPONENTS[((index - 1) // len(DOMAINS)) % len(COMPONENTS)]
        name = f"{domain}{component}{index:03d}"
        stack_rng = random.Random(f"{seed}/{name}")
        tags = {
            "Team": domain.lower(),
            "CostCenter": f"cc-{1000 + index}",
            "Service": f"{domain.lower()}-{component.lower()}",
        }
        stack = Stack(name, stack_rng, tags)
        if stack_rng.random() < 0.3:
            unit_vpc(stack, azs=stack_rng.choice((2, 3)))
        fill(stack, budgets[index], capacity_share=0.10, shared=shared)
        built.append(stack)

    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    artifacts: dict[str, Any] = {}
    totals = {"stacks": 0, "resources": 0, "bytes": 0, "types": {}}
    for stack in built:
        body = stack.template()
        text = json.dumps(body, indent=1)
        with open(os.path.join(outdir, f"{stack.name}.template.json"), "w", encoding="utf-8") as handle:
            handle.write(text)
        with open(os.path.join(outdir, f"{stack.name}.assets.json"), "w", encoding="utf-8") as handle:
            json.dump(asset_manifest(stack), handle, indent=2)
        if not inline_metadata:
            with open(os.path.join(outdir, f"{stack.name}.metadata.json"), "w", encoding="utf-8") as handle:
                json.dump(stack.metadata, handle, indent=2)
        artifacts[f"{stack.name}.assets"] = {
            "type": "cdk:asset-manifest",
            "properties": {
                "file": f"{stack.name}.assets.json",
                "requiresBootstrapStackVersion": 6,
                "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version",
            },
        }
        artifacts[stack.name] = stack_artifact(stack, inline_metadata)
        totals["stacks"] += 1
        totals["resources"] += len(body["Resources"])
        totals["bytes"] += len(text)
        for resource in body["Resources"].values():
            types = totals["types"]
            types[resource["Type"]] = types.get(resource["Type"], 0) + 1
    artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    with open(os.path.join(outdir, "tree.json"), "w", encoding="utf-8") as handle:
        tree = {
            "version": "tree-0.1",
            "tree": {
                "id": "App",
                "path": "",
                "children": {s.name: {"id": s.name, "path": s.name} for s in built},
            },
        }
        json.dump(tree, handle, indent=2)
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump({"version": SCHEMA_VERSION, "artifacts": artifacts}, handle, indent=2)
    with open(os.path.join(outdir, "cdk.out"), "w", encoding="utf-8") as handle:
        json.dump({"version": SCHEMA_VERSION}, handle)
    return totals


CAPACITY_TYPES = (
    "AWS::EC2::LaunchTemplate",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::EC2::Instance",
    "AWS::AutoScaling::LaunchConfiguration",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--stacks", type=int, default=100)
    parser.add_argument("--resources", type=int, default=20000, help="total resources, CDKMetadata included")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--inline-metadata", action="store_true", help="metadata in manifest.json (CDK < 2.160)"
    )
    arguments = parser.parse_args(argv)
    totals = generate(
        arguments.outdir, arguments.stacks, arguments.resources, arguments.seed, arguments.inline_metadata
    )
    capacity = sum(totals["types"].get(t, 0) for t in CAPACITY_TYPES)
    print(
        f"gen_assembly: {arguments.outdir}: {totals['stacks']} stacks, {totals['resources']} resources "
        f"({capacity} EC2 capacity = {100 * capacity / totals['resources']:.1f}%), "
        f"templates {totals['bytes'] / 1e6:.1f} MB",
        file=sys.stderr,
    )
    for resource_type, count in sorted(totals["types"].items(), key=lambda item: -item[1]):
        print(f"  {count:6d}  {resource_type}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
