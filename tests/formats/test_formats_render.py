from __future__ import annotations

from collections.abc import Callable

import pytest

from cdk_imds.formats import _RENDERERS, Format, Report, render


def test_format_members_have_their_cli_names() -> None:
    assert [member.value for member in Format] == ["text", "json", "sarif"]
    assert Format("sarif") is Format.SARIF
    assert isinstance(Format.JSON, str)


def test_every_member_has_a_renderer() -> None:
    assert set(_RENDERERS) == set(Format)


@pytest.mark.parametrize("fmt", list(Format))
def test_every_member_renders_every_finding(fmt: Format, mixed_report: Report) -> None:
    output = render(fmt, mixed_report)
    assert output.endswith("\n")
    # Each finding by the name a reader knows it by: its construct path, else its logical id in
    # the template, else the live resource's id; and each one's message.
    for finding, name in zip(
        mixed_report.findings,
        ["AppStack/Fleet/LaunchTemplate", "WebLT", "LegacyInstance", "Asg", "i-0123456789abcdef0"],
        strict=True,
    ):
        assert name in output, finding
        assert finding.message in output, finding


@pytest.mark.parametrize("fmt", list(Format))
def test_every_member_renders_an_empty_report(fmt: Format, make_report: Callable[..., Report]) -> None:
    assert render(fmt, make_report()).strip()


def test_render_accepts_the_plain_string(mixed_report: Report) -> None:
    assert render("json", mixed_report) == render(Format.JSON, mixed_report)


@pytest.mark.parametrize("fmt", [Format.JSON, Format.SARIF])
def test_color_only_affects_text(fmt: Format, mixed_report: Report) -> None:
    assert render(fmt, mixed_report, color=True) == render(fmt, mixed_report)
    assert "\x1b[" not in render(fmt, mixed_report, color=True)
