"""The assertion guard: every test must check something that can fail.

``python3 tests/assertion_guard.py [PATH ...]`` (default ``tests``) reads every ``test_*.py`` and
lists each test function that contains no ``assert``, no ``raise`` and no call to a check that
raises on failure (``RAISING_CALLS``: ``pytest.raises``, aws-cdk-lib's ``assertions``, a jsonschema
``validate``, a botocore Stubber given the parameters to expect), either itself or through a helper
it calls: a function of the same module, or one imported from another ``tests`` module. It exits 1
when it lists any (``.ci/run`` runs it), 0 otherwise. Standard library only, no import of the tests.

Why a scan of the source and not a pytest plugin counting passed asserts at run time
(``pytest_assertion_pass``): pytest rewrites the asserts of every installed pytest plugin's
distribution, Hypothesis included, so with that hook on every internal Hypothesis assert builds an
explanation (one property test went from about 10 s to 125 s) and counts as an assertion of the
test, which made every ``@given`` test pass the guard. The scan costs nothing at test time.

What it does not see: a check that never runs (an ``assert`` in a loop over an empty list, or
behind a condition that is never true), and checks inside fixtures (a test must check something
itself). A nested function's asserts count whether or not the test calls it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Names (called as ``x.name(...)`` or ``name(...)``) of checks that raise on failure.
RAISING_CALLS = frozenset(
    {
        # pytest
        "raises",
        "warns",
        "deprecated_call",
        "fail",
        # aws_cdk.assertions.Template / Annotations
        "has_resource",
        "has_resource_properties",
        "resource_count_is",
        "resource_properties_count_is",
        "template_matches",
        "all_resources",
        "all_resources_properties",
        "has_output",
        "has_parameter",
        "has_mapping",
        "has_condition",
        "has_error",
        "has_no_error",
        "has_warning",
        "has_no_warning",
        "has_info",
        "has_no_info",
        # jsonschema validators
        "validate",
        "check_schema",
        # botocore.stub.Stubber
        "assert_no_pending_responses",
    }
)
# Stubber calls that are checks only when given the parameters to expect (the third argument).
STUBBER_EXPECTING = {"add_response": 3, "add_client_error": None}


@dataclass
class Module:
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (module, name)


class Guard:
    def __init__(self, root: Path) -> None:
        self.root = root  # the directory holding the ``tests`` package
        self._modules: dict[Path, Module | None] = {}
        self._checks: dict[tuple[Path, str], bool] = {}

    def module(self, path: Path) -> Module | None:
        if path not in self._modules:
            self._modules[path] = _parse(path) if path.is_file() else None
        return self._modules[path]

    def unchecked(self, path: Path) -> Iterator[tuple[int, str]]:
        """(line, name) of every test function in ``path`` that checks nothing."""
        module = self.module(path)
        assert module is not None, path
        for node in _test_functions(module.tree):
            if not self._body_checks(module, node, set()):
                yield node.lineno, node.name

    def _function_checks(self, module: Module, name: str, seen: set[tuple[Path, str]]) -> bool:
        key = (module.path, name)
        if key in self._checks:
            return self._checks[key]
        if key in seen:
            return False
        seen.add(key)
        result = False
        if name in module.functions:
            result = self._body_checks(module, module.functions[name], seen)
        elif name in module.imported:
            other_name, original = module.imported[name]
            other = self.module(self.root.joinpath(*other_name.split(".")).with_suffix(".py"))
            result = other is not None and self._function_checks(other, original, seen)
        self._checks[key] = result
        return result

    def _body_checks(self, module: Module, function: ast.AST, seen: set[tuple[Path, str]]) -> bool:
        for node in ast.walk(function):
            if isinstance(node, ast.Assert | ast.Raise):
                return True
            if isinstance(node, ast.Call):
                name = _called_name(node.func)
                if name is None:
                    continue
                if name in RAISING_CALLS or _stubber_expects(name, node):
                    return True
                if isinstance(node.func, ast.Name) and self._function_checks(module, name, seen):
                    return True
        return False


def _parse(path: Path) -> Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = Module(path, tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions[node.name] = node
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tests":
            for alias in node.names:
                module.imported[alias.asname or alias.name] = (node.module, alias.name)
    return module


def _test_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and member.name.startswith(
                    "test"
                ):
                    yield member


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _stubber_expects(name: str, call: ast.Call) -> bool:
    if name not in STUBBER_EXPECTING:
        return False
    position = STUBBER_EXPECTING[name]
    expected = any(keyword.arg == "expected_params" for keyword in call.keywords)
    return expected or (position is not None and len(call.args) >= position)


def test_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("test_*.py") if "__pycache__" not in p.parts)
        elif path.suffix == ".py":
            yield path


def main(arguments: list[str]) -> int:
    paths = [Path(argument) for argument in arguments] or [Path(__file__).resolve().parent]
    guard = Guard(Path(__file__).resolve().parents[1])
    unchecked = [
        f"{path}:{line}: {name} makes no assertion and calls nothing that raises on failure"
        for path in test_files(paths)
        for line, name in guard.unchecked(path.resolve())
    ]
    for line in unchecked:
        print(line, file=sys.stderr)
    if unchecked:
        print(
            f"assertion guard: {len(unchecked)} test(s) check nothing (tests/assertion_guard.py)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
