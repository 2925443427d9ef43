"""``collector_paused``: templates load without Python's cyclic collector, which is then as before."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cdk_imds.sources.loader import collector_paused


@pytest.fixture
def collector_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_is_paused_inside_and_running_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_a_collector_the_caller_disabled_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_runs_again_after_an_error_inside() -> None:
    gc.enable()
    with pytest.raises(ValueError, match="bad template"), collector_paused():
        raise ValueError("bad template")
    assert gc.isenabled()
