"""The project runs on a Node.js that jsii supports, and silences nothing to get there."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests import node_runtime

ROOT = Path(__file__).resolve().parents[1]


def fake_node(directory: Path, major: int) -> Path:
    """A ``node`` on ``directory`` that answers every call with ``major``, as ``node -p`` would."""
    directory.mkdir(parents=True, exist_ok=True)
    node = directory / "node"
    node.write_text(f"#!/bin/sh\necho {major}\n", encoding="utf-8")
    node.chmod(node.stat().st_mode | stat.S_IXUSR)
    return node


def test_node_on_the_test_path_is_a_supported_lts() -> None:
    node = shutil.which("node")
    assert node is not None, "no node on PATH: run `make install`"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    assert int(version.strip().lstrip("v").split(".")[0]) in {22, 24}, (node, version)


def test_jsii_starts_without_a_node_banner() -> None:
    # jsii prints its Node support banner on stderr when its kernel starts; nothing else here writes there.
    program = "import aws_cdk; aws_cdk.App().synth()"
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


@pytest.mark.parametrize("major", [22, 24])
def test_a_supported_node_on_path_is_kept(tmp_path: Path, major: int) -> None:
    fake_node(tmp_path / "bin", major)
    environ = {"PATH": str(tmp_path / "bin")}
    node_runtime.use_supported_node(environ)
    assert environ == {"PATH": str(tmp_path / "bin")}


@pytest.mark.parametrize("major", [18, 20, 23, 26])
def test_an_unsupported_node_on_path_gives_way_to_the_project_node(tmp_path: Path, major: int) -> None:
    fake_node(tmp_path / "bin", major)
    environ = {"PATH": str(tmp_path / "bin")}
    node_runtime.use_supported_node(environ)
    assert environ["PATH"].split(os.pathsep) == [str(node_runtime.PROJECT_NODE_BIN), str(tmp_path / "bin")]


def test_no_node_on_path_gets_the_project_node(tmp_path: Path) -> None:
    environ = {"PATH": str(tmp_path)}
    node_runtime.use_supported_node(environ)
    assert environ["PATH"].split(os.pathsep)[0] == str(node_runtime.PROJECT_NODE_BIN)


def test_the_project_node_is_a_supported_lts() -> None:
    project_node = node_runtime.PROJECT_NODE_BIN / "node"
    assert project_node.exists(), "node_modules/.bin/node is missing: run `make install`"
    assert node_runtime.node_major(str(project_node)) in node_runtime.SUPPORTED_MAJORS


def test_no_jsii_silencing_variable_in_the_project() -> None:
    if not (ROOT / ".git").exists():
        pytest.fail("not a git checkout: the scan lists the project's files with `git ls-files`")
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    this_file = Path(__file__).resolve().relative_to(ROOT).as_posix()
    scanned = [name for name in files if name and name != this_file and (ROOT / name).is_file()]
    assert len(scanned) > 50
    silenced = [
        name
        for name in scanned
        if "JSII_SILENCE_" in (ROOT / name).read_text(encoding="utf-8", errors="replace")
    ]
    assert silenced == []
