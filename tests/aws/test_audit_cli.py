"""`cdk-imds audit` arguments that are refused before any AWS call."""

from __future__ import annotations

import pytest

from cdk_imds.cli import EXIT_BAD_INPUT, main


def test_help_shows_examples_and_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--help"])

    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "cdk-imds audit --all-regions --format json -o audit.json" in out
    assert "audit-policy.json" in out


@pytest.mark.parametrize("days", ["0", "-3", "two"])
def test_usage_days_must_be_a_positive_number(days: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "--usage-days", days])

    assert exit_.value.code == EXIT_BAD_INPUT
    assert "--usage-days" in capsys.readouterr().err


def test_usage_days_beyond_cloudwatch_retention_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--usage-days", "456"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "cdk-imds: error: --usage-days: CloudWatch keeps hourly data for 455 days at most\n"
    )
