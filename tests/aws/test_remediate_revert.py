"""`--plan FILE` records a run; `--revert FILE` undoes it. Against a real moto_server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdk_imds.aws import record
from cdk_imds.cli import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, main
from tests.aws.conftest import IMAGE_ID, Account
from tests.aws.recording import CallLog, FailUpdateOf, hook_sessions
from tests.aws.test_remediate_apply import (
    LEGACY_DATA,
    USER_DATA,
    _default,
    _group,
    _legacy,
    _metadata,
    _versions,
)


def _arrange(account: Account) -> dict[str, Any]:
    """Every kind of change: $Latest, $Default and pinned groups, mixed overrides, a launch
    configuration group, and a running instance changed in place."""
    latest = _legacy(account, "latest")
    shared = _legacy(account, "shared")
    account.group("on-latest", desired=1, LaunchTemplate={"LaunchTemplateId": latest, "Version": "$Latest"})
    account.group("on-default", LaunchTemplate={"LaunchTemplateId": shared, "Version": "$Default"})
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": shared, "Version": "1"})
    account.group(
        "mixed",
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": latest, "Version": "$Latest"},
                "Overrides": [
                    {
                        "InstanceType": "c5.large",
                        "LaunchTemplateSpecification": {"LaunchTemplateId": shared, "Version": "1"},
                    }
                ],
            }
        },
    )
    account.autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc",
        ImageId=IMAGE_ID,
        InstanceType="t3.micro",
        UserData="#!/bin/sh\necho keep me",
    )
    account.group("old", LaunchConfigurationName="lc")
    [instance] = account.instances_of("on-latest")
    account.ec2.modify_instance_metadata_options(
        InstanceId=instance, HttpTokens="optional", HttpPutResponseHopLimit=2, HttpEndpoint="enabled"
    )
    return {"latest": latest, "shared": shared, "instance": instance}


def test_a_run_is_recorded_without_user_data_and_reverted(account: Account, tmp_path: Path) -> None:
    ids = _arrange(account)
    plan_file = tmp_path / "run.json"

    # When the run is applied and recorded
    assert main(["remediate", "--apply", "--in-place", "--plan", str(plan_file)]) == EXIT_OK

    text = plan_file.read_text()
    run = json.loads(text)
    assert run["schema"] == record.SCHEMA
    assert run["finished"] is not None
    kinds = sorted({change["kind"] for change in run["changes"]})
    assert kinds == sorted(
        [record.VERSION, record.DEFAULT_VERSION, record.GROUP, record.TEMPLATE, record.INSTANCE]
    )
    # Never user data, in any form
    assert USER_DATA not in text
    assert "keep me" not in text
    [instance_change] = [c for c in run["changes"] if c["kind"] == record.INSTANCE]
    assert instance_change["before"]["HttpTokens"] == "optional"
    assert _group(account, "pinned")["LaunchTemplate"]["Version"] == "2"
    assert _default(account, ids["shared"]) == 2
    mixed = _group(account, "mixed")["MixedInstancesPolicy"]["LaunchTemplate"]
    assert mixed["LaunchTemplateSpecification"]["Version"] == "$Latest"
    assert mixed["Overrides"][0]["LaunchTemplateSpecification"]["Version"] == "2"

    # When it is reverted
    assert main(["remediate", "--revert", str(plan_file), "--apply"]) == EXIT_OK

    # Then groups launch what they launched before
    assert _group(account, "pinned")["LaunchTemplate"]["Version"] == "1"
    assert _group(account, "old")["LaunchConfigurationName"] == "lc"
    policy = _group(account, "mixed")["MixedInstancesPolicy"]["LaunchTemplate"]
    assert policy["Overrides"][0]["LaunchTemplateSpecification"]["Version"] == "1"
    assert _default(account, ids["shared"]) == 1
    # $Latest launches the old data again: a copy of version 1 after the run's version 2
    latest_versions = _versions(account, ids["latest"])
    assert sorted(latest_versions) == [1, 2, 3]
    assert latest_versions[3]["LaunchTemplateData"] == LEGACY_DATA
    options = _metadata(account, ids["instance"])
    assert (options["HttpTokens"], options["HttpPutResponseHopLimit"]) == ("optional", 2)

    # A second revert finds everything changed since the run and leaves it alone
    pointers = _group(account, "pinned")["LaunchTemplate"]
    assert main(["remediate", "--revert", str(plan_file), "--apply"]) == EXIT_FINDINGS
    assert _group(account, "pinned")["LaunchTemplate"] == pointers
    assert sorted(_versions(account, ids["latest"])) == [1, 2, 3]


def test_a_revert_dry_run_lists_the_steps_and_changes_nothing(
    account: Account, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy(account)
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    plan_file = tmp_path / "run.json"
    assert main(["remediate", "--apply", "--plan", str(plan_file)]) == EXIT_OK
    capsys.readouterr()

    assert main(["remediate", "--revert", str(plan_file)]) == EXIT_OK

    out = capsys.readouterr().out
    assert f"group pinned: point the group back at {lt} version 1" in out
    assert f"template {lt}: make $Latest launch what version 1 launches" in out
    assert f"kept the versions the run created (no group launches them now): {lt} version 2" in out
    assert _group(account, "pinned")["LaunchTemplate"]["Version"] == "2"


def test_a_group_changed_since_the_run_is_left_alone(account: Account, tmp_path: Path) -> None:
    lt = _legacy(account)
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    plan_file = tmp_path / "run.json"
    assert main(["remediate", "--apply", "--plan", str(plan_file)]) == EXIT_OK
    # A deploy moves the group on after the run
    account.version(lt, {"HttpTokens": "required"})
    account.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName="pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "3"}
    )

    assert main(["remediate", "--revert", str(plan_file), "--apply"]) == EXIT_FINDINGS

    assert _group(account, "pinned")["LaunchTemplate"]["Version"] == "3"
    # $Latest is version 3 now, not the run's: no copy is made
    assert sorted(_versions(account, lt)) == [1, 2, 3]


def test_an_interrupted_run_is_recorded_up_to_where_it_stopped(
    account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lt = _legacy(account)
    account.group("a", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    account.group("b", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    hook_sessions(
        monkeypatch, ("before-parameter-build.auto-scaling.UpdateAutoScalingGroup", FailUpdateOf("b"))
    )
    plan_file = tmp_path / "run.json"

    assert main(["remediate", "--apply", "--plan", str(plan_file)]) == EXIT_FINDINGS

    changes = json.loads(plan_file.read_text())["changes"]
    assert [(c["kind"], c.get("group")) for c in changes] == [(record.VERSION, None), (record.GROUP, "a")]


def _bad_files(tmp_path: Path) -> list[tuple[Path, str]]:
    cases = {
        "missing.json": (None, "plan file not found"),
        "garbage.json": ("{not json", "not a cdk-imds plan file (invalid JSON"),
        "other.json": ('{"schema": "something else"}', "not a cdk-imds plan file (expected schema"),
        "change.json": (
            json.dumps(
                {"schema": record.SCHEMA, "account": "1", "changes": [{"kind": "group", "region": "r"}]}
            ),
            "change 1: group: group missing or not str",
        ),
    }
    result = []
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        result.append((path, reason))
    return result


def test_a_bad_plan_file_is_one_line_exit_2_and_nothing_is_called(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = CallLog()
    hook_sessions(monkeypatch, ("before-parameter-build.*.*", log))
    for path, reason in _bad_files(tmp_path):
        assert main(["remediate", "--revert", str(path), "--apply"]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert err.startswith(f"cdk-imds: error: {path}: {reason}"), err
        assert err.count("\n") == 1
    assert log.calls == []


def test_a_plan_file_that_cannot_be_written_stops_the_run_before_any_change(
    account: Account, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lt = _legacy(account)
    account.group("pinned", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
    target = tmp_path / "no-such-dir" / "run.json"

    assert main(["remediate", "--apply", "--plan", str(target)]) == EXIT_BAD_INPUT

    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .startswith(f"cdk-imds: error: {target}: cannot write the plan file")
    )
    assert sorted(_versions(account, lt)) == [1]
