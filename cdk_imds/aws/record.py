"""The plan file (``remediate --apply --plan FILE``): what a run changed, before and after.

The one place its schema lives. It is rewritten atomically after every change, so a run that
stops halfway leaves a valid record of what it did, which ``--revert FILE`` undoes. It holds ids,
version numbers, group launch specifications and metadata options; never launch template data
(user data) or anything secret.

Change kinds and their fields (besides ``kind`` and ``region``):

- ``launch_template``: ``template_id``, ``template_name``, ``launch_configuration``, ``created``
  (false when an earlier run had made it), ``version``
- ``launch_template_version``: ``template_id``, ``source_version``, ``version``, ``latest_before``
- ``default_version``: ``template_id``, ``before``, ``after``
- ``group``: ``group``, ``before``, ``after`` (UpdateAutoScalingGroup arguments naming the launch)
- ``instance_refresh``: ``group``, ``refresh_id``
- ``instance_metadata``: ``group``, ``instance_id``, ``before``, ``after`` (metadata options)
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cdk_imds.errors import InputError

SCHEMA = "cdk-imds/remediation-record/1"

TEMPLATE = "launch_template"
VERSION = "launch_template_version"
DEFAULT_VERSION = "default_version"
GROUP = "group"
REFRESH = "instance_refresh"
INSTANCE = "instance_metadata"

# Each kind's required fields and their types; ``None`` in a tuple allows null.
_FIELDS: dict[str, dict[str, tuple[type | None, ...]]] = {
    TEMPLATE: {
        "template_id": (str,),
        "template_name": (str,),
        "launch_configuration": (str,),
        "created": (bool,),
        "version": (int,),
    },
    VERSION: {
        "template_id": (str,),
        "source_version": (int,),
        "version": (int,),
        "latest_before": (int, None),
    },
    DEFAULT_VERSION: {"template_id": (str,), "before": (int, None), "after": (int,)},
    GROUP: {"group": (str,), "before": (dict,), "after": (dict,)},
    REFRESH: {"group": (str,), "refresh_id": (str,)},
    INSTANCE: {"group": (str,), "instance_id": (str,), "before": (dict,), "after": (dict,)},
}


class PlanFileError(InputError):
    """The plan file cannot be written, read, or is not a remediation record."""


@dataclass
class Record:
    account: str
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "account": self.account,
            "started": self.started,
            "finished": self.finished,
            "changes": self.changes,
        }

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [change for change in self.changes if change["kind"] == kind]


class Recorder:
    """Keeps the plan file in step with the run: every ``add`` rewrites it whole, atomically."""

    def __init__(self, path: str, account: str) -> None:
        self.path = path
        self.record = Record(account)
        # An organization run applies an account's regions in parallel, into one plan file.
        self._lock = threading.Lock()

    def start(self) -> None:
        """Write the empty record: a path that cannot be written fails here, before any change."""
        self._write()

    def add(self, kind: str, region: str, **fields: Any) -> None:
        change = {"kind": kind, "region": region, **fields}
        _check_change(change)
        with self._lock:
            self.record.changes.append(change)
            self._write()

    def finish(self) -> None:
        with self._lock:
            self.record.finished = datetime.now(UTC).isoformat(timespec="seconds")
            self._write()

    def _write(self) -> None:
        text = json.dumps(self.record.to_dict(), indent=2, sort_keys=True) + "\n"
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, temporary = tempfile.mkstemp(prefix=".cdk-imds-plan-", dir=directory)
        except OSError as error:
            raise PlanFileError(self.path, f"cannot write the plan file ({error.strerror})") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                # The record must survive a crash right after the change it describes.
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise PlanFileError(self.path, f"cannot write the plan file ({error.strerror})") from None


def load_record(path: str) -> Record:
    try:
        with open(path, encoding="utf-8") as stream:
            raw = json.load(stream)
    except FileNotFoundError:
        raise PlanFileError(path, "plan file not found") from None
    except OSError as error:
        raise PlanFileError(path, f"cannot read the plan file ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlanFileError(path, f"not a cdk-imds plan file (invalid JSON: {error})") from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise PlanFileError(path, f"not a cdk-imds plan file (expected schema {SCHEMA!r})")
    changes = raw.get("changes")
    if not isinstance(raw.get("account"), str) or not isinstance(changes, list):
        raise PlanFileError(path, "not a cdk-imds plan file (account or changes missing)")
    for index, change in enumerate(changes):
        problem = _problem(change)
        if problem:
            raise PlanFileError(path, f"change {index + 1}: {problem}")
    return Record(raw["account"], str(raw.get("started") or ""), raw.get("finished"), list(changes))


def _check_change(change: dict[str, Any]) -> None:
    problem = _problem(change)
    if problem:
        raise ValueError(f"bad remediation record change: {problem}")


def _problem(change: Any) -> str | None:
    if not isinstance(change, dict):
        return "not an object"
    kind = change.get("kind")
    if kind not in _FIELDS:
        return f"unknown kind {kind!r}"
    if not isinstance(change.get("region"), str):
        return f"{kind}: region missing"
    for name, types in _FIELDS[kind].items():
        value = change.get(name)
        allowed = tuple(t for t in types if t is not None)
        if value is None and None in types and name in change:
            continue
        # bool is an int: a version number must not be true or false.
        if not isinstance(value, allowed) or (
            int in allowed and bool not in allowed and isinstance(value, bool)
        ):
            return f"{kind}: {name} missing or not {' or '.join(t.__name__ for t in allowed)}"
    return None
