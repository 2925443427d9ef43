"""Read a CDK cloud assembly (the ``cdk.out`` directory): its stacks, Stage sub-assemblies and nested stacks.

Only the manifest being unusable stops the whole assembly. A stack whose template is missing or broken
becomes a problem, and the other stacks are still checked.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from functools import partial

from cdk_imds.errors import AssemblyError, InputError, TemplateError
from cdk_imds.sources import Loaded, TemplateSource, Unit
from cdk_imds.sources.assets import template_asset_files, template_assets
from cdk_imds.sources.template import load_template

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

MANIFEST = "manifest.json"

_STACK_ARTIFACT = "aws:cloudformation:stack"
_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
_NESTED_STACK_RESOURCE = "AWS::CloudFormation::Stack"

# Manifest metadata entry types.
_LOGICAL_ID = "aws:cdk:logicalId"
_TEMPLATE_FILE = "aws:cdk:templateFile"

# Template resource metadata, only written when the CDK CLI runs the app (it turns these on by context).
_RESOURCE_CDK_PATH = "aws:cdk:path"
_RESOURCE_ASSET_PATH = "aws:asset:path"

# NestedStack creates its AWS::CloudFormation::Stack resource at
# "<scope>/<id>.NestedStack/<id>.NestedStackResource"; the nested stack itself is "<scope>/<id>".
_NESTED_SCOPE_SUFFIX = ".NestedStack"
_NESTED_RESOURCE_SUFFIX = ".NestedStackResource"


def is_assembly(path: str) -> bool:
    """True if ``path`` is a directory holding a cloud assembly manifest."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, MANIFEST))


def load_assembly(directory: str) -> Loaded:
    """Load every stack template of the assembly in ``directory``, Stages and nested stacks included.

    Raises AssemblyError if ``directory``'s own manifest cannot be used. Problems further down (a Stage's
    manifest, a stack's template) are collected in ``Loaded.problems``.
    """
    loaded = Loaded()
    for unit in iter_assembly(directory, loaded.problems):
        loaded.sources.extend(unit.sources)
    return loaded


def iter_assembly(directory: str, problems: list[InputError]) -> Iterator[Unit]:
    """``load_assembly`` a unit at a time: a stack with its nested stacks, then each template asset.

    Every manifest is read first (they are small), so that AssemblyError for ``directory``'s own
    is raised here, before any template is read; a template is read when its unit is asked for.
    The caller may drop a unit once it is done with it, and read it again (``Unit.reread``), unless
    some file asset could be a template deployed by a resource of the assembly (a Service Catalog
    product, a StackSet): finding its deployers needs every template, which are then all kept here
    until the end.
    """
    steps: list[_Step] = []
    directories: list[tuple[str, dict[str, Any]]] = []
    _walk(directory, steps, frozenset(), directories)
    return _units(steps, directories, problems)


if TYPE_CHECKING:
    # A stack artifact to load (its directory, id and artifact), or a problem met reading manifests.
    _Step = tuple[str, str, dict[str, Any]] | InputError


def _units(
    steps: list[_Step], directories: list[tuple[str, dict[str, Any]]], problems: list[InputError]
) -> Iterator[Unit]:
    stack_templates = {
        os.path.join(step[0], template_file)
        for step in steps
        if isinstance(step, tuple)
        and isinstance(template_file := _properties(step[2]).get("templateFile"), str)
    }
    # Read once: which file assets could be templates some resource deploys.
    assets = template_asset_files(directories, stack_templates)
    kept = Loaded(problems=problems) if assets else None
    for step in steps:
        if not isinstance(step, tuple):
            problems.append(step)
            continue
        unit = Loaded(problems=problems)
        _load_stack(*step, unit)
        if kept is not None:
            kept.sources.extend(unit.sources)
        if unit.sources:
            yield Unit(unit.sources, None if kept is not None else partial(_reread_stack, step))
    if kept is not None:
        stacks = len(kept.sources)
        template_assets(assets, kept)
        for source in kept.sources[stacks:]:
            yield Unit([source])


def _reread_stack(step: tuple[str, str, dict[str, Any]]) -> list[TemplateSource]:
    """The stack's templates, read again (what was wrong with them was reported the first time)."""
    again = Loaded()
    _load_stack(*step, again)
    return again.sources


class _StackTree:
    """What the manifest metadata says about one stack and the nested stacks inside it.

    CDK writes one metadata set per top-level stack covering its nested stacks too, so logical ids are
    grouped by the stack whose template holds them: a nested stack may reuse a parent's logical id.
    """

    __slots__ = ("directory", "root_path", "construct_paths", "template_files")

    def __init__(self, directory: str, root_path: str, template_files: dict[str, str]) -> None:
        self.directory = directory
        self.root_path = root_path
        self.construct_paths: dict[str, dict[str, str]] = {}
        self.template_files = template_files


class _LazyTree:
    """The stack tree, built on first use.

    Templates the CDK CLI writes carry ``aws:cdk:path`` and asset metadata on their resources, so the
    manifest metadata (often megabytes of side files) is needed only for findings on templates
    synthesized without it; reading it eagerly was a fifth of the run on large assemblies.
    """

    def __init__(
        self, directory: str, artifact: dict[str, Any], template_file: str, display_name: str
    ) -> None:
        self.directory = directory
        self._arguments = (artifact, template_file, display_name)
        self._tree: _StackTree | None = None

    @property
    def tree(self) -> _StackTree:
        if self._tree is None:
            self._tree = _stack_tree(self.directory, *self._arguments)
        return self._tree


class _ConstructPaths(Mapping[str, str]):
    """Logical id -> construct path for one template, read from the manifest only when asked."""

    def __init__(self, lazy: _LazyTree, stack_path: str | None) -> None:
        self._lazy = lazy
        self._stack_path = stack_path

    def _paths(self) -> dict[str, str]:
        tree = self._lazy.tree
        return tree.construct_paths.get(self._stack_path or tree.root_path, {})

    def __getitem__(self, logical_id: str) -> str:
        return self._paths()[logical_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths())

    def __len__(self) -> int:
        return len(self._paths())


def _walk(
    directory: str,
    steps: list[_Step],
    ancestors: frozenset[str],
    directories: list[tuple[str, dict[str, Any]]],
) -> None:
    """Reads the manifests of ``directory`` and its Stages: the stacks to load, in order."""
    # A Stage directory that points back at an enclosing assembly would otherwise recurse forever.
    ancestors = ancestors | {os.path.realpath(directory)}
    artifacts = _read_artifacts(directory)
    directories.append((directory, artifacts))
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, dict):
            steps.append(AssemblyError(directory, f"{MANIFEST}: artifact {artifact_id!r} is not an object"))
        elif artifact.get("type") == _STACK_ARTIFACT:
            steps.append((directory, artifact_id, artifact))
        elif artifact.get("type") == _ASSEMBLY_ARTIFACT:
            _walk_stage(directory, artifact_id, artifact, steps, ancestors, directories)


def _read_artifacts(directory: str) -> dict[str, Any]:
    manifest = _read_json(directory, MANIFEST, missing=f"not a cloud assembly: no {MANIFEST}")
    if not isinstance(manifest, dict):
        raise AssemblyError(directory, f"{MANIFEST} is not a JSON object")
    artifacts = manifest.get("artifacts", {})
    if not isinstance(artifacts, dict):
        raise AssemblyError(directory, f"{MANIFEST}: artifacts is not a mapping")
    return artifacts


def _read_json(directory: str, name: str, missing: str) -> Any:
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise AssemblyError(directory, missing) from None
    except NotADirectoryError:
        raise AssemblyError(directory, "not a directory") from None
    except OSError as error:
        raise AssemblyError(
            directory, f"cannot read {name}: {error.strerror or type(error).__name__}"
        ) from None
    except UnicodeDecodeError:
        raise AssemblyError(directory, f"{name} is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise AssemblyError(
            directory, f"{name} is malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise AssemblyError(directory, f"{name} is malformed JSON: nested too deeply") from None


def _walk_stage(
    directory: str,
    artifact_id: str,
    artifact: dict[str, Any],
    steps: list[_Step],
    ancestors: frozenset[str],
    directories: list[tuple[str, dict[str, Any]]],
) -> None:
    subdirectory = _properties(artifact).get("directoryName")
    if not isinstance(subdirectory, str):
        steps.append(AssemblyError(directory, f"{MANIFEST}: assembly {artifact_id!r} has no directoryName"))
        return
    nested = os.path.join(directory, subdirectory)
    if os.path.realpath(nested) in ancestors:
        steps.append(AssemblyError(nested, "assembly contains itself"))
        return
    try:
        _walk(nested, steps, ancestors, directories)
    except AssemblyError as error:
        # Only the manifest read raises, before anything of this Stage was added to ``steps``.
        steps.append(error)


def _load_stack(directory: str, artifact_id: str, artifact: dict[str, Any], loaded: Loaded) -> None:
    properties = _properties(artifact)
    template_file = properties.get("templateFile")
    if not isinstance(template_file, str):
        loaded.problems.append(
            AssemblyError(directory, f"{MANIFEST}: stack {artifact_id!r} has no templateFile")
        )
        return
    display_name = _string(artifact.get("displayName")) or artifact_id
    tree = _LazyTree(directory, artifact, template_file, display_name)
    path = os.path.join(directory, template_file)
    body = _template_or_problem(path, loaded)
    if body is None:
        return
    source = TemplateSource(
        path=path,
        body=body,
        stack=_string(properties.get("stackName")) or artifact_id,
        display_name=display_name,
        environment=_string(artifact.get("environment")),
        construct_paths=_ConstructPaths(tree, None),
    )
    loaded.sources.append(source)
    # CDK's displayName is the stack's construct path, which nested stacks' paths start with.
    _load_nested_stacks(tree, source, display_name, loaded, ancestors=frozenset({os.path.normpath(path)}))


def _stack_tree(
    directory: str, artifact: dict[str, Any], template_file: str, display_name: str
) -> _StackTree:
    logical_ids, template_files = _parse_metadata(_read_metadata(directory, artifact))
    # The stack's own construct path is recorded next to its template file; CDK's displayName is the
    # same path, which serves when the entry is absent.
    root_path = next((p for p, f in template_files.items() if f == template_file), display_name)
    nested_paths = {path for path in template_files if path != root_path}
    nested_paths.update(p for p in map(_nested_stack_path, logical_ids) if p is not None)
    tree = _StackTree(directory=directory, root_path=root_path, template_files=template_files)
    if not nested_paths:
        # The common case, and one entry per resource: no nesting means no owner to search for.
        tree.construct_paths[root_path] = {logical_id: path for path, logical_id in logical_ids.items()}
        return tree
    for path, logical_id in logical_ids.items():
        owner = _owning_stack(path, nested_paths) or root_path
        tree.construct_paths.setdefault(owner, {})[logical_id] = path
    return tree


def _read_metadata(directory: str, artifact: dict[str, Any]) -> dict[str, list[Any]]:
    """Metadata entries by construct path: inline in the manifest (older CDK) and/or in a side file."""
    merged: dict[str, list[Any]] = {}
    sources = [artifact.get("metadata")]
    side_file = artifact.get("additionalMetadataFile")
    if isinstance(side_file, str):
        # Metadata only improves how findings are named; the template alone is enough to check it.
        with contextlib.suppress(AssemblyError):
            sources.append(_read_json(directory, side_file, missing="metadata file missing"))
    for entries in sources:
        if isinstance(entries, dict):
            for path, items in entries.items():
                if isinstance(items, list):
                    merged.setdefault(path, []).extend(items)
    return merged


def _parse_metadata(entries: dict[str, list[Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Split metadata into {construct path: logical id} and {construct path: template file}."""
    logical_ids: dict[str, str] = {}
    template_files: dict[str, str] = {}
    for raw_path, items in entries.items():
        path = raw_path.removeprefix("/")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("data"), str):
                continue
            if item.get("type") == _LOGICAL_ID:
                logical_ids[path] = item["data"]
            elif item.get("type") == _TEMPLATE_FILE:
                template_files[path] = item["data"]
    return logical_ids, template_files


def _nested_stack_path(resource_path: str) -> str | None:
    """The nested stack's construct path, if ``resource_path`` is a NestedStack's stack resource."""
    parts = resource_path.rsplit("/", 2)
    if len(parts) != 3 or not parts[1].endswith(_NESTED_SCOPE_SUFFIX):
        return None
    stack_id = parts[1].removesuffix(_NESTED_SCOPE_SUFFIX)
    if parts[2] != stack_id + _NESTED_RESOURCE_SUFFIX:
        return None
    return f"{parts[0]}/{stack_id}"


def _owning_stack(path: str, nested_paths: set[str]) -> str | None:
    """The innermost nested stack that ``path`` lies in, or None if it is in the top-level stack."""
    prefix = path
    while True:
        prefix, slash, _ = prefix.rpartition("/")
        if not slash:
            return None
        if prefix in nested_paths:
            return prefix


def _load_nested_stacks(
    tree: _LazyTree,
    parent: TemplateSource,
    parent_path: str | None,
    loaded: Loaded,
    ancestors: frozenset[str],
) -> None:
    resources = parent.body["Resources"]
    # One pass over every resource, most of which are not stacks, before the loop that reads more.
    nested = [
        logical_id
        for logical_id, resource in resources.items()
        if type(resource) is dict and resource.get("Type") == _NESTED_STACK_RESOURCE
    ]
    for logical_id in nested:
        resource = resources[logical_id]
        metadata = resource.get("Metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        resource_path = _string(metadata.get(_RESOURCE_CDK_PATH)) or parent.construct_paths.get(logical_id)
        nested_path = _nested_stack_path(resource_path) if resource_path else None
        template_file = _string(metadata.get(_RESOURCE_ASSET_PATH))
        if template_file is None and nested_path is not None:
            # Apps synthesized outside the CLI have no asset metadata; the manifest still names the file.
            template_file = tree.tree.template_files.get(nested_path)
        if template_file is None:
            # A stack deployed from a TemplateURL outside the assembly: nothing local to check.
            continue
        _load_nested_stack(
            tree, parent, parent_path, logical_id, nested_path, template_file, loaded, ancestors
        )


def _load_nested_stack(
    tree: _LazyTree,
    parent: TemplateSource,
    parent_path: str | None,
    logical_id: str,
    nested_path: str | None,
    template_file: str,
    loaded: Loaded,
    ancestors: frozenset[str],
) -> None:
    path = os.path.join(tree.directory, template_file)
    if os.path.normpath(path) in ancestors:
        loaded.problems.append(TemplateError(path, f"nested stack {logical_id} contains its own parent"))
        return
    body = _template_or_problem(path, loaded)
    if body is None:
        return
    source = TemplateSource(
        path=path,
        body=body,
        # CloudFormation names a nested stack "<parent>-<logical id>-<random suffix>".
        stack=f"{parent.stack}-{logical_id}",
        display_name=_nested_display_name(parent, parent_path, nested_path, logical_id),
        environment=parent.environment,
        construct_paths=_ConstructPaths(tree, nested_path) if nested_path else {},
        parent=parent,
        parent_logical_id=logical_id,
    )
    loaded.sources.append(source)
    _load_nested_stacks(tree, source, nested_path, loaded, ancestors | {os.path.normpath(path)})


def _template_or_problem(path: str, loaded: Loaded) -> dict[str, Any] | None:
    """The template, or None with the reason recorded: one broken stack must not hide the others."""
    try:
        return load_template(path, stack=True)
    except TemplateError as error:
        loaded.problems.append(error)
        return None


def _nested_display_name(
    parent: TemplateSource, parent_path: str | None, nested_path: str | None, logical_id: str
) -> str:
    if parent_path and nested_path and nested_path.startswith(parent_path + "/"):
        return f"{parent.label}/{nested_path[len(parent_path) + 1 :]}"
    return f"{parent.label}/{logical_id}"


def _properties(artifact: dict[str, Any]) -> dict[str, Any]:
    properties = artifact.get("properties")
    return properties if isinstance(properties, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
