"""Where templates come from: template files and cloud assemblies (cdk.out)."""

from __future__ import annotations

from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from cdk_imds.errors import InputError


class TemplateSource:
    """One CloudFormation template and what is known about where it came from.

    ``stack`` is the CloudFormation stack name where known (from the assembly manifest);
    ``display_name`` is how CDK names the stack to users ("Stage/Stack"). ``construct_paths`` maps
    logical ids to construct paths from the manifest, for templates synthesized without
    ``aws:cdk:path`` metadata. A nested stack's template has ``parent`` and ``parent_logical_id``
    (its ``AWS::CloudFormation::Stack`` resource in the parent), so parameters the parent passes in
    can be followed. A template asset has ``deployed_by``.
    """

    __slots__ = (
        "path",
        "body",
        "stack",
        "display_name",
        "environment",
        "construct_paths",
        "parent",
        "parent_logical_id",
        "deployed_by",
        "deployers",
    )

    def __init__(
        self,
        path: str,
        body: dict[str, Any],
        stack: str | None = None,
        display_name: str | None = None,
        environment: str | None = None,
        construct_paths: Mapping[str, str] | None = None,
        parent: TemplateSource | None = None,
        parent_logical_id: str | None = None,
        deployed_by: str | None = None,
        deployers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.path = path
        self.body = body
        self.stack = stack
        self.display_name = display_name
        self.environment = environment
        self.construct_paths: Mapping[str, str] = {} if construct_paths is None else construct_paths
        self.parent = parent
        self.parent_logical_id = parent_logical_id
        # For a template shipped as a file asset (a Service Catalog product, a StackSet): the
        # construct path (or stack/logical id) of the resource that deploys it ...
        self.deployed_by = deployed_by
        # ... and those resources, as (template path, logical id).
        self.deployers = deployers

    def __repr__(self) -> str:
        return f"TemplateSource({self.path!r}, stack={self.stack!r})"

    @property
    def label(self) -> str:
        return self.display_name or self.stack or self.path

    def construct_path(self, logical_id: str) -> str | None:
        """The resource's ``aws:cdk:path`` metadata (the CDK CLI writes it), else the manifest's."""
        resources = self.body.get("Resources")
        resource = resources.get(logical_id) if isinstance(resources, dict) else None
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
        return path if isinstance(path, str) else self.construct_paths.get(logical_id)


class Unit:
    """Templates judged together and freed together: a template file, or a stack with its
    nested stacks (they refer to each other), or a template asset.

    ``reread`` reads the same templates again, for a caller that freed them and needs them once
    more; None when whoever made the unit keeps them anyway.
    """

    __slots__ = ("reread", "sources")

    def __init__(
        self, sources: list[TemplateSource], reread: Callable[[], list[TemplateSource]] | None = None
    ) -> None:
        self.sources = sources
        self.reread = reread


class Loaded(Record):
    """Everything read from the user's paths: the templates, and the inputs that could not be read."""

    __slots__ = ("sources", "problems")

    def __init__(
        self, sources: list[TemplateSource] | None = None, problems: list[InputError] | None = None
    ) -> None:
        self.sources: list[TemplateSource] = [] if sources is None else sources
        self.problems: list[InputError] = [] if problems is None else problems
