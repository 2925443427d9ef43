"""Live metadata options go through the policy engine's rule, unchanged (no second copy of it)."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_imds.policy.imds import Verdict, hop_limits, judge_live_options, live_option_set


@pytest.mark.parametrize(
    ("options", "verdict"),
    [
        ({"HttpTokens": "required", "HttpEndpoint": "enabled"}, Verdict.PASS),
        ({"HttpTokens": "optional", "HttpEndpoint": "disabled"}, Verdict.PASS),
        ({"HttpTokens": "optional", "HttpEndpoint": "enabled"}, Verdict.FAIL),
        ({"HttpEndpoint": "enabled"}, Verdict.FAIL),
        ({}, Verdict.FAIL),
        (None, Verdict.FAIL),
    ],
)
def test_verdicts(options: dict[str, Any] | None, verdict: Verdict) -> None:
    assert judge_live_options(options).verdict is verdict


def test_unset_options_explain_the_fallback() -> None:
    assert "MetadataOptions is not set" in judge_live_options(None).reason


def test_hop_limits_of_live_options() -> None:
    assert hop_limits([live_option_set({"HttpPutResponseHopLimit": 2})]) == [2]
    assert hop_limits([live_option_set(None)]) == []
