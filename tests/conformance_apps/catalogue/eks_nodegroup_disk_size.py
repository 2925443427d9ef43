"""EKS managed node group with DiskSize: EKS rejects a launch template with it, so FIX cannot fix it."""

from constructs import Construct

from tests.conformance_apps.catalogue import _eks
from tests.conformance_apps.model import Case, Verdict


def build(scope: Construct) -> None:
    _eks.nodegroup(scope, disk_size=50)


CASE = Case("EksDiskSize", build, Verdict.UNFIXABLE, paths=("Nodegroup",))
