"""``cloudformation_include.CfnInclude`` of a template file: the cases as a legacy template.

The file is what the cases synthesize to on their own (a scratch App in the same process, written
to a temporary directory), so every case of the catalogue has its included form without a second
copy of it to keep in step. CDK's path metadata is taken out of the file, as a hand-written template
would not have it; each case's paths are found again through it first, and become the included
resources' own construct paths.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cloudformation_include as cfn_inc
from constructs import Construct

from tests.conformance_apps.model import Case, Placed, Shape

PATH_METADATA = "aws:cdk:path"
SCRATCH_STACK = "Legacy"


class CfnInclude(Shape):
    name = "cfn_include"
    description = "CfnInclude of a template file"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        with tempfile.TemporaryDirectory(prefix="conformance-include-") as directory:
            template = _scratch_template(cases, Path(directory) / "scratch.out")
            origins = _strip_path_metadata(template)
            template_file = Path(directory) / "legacy.template.json"
            template_file.write_text(json.dumps(template, indent=1), encoding="utf-8")
            included = cfn_inc.CfnInclude(
                cdk.Stack(app, "Included"), "Legacy", template_file=str(template_file)
            )
        return [
            Placed(
                case.name,
                self.name,
                {
                    relative: [
                        included.get_resource(logical_id).node.path
                        for logical_id, origin in origins.items()
                        if _under(origin, f"{SCRATCH_STACK}/{case.name}/{relative}")
                    ]
                    for relative in case.paths
                },
            )
            for case in cases
        ]


def _scratch_template(cases: Sequence[Case], outdir: Path) -> dict[str, Any]:
    """The cases synthesized in a stack of their own (no bootstrap rule: it is not deployed itself)."""
    scratch = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(
        scratch,
        SCRATCH_STACK,
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        # The including stack has its own CDKMetadata resource: two would clash.
        analytics_reporting=False,
    )
    for case in cases:
        scope = Construct(stack, case.name)
        for key, value in case.context.items():
            scope.node.set_context(key, value)
        case.build(scope)
    template: dict[str, Any] = scratch.synth().get_stack_by_name(SCRATCH_STACK).template
    return template


def _strip_path_metadata(template: dict[str, Any]) -> dict[str, str]:
    """Removes CDK's path metadata; returns logical id -> the path it had."""
    origins: dict[str, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        metadata = resource.get("Metadata", {})
        if PATH_METADATA in metadata:
            origins[logical_id] = metadata.pop(PATH_METADATA)
        if not metadata:
            resource.pop("Metadata", None)
    return origins


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


SHAPE = CfnInclude()
