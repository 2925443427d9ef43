"""servicecatalog.CloudFormationProduct from a template file (CloudFormationTemplate.from_asset).

A file asset cannot be fixed at synth: FIX and FAIL alike must fail naming the file and the
resource in it.
"""

from pathlib import Path

from aws_cdk import aws_servicecatalog as servicecatalog
from constructs import Construct

from tests.conformance_apps.catalogue import _service_catalog
from tests.conformance_apps.model import Case, Verdict

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "insecure_product.json"


def build(scope: Construct) -> None:
    _service_catalog.product(scope, servicecatalog.CloudFormationTemplate.from_asset(str(TEMPLATE)))


CASE = Case(
    "ScTemplateFile",
    build,
    Verdict.UNFIXABLE,
    paths=("Product",),
    names=("BareLaunchTemplate",),
    files=(TEMPLATE,),
    not_in=("product_stack", "cfn_include"),
)
