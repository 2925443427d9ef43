"""The conformance suite: every construct that launches EC2 capacity, in every app shape, in every mode.

catalogue/ holds one small file per construct, shapes/ one per app shape; app.py crosses them into
two CDK apps (what FIX can fix, and what it cannot), test_conformance.py synthesizes each with the
real CDK CLI in each mode and judges every construct x shape x mode cell, and matrix.py prints the
matrix of the last run.
"""
