"""The JavaScript half of enforcement: its declaration to the jsii kernel, its packaging, and the
Python decisions it carries out (``decide``)."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from cdk_imds.cdk.enforcement.aspect import FIX_NOTE, decide
from cdk_imds.cdk.enforcement.candidates import OPAQUE, Inspected
from cdk_imds.cdk.enforcement.javascript import Swept

ROOT = Path(__file__).resolve().parents[2]
LT = "AWS::EC2::LaunchTemplate"


def test_the_kernel_accepts_the_declaration_when_it_validates_assemblies() -> None:
    # jsii validates a loaded assembly against its schema only when asked to; a fresh process,
    # since the setting is read when the kernel starts.
    code = (
        "import aws_cdk\n"
        "from cdk_imds.cdk.enforcement.javascript import Bulk\n"
        "stage = aws_cdk.Stage(aws_cdk.App(), 'Inner')\n"
        "print([found.node.path for found in Bulk.stages(stage.node.root)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "JSII_VALIDATE_ASSEMBLIES": "1"},
        timeout=300,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "['Inner']"), result.stderr[-2000:]


def test_every_file_the_package_reads_is_package_data() -> None:
    # A file missing from the wheel would make every installed enforce() fail at its first use.
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "cdk_imds"
    ]
    package = ROOT / "cdk_imds"
    data = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert "cdk/enforcement/javascript/index.js" in data
    assert [name for name in data if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)] == []


def _row(path: str, value: object) -> Swept:
    return Swept(path, LT, value)


def test_decide_fixes_every_plain_value_and_notes_only_changes() -> None:
    inspected = Inspected()
    swept = [_row("S/Optional", "optional"), _row("S/Unset", None), _row("S/Required", "required")]
    fixable, notes = decide(swept, inspected)
    assert fixable == [0, 1, 2]
    assert notes == [
        (
            0,
            f"{FIX_NOTE}HttpTokens to required at LaunchTemplateData.MetadataOptions.HttpTokens (was 'optional')",
        ),
        (
            1,
            f"{FIX_NOTE}HttpTokens to required at LaunchTemplateData.MetadataOptions.HttpTokens (was not set)",
        ),
    ]
    assert inspected.changed == 2


def test_decide_leaves_a_deploy_time_value_to_the_plugin() -> None:
    inspected = Inspected()
    fixable, notes = decide([_row("S/FromParameter", OPAQUE), _row("S/Unset", None)], inspected)
    assert (fixable, [at for at, _ in notes]) == ([1], [1])
    assert inspected == {"S/FromParameter": False, "S/Unset": True}


def test_decide_keeps_what_another_aspect_of_the_app_decided() -> None:
    # Given a resource a first sweep noted and one it left alone (a token then)
    inspected = Inspected()
    decide([_row("S/Unset", None), _row("S/Token", OPAQUE)], inspected)
    # When a second aspect of the app sweeps them again
    fixable, notes = decide([_row("S/Unset", "required"), _row("S/Token", None)], inspected)
    # Then it overrides the first again (after its own lower-priority aspects) without a second
    # note, and still leaves the token alone
    assert (fixable, notes, inspected.changed) == ([0], [], 1)
