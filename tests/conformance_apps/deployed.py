"""Every template a cloud assembly deploys, found the way the deployment finds it.

Stack templates come from each assembly's manifest (Stages are nested assemblies, to any depth).
Every other template is an asset: a nested stack, a Service Catalog product version, a StackSet.
It is found by following the deploying resource's URL to an object key of a file asset in an assets
manifest (``*.assets.json``), and reading the file that asset uploads, whatever its name: that is
the file that gets deployed, not whichever ``*.template.json`` looks right.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
PATH_METADATA = "aws:cdk:path"


@dataclass(frozen=True)
class Deployed:
    """One deployed template."""

    identity: str
    """Stable across synths of the same app: the stack's display path, or
    ``<deploying template>:<logical id>`` for an asset template."""
    file: Path
    template: dict[str, Any] = field(repr=False)
    logical_paths: dict[str, str] = field(repr=False)
    """Logical id -> construct path, for the resources CDK knows the path of."""
    deployer: str | None = None
    """The construct path of the resource that deploys an asset template (a product, say)."""

    def construct_path(self, logical_id: str) -> str | None:
        """The resource's construct path; in a template file CDK did not write, its deployer's."""
        return self.logical_paths.get(logical_id) or self.deployer


def deployed_templates(outdir: Path) -> list[Deployed]:
    """Every template deployed from the cloud assembly in ``outdir``."""
    stacks: list[tuple[str, Path, dict[str, str]]] = []
    assets: dict[str, Path] = {}
    for directory in _assemblies(outdir):
        manifest = _read(directory / MANIFEST)
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            properties = artifact.get("properties", {})
            if artifact["type"] == "aws:cloudformation:stack":
                name = properties.get("displayName") or artifact.get("displayName") or artifact_id
                stacks.append(
                    (
                        name,
                        directory / properties["templateFile"],
                        _metadata_paths(directory, artifact_id, artifact),
                    )
                )
            elif artifact["type"] == "cdk:asset-manifest":
                assets.update(_file_assets(directory, directory / properties["file"]))
    found: list[Deployed] = []
    pending = [
        Deployed(name, file, _read(file), _with_template_paths(_read(file), paths))
        for name, file, paths in stacks
    ]
    # A stack's own template is an asset too, but no resource deploys it.
    stack_files = {file for _, file, _ in stacks}
    while pending:
        deployed = pending.pop(0)
        found.append(deployed)
        for logical_id, resource in deployed.template.get("Resources", {}).items():
            text = json.dumps(resource.get("Properties", {}))
            for key, file in assets.items():
                if key in text and file not in stack_files and _is_template(file):
                    template = _read(file)
                    pending.append(
                        Deployed(
                            f"{deployed.identity}:{logical_id}",
                            file,
                            template,
                            _with_template_paths(template, {}),
                            deployed.construct_path(logical_id),
                        )
                    )
    return found


def _assemblies(outdir: Path) -> Iterator[Path]:
    yield outdir
    for artifact in _read(outdir / MANIFEST).get("artifacts", {}).values():
        if artifact["type"] == "cdk:cloud-assembly":
            yield from _assemblies(outdir / artifact["properties"]["directoryName"])


def _file_assets(directory: Path, assets_manifest: Path) -> dict[str, Path]:
    """Object key -> the file that is uploaded under it."""
    keys: dict[str, Path] = {}
    for asset in _read(assets_manifest).get("files", {}).values():
        source = asset.get("source", {})
        if source.get("packaging", "file") != "file" or "path" not in source:
            continue
        for destination in asset.get("destinations", {}).values():
            keys[destination["objectKey"]] = directory / source["path"]
    return keys


def _metadata_paths(directory: Path, artifact_id: str, artifact: dict[str, Any]) -> dict[str, str]:
    """Logical id -> construct path from the stack's metadata (included templates carry no path)."""
    metadata = dict(artifact.get("metadata", {}))
    side_file = directory / f"{artifact_id}.metadata.json"
    if side_file.exists():
        metadata.update(_read(side_file))
    return {
        entry["data"]: path.lstrip("/")
        for path, entries in metadata.items()
        for entry in entries
        if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str)
    }


def _with_template_paths(template: dict[str, Any], paths: dict[str, str]) -> dict[str, str]:
    merged = dict(paths)
    for logical_id, resource in template.get("Resources", {}).items():
        path = (resource.get("Metadata") or {}).get(PATH_METADATA)
        if isinstance(path, str):
            merged[logical_id] = path
    return merged


def _is_template(file: Path) -> bool:
    if file.suffix not in (".json", ".yaml", ".yml", ".template") or not file.is_file():
        return False
    try:
        return isinstance(_read(file).get("Resources"), dict)
    except ValueError:
        # A YAML template asset would need a YAML reader; none is shipped by these apps.
        return False


def _read(file: Path) -> dict[str, Any]:
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{file}: not a JSON object")
    return data
