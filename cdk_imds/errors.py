"""Errors cdk-imds raises on purpose. Only the CLI turns them into a line on stderr and an exit code."""

from __future__ import annotations


class CdkImdsError(Exception):
    """Base of every error the tool reports to the user as one line."""

    exit_code = 2


class InputError(CdkImdsError):
    """A path the user gave cannot be read as a template or a cloud assembly."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TemplateError(InputError):
    """A file is not a CloudFormation template (missing, malformed JSON/YAML, no Resources)."""


class AssemblyError(InputError):
    """A cloud assembly directory is broken (manifest missing or malformed)."""


class AwsAccessError(CdkImdsError):
    """AWS credentials or endpoints are unusable."""
