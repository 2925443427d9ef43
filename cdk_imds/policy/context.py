"""What a rule sees: one resource, its scope in the assembly index, and the run's options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdk_imds.policy.index import Scope
from cdk_imds.policy.model import RULES, Finding, RuleId, Severity


@dataclass(frozen=True)
class Options:
    """Knobs of a run. ``max_hop_limit`` turns larger hop limits into errors."""

    max_hop_limit: int | None = None
    unverifiable_as_warning: bool = False


# Not frozen: one is built per judged resource, and a frozen dataclass sets each field through
# object.__setattr__. Rules only read it.
@dataclass(slots=True)
class ResourceContext:
    scope: Scope
    logical_id: str
    resource: dict[str, Any]
    options: Options

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
