"""What a catalogue entry and an app shape are: the two small things the conformance suite crosses.

A *case* (catalogue/<name>.py) adds one kind of EC2 capacity the way a user would write it, and
declares what cdk-imds must make of it: the construct paths (relative to the case's own scope) that
must be reported, and whether FIX can fix them. A *shape* (shapes/<name>.py) is a place in an app
where users put constructs (a plain stack, a Stage, a CDK Pipelines stage, ...); it builds every
case it hosts and says where each one landed. Neither imports the other: the app (app.py) crosses
them, the tests (test_conformance.py) judge each cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from constructs import Construct


class Verdict(StrEnum):
    """What cdk-imds must make of a case's paths."""

    COMPLIANT = "compliant"
    """The template as written is IMDSv2-only: never reported, in no mode."""
    FIXABLE = "fixable"
    """Reported by FAIL and WARN; FIX makes every deployed template pass without an error."""
    UNFIXABLE = "unfixable"
    """Reported by FAIL and WARN; FIX cannot fix it and must fail synthesis naming it."""


# The two apps the suite synthesizes: FIX must exit 0 on the first and non-zero on the second.
FIXABLE_SET = "fixable"
UNFIXABLE_SET = "unfixable"


@dataclass(frozen=True)
class Case:
    """One construct of the catalogue, added insecurely (or, for COMPLIANT cases, securely)."""

    name: str
    """Construct id of the case's scope; unique, and no name is a prefix of another."""
    build: Callable[[Construct], None]
    """Adds the construct(s) under the given scope."""
    verdict: Verdict
    paths: Sequence[str]
    """Construct paths relative to the case's scope, each of which must (or, COMPLIANT: must not)
    be reported."""
    names: Sequence[str] = ()
    """More words the error must contain in FAIL and FIX (a resource inside a template file)."""
    files: Sequence[Path] = ()
    """Template files the error must name in FAIL and FIX: by their own name or that of their
    staged copy in the cloud assembly (asset.<hash>.json)."""
    fix_note: Sequence[str] = ()
    """Words FIX's note on the case must contain (that the change replaces the resource, say)."""
    not_in: Sequence[str] = ()
    """Shapes the case cannot live in (a product inside a product, say)."""
    context: dict[str, object] = field(default_factory=dict)
    """CDK context set on the case's scope before it is built (feature flags the case depends on)."""

    @property
    def app_set(self) -> str:
        return UNFIXABLE_SET if self.verdict is Verdict.UNFIXABLE else FIXABLE_SET

    def fits(self, shape: str) -> bool:
        return shape not in self.not_in


@dataclass(frozen=True)
class Placed:
    """Where a shape put a case: the full construct paths that stand for each of its paths."""

    case: str
    shape: str
    paths: dict[str, list[str]]
    """Relative path (as the case declared it) -> the full construct paths that stand for it."""
    deployers: Sequence[str] = ()
    """Constructs that deploy the case's template (a Service Catalog product): a finding on the
    case must name them too."""


class Shape:
    """A place in an app where constructs live. Subclasses live in shapes/<name>.py."""

    name: str = ""
    description: str = ""

    def build(self, app: Construct, cases: Sequence[Case]) -> list[Placed]:
        raise NotImplementedError


def place(shape: str, case: Case, parent: Construct) -> Placed:
    """Builds ``case`` in a scope of its own under ``parent``; its paths hang below that scope."""
    scope = Construct(parent, case.name)
    for key, value in case.context.items():
        scope.node.set_context(key, value)
    case.build(scope)
    return Placed(case.name, shape, {relative: [f"{scope.node.path}/{relative}"] for relative in case.paths})
