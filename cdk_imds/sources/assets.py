"""CloudFormation templates an assembly ships as file assets: Service Catalog products, StackSets, ...

A stack can deploy a template it does not contain: a Service Catalog product's provisioning
artifact (``LoadTemplateFromURL``), a StackSet's or a custom resource's ``TemplateURL``. CDK stages
such a template as a file asset (a ``ProductStack``'s own template, a file given to
``CloudFormationTemplate.from_asset``) and the stack refers to it by the asset's object key. These
templates are deployed as surely as the stacks are, so they are judged too.

Which assets are templates: every file asset of an assembly's asset manifests that is not already
loaded (stack and nested stack templates are assets too), has a template's file extension and parses
to a mapping with ``Resources``. Its deployer is the resource whose properties mention the asset's
object key. Every asset manifest is read (they are small): a file name cannot tell, since with
``--no-staging`` the manifest points at the user's own file instead of a copy.
"""

from __future__ import annotations

import json
import os

from cdk_imds.errors import TemplateError
from cdk_imds.sources import TemplateSource
from cdk_imds.sources.template import load_template

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from cdk_imds.sources import Loaded

ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
_TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template")
# How CDK names the template it writes for a ProductStack (a construct of this app, unlike a file).
_PRODUCT_STACK_SUFFIX = ".product.template.json"
# Properties through which a resource deploys a template from a URL.
_TEMPLATE_URL_KEYS = ("TemplateURL", "LoadTemplateFromURL")


class FileAsset:
    __slots__ = ("path", "display_name", "object_keys")

    def __init__(self, path: str, display_name: str, object_keys: tuple[str, ...]) -> None:
        self.path = path
        self.display_name = display_name
        self.object_keys = object_keys


def template_assets(candidates: dict[str, FileAsset], loaded: Loaded) -> None:
    """Adds to ``loaded`` the template assets among ``candidates`` (``template_asset_files``) that
    it does not hold already: nested stacks' templates are file assets too."""
    known = {os.path.realpath(source.path) for source in loaded.sources}
    candidates = {real: asset for real, asset in candidates.items() if real not in known}
    mentions = _resource_texts(list(loaded.sources)) if candidates else []
    for asset in candidates.values():
        deployers = _deployers(asset, mentions)
        try:
            body = load_template(asset.path)
        except TemplateError as error:
            # A file some resource deploys as a template must be readable; any other JSON or YAML
            # asset (a state machine definition, a config file) is none of cdk-imds's business.
            if deployers:
                loaded.problems.append(error)
            continue
        if not asset.path.endswith(_PRODUCT_STACK_SUFFIX):
            # A file of the user's: any aws:cdk:path in it names constructs of another app (the
            # one it was once copied from), so its resources are named by logical id.
            _forget_construct_paths(body)
        names = [
            _construct_path(source, logical_id) or f"{source.label}/{logical_id}"
            for source, logical_id in deployers
        ]
        where = ", ".join(names) if names else "no resource of the assembly names it"
        name = os.path.basename(asset.path)
        if not name.startswith("asset.") and not name.endswith(_PRODUCT_STACK_SUFFIX):
            name = asset.path  # not staged (--no-staging): the user's own file
        if asset.display_name and asset.display_name != os.path.basename(asset.path):
            name = f"{name}, asset {asset.display_name}"
        first = deployers[0][0] if deployers else None
        loaded.sources.append(
            TemplateSource(
                path=asset.path,
                body=body,
                stack=f"{first.stack}-{deployers[0][1]}" if first else None,
                display_name=f"{where} (template asset {name})",
                environment=first.environment if first else None,
                deployed_by=where,
                deployers=tuple((source.path, logical_id) for source, logical_id in deployers),
            )
        )


def template_asset_files(
    directories: list[tuple[str, dict[str, Any]]], known: set[str]
) -> dict[str, FileAsset]:
    """The file assets that could be templates (by extension) and are not in ``known`` (paths of
    the templates already loaded), by real path.

    ``directories`` are the assembly directories (the root and every Stage's) with their manifest
    artifacts. One pass over all of them: CDK stages every Stage's assets in the root directory, so
    one file may be deployed by resources in several Stages, and it is judged once, naming each.
    """
    candidates: dict[str, FileAsset] = {}
    # Most assets are the known templates, named by the same path (the manifest and the asset
    # manifest give it relative to the same directory): compared as they are first, by real path
    # (symbolic links resolved: a system call per directory level) only if that fails.
    known_real: set[str] | None = None
    for directory, artifacts in directories:
        for asset in _file_assets(directory, artifacts):
            if not asset.path.lower().endswith(_TEMPLATE_SUFFIXES):
                continue
            if asset.path in known:
                continue
            if known_real is None:
                known_real = {os.path.realpath(path) for path in known}
            real = os.path.realpath(asset.path)
            if real not in known_real:
                merged = candidates.get(real)
                keys = asset.object_keys + (merged.object_keys if merged else ())
                candidates[real] = FileAsset(asset.path, asset.display_name, tuple(dict.fromkeys(keys)))
    return candidates


def is_template_file(source: TemplateSource) -> bool:
    """A template asset that is a file of the user's (FIX cannot change it), not a ProductStack's."""
    return bool(source.deployed_by) and not source.path.endswith(_PRODUCT_STACK_SUFFIX)


def _forget_construct_paths(body: dict[str, Any]) -> None:
    resources = body.get("Resources")
    for resource in resources.values() if isinstance(resources, dict) else ():
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        if isinstance(metadata, dict):
            metadata.pop("aws:cdk:path", None)


def _file_assets(directory: str, artifacts: dict[str, Any]) -> Iterator[FileAsset]:
    for artifact in artifacts.values():
        if not isinstance(artifact, dict) or artifact.get("type") != ASSET_MANIFEST_ARTIFACT:
            continue
        properties = artifact.get("properties")
        name = properties.get("file") if isinstance(properties, dict) else None
        if not isinstance(name, str):
            continue
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                manifest = json.load(handle)
        except (OSError, ValueError, RecursionError):
            continue  # publishing will fail on it; nothing here says it holds a template
        files = manifest.get("files") if isinstance(manifest, dict) else None
        for entry in (files or {}).values() if isinstance(files, dict) else ():
            asset = _file_asset(directory, entry)
            if asset is not None:
                yield asset


def _file_asset(directory: str, entry: Any) -> FileAsset | None:
    if not isinstance(entry, dict):
        return None
    source = entry.get("source")
    if not isinstance(source, dict) or source.get("packaging", "file") != "file":
        return None
    path = source.get("path")
    if not isinstance(path, str) or not path:
        return None
    destinations = entry.get("destinations")
    keys = tuple(
        destination["objectKey"]
        for destination in (destinations.values() if isinstance(destinations, dict) else ())
        if isinstance(destination, dict) and isinstance(destination.get("objectKey"), str)
    )
    display = entry.get("displayName")
    return FileAsset(os.path.join(directory, path), display if isinstance(display, str) else path, keys)


def _resource_texts(sources: list[TemplateSource]) -> list[tuple[TemplateSource, str, str]]:
    """Each resource's properties as JSON text, to search for object keys (only built when needed)."""
    texts = []
    for source in sources:
        resources = source.body.get("Resources")
        for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
            if isinstance(resource, dict) and isinstance(resource.get("Properties"), dict):
                texts.append((source, logical_id, json.dumps(resource["Properties"])))
    return texts


def _deployers(
    asset: FileAsset, mentions: list[tuple[TemplateSource, str, str]]
) -> list[tuple[TemplateSource, str]]:
    """The resources that deploy ``asset``: those whose template-URL property names its object key.

    Failing those, any resource mentioning the key, for resources that take the URL elsewhere.
    """
    keys = [key for key in asset.object_keys if key]
    named = [
        (source, logical_id, text)
        for source, logical_id, text in mentions
        if any(key in text for key in keys)
    ]
    by_url = [
        (source, logical_id)
        for source, logical_id, text in named
        if any(f'"{url_key}"' in text for url_key in _TEMPLATE_URL_KEYS)
    ]
    return by_url or [(source, logical_id) for source, logical_id, _ in named]


def _construct_path(source: TemplateSource, logical_id: str) -> str | None:
    path = source.construct_path(logical_id)
    # An L2's resource is "<construct>/Resource": the construct is what the user wrote.
    return path.removesuffix("/Resource") if path else None
