"""A Service Catalog ProductStack: the constructs are deployed from the product's template asset."""

import dataclasses
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from tests.conformance_apps.catalogue import _service_catalog
from tests.conformance_apps.model import Case, Placed, Shape, place


class ProductStack(Shape):
    name = "product_stack"
    description = "ProductStack behind a CloudFormationProduct"

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        portfolio = cdk.Stack(app, "Portfolio")
        # Constructs with assets (the shared VPC's default security group handler, for one) need a
        # bucket that the product's assets are copied to, as in any real product.
        assets = s3.Bucket.from_bucket_name(portfolio, "ProductAssets", "conformance-product-assets")
        product_stack = servicecatalog.ProductStack(portfolio, "Products", asset_bucket=assets)
        placed = [place(self.name, case, product_stack) for case in cases]
        _service_catalog.product(
            portfolio, servicecatalog.CloudFormationTemplate.from_product_stack(product_stack)
        )
        product = f"{portfolio.node.path}/Product"
        return [dataclasses.replace(p, deployers=(product,)) for p in placed]


SHAPE = ProductStack()
