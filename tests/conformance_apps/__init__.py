"""The conformance suite: every construct that launches EC2 capacity, in every app shape, in every mode.

catalogue/ holds one small file per construct, shapes/ one per app shape; app.py crosses them into
two CDK apps (what FIX can fix, and what it cannot), test_conformance.py synthesizes each with the
real CDK CLI in each mode and judges every construct x shape x mode cell, and matrix.py prints the
matrix of the last run.

Adding a construct: a module in catalogue/ with a ``build(scope)`` that adds it as a user would
(L2 where aws-cdk-lib has one) and a ``CASE = Case(name, build, verdict, paths=...)`` that declares
which construct paths under ``scope`` must be reported and whether FIX can fix them.
Adding a shape: a module in shapes/ with a ``SHAPE`` whose ``build(app, cases)`` creates the place
and calls ``model.place`` for each case (or says, as the CfnInclude shape does, which constructs
stand for each declared path).

    .venv/bin/pytest tests/conformance_apps -p no:randomly
    .venv/bin/python -m tests.conformance_apps.matrix --failures
"""
