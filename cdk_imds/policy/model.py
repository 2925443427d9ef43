"""The vocabulary every part of cdk-imds shares: severities, rule ids, findings."""

from __future__ import annotations

from enum import StrEnum

from cdk_imds.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    SUPPRESSED = "suppressed"

    def __str__(self) -> str:
        return self.value


class RuleId(StrEnum):
    IMDSV2_REQUIRED = "IMDSV2_REQUIRED"
    IMDSV2_UNVERIFIABLE = "IMDSV2_UNVERIFIABLE"
    IMDSV2_UNSUPPORTED = "IMDSV2_UNSUPPORTED"
    IMDS_HOP_LIMIT = "IMDS_HOP_LIMIT"
    IMDS_PINNED_VERSION = "IMDS_PINNED_VERSION"
    # Not a compliance rule: reports a suppression that was ignored, and a rule that crashed.
    IMDS_SUPPRESSION_IGNORED = "IMDS_SUPPRESSION_IGNORED"
    IMDS_RULE_CRASHED = "IMDS_RULE_CRASHED"

    def __str__(self) -> str:
        return self.value


class RuleInfo(Record):
    __slots__ = ("id", "severity", "title", "description", "help_uri")

    def __init__(self, id: RuleId, severity: Severity, title: str, description: str, help_uri: str) -> None:
        self.id = id
        self.severity = severity
        self.title = title
        self.description = description
        self.help_uri = help_uri


_IMDS_DOC = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-options.html"
_LT_DOC = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "aws-properties-ec2-launchtemplate-metadataoptions.html"
)

RULES: dict[RuleId, RuleInfo] = {
    info.id: info
    for info in (
        RuleInfo(
            RuleId.IMDSV2_REQUIRED,
            Severity.ERROR,
            "EC2 capacity must require IMDSv2 session tokens",
            "Instances that accept IMDSv1 hand their IAM role credentials to any unauthenticated HTTP "
            "GET, so a single SSRF bug leaks them. Set HttpTokens to 'required' (or disable the "
            "metadata endpoint) on every launch template, launch configuration and instance, and "
            "launch only from such templates.",
            _LT_DOC,
        ),
        RuleInfo(
            RuleId.IMDSV2_UNVERIFIABLE,
            Severity.ERROR,
            "IMDSv2 setting cannot be verified at synth time",
            "The metadata options depend on a value only known at deploy time (a launch template "
            "from outside the assembly, an unconstrained parameter, an import nobody exports). "
            "Reference a template defined in the app, constrain the parameter with AllowedValues, "
            "or suppress with a reason.",
            _IMDS_DOC,
        ),
        RuleInfo(
            RuleId.IMDSV2_UNSUPPORTED,
            Severity.ERROR,
            "Launch mechanism cannot require IMDSv2",
            "Spot Fleet LaunchSpecifications cannot carry metadata options. Use "
            "LaunchTemplateConfigs with a launch template that requires IMDSv2.",
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-requests.html",
        ),
        RuleInfo(
            RuleId.IMDS_HOP_LIMIT,
            Severity.WARNING,
            "IMDS response hop limit above 1",
            "A hop limit above 1 lets IMDS responses travel beyond the instance (containers on the "
            "host need 2). Keep it at 1 unless containers need it; --max-hop-limit makes larger "
            "values errors.",
            _IMDS_DOC,
        ),
        RuleInfo(
            RuleId.IMDS_PINNED_VERSION,
            Severity.WARNING,
            "Launcher pins a literal launch template version",
            "A pinned version number may predate the IMDSv2 setting of the template. Reference "
            "the template's LatestVersionNumber (or DefaultVersionNumber) attribute instead.",
            _LT_DOC,
        ),
        RuleInfo(
            RuleId.IMDS_SUPPRESSION_IGNORED,
            Severity.WARNING,
            "Suppression without a reason was ignored",
            "A cdk-imds suppression must give a non-empty reason; without one it has no effect.",
            "https://github.com/cdk-imds/cdk-imds#suppressions",
        ),
        RuleInfo(
            RuleId.IMDS_RULE_CRASHED,
            Severity.ERROR,
            "A rule could not judge this resource",
            "cdk-imds hit an unexpected shape while judging this resource; it is reported instead "
            "of crashing the run. Please report it with the resource's shape (not its values).",
            "https://github.com/cdk-imds/cdk-imds/issues",
        ),
    )
}


class Finding(Record):
    """One verdict on one resource.

    ``property_path`` is the path into the template ("Resources/LT/Properties/...") of the property
    at fault, so that a fixer or a SARIF location can point at it. For a resource that launches
    from a template, ``related`` names the launch template or configuration at fault.
    Live-account findings fill ``resource_id``, ``region`` and ``account`` instead of
    ``logical_id``/``template``. ``extra`` is not compared.
    """

    __slots__ = (
        "rule",
        "severity",
        "resource_type",
        "logical_id",
        "template",
        "message",
        "fix",
        "property_path",
        "stack",
        "construct_path",
        "related",
        "suppression_reason",
        "resource_id",
        "region",
        "account",
        "extra",
    )

    def __init__(
        self,
        rule: RuleId,
        severity: Severity,
        resource_type: str,
        logical_id: str,
        template: str,
        message: str,
        fix: str = "",
        property_path: str = "",
        stack: str | None = None,
        construct_path: str | None = None,
        related: str | None = None,
        suppression_reason: str | None = None,
        resource_id: str | None = None,
        region: str | None = None,
        account: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.rule = rule
        self.severity = severity
        self.resource_type = resource_type
        self.logical_id = logical_id
        self.template = template
        self.message = message
        self.fix = fix
        self.property_path = property_path
        self.stack = stack
        self.construct_path = construct_path
        self.related = related
        self.suppression_reason = suppression_reason
        self.resource_id = resource_id
        self.region = region
        self.account = account
        self.extra: dict[str, Any] = {} if extra is None else extra

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _COMPARED_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        # Only ``extra`` is a container; it is copied, so a report's reader cannot change the finding.
        data = self.as_dict()
        if self.extra:
            import copy  # rare (live-account findings): not on check's import path

            data["extra"] = copy.deepcopy(self.extra)
        else:
            del data["extra"]
        data["rule"] = self.rule.value
        data["severity"] = self.severity.value
        for key in ("resource_id", "region", "account"):
            if data[key] is None:
                del data[key]
        return data


_COMPARED_FIELDS = tuple(name for name in Finding.__slots__ if name != "extra")


class Summary(Record):
    __slots__ = ("errors", "warnings", "infos", "suppressed", "templates", "resources")

    def __init__(
        self, errors: int, warnings: int, infos: int, suppressed: int, templates: int, resources: int
    ) -> None:
        self.errors = errors
        self.warnings = warnings
        self.infos = infos
        self.suppressed = suppressed
        self.templates = templates
        self.resources = resources

    @classmethod
    def of(cls, findings: list[Finding], templates: int = 0, resources: int = 0) -> Summary:
        counts = {severity: 0 for severity in Severity}
        for finding in findings:
            counts[finding.severity] += 1
        return cls(
            errors=counts[Severity.ERROR],
            warnings=counts[Severity.WARNING],
            infos=counts[Severity.INFO],
            suppressed=counts[Severity.SUPPRESSED],
            templates=templates,
            resources=resources,
        )
