"""Imdsv2CheckStep: ``cdk-imds check`` as a CDK Pipelines step over the synthesized assembly."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from aws_cdk import pipelines

from cdk_imds import __version__
from cdk_imds.org.documents import check_hop_limit

DEFAULT_INSTALL_COMMAND = f"pip install cdk-imds=={__version__}"
DEFAULT_REPORT_DIRECTORY = "cdk-imds-report"
DEFAULT_REPORT_FILE = "imds.sarif"


def check_commands(
    *,
    assembly_directory: str = ".",
    report_directory: str = DEFAULT_REPORT_DIRECTORY,
    report_file: str = DEFAULT_REPORT_FILE,
    max_hop_limit: int | None = None,
    unverifiable_as_warning: bool = False,
) -> list[str]:
    """The shell commands of the step; the last one's exit code is the step's verdict.

    The text report comes first so the findings are in the build log whatever happens; it never
    fails the step itself (the SARIF run that follows judges the same assembly with the same
    options and exits 1 on errors, 2 on an unreadable assembly).
    """
    options = ""
    if max_hop_limit is not None:
        check_hop_limit("max_hop_limit", max_hop_limit)
        options += f" --max-hop-limit {max_hop_limit}"
    if unverifiable_as_warning:
        options += " --unverifiable-as-warning"
    assembly = shlex.quote(assembly_directory)
    report = shlex.quote(f"{report_directory.rstrip('/')}/{report_file}")
    return [
        f"mkdir -p {shlex.quote(report_directory)}",
        f"cdk-imds check {assembly}{options} --format text || true",
        f"cdk-imds check {assembly}{options} --format sarif -o {report}",
    ]


class Imdsv2CheckStep(pipelines.ShellStep):
    """A ShellStep that fails the pipeline when the synthesized app lets instances use IMDSv1.

    Put it after synthesis (``pipeline.add_wave("Checks", pre=[...])`` or a stage's ``pre``),
    with the synth step's output as ``input``. It works for apps in any CDK language and needs no
    change to them. The SARIF report is the step's primary output, ready for code scanning; a
    failed build still uploads it (CodeBuild always attempts its UPLOAD_ARTIFACTS phase), and the
    text report is in the build log.
    """

    def __init__(
        self,
        id: str,
        *,
        input: pipelines.IFileSetProducer,
        install_command: str = DEFAULT_INSTALL_COMMAND,
        assembly_directory: str = ".",
        report_directory: str = DEFAULT_REPORT_DIRECTORY,
        report_file: str = DEFAULT_REPORT_FILE,
        max_hop_limit: int | None = None,
        unverifiable_as_warning: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Define the step.

        :param id: the step's id in the pipeline.
        :param input: the cloud assembly, usually ``pipeline.synth`` (its primary output is cdk.out).
        :param install_command: how to install cdk-imds. Default: ``pip install cdk-imds==<this
            version>``, so the pipeline judges with the rules this app was built against.
        :param assembly_directory: the assembly inside ``input``. Default: ``.`` (input is cdk.out).
        :param report_directory: where the SARIF report is written, the step's primary output.
            Default: ``cdk-imds-report``.
        :param report_file: the SARIF file's name. Default: ``imds.sarif``.
        :param max_hop_limit: ``--max-hop-limit``: hop limits above it are errors. Default: None
            (above 1 is a warning).
        :param unverifiable_as_warning: ``--unverifiable-as-warning``. Default: False (a value only
            known at deploy time fails the step).
        :param env: environment variables for the commands. Default: none.
        """
        super().__init__(
            id,
            input=input,
            install_commands=[install_command],
            commands=check_commands(
                assembly_directory=assembly_directory,
                report_directory=report_directory,
                report_file=report_file,
                max_hop_limit=max_hop_limit,
                unverifiable_as_warning=unverifiable_as_warning,
            ),
            primary_output_directory=report_directory,
            env=dict(env) if env else None,
        )
