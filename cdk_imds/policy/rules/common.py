"""Findings shared by several resource families: metadata options, hop limits, launches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cdk_imds.policy.context import ResourceContext
from cdk_imds.policy.imds import TOKENS, Judgement, OptionSet, Verdict, hop_limits, judge_options, merged
from cdk_imds.policy.model import Finding, RuleId, Severity
from cdk_imds.policy.references import Launch
from cdk_imds.policy.values import Unknown

CDK_TEMPLATE_HINT = "in CDK: cdk_imds.SecureLaunchTemplate, or ec2.LaunchTemplate(require_imdsv2=True)"

UNVERIFIABLE_FIX = (
    "Make the value known at synth time (a literal, or a parameter with AllowedValues), or suppress "
    "IMDSV2_UNVERIFIABLE on this resource with a reason if it is governed elsewhere."
)


def options_findings(
    context: ResourceContext, sets: list[OptionSet], options_path: tuple[str, ...], subject: str, fix: str
) -> Iterator[Finding]:
    """Verdict on metadata options a resource holds itself, then its hop limit."""
    yield from verdict_findings(context, sets, options_path, subject, fix)
    yield from hop_limit_findings(context, sets, options_path, subject)


def verdict_findings(
    context: ResourceContext, sets: list[OptionSet], options_path: tuple[str, ...], subject: str, fix: str
) -> Iterator[Finding]:
    yield from judgement_findings(
        context, judge_options(sets), subject, fix, context.path(*options_path, TOKENS)
    )


def judgement_findings(
    context: ResourceContext, judgement: Judgement, subject: str, fix: str, path: str
) -> Iterator[Finding]:
    """The finding a three-way verdict on a resource's own setting calls for, if any."""
    if judgement.verdict is Verdict.FAIL:
        yield context.finding(RuleId.IMDSV2_REQUIRED, f"{subject}: {judgement.reason}.", fix, path)
    elif judgement.verdict is Verdict.UNKNOWN:
        yield context.finding(
            RuleId.IMDSV2_UNVERIFIABLE,
            f"{subject}: cannot be verified at synth time: {judgement.reason}.",
            UNVERIFIABLE_FIX,
            path,
        )


def hop_limit_findings(
    context: ResourceContext, sets: Iterable[OptionSet], options_path: tuple[str, ...], subject: str
) -> Iterator[Finding]:
    limits = hop_limits(sets)
    if not limits or max(limits) <= 1:
        return
    highest = max(limits)
    ceiling = context.options.max_hop_limit
    over_ceiling = ceiling is not None and highest > ceiling
    message = f"{subject}: HttpPutResponseHopLimit is {highest}; IMDS responses can travel {highest} hops."
    if over_ceiling:
        message += f" The allowed maximum is {ceiling}."
    yield context.finding(
        RuleId.IMDS_HOP_LIMIT,
        message,
        "Set HttpPutResponseHopLimit to 1, or 2 where containers on the instance need IMDS.",
        context.path(*options_path, "HttpPutResponseHopLimit"),
        severity=Severity.ERROR if over_ceiling else None,
    )


def launch_findings(
    context: ResourceContext,
    launch: Launch,
    reference_path: tuple[str | int, ...],
    noun: str,
    seen: set[tuple[RuleId, str]],
    own_overrides: list[OptionSet] | None = None,
) -> Iterator[Finding]:
    """One finding per launch template or configuration at fault, however often it is referenced."""
    path = context.path(*reference_path)
    for target in launch.distinct_targets():
        sets = target.options()
        if own_overrides:
            context.scope.charge(len(own_overrides) * len(sets))
            sets = [merged(own, base) for own in own_overrides for base in sets]
        judgement = judge_options(sets)
        if judgement.verdict is Verdict.PASS and not launch.pinned_versions:
            continue  # the usual case: nothing to say, so no names to build
        name = target.describe(context.scope)
        related = (
            target.logical_id
            if target.scope is context.scope
            else f"{target.scope.label}/{target.logical_id}"
        )
        if judgement.verdict is Verdict.FAIL and _first(seen, RuleId.IMDSV2_REQUIRED, related):
            yield context.finding(
                RuleId.IMDSV2_REQUIRED,
                f"{noun} launches from {name}, which allows IMDSv1: {judgement.reason}.",
                f"Set HttpTokens to 'required' on {name} ({CDK_TEMPLATE_HINT}).",
                path,
                related=related,
            )
        elif judgement.verdict is Verdict.UNKNOWN and _first(seen, RuleId.IMDSV2_UNVERIFIABLE, related):
            yield context.finding(
                RuleId.IMDSV2_UNVERIFIABLE,
                f"{noun} launches from {name}, whose IMDS setting cannot be verified at synth time: "
                f"{judgement.reason}.",
                UNVERIFIABLE_FIX,
                path,
                related=related,
            )
        if launch.pinned_versions and _first(seen, RuleId.IMDS_PINNED_VERSION, related):
            versions = ", ".join(sorted(set(launch.pinned_versions)))
            yield context.finding(
                RuleId.IMDS_PINNED_VERSION,
                f"{noun} pins version {versions} of {name}; that version may predate its IMDSv2 setting.",
                "Reference the template's LatestVersionNumber (or DefaultVersionNumber) with Fn::GetAtt.",
                context.path(*reference_path, "Version"),
                related=related,
            )
    for unknown in launch.unknowns:
        yield from unverifiable_launch(context, unknown, path, noun, seen)


def unverifiable_launch(
    context: ResourceContext, unknown: Unknown, path: str, noun: str, seen: set[tuple[RuleId, str]]
) -> Iterator[Finding]:
    if _first(seen, RuleId.IMDSV2_UNVERIFIABLE, unknown.reason):
        yield context.finding(
            RuleId.IMDSV2_UNVERIFIABLE,
            f"{noun} launches from a template that cannot be verified at synth time: {unknown.reason}.",
            "Launch from a launch template defined in this app that requires IMDSv2, or suppress "
            "IMDSV2_UNVERIFIABLE with a reason if the template is governed elsewhere.",
            path,
        )


def _first(seen: set[tuple[RuleId, str]], rule: RuleId, key: str) -> bool:
    if (rule, key) in seen:
        return False
    seen.add((rule, key))
    return True
