"""The JavaScript half of enforcement, and its Python bindings.

Why it exists: from Python, every read of a construct's property, every method call and every
``visit`` CDK makes on a Python aspect is a round trip to the jsii kernel's Node.js process, 0.3 to
0.6 ms each. FIX done one construct at a time cost four of them per launch template, and a Python
aspect added to an App a callback per construct: on an app of 600 launch templates that was most
of the synthesis (bench/README.md). ``index.js`` does the per-construct part inside Node.js and
is handed whole lists, so a sweep costs a handful of round trips whatever the app's size.

It judges nothing: which resources, which switch, which value, and whether a value may be replaced
are decided in Python (``aspect.py``, from the policy engine's rules); ``index.js`` reads,
writes and visits. ``jsii-assembly.json`` declares its types to the kernel, as a jsii compiler's
``.jsii`` file would; the three files are packed into a tarball and loaded into the kernel the
first time enforcement is used, like any jsii library (``docs/design/javascript-half.md``).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, TypeVar, cast

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from cdk_imds.cdk.enforcement.candidates import OPAQUE
from cdk_imds.record import Record

NAME = "cdk-imds-enforcement"
VERSION = "1.0.0"
_FILES = {"package.json": "package.json", "index.js": "index.js", ".jsii": "jsii-assembly.json"}
_loaded = False

# What the sweep says of one value (index.js: ABSENT, LITERAL, TOKEN).
ABSENT, LITERAL, TOKEN = 0, 1, 2
# The last exception raised by a Python override called from JavaScript (see ``kept_raises``).
_raised: BaseException | None = None


def load() -> None:
    """Loads ``index.js`` into the jsii kernel, once per process (about 20 ms)."""
    global _loaded
    if _loaded:
        return
    here = resources.files(__name__)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tarball:
        for name, source in _FILES.items():
            data = here.joinpath(source).read_bytes()
            entry = tarfile.TarInfo(f"package/{name}")
            entry.size, entry.mode = len(data), 0o644
            tarball.addfile(entry, io.BytesIO(data))
    # The kernel takes a tarball path; it unpacks the tarball into its own directory.
    descriptor, path = tempfile.mkstemp(prefix=f"{NAME}-", suffix=".tgz")
    try:
        with os.fdopen(descriptor, "wb") as file:
            # The same bytes every time (no timestamp): the kernel caches unpacked packages by hash.
            file.write(gzip.compress(buffer.getvalue(), mtime=0))
        jsii.load(NAME, VERSION, path)
    finally:
        os.unlink(path)
    _loaded = True


_Method = TypeVar("_Method", bound=Callable[..., Any])


def kept_raises(method: _Method) -> _Method:
    """For a Python override that JavaScript calls: keeps what it raises for ``raised_as``.

    jsii hands an exception raised in a callback back to the Python caller as a ``RuntimeError``
    with the same message; the caller can then raise the original (a ``ContextValueError``, say).
    """

    @functools.wraps(method)
    def keeping(*args: Any, **kwargs: Any) -> Any:
        global _raised
        try:
            return method(*args, **kwargs)
        except BaseException as error:
            _raised = error
            raise

    return cast(_Method, keeping)


def raised_as(error: BaseException) -> BaseException | None:
    """The Python exception that jsii turned into ``error`` on its way through JavaScript, if any."""
    global _raised
    raised, _raised = _raised, None
    if raised is not None and isinstance(error, RuntimeError) and str(error) == str(raised):
        return raised
    return None


@jsii.implements(cdk.IAspect)
class FixingAspect(metaclass=jsii.JSIIMeta, jsii_type=f"{NAME}.FixingAspect"):
    """An aspect whose visits stay in JavaScript; subclasses override ``begin`` and ``adopt``.

    ``visit``: the first one calls ``begin(node)``; every one applies the override kept for that
    construct and passes a resource of a watched type that no sweep found to ``adopt(node)``.
    """

    def __init__(self) -> None:
        load()
        jsii.create(self.__class__, self, [])

    @jsii.member(jsii_name="visit")
    def visit(self, node: IConstruct) -> None:
        # Called from Python (CDK calls the JavaScript one directly).
        try:
            jsii.invoke(self, "visit", [node])
        except RuntimeError as error:
            raised = raised_as(error)
            if raised is not None:
                raise raised from None
            raise

    @jsii.member(jsii_name="begin")
    def begin(self, node: IConstruct) -> None:
        """The first visit. Overridden by subclasses (the kernel then calls the override)."""

    @jsii.member(jsii_name="adopt")
    def adopt(self, node: IConstruct) -> None:
        """A visited resource of a watched type that no sweep found. Overridden by subclasses."""

    @jsii.member(jsii_name="sweep")
    def sweep(
        self,
        scope: IConstruct,
        switches: Mapping[str, tuple[Sequence[str], Sequence[str]]],
        others: Sequence[str],
    ) -> tuple[list[Swept], list[cdk.CfnResource]]:
        """The resources of the given types under ``scope``, not entering a nested Stage.

        ``switches``: CloudFormation type -> (the switch's path in a typed L1's properties, in a
        bare ``CfnResource``'s); each such resource is a ``Swept`` row, which ``keep`` and ``note``
        refer to by its index. ``others``: types whose resources are returned as they are.
        """
        rows, found = jsii.invoke(
            self,
            "sweep",
            [
                scope,
                {kind: [list(typed), list(bare)] for kind, (typed, bare) in switches.items()},
                list(others),
            ],
        )
        return [Swept(path, kind, _value(read)) for path, kind, read in json.loads(rows)], list(found)

    @jsii.member(jsii_name="keep")
    def keep(self, overrides: Sequence[tuple[int, str, Any]]) -> None:
        """``add_property_override(path, value)`` on swept resources (by index), on each visit of them.

        (CDK visits every swept resource after the sweep: they are all below the construct the
        sweep started from.) Lists cross as one JSON string: jsii converts a list element by
        element (tens of microseconds each), a string whole.
        """
        jsii.invoke(self, "keep", [json.dumps(overrides)])

    @jsii.member(jsii_name="note")
    def note(self, metadata_type: str, notes: Sequence[tuple[int, str]]) -> None:
        """One metadata entry of ``metadata_type`` on swept resources (by index)."""
        jsii.invoke(self, "note", [metadata_type, json.dumps(notes)])

    @jsii.member(jsii_name="watch")
    def watch(self, types: Sequence[str]) -> None:
        """From now on, a visited resource of ``types`` that no sweep found goes to ``adopt``."""
        jsii.invoke(self, "watch", [list(types)])


class Swept(Record):
    """A resource the sweep found: its construct path, type, and its switch's current value
    (the value, None when it or anything on the way is absent, OPAQUE for a token)."""

    __slots__ = ("path", "resource_type", "value")

    def __init__(self, path: str, resource_type: str, value: Any) -> None:
        self.path = path
        self.resource_type = resource_type
        self.value = value


def _value(read: list[Any]) -> Any:
    if read[0] == TOKEN:
        return OPAQUE
    return read[1] if read[0] == LITERAL else None


class Bulk(metaclass=jsii.JSIIMeta, jsii_type=f"{NAME}.Bulk"):
    """Work on many constructs in one round trip."""

    @staticmethod
    def stages(scope: IConstruct) -> list[cdk.Stage]:
        """Every Stage below ``scope`` (not an App), innermost first."""
        load()
        result: list[cdk.Stage] = jsii.sinvoke(Bulk, "stages", [scope])
        return result
