"""What a rule sees: one resource, its scope in the assembly index, and the run's options."""

from __future__ import annotations

from cdk_imds.policy.model import RULES, Finding, RuleId, Severity
from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cdk_imds.policy.index import Scope


class Options(Record):
    """Knobs of a run. ``max_hop_limit`` turns larger hop limits into errors."""

    __slots__ = ("max_hop_limit", "unverifiable_as_warning")

    def __init__(self, max_hop_limit: int | None = None, unverifiable_as_warning: bool = False) -> None:
        self.max_hop_limit = max_hop_limit
        self.unverifiable_as_warning = unverifiable_as_warning


class ResourceContext:
    """One is built per judged resource; rules only read it."""

    __slots__ = ("scope", "logical_id", "resource", "options")

    def __init__(self, scope: Scope, logical_id: str, resource: dict[str, Any], options: Options) -> None:
        self.scope = scope
        self.logical_id = logical_id
        self.resource = resource
        self.options = options

    @property
    def type(self) -> str:
        return str(self.resource.get("Type", ""))

    @property
    def properties(self) -> Any:
        properties = self.resource.get("Properties")
        return properties if isinstance(properties, dict) else {}

    def path(self, *parts: str | int) -> str:
        return "/".join(("Resources", self.logical_id, "Properties", *map(str, parts)))

    def finding(
        self,
        rule: RuleId,
        message: str,
        fix: str,
        property_path: str,
        *,
        related: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        source = self.scope.source
        return Finding(
            rule=rule,
            severity=severity or RULES[rule].severity,
            resource_type=self.type,
            logical_id=self.logical_id,
            template=source.path,
            stack=source.display_name or source.stack,
            construct_path=self.scope.construct_path(self.logical_id),
            property_path=property_path,
            message=message,
            fix=fix,
            related=related,
        )
