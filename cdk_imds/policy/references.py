"""Following a launcher's reference to the launch template or configuration it launches from.

A template is found by ``Ref`` / ``Fn::GetAtt`` (through imports and nested-stack parameters), or
by a literal name equal to a template's name in the same template, never by position. Anything
else cannot be verified before deploy, and says why.
"""

from __future__ import annotations

from cdk_imds.policy.imds import resource_options
from cdk_imds.policy.values import (
    ABSENT,
    MAX_CANDIDATES,
    ResourceRef,
    Unknown,
    expand,
    lookup,
    whole_number,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cdk_imds.policy.imds import OptionSet
    from cdk_imds.policy.index import Scope
    from cdk_imds.policy.values import Candidate

LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"

_OPTIONS_PATH = {
    LAUNCH_TEMPLATE: ("LaunchTemplateData", "MetadataOptions"),
    LAUNCH_CONFIGURATION: ("MetadataOptions",),
}
_NAME_PROPERTY = {LAUNCH_TEMPLATE: "LaunchTemplateName", LAUNCH_CONFIGURATION: "LaunchConfigurationName"}
_KIND = {LAUNCH_TEMPLATE: "launch template", LAUNCH_CONFIGURATION: "launch configuration"}


class Target:
    """A launch template or launch configuration defined somewhere in the assembly."""

    __slots__ = ("scope", "logical_id", "type")

    def __init__(self, scope: Scope, logical_id: str, type: str) -> None:
        self.scope = scope
        self.logical_id = logical_id
        self.type = type

    @property
    def kind(self) -> str:
        return _KIND[self.type]

    def options(self) -> list[OptionSet]:
        return resource_options(self.scope, self.logical_id, _OPTIONS_PATH[self.type])

    def describe(self, seen_from: Scope) -> str:
        name = self.scope.construct_path(self.logical_id) or self.logical_id
        if self.scope is not seen_from:
            name += f" (stack {self.scope.label})"
        return f"{self.kind} {name}"

    def same_as(self, other: Target) -> bool:
        return self.scope is other.scope and self.logical_id == other.logical_id


class Launch:
    """What one launch specification resolves to."""

    __slots__ = ("targets", "unknowns", "pinned_versions", "specified")

    def __init__(self) -> None:
        self.targets: list[Target] = []
        self.unknowns: list[Unknown] = []
        self.pinned_versions: list[str] = []
        self.specified = True

    def distinct_targets(self) -> list[Target]:
        """Each target once, however many candidates lead to it (an Fn::If with the same branches)."""
        if len(self.targets) < 2:
            return self.targets
        seen: dict[tuple[int, str], Target] = {}
        for target in self.targets:
            seen.setdefault((id(target.scope), target.logical_id), target)
        return list(seen.values())


def launch_template(
    spec: Any, scope: Scope, id_key: str = "LaunchTemplateId", name_key: str = "LaunchTemplateName"
) -> Launch:
    """Resolve a LaunchTemplateSpecification-like object (``{id_key|name_key, Version}``)."""
    launch = Launch()
    for candidate in expand(spec, scope):
        if type(candidate) is dict:
            _resolve_spec(candidate, scope, id_key, name_key, launch)
        elif candidate is ABSENT or candidate is None:
            launch.specified = False
        elif isinstance(candidate, Unknown):
            launch.unknowns.append(candidate)
        else:
            # Invalid CloudFormation, but it must not pass silently: it names no template we can judge.
            launch.unknowns.append(Unknown("the launch template specification is not an object"))
    return launch


def launch_configuration(name: Any, scope: Scope) -> Launch:
    launch = Launch()
    _resolve_reference(expand(name, scope), scope, LAUNCH_CONFIGURATION, launch, literal_is_name=True)
    return launch


def _resolve_spec(spec: dict[str, Any], scope: Scope, id_key: str, name_key: str, launch: Launch) -> None:
    ids = lookup(spec, (id_key,), scope)
    names = lookup(spec, (name_key,), scope)
    if all(candidate is ABSENT for candidate in ids) and all(candidate is ABSENT for candidate in names):
        launch.unknowns.append(
            Unknown(f"the launch template specification names neither {id_key} nor {name_key}")
        )
        return
    before = len(launch.targets)
    if not all(candidate is ABSENT for candidate in ids):
        _resolve_reference(ids, scope, LAUNCH_TEMPLATE, launch, literal_is_name=False)
    else:
        _resolve_reference(names, scope, LAUNCH_TEMPLATE, launch, literal_is_name=True)
    if len(launch.targets) > before:
        for version in lookup(spec, ("Version",), scope):
            number = whole_number(version)
            if number is not None:
                launch.pinned_versions.append(str(number))


def _resolve_reference(
    candidates: list[Candidate], scope: Scope, resource_type: str, launch: Launch, *, literal_is_name: bool
) -> None:
    kind = _KIND[resource_type]
    for candidate in candidates:
        if isinstance(candidate, ResourceRef):
            if candidate.type == resource_type:
                launch.targets.append(Target(candidate.scope, candidate.logical_id, resource_type))
            else:
                launch.unknowns.append(
                    Unknown(f"{candidate.logical_id} is a {candidate.type or 'resource'}, not a {kind}")
                )
        elif isinstance(candidate, Unknown):
            launch.unknowns.append(candidate)
        elif isinstance(candidate, str) and literal_is_name:
            _resolve_name(candidate, scope, resource_type, launch)
        elif isinstance(candidate, str):
            launch.unknowns.append(Unknown(f"{kind} {candidate!r} is not defined in this assembly"))
        elif candidate is not ABSENT:
            launch.unknowns.append(Unknown(f"the {kind} reference is not a string"))


def _resolve_name(name: str, scope: Scope, resource_type: str, launch: Launch) -> None:
    logical_ids = scope.resources_named(resource_type, _NAME_PROPERTY[resource_type]).get(name)
    if not logical_ids:
        launch.unknowns.append(
            Unknown(f"no {_KIND[resource_type]} named {name!r} is defined in this template")
        )
        return
    if len(logical_ids) > MAX_CANDIDATES:
        # Names are unique in a region, so this template cannot deploy; judging each is wasted work.
        launch.unknowns.append(
            Unknown(f"more than {MAX_CANDIDATES} {_KIND[resource_type]}s are named {name!r}")
        )
        return
    launch.targets.extend(Target(scope, logical_id, resource_type) for logical_id in logical_ids)
