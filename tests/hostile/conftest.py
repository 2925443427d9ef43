"""A generous time limit on every hostile-input test: a regression fails instead of hanging CI.

``signal.alarm`` rather than a plugin: it needs nothing installed, and it interrupts pure-Python
loops, which is where a combinatorial blow-up spends its time. The limit is for the whole test
(every Hypothesis example of it), far above what a passing run takes; benchmarks, not these
tests, say how fast the check is.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

TEST_TIME_LIMIT_SECONDS = 300


class HostileInputHang(BaseException):
    """The test ran past its time limit: some input makes the check hang.

    A BaseException, so that Hypothesis stops at once instead of shrinking the slow example (which
    would run on with no time limit left).
    """


@pytest.fixture(autouse=True)
def time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise HostileInputHang(f"{request.node.name} ran longer than {TEST_TIME_LIMIT_SECONDS}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIME_LIMIT_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
