"""Every construct of the catalogue, in every app shape, in FAIL, FIX and WARN, through plain `cdk synth`.

One test per construct x shape x mode (``test_cell[<mode>-<shape>-<case>]``), plus a few per app.
The apps are synthesized once per mode by the real CDK CLI (tests/conformance_apps/runs.py) with no
stack selection, as a user types it. What each cell must show comes from the case's declaration
(catalogue/<case>.py): COMPLIANT paths are never reported; FIXABLE ones are reported by FAIL and
WARN and, after FIX, neither reported nor found by ``cdk-imds check`` in any deployed template;
UNFIXABLE ones are reported by FAIL, WARN and FIX alike. After FIX, cfn-lint finds no error in the
deployed templates that the same app synthesized without cdk-imds does not have.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conformance_apps.catalogue import cases
from tests.conformance_apps.model import FIXABLE_SET, UNFIXABLE_SET, Case, Verdict
from tests.conformance_apps.runs import Run, RunKey, Runs, cfn_lint, check, under
from tests.conformance_apps.shapes import shapes

MODES = ("fail", "fix", "warn")
# The one-line aspect added at the end of the script, after the Stages exist: the shapes with Stages.
ASPECT_SHAPES = ("pipeline", "plain", "stage", "nested_stage")
ASPECT_MODES = ("fail-aspect", "fix-aspect")


@dataclass(frozen=True)
class Cell:
    case: Case
    shape: str
    mode: str  # one of MODES or ASPECT_MODES

    @property
    def id(self) -> str:
        return f"{self.mode}-{self.shape}-{self.case.name}"

    @property
    def key(self) -> RunKey:
        base, _, entry = self.mode.partition("-")
        if entry:
            return RunKey(self.case.app_set, base, entry=entry, shapes=ASPECT_SHAPES)
        return RunKey(self.case.app_set, base)


def _cells() -> list[Cell]:
    shape_names = [shape.name for shape in shapes()]
    found = [
        Cell(case, shape, mode)
        for mode in MODES
        for shape in shape_names
        for case in cases()
        if case.fits(shape)
    ]
    found += [
        Cell(case, shape, mode)
        for mode in ASPECT_MODES
        for shape in ASPECT_SHAPES
        for case in cases()
        if case.fits(shape) and case.app_set == FIXABLE_SET
    ]
    return found


CELLS = _cells()
SETS = (FIXABLE_SET, UNFIXABLE_SET)
GLOB_KEY = RunKey(UNFIXABLE_SET, "fail", selection=("**",))


def _needed(item: pytest.Item) -> Iterator[RunKey]:
    params = getattr(item, "callspec", None)
    for value in params.params.values() if params else ():
        if isinstance(value, Cell):
            yield value.key
            if value.key.mode == "fix":
                yield RunKey(value.case.app_set, "baseline")
        elif isinstance(value, RunKey):
            yield value
            if value.mode == "fix":
                yield RunKey(value.case_set, "baseline")


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Every synth the selected tests need, started at once, two at a time."""
    registry = Runs(tmp_path_factory.mktemp("conformance"))
    module = request.node.path
    registry.prefetch(
        dict.fromkeys(key for item in request.session.items if item.path == module for key in _needed(item))
    )
    yield registry
    registry.close()


@pytest.fixture(scope="module")
def checked(runs: Runs) -> dict[RunKey, list[dict[str, Any]]]:
    """cdk-imds check's findings per FIX run (computed on first use)."""
    return _Lazy(lambda key: check(runs.get(key)))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def linted(runs: Runs) -> dict[RunKey, list[dict[str, Any]]]:
    """cfn-lint's errors per run (computed on first use)."""
    return _Lazy(lambda key: cfn_lint(runs.get(key)))  # type: ignore[return-value]


class _Lazy(dict[RunKey, Any]):
    def __init__(self, compute: Any) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: RunKey) -> Any:
        self[key] = value = self._compute(key)
        return value


def _new_lint_errors(linted: dict[RunKey, list[dict[str, Any]]], key: RunKey) -> list[dict[str, Any]]:
    """cfn-lint errors of ``key``'s run that the baseline synth of the same app does not have."""
    baseline = {(e["template"], e["rule"], e["path"]) for e in linted[RunKey(key.case_set, "baseline")]}
    return [e for e in linted[key] if (e["template"], e["rule"], e["path"]) not in baseline]


def _placed(run: Run, cell: Cell) -> dict[str, Any]:
    matching = [p for p in run.expectations if p["case"] == cell.case.name and p["shape"] == cell.shape]
    assert len(matching) == 1, (
        f"the app did not place {cell.case.name} in {cell.shape} (exit {run.returncode})"
    )
    placed = matching[0]
    for relative, full in placed["paths"].items():
        assert full, f"{relative}: no construct stands for it in {cell.shape}"
    return placed


def _full_paths(placed: dict[str, Any]) -> list[str]:
    return [path for paths in placed["paths"].values() for path in paths]


def _file_names(run: Run, case: Case) -> list[tuple[str, ...]]:
    """For each template file the case declares: its name, or its staged copies' names."""
    names = []
    for file in case.files:
        content = file.read_bytes()
        staged = (p.name for p in run.outdir.rglob("asset.*") if p.is_file() and p.read_bytes() == content)
        names.append((file.name, *staged))
    return names


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_cell(
    cell: Cell,
    runs: Runs,
    checked: dict[RunKey, list[dict[str, Any]]],
    linted: dict[RunKey, list[dict[str, Any]]],
    record_property: Any,
) -> None:
    record_property("conformance_cell", {"case": cell.case.name, "shape": cell.shape, "mode": cell.mode})
    run = runs.get(cell.key)
    record_property("conformance_run", {"label": cell.key.label, "seconds": round(run.seconds, 1)})
    assert not run.crash, f"synthesis crashed: {run.crash[:3]}\n{run.output[-3000:]}"
    placed = _placed(run, cell)
    # Each declared path stands for one or more constructs (an included template flattens a group
    # into its resources): one of them reported is the path reported.
    alternatives: list[list[str]] = [*placed["paths"].values(), *([d] for d in placed["deployers"])]
    paths = _full_paths(placed)
    verdict = cell.case.verdict
    base_mode = cell.key.mode

    if verdict is Verdict.COMPLIANT:
        reported = [p for path in paths for p in run.reported_under(path, ("error", "warning"))]
        assert not reported, f"reported although the template is compliant: {reported}"
    elif base_mode in ("fail", "warn") or verdict is Verdict.UNFIXABLE:
        severity = "warning" if base_mode == "warn" else "error"
        missing = [
            " or ".join(group)
            for group in alternatives
            if not any(run.reported_under(path, (severity,)) for path in group)
        ]
        assert not missing, f"not reported as {severity}: {missing}"
    else:
        errors = [p for path in paths for p in run.reported_under(path, ("error",))]
        assert not errors, f"FIX left errors that it should have fixed: {errors}"

    if base_mode != "warn" and verdict is not Verdict.COMPLIANT:
        for name in cell.case.names:
            assert name in run.report_text, f"the error does not name {name!r}"
        for alternatives in _file_names(run, cell.case):
            assert any(name in run.report_text for name in alternatives), (
                f"the error names none of {alternatives} (the template file)"
            )

    if base_mode == "fix" and verdict is Verdict.FIXABLE and cell.case.fix_note:
        # The issue: "The fix note says when the change replaces the resource."
        notes = [note for path in paths for note in run.notes_under(path)]
        assert notes, "FIX left no note on what it changed"
        for word in cell.case.fix_note:
            assert any(word in note for note in notes), f"no fix note says {word!r}: {notes}"

    if base_mode == "fix":
        if verdict is not Verdict.UNFIXABLE:
            left = [
                f"{f['construct_path']} ({f['rule']}: {f['message']})"
                for f in checked[cell.key]
                if f["severity"] == "error"
                and f["construct_path"]
                and any(under(f["construct_path"], p) for p in paths)
            ]
            assert not left, f"cdk-imds check still finds errors in the deployed templates: {left}"
        new = [
            f"{e['template']} {e['path']} {e['rule']}: {e['message']}"
            for e in _new_lint_errors(linted, cell.key)
            if e["construct_path"] and any(under(e["construct_path"], p) for p in paths)
        ]
        assert not new, f"cfn-lint errors that the app without cdk-imds does not have: {new}"


@pytest.mark.parametrize("key", [RunKey(s, "baseline") for s in SETS], ids=lambda key: key.label)
def test_app_synthesizes_without_cdk_imds(key: RunKey, runs: Runs) -> None:
    """The apps themselves are sound: without cdk-imds they synthesize (what the cells compare with)."""
    run = runs.get(key)
    assert (run.returncode, run.crash) == (0, []), run.output[-3000:]


@pytest.mark.parametrize(
    "key",
    [RunKey(s, mode) for s in SETS for mode in MODES]
    + [
        RunKey(FIXABLE_SET, mode.partition("-")[0], entry="aspect", shapes=ASPECT_SHAPES)
        for mode in ASPECT_MODES
    ],
    ids=lambda key: key.label,
)
def test_app_exit_code(key: RunKey, runs: Runs) -> None:
    """FAIL exits non-zero; FIX exits 0 on the fixable app and non-zero on the other; WARN exits 0."""
    run = runs.get(key)
    assert not run.crash, run.output[-3000:]
    if key.mode == "fail" or (key.mode == "fix" and key.case_set == UNFIXABLE_SET):
        assert run.returncode != 0, "synthesis passed"
    else:
        assert run.returncode == 0, run.output[-3000:]


def test_fail_mode_fails_with_every_stack_selected(runs: Runs) -> None:
    """`cdk synth '**'` selects every stack, Stages' included: FAIL still fails."""
    run = runs.get(GLOB_KEY)
    assert not run.crash, run.output[-3000:]
    assert run.returncode != 0, "synthesis passed"


@pytest.mark.parametrize("key", [RunKey(s, "fix") for s in SETS], ids=lambda key: key.label)
def test_fix_leaves_no_error_outside_the_declared_unfixable_cases(
    key: RunKey, runs: Runs, checked: dict[RunKey, list[dict[str, Any]]]
) -> None:
    """Every error `cdk-imds check` finds after FIX, in any deployed template, is a declared unfixable case."""
    run = runs.get(key)
    unfixable = [
        path
        for placed in run.expectations
        for case in cases()
        if case.name == placed["case"] and case.verdict is Verdict.UNFIXABLE
        for path in [*_full_paths(placed), *placed["deployers"]]
    ]
    stray = [
        f"{f['template']} {f['logical_id']} {f['construct_path']}: {f['message']}"
        for f in checked[key]
        if f["severity"] == "error"
        and not (f["construct_path"] and any(under(f["construct_path"], p) for p in unfixable))
    ]
    assert run.expectations, f"the app wrote no expectations (exit {run.returncode})"
    assert not stray, "errors left in the deployed templates:\n" + "\n".join(stray)


@pytest.mark.parametrize("key", [RunKey(s, "fix") for s in SETS], ids=lambda key: key.label)
def test_fix_adds_no_cfn_lint_error(
    key: RunKey, linted: dict[RunKey, list[dict[str, Any]]], runs: Runs
) -> None:
    """No deployed template after FIX has a cfn-lint error that the app without cdk-imds lacks."""
    run = runs.get(key)
    assert run.deployed, f"no deployed template in {run.outdir}"
    new = [f"{e['template']} {e['path']} {e['rule']}: {e['message']}" for e in _new_lint_errors(linted, key)]
    assert not new, "\n".join(new)
