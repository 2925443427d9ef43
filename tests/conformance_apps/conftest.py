"""Records every conformance cell's outcome for matrix.py (in pytest's cache: .pytest_cache/)."""

from __future__ import annotations

from typing import Any

import pytest

MATRIX_CACHE_KEY = "conformance/matrix"
_RESULTS: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    properties = dict(report.user_properties)
    cell = properties.get("conformance_cell")
    if cell is None or (report.when != "call" and not report.failed):
        return
    reason = ""
    if report.failed:
        message = getattr(report.longrepr, "reprcrash", None)
        reason = (message.message if message else str(report.longrepr)).splitlines()[0][:300]
    _RESULTS[report.nodeid] = {
        **cell,
        "outcome": report.outcome,
        "reason": reason,
        "run": properties.get("conformance_run"),
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under xdist (--dist loadfile) the one worker that ran the cells writes them; the others have none.
    if _RESULTS and session.config.cache is not None:
        session.config.cache.set(
            MATRIX_CACHE_KEY, sorted(_RESULTS.values(), key=lambda r: (r["mode"], r["shape"], r["case"]))
        )
