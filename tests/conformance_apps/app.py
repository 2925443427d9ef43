"""The conformance app: every case of one set in every shape it fits, as the platform team writes it.

    cdk synth --app "python3 -m tests.conformance_apps.app" -c conformance:set=fixable -c cdk-imds:mode=fix

Context:
- ``conformance:set``: ``fixable`` (compliant and fixable cases) or ``unfixable``.
- ``conformance:entry``: how cdk-imds is switched on. ``enforce`` (default): ``cdk_imds.enforce(app)``
  right after ``App()``, as the platform team's app factory does; ``aspect``: the one-line aspect
  added to the App at the end of the script, after the Stages exist; ``none``: no cdk-imds at all
  (the baseline that cfn-lint's findings are compared with).
- ``conformance:shapes``: comma-separated shape names to build (default: every shape).
- ``cdk-imds:mode``: read by cdk-imds itself.

The app also writes ``conformance-expectations.json`` next to its output directory: which full
construct paths stand for each case in each shape (only the app knows them for included templates).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import aws_cdk as cdk

from tests.conformance_apps.catalogue import cases
from tests.conformance_apps.model import Case, Placed
from tests.conformance_apps.shapes import shapes

SET_KEY = "conformance:set"
ENTRY_KEY = "conformance:entry"
SHAPES_KEY = "conformance:shapes"
ENTRIES = ("enforce", "aspect", "none")
EXPECTATIONS = "conformance-expectations.json"


def main() -> None:
    app = cdk.App()
    entry = app.node.try_get_context(ENTRY_KEY) or "enforce"
    if entry not in ENTRIES:
        raise SystemExit(f"{ENTRY_KEY}: {entry!r} is not one of {', '.join(ENTRIES)}")
    if entry == "enforce":
        import cdk_imds

        cdk_imds.enforce(app)
    chosen = app.node.try_get_context(SET_KEY)
    selected: list[Case] = [case for case in cases() if case.app_set == chosen]
    if not selected:
        raise SystemExit(f"{SET_KEY}: {chosen!r} selects no case")
    only = str(app.node.try_get_context(SHAPES_KEY) or "")
    wanted = set(only.split(",")) if only else None
    placed: list[Placed] = []
    for shape in shapes():
        if wanted is not None and shape.name not in wanted:
            continue
        fitting = [case for case in selected if case.fits(shape.name)]
        if fitting:
            placed.extend(shape.build(app, fitting))
    if entry == "aspect":
        from cdk_imds import Imdsv2Aspect

        cdk.Aspects.of(app).add(Imdsv2Aspect(), priority=Imdsv2Aspect.PRIORITY)
    _write_expectations(placed)
    app.synth()


def _write_expectations(placed: list[Placed]) -> None:
    outdir = os.environ.get("CDK_OUTDIR")
    if outdir:
        target = Path(outdir).resolve().parent / EXPECTATIONS
        target.write_text(json.dumps([dataclasses.asdict(p) for p in placed], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
