"""Templates an assembly deploys as file assets (Service Catalog products) are read and judged."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_servicecatalog as servicecatalog

from cdk_imds.policy import RuleId, check_sources
from cdk_imds.sources.loader import load_paths

# A file copied from another app's synth: its aws:cdk:path names a construct this app does not have.
BAD_FILE = {
    "Resources": {
        "FileLT": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {}},
            "Metadata": {"aws:cdk:path": "ElsewhereStack/Old/Resource"},
        }
    }
}


class _Product(servicecatalog.ProductStack):
    def __init__(self, scope: cdk.Stack, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        ec2.CfnLaunchTemplate(self, "ProductLT", launch_template_data={"instanceType": "t3.micro"})


@pytest.fixture(scope="module")
def catalog_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    template_file = root / "bad.template.json"
    template_file.write_text(json.dumps(BAD_FILE))
    app = cdk.App(outdir=str(root / "cdk.out"))
    stack = cdk.Stack(app, "Catalog")
    for name, template in (
        ("FromStack", servicecatalog.CloudFormationTemplate.from_product_stack(_Product(stack, "Product"))),
        ("FromFile", servicecatalog.CloudFormationTemplate.from_asset(str(template_file))),
    ):
        servicecatalog.CloudFormationProduct(
            stack,
            name,
            product_name=name,
            owner="platform",
            product_versions=[
                servicecatalog.CloudFormationProductVersion(
                    product_version_name="v1", cloud_formation_template=template
                )
            ],
        )
    # Another JSON asset that is not a template must be passed over quietly.
    (root / "data.json").write_text(json.dumps({"not": "a template"}))
    cdk.aws_s3_assets.Asset(stack, "Data", path=str(root / "data.json"))
    app.synth()
    return root / "cdk.out"


def test_both_product_templates_are_judged_and_named_by_what_deploys_them(catalog_assembly: Path) -> None:
    loaded = load_paths([str(catalog_assembly)])
    assert loaded.problems == []
    assets = {Path(source.path).name: source for source in loaded.sources if source.deployed_by}
    assert len(assets) == 2, list(assets)
    result = check_sources(loaded.sources)
    errors = {
        (finding.logical_id, finding.stack)
        for finding in result.findings
        if finding.rule is RuleId.IMDSV2_REQUIRED
    }
    labels = {label for _, label in errors}
    assert {logical_id for logical_id, _ in errors} == {"FileLT", "ProductLT"}
    assert any(label.startswith("Catalog/FromFile (template asset asset.") for label in labels), labels
    assert any(label.startswith("Catalog/FromStack (template asset ") for label in labels), labels


def test_the_product_url_leads_to_the_judged_file(catalog_assembly: Path) -> None:
    # The object key in the product's LoadTemplateFromURL is the asset whose file was judged.
    manifest = json.loads((catalog_assembly / "Catalog.assets.json").read_text())
    template = json.loads((catalog_assembly / "Catalog.template.json").read_text())
    keys = {
        entry["source"]["path"]: next(iter(entry["destinations"].values()))["objectKey"]
        for entry in manifest["files"].values()
    }
    loaded = load_paths([str(catalog_assembly)])
    deployers = {}
    for source in loaded.sources:
        if source.deployed_by:
            key = keys[Path(source.path).name]
            (logical_id,) = [
                logical_id
                for logical_id, resource in template["Resources"].items()
                if key in json.dumps(resource.get("Properties", {}))
            ]
            deployers[source.deployed_by] = logical_id
    assert sorted(deployers) == ["Catalog/FromFile", "Catalog/FromStack"]
    assert all(logical_id.startswith(path.split("/")[1]) for path, logical_id in deployers.items())


def test_an_unstaged_stackset_template_is_judged_and_named_by_its_file(tmp_path: Path) -> None:
    # Given a StackSet deploying a template file asset, synthesized without staging (as
    # --no-staging does): the asset manifest points at the user's own file, nothing is copied
    template_file = tmp_path / "member.template.json"
    template_file.write_text(json.dumps(BAD_FILE))
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context={"aws:cdk:disable-asset-staging": True})
    stack = cdk.Stack(app, "Org")
    asset = cdk.aws_s3_assets.Asset(stack, "MemberTemplate", path=str(template_file))
    cdk.CfnStackSet(
        stack, "Members", permission_model="SERVICE_MANAGED", stack_set_name="m", template_url=asset.http_url
    )
    app.synth()
    # When loaded, then the file is judged, named by its own path, and its deployer is the StackSet
    loaded = load_paths([str(tmp_path / "cdk.out")])
    (source,) = [source for source in loaded.sources if source.deployed_by]
    assert source.path == str(template_file)
    assert source.deployed_by == "Org/Members"
    assert str(template_file) in source.label
    findings = check_sources(loaded.sources).findings
    assert [(f.logical_id, f.rule) for f in findings] == [("FileLT", RuleId.IMDSV2_REQUIRED)]
    # ... by its logical id: the copied construct path is not a construct of this app
    assert findings[0].construct_path is None
