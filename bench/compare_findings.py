#!/usr/bin/env python3
"""Explain why cdk-imds and checkov's CKV_AWS_79 report different numbers on the same templates.

    python bench/compare_findings.py CDK_IMDS_REPORT.json CHECKOV_REPORT.json [ASSEMBLY]

CKV_AWS_79 (CloudFormation) looks at ``AWS::EC2::LaunchTemplate`` only, and passes it when
``LaunchTemplateData.MetadataOptions.HttpTokens`` is ``"required"`` (or ``HttpEndpoint`` is
``"disabled"``), after checkov's own rendering of intrinsics. cdk-imds also judges instances, launch
configurations and every launcher (ASG, mixed-instances overrides, imports across stacks), and
treats values that only a deploy can decide (an unconstrained parameter) as unverifiable.

Prints: launch templates each tool fails, the overlap and the differences with the reason cdk-imds
gives (and, given ASSEMBLY, the shape of the MetadataOptions that the tools disagree on), and
cdk-imds findings on resource types checkov does not look at.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys


def shape(assembly: str, template: str, logical_id: str) -> str:
    """The MetadataOptions of a launch template, with names blanked: what kind of expression it is."""
    with open(os.path.join(assembly, template), encoding="utf-8") as handle:
        resource = json.load(handle)["Resources"][logical_id]
    options = resource.get("Properties", {}).get("LaunchTemplateData", {}).get("MetadataOptions")
    text = json.dumps(options, sort_keys=True)
    text = re.sub(r'"Fn::If": \["[A-Za-z0-9]+"', '"Fn::If": [COND', text)
    return text if len(text) <= 150 else text[:147] + "..."


def main() -> int:
    cdk_imds_path, checkov_path = sys.argv[1:3]
    assembly = sys.argv[3] if len(sys.argv) > 3 else None
    with open(cdk_imds_path, encoding="utf-8") as handle:
        cdk = json.load(handle)
    with open(checkov_path, encoding="utf-8") as handle:
        checkov = json.load(handle)
    reports = checkov if isinstance(checkov, list) else [checkov]

    def key(template: str, logical_id: str) -> tuple[str, str]:
        return os.path.basename(template), logical_id

    checkov_failed = set()
    checkov_passed = set()
    for report in reports:
        for bucket, target in (("failed_checks", checkov_failed), ("passed_checks", checkov_passed)):
            for check in report["results"].get(bucket, []):
                resource_type, _, logical_id = check["resource"].partition(".")
                if resource_type == "AWS::EC2::LaunchTemplate":
                    target.add(key(check["file_path"], logical_id))

    lt_findings: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    other = collections.Counter()
    for finding in cdk["findings"]:
        if finding["resource_type"] == "AWS::EC2::LaunchTemplate":
            lt_findings[key(finding["template"], finding["logical_id"])].append(finding)
        else:
            other[(finding["resource_type"], finding["rule"])] += 1

    def rules(k: tuple[str, str]) -> set[str]:
        return {f["rule"] for f in lt_findings.get(k, [])}

    cdk_bad = {k for k in lt_findings if rules(k) & {"IMDSV2_REQUIRED", "IMDSV2_UNVERIFIABLE"}}
    cdk_required = {k for k in lt_findings if "IMDSV2_REQUIRED" in rules(k)}
    cdk_unverifiable = {k for k in lt_findings if "IMDSV2_UNVERIFIABLE" in rules(k)}
    passed_total = sum(r["summary"]["passed"] for r in reports)
    print(
        f"launch templates: checkov failed {len(checkov_failed)}, passed {passed_total}; cdk-imds IMDSV2_REQUIRED {len(cdk_required)}, "
        f"IMDSV2_UNVERIFIABLE {len(cdk_unverifiable)}"
    )
    print(f"  both fail: {len(checkov_failed & cdk_required)}")
    print(f"  checkov fails, cdk-imds says unverifiable: {len(checkov_failed & cdk_unverifiable)}")
    only_checkov = checkov_failed - cdk_bad
    only_cdk = cdk_bad - checkov_failed
    print(f"  checkov fails, cdk-imds passes: {len(only_checkov)}")
    if assembly:
        shapes = collections.Counter(shape(assembly, *k) for k in only_checkov)
        for text, count in shapes.most_common():
            print(f"    {count:4d}  MetadataOptions {text}")
    else:
        for k in sorted(only_checkov)[:5]:
            print(f"    {k[0]} {k[1]}")
    reasons = collections.Counter()
    for k in only_cdk:
        for finding in lt_findings[k]:
            if finding["rule"] in ("IMDSV2_REQUIRED", "IMDSV2_UNVERIFIABLE"):
                message = finding["message"].split(": ", 1)[-1]
                reasons[(finding["rule"], message[:110])] += 1
    print(f"  cdk-imds flags, checkov passes (--quiet omits passed checks, so not listed): {len(only_cdk)}")
    for (rule, message), count in reasons.most_common(8):
        print(f"    {count:4d}  {rule}: {message}")
    if assembly:
        for text, count in collections.Counter(shape(assembly, *k) for k in only_cdk).most_common():
            print(f"    {count:4d}  MetadataOptions {text}")
    print("cdk-imds findings on other resource types (CKV_AWS_79 does not look at them):")
    for (resource_type, rule), count in sorted(other.items(), key=lambda item: -item[1]):
        print(f"  {count:5d}  {resource_type} {rule}")
    hop = sum(1 for fs in lt_findings.values() for f in fs if f["rule"] == "IMDS_HOP_LIMIT")
    print(f"cdk-imds IMDS_HOP_LIMIT warnings on launch templates (no CKV_AWS_79 equivalent): {hop}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
