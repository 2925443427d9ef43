"""servicecatalog.CloudFormationProduct from a ProductStack holding an insecure launch template.

FIX can fix the ProductStack's template; what must be fixed is the asset the product points at.
"""

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from tests.conformance_apps.catalogue import _service_catalog, _shared
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    product_stack = servicecatalog.ProductStack(scope, "ProductStack")
    ec2.LaunchTemplate(
        product_stack, "Template", instance_type=_shared.instance_type(), machine_image=_shared.image()
    )
    _service_catalog.product(scope, servicecatalog.CloudFormationTemplate.from_product_stack(product_stack))


CASE = Case(
    "ScProductStack",
    build,
    Verdict.FIXABLE,
    # The resource inside the product's template, and the construct that deploys it.
    paths=("ProductStack/Template", "Product"),
    # A product inside a product, or in a template file, is not something users write.
    not_in=("product_stack", "cfn_include"),
)
