"""A Service Catalog product with one version: what the product cases share."""

from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct


def product(scope: Construct, template: servicecatalog.CloudFormationTemplate) -> None:
    servicecatalog.CloudFormationProduct(
        scope,
        "Product",
        product_name="conformance",
        owner="platform",
        product_versions=[
            servicecatalog.CloudFormationProductVersion(
                cloud_formation_template=template, product_version_name="v1"
            )
        ],
    )
