"""README.md is true of the code: its commands run, its flags parse, its tables name what exists.

The README's ``cdk-imds`` examples are read from the README itself (``sh`` code blocks, and inline
code that is a whole command), so an example that stops working fails here:

- ``check`` examples run for real through the installed ``cdk-imds`` script, in a directory that has
  the files the README names (``cdk.out``, ``template.yaml``, ``network.json``), written below;
- ``audit`` and ``remediate`` examples need an AWS account, so they go through the command's own
  argument parser only: every flag exists and takes the value it is given;
- every command's ``--help`` runs; the ``make`` targets it names exist; its rules table lists
  exactly the rules of the engine with their default severities.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_imds.cli import _parser
from cdk_imds.policy.model import RULES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CDK_IMDS = Path(sys.executable).parent / "cdk-imds"

# What the README's check examples read, named as it names them. A launch template whose hop limit
# (3) is a warning, or an error with --max-hop-limit 2; a group launching from a launch template
# outside the assembly, which is unverifiable: an error, or a warning with --unverifiable-as-warning.
ASSEMBLY_TEMPLATE = {
    "Resources": {
        "Containers": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 3}
                }
            },
        },
        "Imported": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {
                "MinSize": "1",
                "MaxSize": "1",
                "LaunchTemplate": {"LaunchTemplateId": "lt-0123456789abcdef0", "Version": "1"},
            },
        },
    }
}
# Compliant, with short-form tags.
TEMPLATE_YAML = """\
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        MetadataOptions: {HttpTokens: required}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: "1"
      MaxSize: "1"
      LaunchTemplate:
        LaunchTemplateId: !Ref Template
        Version: !GetAtt Template.LatestVersionNumber
"""
NETWORK_JSON = {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}

_SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _command(line: str) -> list[str]:
    """The words of one shell command, up to the first operator (``|| true`` and the like)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    for word in lexer:
        if word in _SHELL_OPERATORS:
            break
        words.append(word)
    return words


def readme_commands(program: str) -> list[list[str]]:
    """Every ``program ...`` command of the README: lines of shell blocks and whole inline commands."""
    commands = []
    for block in _shell_blocks(README):
        for line in block.replace("\\\n", " ").splitlines():
            words = _command(line)
            if words and words[0] == program:
                commands.append(words)
    prose = re.sub(r"^```.*?^```", "", README, flags=re.MULTILINE | re.DOTALL)
    for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose):
        words = _command(span.replace("\n", " "))
        # `cdk-imds check` alone names the command in prose; with an argument it is an example.
        if len(words) >= 3 and words[0] == program:
            commands.append(words)
    unique: dict[str, list[str]] = {shlex.join(words): words for words in commands}
    return list(unique.values())


CDK_IMDS_COMMANDS = readme_commands("cdk-imds")
CHECK_COMMANDS = [words for words in CDK_IMDS_COMMANDS if words[1] == "check"]
ACCOUNT_COMMANDS = [words for words in CDK_IMDS_COMMANDS if words[1] in {"audit", "remediate"}]


def test_the_readme_has_examples_of_every_command() -> None:
    assert {words[1] for words in CDK_IMDS_COMMANDS} == {"check", "audit", "remediate"}
    assert len(CHECK_COMMANDS) >= 6
    assert len(ACCOUNT_COMMANDS) >= 10


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with the files the README's check examples name."""
    assembly = tmp_path / "cdk.out"
    assembly.mkdir()
    (assembly / "AppStack.template.json").write_text(json.dumps(ASSEMBLY_TEMPLATE), encoding="utf-8")
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "AppStack": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/unknown-region",
                "properties": {"templateFile": "AppStack.template.json"},
            }
        },
    }
    (assembly / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "template.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    (tmp_path / "network.json").write_text(json.dumps(NETWORK_JSON), encoding="utf-8")
    return tmp_path


def _errors_reported(words: list[str], stdout: str, workdir: Path) -> int:
    """The number of errors the report shows, in whichever format and place the command asked for."""
    output_file = next((words[i + 1] for i, word in enumerate(words) if word in {"-o", "--output"}), None)
    report = (workdir / output_file).read_text(encoding="utf-8") if output_file else stdout
    output_format = next((words[i + 1] for i, word in enumerate(words) if word == "--format"), "text")
    if output_format == "json":
        findings = json.loads(report)["findings"]
        return sum(1 for finding in findings if finding["severity"] == "error")
    if output_format == "sarif":
        (run,) = json.loads(report)["runs"]
        return sum(1 for result in run["results"] if result.get("level") == "error")
    if re.search(r"^No IMDS findings in \d+ templates? ", report, flags=re.MULTILINE):
        return 0
    summary = re.search(r"^(\d+) errors?, \d+ warnings?, \d+ suppressed in ", report, flags=re.MULTILINE)
    assert summary is not None, report
    return int(summary.group(1))


@pytest.mark.parametrize("words", CHECK_COMMANDS, ids=shlex.join)
def test_readme_check_example_runs(words: list[str], workdir: Path) -> None:
    completed = subprocess.run(
        [str(CDK_IMDS), *words[1:]], cwd=workdir, capture_output=True, text=True, check=False, timeout=120
    )
    # Exit codes as the README gives them: 0 no errors, 1 errors found (2, bad input, is a broken example).
    assert completed.returncode in {0, 1}, completed.stderr
    assert "error:" not in completed.stderr
    errors = _errors_reported(words, completed.stdout, workdir)
    assert completed.returncode == (1 if errors else 0)
    # What each example's own comment promises of the files above.
    plain_templates = all(not word.startswith("cdk.out") for word in words[2:])
    if plain_templates or "--unverifiable-as-warning" in words:
        assert errors == 0
    elif "--max-hop-limit" in words:
        assert errors == 2
    else:
        assert errors == 1


@pytest.mark.parametrize("words", ACCOUNT_COMMANDS, ids=shlex.join)
def test_readme_account_example_parses(words: list[str]) -> None:
    # No AWS here: the command's own parser checks every flag and value (a bad one exits 2).
    arguments = _parser().parse_args(words[1:])
    assert callable(arguments.handler)


@pytest.mark.parametrize("command", [[], ["check"], ["audit"], ["remediate"]], ids=" ".join)
def test_help_runs_with_examples(command: list[str]) -> None:
    completed = subprocess.run(
        [str(CDK_IMDS), *command, "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"usage: cdk-imds {' '.join(command)}".rstrip())
    if command:
        assert "examples:" in completed.stdout


def test_check_exit_code_for_bad_input_is_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-cdk.out"
    completed = subprocess.run(
        [str(CDK_IMDS), "check", str(missing)], capture_output=True, text=True, check=False, timeout=60
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and str(missing) in completed.stderr


def test_make_targets_named_in_the_readme_exist() -> None:
    named = {words[1] for words in readme_commands("make") if len(words) >= 2}
    named |= set(re.findall(r"`make ([a-z]+)`", README))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    assert {"synth", "test"} <= named
    assert named - defined == set()


def test_rules_table_lists_every_rule_with_its_severity() -> None:
    section = README.split("### Rules", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| ([a-z]+)", section, flags=re.MULTILINE)
    assert dict(rows) == {str(rule): str(info.severity) for rule, info in RULES.items()}


def test_remediate_policy_shown_is_the_shipped_one() -> None:
    blocks = re.findall(r"^```json\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
    (shown,) = [json.loads(block) for block in blocks if "CdkImdsRemediateRead" in block]
    shipped = json.loads((ROOT / "cdk_imds/policies/remediate-policy.json").read_text(encoding="utf-8"))
    assert shown == shipped
    # "audit ... needs only audit-policy.json: the read-only actions of the first statement below".
    audit = json.loads((ROOT / "cdk_imds/policies/audit-policy.json").read_text(encoding="utf-8"))
    (audit_statement,) = audit["Statement"]
    read_statement = shipped["Statement"][0]
    assert read_statement["Sid"] == "CdkImdsRemediateRead"
    assert sorted(audit_statement["Action"]) == sorted(read_statement["Action"])


def test_paths_named_in_the_readme_exist() -> None:
    named = set(re.findall(r"`((?:cdk_imds|tests|bench|docs|example_app)/[\w./-]*)`", README))
    assert len(named) > 5
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_layout_table_names_modules_that_exist() -> None:
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w./-]+)`[^|]*\| (.*) \|$", section, flags=re.MULTILINE)
    assert len(rows) >= 8
    missing = []
    for where, what in rows:
        assert (ROOT / where).exists(), where
        if not (ROOT / where).is_dir():
            continue
        files = {path.relative_to(ROOT / where).as_posix() for path in (ROOT / where).rglob("*")}
        names = {path.rsplit("/", 1)[-1] for path in files} | files
        for module in re.findall(r"`([\w/]+(?:\.py|/))`", what):
            if module.rstrip("/") not in names and not (ROOT / module).exists():
                missing.append(f"{where}{module}")
    assert missing == []


@pytest.mark.parametrize("command", ["check", "audit", "remediate"])
def test_help_examples_parse(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args([command, "--help"])
    assert exited.value.code == 0
    examples = capsys.readouterr().out.split("\nexamples:\n", 1)[1]
    # "  cdk-imds audit --region X        what it does": the command ends at a run of spaces.
    lines = [re.split(r"\s{2,}", line.strip())[0] for line in examples.splitlines()]
    commands = [shlex.split(line) for line in lines if line.startswith("cdk-imds ")]
    assert len(commands) >= 3
    for words in commands:
        assert words[1] == command
        arguments = _parser().parse_args(words[1:])
        assert arguments.handler is not None


def test_engine_example_runs() -> None:
    section = README.split("### Using the engine from Python", 1)[1]
    (snippet,) = re.findall(r"^```python\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)[:1]
    hop_limit_3 = {"HttpTokens": "required", "HttpPutResponseHopLimit": 3}
    template = {
        "Resources": {
            "LT": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {"LaunchTemplateData": {"MetadataOptions": hop_limit_3}},
            }
        }
    }
    namespace: dict[str, object] = {"template_dict": template}
    exec(snippet, namespace)  # the README's own example, run as written
    errors = namespace["errors"]
    assert isinstance(errors, list)
    assert [(error.rule, error.template) for error in errors] == [("IMDS_HOP_LIMIT", "my.template.json")]
