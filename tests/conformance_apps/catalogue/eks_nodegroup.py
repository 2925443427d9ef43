"""EKS managed node group with no launch template: EKS's default template may allow IMDSv1."""

from constructs import Construct

from tests.conformance_apps.catalogue import _eks
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    _eks.nodegroup(scope)


CASE = Case("EksNodegroup", build, Verdict.FIXABLE, paths=("Nodegroup",), fix_note=("replace",))
