"""`cdk-imds remediate` flag combinations refused by the parser, before any AWS call."""

from __future__ import annotations

import pytest

from cdk_imds.cli import EXIT_BAD_INPUT, main


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--refresh", "--in-place"], "not allowed with argument --refresh"),
        (["--plan", "run.json"], "--plan records applied changes: add --apply"),
        (["--min-healthy-percentage", "80"], "--min-healthy-percentage needs --refresh"),
        (["--refresh", "--min-healthy-percentage", "101"], "must be from 0 to 100"),
        (
            ["--revert", "run.json", "--refresh"],
            "--revert takes what to undo, and where, from its file: drop --refresh",
        ),
        (["--revert", "run.json", "--region", "us-east-1"], "drop --region"),
    ],
)
def test_bad_combinations_are_parser_errors(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["remediate", *arguments])

    assert exit_.value.code == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_help_shows_examples_and_the_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["remediate", "--help"])

    out = capsys.readouterr().out
    assert "cdk-imds remediate --revert run.json --apply" in out
    assert "remediate-policy.json" in out
