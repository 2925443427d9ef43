"""``check_units``: templates judged a unit at a time as they are read, freed once judged.

Its findings must be ``check_sources``'s over the same templates, in the same order, whatever the
order of exporters and importers; the units it lets go must really be freed with the cyclic
collector paused (as ``cdk-imds check`` runs it), and the ones others may refer to kept.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.policy import CheckResult, check_sources
from cdk_imds.policy.engine import check_units
from cdk_imds.sources import TemplateSource, Unit
from cdk_imds.sources.loader import collector_paused, iter_paths, load_paths

ROOT = Path(__file__).resolve().parents[2]
LT = "AWS::EC2::LaunchTemplate"
ASG = "AWS::AutoScaling::AutoScalingGroup"


class Body(dict[str, Any]):
    """A template body that a weak reference can watch (a plain dict cannot)."""

    __slots__ = ("__weakref__",)


def launch_template(tokens: str) -> dict[str, Any]:
    return {"Type": LT, "Properties": {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": tokens}}}}


def group(template_id: Any) -> dict[str, Any]:
    return {
        "Type": ASG,
        "Properties": {"LaunchTemplate": {"LaunchTemplateId": template_id, "Version": "$Latest"}},
    }


def exporting(name: str, tokens: str) -> Body:
    return Body(
        Resources={"Shared": launch_template(tokens)},
        Outputs={"Id": {"Value": {"Ref": "Shared"}, "Export": {"Name": name}}},
    )


def importing(name: str) -> Body:
    return Body(Resources={"Group": group({"Fn::ImportValue": name}), "Own": launch_template("optional")})


def relaying(imported: str, as_name: str) -> Body:
    """A stack that exports, under ``as_name``, the value it imports as ``imported``."""
    return Body(
        Resources={},
        Outputs={"Id": {"Value": {"Fn::ImportValue": imported}, "Export": {"Name": as_name}}},
    )


def plain(tokens: str) -> Body:
    return Body(Resources={"Template": launch_template(tokens), "Group": group({"Ref": "Template"})})


def as_dicts(result: CheckResult) -> list[dict[str, Any]]:
    return [finding.to_dict() for finding in result.findings]


def rereadable(path: str, make: Callable[[], Body], stack: str, reads: list[str]) -> Unit:
    """A unit of one template that check_units may let go and read again (counted in ``reads``)."""

    def reread() -> list[TemplateSource]:
        reads.append(path)
        return [TemplateSource(path, make(), stack=stack)]

    return Unit([TemplateSource(path, make(), stack=stack)], reread)


def assert_same_as_check_sources(units: list[list[TemplateSource]]) -> CheckResult:
    streamed = check_units(Unit(unit) for unit in units)
    whole = check_sources([source for unit in units for source in unit])
    assert as_dicts(streamed) == as_dicts(whole)
    assert (streamed.templates, streamed.resources) == (whole.templates, whole.resources)
    return streamed


def test_exporter_first_importer_later_gives_check_sources_findings() -> None:
    units = [
        [TemplateSource("platform.json", exporting("lt", "optional"), stack="Platform")],
        [TemplateSource("app.json", importing("lt"), stack="App")],
        [TemplateSource("other.json", plain("optional"), stack="Other")],
    ]
    result = assert_same_as_check_sources(units)
    # The control: the import was followed (the group is judged on the exported template).
    [on_group] = [f for f in result.findings if f.logical_id == "Group" and f.template == "app.json"]
    assert on_group.related is not None and "Platform" in on_group.related


def test_importer_before_its_exporter_is_judged_again_with_every_export() -> None:
    units = [
        [TemplateSource("app.json", importing("lt"), stack="App")],
        [TemplateSource("platform.json", exporting("lt", "required"), stack="Platform")],
    ]
    result = assert_same_as_check_sources(units)
    # Judged alone, the group would be unverifiable ("no stack in the assembly exports it").
    assert not [f for f in result.findings if f.logical_id == "Group"]


def test_an_importer_let_go_is_read_again_only_when_a_later_export_changes_its_import() -> None:
    reads: list[str] = []
    units = [
        rereadable("early.json", lambda: importing("lt"), "Early", reads),
        Unit([TemplateSource("platform.json", exporting("lt", "optional"), stack="Platform")]),
        rereadable("late.json", lambda: importing("lt"), "Late", reads),
    ]
    streamed = check_units(units)
    whole = check_sources([source for unit in units for source in unit.sources])
    assert as_dicts(streamed) == as_dicts(whole)
    # "Early" imported before the export existed; "Late" saw it: only the first is read again.
    assert reads == ["early.json"]
    assert [f.template for f in streamed.findings if f.logical_id == "Group"] == ["early.json", "late.json"]


def test_a_second_export_of_the_same_name_later_is_taken_into_account() -> None:
    # Environment-agnostic stacks: both exports may be the one the group imports.
    units = [
        [TemplateSource("first.json", exporting("lt", "required"), stack="First")],
        [TemplateSource("app.json", importing("lt"), stack="App")],
        [TemplateSource("second.json", exporting("lt", "optional"), stack="Second")],
    ]
    result = assert_same_as_check_sources(units)
    assert [f.rule.value for f in result.findings if f.logical_id == "Group"] == ["IMDSV2_REQUIRED"]


def test_an_export_of_an_imported_value_answered_by_a_later_stack_is_followed() -> None:
    units = [
        [TemplateSource("relay.json", relaying("b", as_name="a"), stack="Relay")],
        [TemplateSource("early.json", importing("a"), stack="Early")],
        [TemplateSource("source.json", exporting("b", "optional"), stack="Source")],
        [TemplateSource("late.json", importing("a"), stack="Late")],
    ]
    result = assert_same_as_check_sources(units)
    # Both groups reach Source's template through Relay's export, however late Source comes.
    assert sorted(f.template for f in result.findings if f.logical_id == "Group") == [
        "early.json",
        "late.json",
    ]
    assert {f.rule.value for f in result.findings if f.logical_id == "Group"} == {"IMDSV2_REQUIRED"}


def test_a_relayed_export_with_two_importers_before_its_source_judges_both_again() -> None:
    units = [
        [TemplateSource("relay.json", relaying("b", as_name="a"), stack="Relay")],
        [TemplateSource("first.json", importing("a"), stack="First")],
        [TemplateSource("second.json", importing("a"), stack="Second")],
        [TemplateSource("source.json", exporting("b", "optional"), stack="Source")],
    ]
    result = assert_same_as_check_sources(units)
    groups = [(f.template, f.rule.value) for f in result.findings if f.logical_id == "Group"]
    assert groups == [("first.json", "IMDSV2_REQUIRED"), ("second.json", "IMDSV2_REQUIRED")]


def test_an_import_answered_through_an_exporter_s_own_import_follows_a_later_export() -> None:
    # The importer's verdict rests on Shared's tokens, themselves imported: a later stack that
    # exports them too (environment-agnostic: both count) changes it, though the name the
    # importer asked for ("x") has the same single exporter before and after.
    def tokens(value: str) -> Body:
        return Body(Resources={}, Outputs={"T": {"Value": value, "Export": {"Name": "tokens"}}})

    relay = Body(
        Resources={"Shared": launch_template({"Fn::ImportValue": "tokens"})},  # type: ignore[arg-type]
        Outputs={"Id": {"Value": {"Ref": "Shared"}, "Export": {"Name": "x"}}},
    )
    units = [
        [TemplateSource("t1.json", tokens("required"), stack="T1")],
        [TemplateSource("relay.json", relay, stack="Relay")],
        [TemplateSource("app.json", importing("x"), stack="App")],
        [TemplateSource("t2.json", tokens("optional"), stack="T2")],
    ]
    result = assert_same_as_check_sources(units)
    assert [
        f.rule.value for f in result.findings if f.template == "app.json" and f.logical_id == "Group"
    ] == ["IMDSV2_REQUIRED"]


def test_nested_stack_parameters_within_a_unit_resolve() -> None:
    parent = TemplateSource(
        "parent.json",
        Body(
            Resources={
                "Child": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {"Parameters": {"Tokens": "optional"}},
                }
            }
        ),
        stack="Parent",
    )
    child = TemplateSource(
        "child.json",
        Body(
            Parameters={"Tokens": {"Type": "String"}},
            Resources={"Template": launch_template({"Ref": "Tokens"})},  # type: ignore[arg-type]
        ),
        stack="Parent-Child",
        parent=parent,
        parent_logical_id="Child",
    )
    result = assert_same_as_check_sources([[parent, child]])
    assert [f.rule.value for f in result.findings] == ["IMDSV2_REQUIRED"]


def test_units_nothing_refers_to_are_freed_with_the_collector_paused() -> None:
    bodies = {
        "platform": exporting("lt", "required"),
        "app": importing("lt"),
        "alone": plain("optional"),
        "after": plain("required"),
    }
    watched = {name: weakref.ref(body) for name, body in bodies.items()}

    def units() -> Iterator[Unit]:
        for name in list(bodies):
            # Handed over: nothing in this test keeps a unit once check_units has taken it.
            source = TemplateSource(f"{name}.json", bodies.pop(name), stack=name)
            yield Unit([source], lambda: [])  # never called: no export comes after the import

    with collector_paused():
        result = check_units(units())
        alive = {name for name, ref in watched.items() if ref() is not None}
    # The exporter (a later import could need it) is kept until the end; the others went as soon
    # as they were judged, the importer too (it could be read again).
    assert alive == {"platform"}
    assert [f.logical_id for f in result.findings] == ["Own", "Template", "Group"]
    gc.collect()


@pytest.fixture(scope="module")
def generated_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The benchmark's generator, smaller: exports, imports, conditions, mappings, parameters.
    out = tmp_path_factory.mktemp("generated") / "assembly"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_assembly.py"),
            str(out),
            "--stacks",
            "12",
            "--resources",
            "2400",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def test_reading_a_generated_assembly_unit_by_unit_finds_what_loading_it_whole_does(
    generated_assembly: Path,
) -> None:
    problems: list[Any] = []
    streamed = check_units(iter_paths([str(generated_assembly)], problems))
    loaded = load_paths([str(generated_assembly)])
    whole = check_sources(loaded.sources)
    assert problems == loaded.problems == []
    assert as_dicts(streamed) == as_dicts(whole)
    assert (streamed.templates, streamed.resources) == (whole.templates, whole.resources) == (12, 2400)
    # The control: the assembly has findings, some on groups importing another stack's template.
    assert any(os.path.basename(f.template) != "Platform.template.json" and f.related for f in whole.findings)


def test_a_generated_assembly_s_units_read_again_are_the_same_templates(generated_assembly: Path) -> None:
    problems: list[Any] = []
    units = list(iter_paths([str(generated_assembly)], problems))
    assert problems == [] and len(units) == 12
    for unit in units:
        # No nested stacks and no template assets: each unit can be let go and read again.
        assert unit.reread is not None
        again = unit.reread()
        assert [(s.path, s.label, s.body) for s in again] == [(s.path, s.label, s.body) for s in unit.sources]
        assert all(new is not old for new, old in zip(again, unit.sources, strict=True))
