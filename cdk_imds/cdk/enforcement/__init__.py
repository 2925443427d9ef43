"""Enforcement at synthesis: the aspect, ``enforce``, the validation plugin and what they share.

Kept apart from the constructs (``cdk_imds.cdk.constructs``): the constructs make secure capacity,
this package makes sure nothing else in the app is insecure.
"""

from cdk_imds.cdk.enforcement.enforce import enforce, enforce_stage

__all__ = ["enforce", "enforce_stage"]
