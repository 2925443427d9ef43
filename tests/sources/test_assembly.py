"""load_assembly / load_paths against real synthesized cloud assemblies and hand-made broken ones."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.errors import AssemblyError, TemplateError
from cdk_imds.sources import Loaded, TemplateSource
from cdk_imds.sources.assembly import is_assembly, iter_assembly, load_assembly
from cdk_imds.sources.loader import load_paths

# What the CDK CLI puts in the context when it runs an app; without it templates carry no
# aws:cdk:path / aws:asset:path metadata and nested stacks must be found through the manifest alone.
CLI_CONTEXT = {"aws:cdk:enable-asset-metadata": True, "aws:cdk:enable-path-metadata": True}


def _synthesize(outdir: Path, context: dict[str, Any] | None) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2

    def launch_template(scope: Any, construct_id: str, tokens: str) -> None:
        options = ec2.CfnLaunchTemplate.MetadataOptionsProperty(http_tokens=tokens)
        data = ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(metadata_options=options)
        ec2.CfnLaunchTemplate(scope, construct_id, launch_template_data=data)

    app = cdk.App(outdir=str(outdir), context=context)

    top = cdk.Stack(app, "Top", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    launch_template(top, "LT", "required")

    parent = cdk.Stack(app, "Parent", stack_name="parent-stack")
    launch_template(parent, "LT", "required")
    child = cdk.NestedStack(parent, "Child")
    # Same construct id (so the same logical id) as the parent's launch template, on purpose.
    launch_template(child, "LT", "optional")
    inner = cdk.NestedStack(child, "Inner")
    launch_template(inner, "InnerLT", "optional")

    stage = cdk.Stage(app, "Prod")
    service = cdk.Stack(stage, "Svc")
    launch_template(service, "LT", "required")
    launch_template(cdk.NestedStack(service, "Workers"), "WorkerLT", "optional")

    app.synth()


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two in-process synths of the same app: with the context the CDK CLI gives an app it runs
    (``CLI_CONTEXT``: construct path and asset metadata), and as a bare ``app.synth()`` does. The
    CLI itself is not run here; tests/e2e runs it."""
    outdirs = {
        "cli_context": tmp_path_factory.mktemp("cli_context") / "cdk.out",
        "plain": tmp_path_factory.mktemp("plain") / "cdk.out",
    }
    _synthesize(outdirs["cli_context"], CLI_CONTEXT)
    _synthesize(outdirs["plain"], None)
    return outdirs


@pytest.fixture(params=["cli_context", "plain"])
def assembly(request: pytest.FixtureRequest, assemblies: dict[str, Path]) -> Path:
    return assemblies[request.param]


def by_label(loaded: Loaded) -> dict[str, TemplateSource]:
    return {source.label: source for source in loaded.sources}


def summary(loaded: Loaded, root: Path) -> list[tuple[Any, ...]]:
    return [
        (
            os.path.relpath(s.path, root),
            s.stack,
            s.display_name,
            s.environment,
            s.construct_paths,
            s.parent_logical_id,
            s.parent.label if s.parent else None,
        )
        for s in loaded.sources
    ]


# --- a real assembly -------------------------------------------------------------------------------


def test_every_stack_stage_and_nested_stack_is_loaded(assembly: Path) -> None:
    loaded = load_assembly(str(assembly))
    assert loaded.problems == []
    assert sorted(by_label(loaded)) == [
        "Parent",
        "Parent/Child",
        "Parent/Child/Inner",
        "Prod/Svc",
        "Prod/Svc/Workers",
        "Top",
    ]


def test_top_level_stack(assembly: Path) -> None:
    top = by_label(load_assembly(str(assembly)))["Top"]
    assert top.path == os.path.join(str(assembly), "Top.template.json")
    assert top.stack == "Top"
    assert top.environment == "aws://111111111111/eu-west-1"
    assert top.construct_paths["LT"] == "Top/LT"
    assert top.parent is None and top.parent_logical_id is None
    assert "LT" in top.body["Resources"]


def test_stack_name_comes_from_the_manifest(assembly: Path) -> None:
    parent = by_label(load_assembly(str(assembly)))["Parent"]
    assert parent.stack == "parent-stack"
    assert parent.display_name == "Parent"


def test_stage_stacks_live_in_the_stage_directory(assembly: Path) -> None:
    service = by_label(load_assembly(str(assembly)))["Prod/Svc"]
    assert os.path.dirname(service.path) == os.path.join(str(assembly), "assembly-Prod")
    assert service.stack == "Prod-Svc"
    assert service.construct_paths["LT"] == "Prod/Svc/LT"


def test_nested_stack_links_to_its_parent(assembly: Path) -> None:
    sources = by_label(load_assembly(str(assembly)))
    parent, child = sources["Parent"], sources["Parent/Child"]
    assert child.parent is parent
    assert child.parent_logical_id is not None
    assert parent.body["Resources"][child.parent_logical_id]["Type"] == "AWS::CloudFormation::Stack"
    assert child.stack == f"parent-stack-{child.parent_logical_id}"
    assert child.environment == parent.environment
    assert os.path.dirname(child.path) == str(assembly)
    assert child.path.endswith(".nested.template.json")
    tokens = child.body["Resources"]["LT"]["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert tokens == {"HttpTokens": "optional"}


def test_nested_stacks_nest(assembly: Path) -> None:
    sources = by_label(load_assembly(str(assembly)))
    inner = sources["Parent/Child/Inner"]
    assert inner.parent is sources["Parent/Child"]
    assert inner.stack == f"{sources['Parent/Child'].stack}-{inner.parent_logical_id}"
    assert inner.construct_paths == {"InnerLT": "Parent/Child/Inner/InnerLT"}


def test_nested_stack_in_a_stage(assembly: Path) -> None:
    sources = by_label(load_assembly(str(assembly)))
    workers = sources["Prod/Svc/Workers"]
    assert workers.parent is sources["Prod/Svc"]
    assert os.path.dirname(workers.path) == os.path.join(str(assembly), "assembly-Prod")
    assert workers.construct_paths == {"WorkerLT": "Prod/Svc/Workers/WorkerLT"}


def test_logical_ids_are_attributed_to_their_own_template(assembly: Path) -> None:
    # "LT" exists in Parent and in Parent/Child: each template must map it to its own construct.
    sources = by_label(load_assembly(str(assembly)))
    assert sources["Parent"].construct_paths["LT"] == "Parent/LT"
    assert sources["Parent/Child"].construct_paths["LT"] == "Parent/Child/LT"
    assert "InnerLT" not in sources["Parent"].construct_paths
    assert "InnerLT" not in sources["Parent/Child"].construct_paths
    # The nested stack's AWS::CloudFormation::Stack resource belongs to the parent template.
    child = sources["Parent/Child"]
    assert child.parent_logical_id in sources["Parent"].construct_paths


def test_nested_stacks_follow_their_parent(assembly: Path) -> None:
    labels = [source.label for source in load_assembly(str(assembly)).sources]
    assert labels.index("Parent") < labels.index("Parent/Child") < labels.index("Parent/Child/Inner")
    assert labels.index("Prod/Svc") + 1 == labels.index("Prod/Svc/Workers")


def test_only_the_cli_context_synth_carries_path_metadata(assemblies: dict[str, Path]) -> None:
    # What the two fixtures differ by, so that the test below compares what its name says
    def paths(kind: str) -> list[str]:
        template = json.loads((assemblies[kind] / "Top.template.json").read_text(encoding="utf-8"))
        return [r.get("Metadata", {}).get("aws:cdk:path") for r in template["Resources"].values()]

    assert paths("cli_context") == ["Top/LT"]
    assert set(paths("plain")) == {None}


def test_with_and_without_cli_metadata_agree(assemblies: dict[str, Path]) -> None:
    cli, plain = (load_assembly(str(assemblies[kind])) for kind in ("cli_context", "plain"))
    assert summary(cli, assemblies["cli_context"]) == summary(plain, assemblies["plain"])


def test_paths_are_kept_relative(assembly: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(assembly.parent)
    loaded = load_assembly("cdk.out")
    assert {s.path for s in loaded.sources if s.label in ("Top", "Prod/Svc")} == {
        os.path.join("cdk.out", "Top.template.json"),
        os.path.join("cdk.out", "assembly-Prod", by_label(loaded)["Prod/Svc"].path.rsplit(os.sep, 1)[1]),
    }


def test_is_assembly(assembly: Path, tmp_path: Path) -> None:
    assert is_assembly(str(assembly))
    assert is_assembly(str(assembly / "assembly-Prod"))
    assert not is_assembly(str(tmp_path))
    assert not is_assembly(str(assembly / "manifest.json"))
    assert not is_assembly(str(tmp_path / "missing"))


# --- hand-made assemblies --------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def stack_artifact(template_file: str, **extra: Any) -> dict[str, Any]:
    return {"type": "aws:cloudformation:stack", "properties": {"templateFile": template_file}, **extra}


def template(**resources: Any) -> dict[str, Any]:
    return {"Resources": resources or {"Q": {"Type": "AWS::SQS::Queue"}}}


def nested_stack_resource(asset_path: str) -> dict[str, Any]:
    return {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": asset_path}}


def test_broken_manifest_fails_the_whole_assembly(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"version": "55.0.0", "artifacts": {', encoding="utf-8")
    with pytest.raises(AssemblyError, match=r"manifest\.json is malformed JSON at line 1 column") as caught:
        load_assembly(str(tmp_path))
    assert caught.value.path == str(tmp_path)
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ([], "manifest.json is not a JSON object"),
        ({"artifacts": ["Stack"]}, "manifest.json: artifacts is not a mapping"),
    ],
)
def test_manifest_of_the_wrong_shape(tmp_path: Path, manifest: Any, reason: str) -> None:
    write_json(tmp_path / "manifest.json", manifest)
    with pytest.raises(AssemblyError) as caught:
        load_assembly(str(tmp_path))
    assert caught.value.reason == reason


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"no manifest\.json"):
        load_assembly(str(tmp_path))


def test_manifest_without_artifacts_is_an_empty_assembly(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"version": "55.0.0"})
    assert load_assembly(str(tmp_path)) == Loaded()


def test_missing_stack_template_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    write_json(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "Gone": stack_artifact("Gone.template.json"),
                "Broken": stack_artifact("Broken.template.json"),
                "Kept": stack_artifact("Kept.template.json"),
                "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
            }
        },
    )
    (tmp_path / "Broken.template.json").write_text("{", encoding="utf-8")
    write_json(tmp_path / "Kept.template.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Kept"]
    assert [(type(p), p.path) for p in loaded.problems] == [
        (TemplateError, str(tmp_path / "Gone.template.json")),
        (TemplateError, str(tmp_path / "Broken.template.json")),
    ]
    assert loaded.problems[0].reason == "file not found"
    assert "malformed JSON" in loaded.problems[1].reason


def test_stack_artifact_without_template_file(tmp_path: Path) -> None:
    write_json(
        tmp_path / "manifest.json",
        {"artifacts": {"Odd": {"type": "aws:cloudformation:stack"}, "Ok": stack_artifact("Ok.json")}},
    )
    write_json(tmp_path / "Ok.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Ok"]
    assert [p.reason for p in loaded.problems] == ["manifest.json: stack 'Odd' has no templateFile"]


def test_broken_stage_manifest_is_a_problem(tmp_path: Path) -> None:
    write_json(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "assembly-Beta": {
                    "type": "cdk:cloud-assembly",
                    "properties": {"directoryName": "assembly-Beta"},
                },
                "Main": stack_artifact("Main.json"),
            }
        },
    )
    (tmp_path / "assembly-Beta").mkdir()
    (tmp_path / "assembly-Beta" / "manifest.json").write_text("not json", encoding="utf-8")
    write_json(tmp_path / "Main.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Main"]
    assert len(loaded.problems) == 1
    assert isinstance(loaded.problems[0], AssemblyError)
    assert loaded.problems[0].path == str(tmp_path / "assembly-Beta")


def test_stage_that_contains_itself_does_not_loop(tmp_path: Path) -> None:
    write_json(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "Loop": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "."}},
                "Main": stack_artifact("Main.json"),
            }
        },
    )
    write_json(tmp_path / "Main.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Main"]
    assert [p.reason for p in loaded.problems] == ["assembly contains itself"]


def test_missing_nested_template_is_a_problem(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"artifacts": {"Root": stack_artifact("Root.json")}})
    write_json(
        tmp_path / "Root.json",
        template(
            Kid=nested_stack_resource("Kid.nested.template.json"), Other=nested_stack_resource("Other.json")
        ),
    )
    write_json(tmp_path / "Other.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [(s.display_name, s.stack, s.parent_logical_id) for s in loaded.sources] == [
        ("Root", "Root", None),
        ("Root/Other", "Root-Other", "Other"),
    ]
    assert [(p.path, p.reason) for p in loaded.problems] == [
        (str(tmp_path / "Kid.nested.template.json"), "file not found")
    ]


def test_nested_stack_pointing_at_its_parent_does_not_loop(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"artifacts": {"Root": stack_artifact("Root.json")}})
    write_json(tmp_path / "Root.json", template(Me=nested_stack_resource("Root.json")))
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Root"]
    assert [p.reason for p in loaded.problems] == ["nested stack Me contains its own parent"]


def test_stack_without_local_template_url_is_skipped(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"artifacts": {"Root": stack_artifact("Root.json")}})
    remote = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://example.com/t.json"},
    }
    write_json(tmp_path / "Root.json", template(Remote=remote))
    loaded = load_assembly(str(tmp_path))
    assert [s.stack for s in loaded.sources] == ["Root"]
    assert loaded.problems == []


def test_inline_manifest_metadata_and_display_name(tmp_path: Path) -> None:
    # Older CDK versions keep metadata in the manifest instead of an additionalMetadataFile.
    artifact = stack_artifact(
        "App.json",
        displayName="Stage/App",
        environment="aws://123456789012/us-west-2",
        metadata={
            "/Stage/App/Fleet/LaunchTemplate": [
                {"type": "aws:cdk:logicalId", "data": "FleetLaunchTemplate1A2B"},
                {"type": "aws:cdk:warning", "data": "ignored"},
            ],
            "/Stage/App/Other": [{"type": "aws:cdk:logicalId", "data": "Other"}],
        },
    )
    artifact["properties"]["stackName"] = "Stage-App"
    write_json(tmp_path / "manifest.json", {"artifacts": {"StageApp1234": artifact}})
    write_json(tmp_path / "App.json", template())
    (source,) = load_assembly(str(tmp_path)).sources
    assert source.stack == "Stage-App"
    assert source.display_name == "Stage/App"
    assert source.environment == "aws://123456789012/us-west-2"
    assert source.construct_paths == {
        "FleetLaunchTemplate1A2B": "Stage/App/Fleet/LaunchTemplate",
        "Other": "Stage/App/Other",
    }


def test_missing_metadata_file_only_loses_construct_paths(tmp_path: Path) -> None:
    artifact = stack_artifact("App.json", additionalMetadataFile="App.metadata.json")
    write_json(tmp_path / "manifest.json", {"artifacts": {"App": artifact}})
    write_json(tmp_path / "App.json", template())
    loaded = load_assembly(str(tmp_path))
    assert [(s.stack, s.display_name, s.construct_paths) for s in loaded.sources] == [("App", "App", {})]
    assert loaded.problems == []


# --- load_paths ------------------------------------------------------------------------------------


def test_load_paths_keeps_order_and_collects_problems(tmp_path: Path, assemblies: dict[str, Path]) -> None:
    first = tmp_path / "first.json"
    write_json(first, template())
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("[", encoding="utf-8")
    last = tmp_path / "last.yaml"
    last.write_text("Resources:\n  A: {Type: X}\n", encoding="utf-8")

    paths = [
        str(first),
        str(assemblies["cli_context"]),
        str(plain_dir),
        str(tmp_path / "gone.json"),
        str(broken),
        str(last),
    ]
    loaded = load_paths(paths)

    labels = [s.label for s in loaded.sources]
    assert labels[0] == str(first)
    assert labels[-1] == str(last)
    assert sorted(labels[1:-1]) == sorted(by_label(load_assembly(str(assemblies["cli_context"]))))
    assert [(type(p), p.path) for p in loaded.problems] == [
        (AssemblyError, str(plain_dir)),
        (TemplateError, str(tmp_path / "gone.json")),
        (AssemblyError, str(broken)),
    ]
    assert loaded.problems[0].reason == "not a cloud assembly (no manifest.json) or template file"


def test_load_paths_wraps_template_files_without_assembly_details(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write_json(path, template())
    (source,) = load_paths([str(path)]).sources
    assert (source.path, source.body, source.stack, source.display_name, source.parent) == (
        str(path),
        template(),
        None,
        None,
        None,
    )


def test_load_paths_with_nothing() -> None:
    assert load_paths([]) == Loaded()


def test_iter_assembly_yields_each_stack_with_its_nested_stacks_in_load_order(assembly: Path) -> None:
    problems: list[Any] = []
    units = list(iter_assembly(str(assembly), problems))
    assert problems == []
    # In the manifest's order (CDK lists the Stage's assembly first).
    assert sorted([source.label for source in unit.sources] for unit in units) == [
        ["Parent", "Parent/Child", "Parent/Child/Inner"],
        ["Prod/Svc", "Prod/Svc/Workers"],
        ["Top"],
    ]
    # Nested stacks' templates are file assets, which could be templates a resource deploys:
    # the reader keeps every template for that search, so no unit needs reading again.
    assert all(unit.reread is None for unit in units)
    flat = [source.path for unit in units for source in unit.sources]
    assert flat == [source.path for source in load_assembly(str(assembly)).sources]
