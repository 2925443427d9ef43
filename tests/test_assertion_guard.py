"""The assertion guard (tests/assertion_guard.py) finds the tests that check nothing, and only them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import assertion_guard

GUARD = Path(assertion_guard.__file__)

SAMPLE = """
import pytest
from tests.helpers import checks_elsewhere, does_not_check


def _checks(value):
    assert value


def _only_prints(value):
    print(value)


def test_calls_and_checks_nothing():
    _only_prints(sorted([2, 1]))


def test_calls_an_imported_helper_that_checks_nothing():
    does_not_check(1)


def test_asserts():
    assert sorted([2, 1]) == [1, 2]


def test_checks_through_a_helper():
    _checks(1)


def test_checks_through_an_imported_helper():
    checks_elsewhere(1)


def test_expects_an_error():
    with pytest.raises(ValueError):
        int("x")


def test_uses_cdk_assertions(template):
    template.resource_count_is("AWS::EC2::LaunchTemplate", 1)


def test_stubber_with_expected_parameters(stubber):
    stubber.add_response("describe_regions", {}, {"AllRegions": True})


def test_stubber_without_expected_parameters(stubber):
    stubber.add_response("describe_regions", {})
"""

HELPERS = """
def checks_elsewhere(value):
    assert value


def does_not_check(value):
    return value
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text(HELPERS, encoding="utf-8")
    sample = tmp_path / "tests" / "test_sample.py"
    sample.write_text(SAMPLE, encoding="utf-8")
    return sample


def test_lists_exactly_the_tests_that_check_nothing(tmp_path: Path) -> None:
    sample = _tree(tmp_path)
    unchecked = [name for _, name in assertion_guard.Guard(tmp_path).unchecked(sample)]
    assert unchecked == [
        "test_calls_and_checks_nothing",
        "test_calls_an_imported_helper_that_checks_nothing",
        "test_stubber_without_expected_parameters",
    ]


def test_the_script_exits_1_naming_each_one_and_0_on_this_suite(tmp_path: Path) -> None:
    sample = _tree(tmp_path)
    failing = subprocess.run(
        [sys.executable, str(GUARD), str(sample)], capture_output=True, text=True, check=False
    )
    # (the script resolves imported helpers from its own repository: the sample's helper module
    # is not found there, so that test counts as checking nothing either way)
    assert failing.returncode == 1
    assert f"{sample}:14: test_calls_and_checks_nothing makes no assertion" in failing.stderr
    assert "test_asserts" not in failing.stderr
    passing = subprocess.run(
        [sys.executable, str(GUARD), str(GUARD.parent)], capture_output=True, text=True, check=False
    )
    assert (passing.returncode, passing.stderr) == (0, "")
