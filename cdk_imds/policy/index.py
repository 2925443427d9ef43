"""One index per assembly: every template's scope, cross-stack exports, nested-stack parameters.

A ``Scope`` answers what a ``Ref``, ``Fn::GetAtt`` or ``Fn::ImportValue`` inside one template can
mean; the ``AssemblyIndex`` links scopes (exports, nested stacks) so that references are followed
to the resource they name instead of being guessed by position.
"""

from __future__ import annotations

from functools import partial

from cdk_imds.policy.values import (
    ABSENT,
    WORK_LIMIT,
    ResourceRef,
    Unknown,
    WorkLimitExceeded,
    as_text,
    expand,
    is_literal,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable
    from typing import Any

    from cdk_imds.policy.values import Candidate
    from cdk_imds.sources import TemplateSource

_UNKNOWN_ENV_PARTS = ("unknown-account", "unknown-region")


def _mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


class Scope:
    """One template, with what its references can resolve to."""

    def __init__(self, source: TemplateSource, index: AssemblyIndex) -> None:
        self.source = source
        self.index = index
        body = source.body if isinstance(source.body, dict) else {}
        self.resources: dict[str, Any] = _mapping(body, "Resources")
        self.parameters: dict[str, Any] = _mapping(body, "Parameters")
        self.mappings: dict[str, Any] = _mapping(body, "Mappings")
        self.outputs: dict[str, Any] = _mapping(body, "Outputs")
        self.parent: Scope | None = None
        self.children: dict[str, Scope] = {}
        self._names: dict[tuple[str, str], dict[str, list[str]]] = {}
        # Logical ids of the resources the rules judge, by type (set by the engine's one pass).
        self._candidates_by_type: dict[str, list[str]] | None = None
        # Per-resource results that several rules need (a template's options, say), computed once.
        self.cache: dict[Any, Any] = {}
        # What each intrinsic node (by id) evaluates to, with the node itself: see values.py.
        self.values: dict[Hashable, tuple[Any, list[Candidate]]] = {}
        # Definitions of this template evaluated once (AssemblyIndex.memo): parameters, outputs,
        # exports, mapping values.
        self.definitions: dict[Hashable, list[Candidate]] = {}
        self.evaluating: set[int] = set()
        self.work = 0
        self.exports_anything = any(
            type(output) is dict and "Export" in output for output in self.outputs.values()
        )

    def forget(self) -> None:
        """Drops everything computed about this template, and its links to others.

        What was computed refers back to the scope (a ResourceRef holds it): reference cycles the
        cyclic collector, paused while templates are judged, would never free.
        """
        self.forget_computed()
        self.children.clear()
        self.parent = None

    def forget_computed(self) -> None:
        """Drops what was computed about this template: values, definitions, per-resource results."""
        self.values.clear()
        self.definitions.clear()
        self.cache.clear()
        self._names.clear()

    def charge(self, steps: int) -> None:
        """Count work done for this template; raise WorkLimitExceeded once it is over budget."""
        self.work += steps
        if self.work > WORK_LIMIT:
            raise WorkLimitExceeded(self.label)

    @property
    def label(self) -> str:
        return self.source.label

    def construct_path(self, logical_id: str) -> str | None:
        return self.source.construct_path(logical_id)

    def ref(self, name: str, depth: int) -> list[Candidate]:
        if name in self.resources:
            return [ResourceRef(self, name)]
        if name in self.parameters:
            return self.index.memo(self, ("parameter", name), lambda: self._parameter(name, depth))
        if name == "AWS::NoValue":
            return [ABSENT]
        pseudo = self._pseudo_parameter(name)
        if pseudo is not None:
            return [pseudo]
        return [Unknown(f"Ref to {name}, which the template does not define")]

    def get_att(self, logical_id: str, attribute: str, depth: int) -> list[Candidate]:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            return [Unknown(f"Fn::GetAtt of {logical_id}, which the template does not define")]
        child = self.children.get(logical_id)
        if child is not None and attribute.startswith("Outputs."):
            output = child.outputs.get(attribute[len("Outputs.") :])
            if isinstance(output, dict) and "Value" in output:
                value = output["Value"]
                return self.index.memo(child, ("output", id(value)), lambda: expand(value, child, depth))
        return [ResourceRef(self, logical_id, attribute)]

    def import_value(self, name: str, depth: int) -> list[Candidate]:
        exports = self.index.exports_named(name, self.source.environment)
        if not exports:
            return [Unknown(f"Fn::ImportValue {name!r}: no stack in the assembly exports it")]
        results: list[Candidate] = []
        for scope, value in exports:
            results.extend(
                self.index.memo(scope, ("export", id(value)), partial(expand, value, scope, depth))
            )
        return results

    def index_candidates(self, candidates: Iterable[tuple[str, str]], types: frozenset[str]) -> None:
        """Remember the (logical id, type) of every resource of ``types``, from the engine's pass."""
        by_type: dict[str, list[str]] = {resource_type: [] for resource_type in types}
        for logical_id, resource_type in candidates:
            by_type[resource_type].append(logical_id)
        self._candidates_by_type = by_type

    def resources_named(self, resource_type: str, name_property: str) -> dict[str, list[str]]:
        """Logical ids of ``resource_type`` resources by every literal value of ``name_property``."""
        key = (resource_type, name_property)
        names = self._names.get(key)
        if names is None:
            names = {}
            by_type = self._candidates_by_type
            indexed = by_type is not None and resource_type in by_type
            logical_ids = by_type[resource_type] if by_type is not None and indexed else self.resources
            for logical_id in logical_ids:
                resource = self.resources[logical_id]
                if not isinstance(resource, dict) or resource.get("Type") != resource_type:
                    continue
                properties = resource.get("Properties")
                if not isinstance(properties, dict) or name_property not in properties:
                    continue
                for name in expand(properties[name_property], self, 0):
                    if isinstance(name, str):
                        names.setdefault(name, []).append(logical_id)
            self._names[key] = names
        return names

    def _parameter(self, name: str, depth: int) -> list[Candidate]:
        declaration = self.parameters.get(name)
        declaration = declaration if isinstance(declaration, dict) else {}
        if self.parent is not None:
            # A nested stack's parameters are set only by its parent: what the parent passes, or
            # else the Default, is the value; nobody can override it at deploy time.
            passed = self._passed_by_parent(name)
            if passed is not ABSENT:
                return expand(passed, self.parent, depth)
            if "Default" in declaration:
                return [declaration["Default"]]
        allowed = declaration.get("AllowedValues")
        if isinstance(allowed, list) and allowed:
            # CloudFormation takes AllowedValues literally; anything else is not a value it can have.
            return [
                value
                if as_text(value) is not None
                else Unknown(f"parameter {name} has a non-literal AllowedValue")
                for value in allowed
            ]
        return [
            Unknown(
                f"parameter {name} has no AllowedValues, and its Default can be overridden at deploy time"
            )
        ]

    def _passed_by_parent(self, name: str) -> Any:
        assert self.parent is not None and self.source.parent_logical_id is not None
        resource = self.parent.resources.get(self.source.parent_logical_id)
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        parameters = properties.get("Parameters") if isinstance(properties, dict) else None
        if isinstance(parameters, dict) and name in parameters:
            return parameters[name]
        return ABSENT

    def _pseudo_parameter(self, name: str) -> Candidate | None:
        if name == "AWS::StackName" and self.source.stack and self.parent is None:
            return self.source.stack
        environment = self.source.environment or ""
        if environment.startswith("aws://"):
            account, _, region = environment[len("aws://") :].partition("/")
            if name == "AWS::AccountId" and account and account not in _UNKNOWN_ENV_PARTS:
                return account
            if name == "AWS::Region" and region and region not in _UNKNOWN_ENV_PARTS:
                return region
        if name.startswith("AWS::"):
            return Unknown(f"pseudo parameter {name} is only known at deploy time")
        return None


class AssemblyIndex:
    """Scopes of the templates judged together, shared by every rule.

    ``check_sources`` builds one over every template of a run. ``check_units`` adds templates a
    stack (with its nested stacks) at a time and ``release``s those nothing else can reach, so
    their memory is reused; ``imports`` counts the imports resolved, so that it knows which units
    imported anything.
    """

    def __init__(self, sources: Iterable[TemplateSource] = ()) -> None:
        self.scopes: list[Scope] = []
        self._exports: dict[str, list[tuple[str | None, Scope, Any]]] | None = None
        self._evaluating: set[Hashable] = set()
        self.imports = 0
        self.add(sources)

    def add(self, sources: Iterable[TemplateSource]) -> list[Scope]:
        """Scopes for ``sources``; a nested stack's parent is among them or already added."""
        added = [Scope(source, self) for source in sources]
        self.scopes.extend(added)
        by_source = {id(scope.source): scope for scope in self.scopes}
        for scope in added:
            parent_source = scope.source.parent
            if parent_source is not None and scope.source.parent_logical_id is not None:
                parent = by_source.get(id(parent_source))
                if parent is not None:
                    scope.parent = parent
                    parent.children[scope.source.parent_logical_id] = scope
        if any(scope.exports_anything for scope in added):
            self._exports = None  # collected again on the next import
            # What the templates already here computed may rest on an import the new exports
            # answer differently (an export whose value is itself imported): computed again.
            for scope in self.scopes[: -len(added)]:
                scope.forget_computed()
        return added

    def release(self, scopes: list[Scope]) -> None:
        """Forgets ``scopes``: none may export anything (another template could import it)."""
        gone = {id(scope) for scope in scopes}
        self.scopes = [scope for scope in self.scopes if id(scope) not in gone]
        for scope in scopes:
            scope.forget()

    def memo(self, owner: Scope, key: Hashable, compute: Callable[[], list[Candidate]]) -> list[Candidate]:
        """Evaluate a shared definition of ``owner``'s template (parameter, mapping value, export,
        output) once.

        Definitions can refer to each other, even in a cycle CloudFormation would reject; without
        this, a value that looks itself up twice doubles the work at every level. Results are kept
        by the template they belong to, so that they go with it when it is released.
        """
        cached = owner.definitions.get(key)
        if cached is not None:
            return cached
        evaluating = (id(owner), key)
        if evaluating in self._evaluating:
            return [Unknown("the value refers to itself")]
        self._evaluating.add(evaluating)
        try:
            result = compute()
        finally:
            self._evaluating.discard(evaluating)
        owner.definitions[key] = result
        return result

    def exports_named(self, name: str, environment: str | None) -> list[tuple[Scope, Any]]:
        if self._exports is None:
            self._exports = self._collect_exports()
        self.imports += 1
        return [
            (scope, value)
            for export_environment, scope, value in self._exports.get(name, [])
            if _same_environment(environment, export_environment)
        ]

    def _collect_exports(self) -> dict[str, list[tuple[str | None, Scope, Any]]]:
        exports: dict[str, list[tuple[str | None, Scope, Any]]] = {}
        for scope in self.scopes:
            for output in scope.outputs.values():
                if not isinstance(output, dict) or "Value" not in output:
                    continue
                export = output.get("Export")
                if not isinstance(export, dict) or "Name" not in export:
                    continue
                try:
                    names = expand(export["Name"], scope, 0)
                except WorkLimitExceeded:
                    # That template's findings say it ran out of budget; its exports are not guessed.
                    continue
                for name in names:
                    if is_literal(name) and isinstance(name, str):
                        exports.setdefault(name, []).append(
                            (scope.source.environment, scope, output["Value"])
                        )
        return exports


def _same_environment(first: str | None, second: str | None) -> bool:
    """Exports are per account and region; environment-agnostic stacks may match anything."""
    if not first or not second or first == second:
        return True
    return any(part in first or part in second for part in _UNKNOWN_ENV_PARTS)
