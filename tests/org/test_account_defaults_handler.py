"""The AccountImdsDefaults handler: set, record, update and restore the account's IMDS defaults.

moto (5.2) implements neither GetInstanceMetadataDefaults nor ModifyInstanceMetadataDefaults: its
server answers both with HTTP 500 (``test_moto_still_lacks_the_metadata_defaults_calls`` keeps
that true, so these tests move to moto once it changes). The calls are therefore checked with
botocore's Stubber, which also validates every request and response against the EC2 service
model of the installed botocore; the moto tests cover what runs against a real endpoint: the
handler's own client (endpoint, region, retries) and its failure paths.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from cdk_imds.org.handler import imds_defaults_handler as handler
from tests.aws.conftest import REGION, aws, moto_endpoint  # noqa: F401  (fixtures)

REQUESTED = {
    "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:provider",
    "HttpTokens": "required",
    "HttpPutResponseHopLimit": "1",
    "HttpTokensEnforced": "enabled",
}


@pytest.fixture
def ec2() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.session.Session().client(
        "ec2", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _event(request: str, properties: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"RequestType": request, "ResourceProperties": properties, **extra}


def _defaults(stubber: Stubber, **account_level: Any) -> None:
    stubber.add_response("get_instance_metadata_defaults", {"AccountLevel": account_level}, {})


def _modify(stubber: Stubber, **expected: Any) -> None:
    stubber.add_response("modify_instance_metadata_defaults", {"Return": True}, expected)


# ---------------------------------------------------------------------------------------------
# Create


def test_create_records_the_previous_defaults_and_requires_tokens(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="optional", HttpPutResponseHopLimit=2, ManagedBy="account")
    _modify(stubber, HttpTokens="required", HttpPutResponseHopLimit=1, HttpTokensEnforced="enabled")

    answer = handler.handle(_event("Create", REQUESTED), client)

    assert answer["PhysicalResourceId"] == (
        "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional,HttpPutResponseHopLimit=2"
    )
    assert answer["Data"] == {"HttpTokensEnforcedApplied": "true", "PreviousHttpTokens": "optional"}


def test_create_in_an_account_without_defaults_records_none(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber)
    _modify(stubber, HttpTokens="required", HttpPutResponseHopLimit=1, HttpTokensEnforced="enabled")

    answer = handler.handle(_event("Create", REQUESTED), client)

    assert handler.decode_record(answer["PhysicalResourceId"]) == {}
    assert answer["Data"]["PreviousHttpTokens"] == "no-preference"


def test_create_refuses_defaults_a_declarative_policy_manages(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="required", ManagedBy="declarative-policy")

    # No modify call is queued: the Stubber fails the test if one is made.
    with pytest.raises(handler.AccountDefaultsError, match="declarative policy"):
        handler.handle(_event("Create", REQUESTED), client)


def test_create_changes_nothing_when_it_cannot_read_what_to_restore(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    stubber.add_client_error(
        "get_instance_metadata_defaults", service_error_code="UnauthorizedOperation", service_message="no"
    )
    with pytest.raises(
        handler.AccountDefaultsError, match="GetInstanceMetadataDefaults failed: UnauthorizedOperation"
    ):
        handler.handle(_event("Create", REQUESTED), client)


def test_create_skips_tokens_enforced_when_the_sdk_cannot_send_it(
    ec2: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = ec2
    monkeypatch.setattr(handler, "supports", lambda _client, member: member != "HttpTokensEnforced")
    _defaults(stubber)
    _modify(stubber, HttpTokens="required", HttpPutResponseHopLimit=1)

    answer = handler.handle(_event("Create", REQUESTED), client)

    assert answer["Data"]["HttpTokensEnforcedApplied"] == "false"


def test_the_installed_sdk_knows_tokens_enforced(ec2: tuple[Any, Stubber]) -> None:
    client, _ = ec2
    assert handler.supports(client, "HttpTokensEnforced")
    assert not handler.supports(client, "NoSuchParameter")


@pytest.mark.parametrize("tokens", ["optional", "no-preference", None])
def test_a_template_asking_for_anything_but_required_is_refused(tokens: str | None) -> None:
    properties = {key: value for key, value in REQUESTED.items() if key != "HttpTokens"}
    if tokens is not None:
        properties["HttpTokens"] = tokens
    with pytest.raises(handler.AccountDefaultsError, match="must be 'required'"):
        handler.requested_settings(properties)


# ---------------------------------------------------------------------------------------------
# Update


def test_update_applies_new_values_under_the_same_record(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional,HttpEndpoint=enabled"
    _modify(stubber, HttpTokens="required", HttpPutResponseHopLimit=2, HttpTokensEnforced="enabled")

    answer = handler.handle(
        _event(
            "Update",
            {**REQUESTED, "HttpPutResponseHopLimit": "2"},
            PhysicalResourceId=record,
            OldResourceProperties=REQUESTED,
        ),
        client,
    )

    # Same id: a new one would make CloudFormation delete the old resource, restoring defaults.
    assert answer["PhysicalResourceId"] == record


def test_update_gives_back_a_field_the_template_no_longer_manages(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpEndpoint=enabled"
    old = {**REQUESTED, "HttpEndpoint": "disabled", "InstanceMetadataTags": "enabled"}
    # HttpEndpoint goes back to what Create found, InstanceMetadataTags (unset then) to no-preference.
    _modify(
        stubber,
        HttpTokens="required",
        HttpPutResponseHopLimit=1,
        HttpTokensEnforced="enabled",
        HttpEndpoint="enabled",
        InstanceMetadataTags="no-preference",
    )

    handler.handle(_event("Update", REQUESTED, PhysicalResourceId=record, OldResourceProperties=old), client)


# ---------------------------------------------------------------------------------------------
# Delete


def test_delete_restores_what_create_found_for_the_fields_it_managed(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional,HttpPutResponseHopLimit=3,InstanceMetadataTags=enabled"
    _defaults(stubber, HttpTokens="required", HttpPutResponseHopLimit=1, ManagedBy="account")
    # InstanceMetadataTags was recorded but never managed by this resource: it is not touched.
    # HttpTokensEnforced was managed but unset before: it is cleared.
    _modify(stubber, HttpTokens="optional", HttpPutResponseHopLimit=3, HttpTokensEnforced="no-preference")

    answer = handler.handle(_event("Delete", REQUESTED, PhysicalResourceId=record), client)

    assert answer == {"PhysicalResourceId": record}


def test_delete_clears_fields_that_were_unset_before(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="required")
    _modify(
        stubber, HttpTokens="no-preference", HttpPutResponseHopLimit=-1, HttpTokensEnforced="no-preference"
    )

    handler.handle(
        _event("Delete", REQUESTED, PhysicalResourceId="cdk-imds-account-imds-defaults:us-east-1:"), client
    )


@pytest.mark.parametrize(
    "physical_id",
    [
        # What the Provider framework sends when Create failed before returning an id.
        "2d3c9a4e-5b6f-4c1d-9e8f-0a1b2c3d4e5f",
        "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional,Evil=1",
        "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=maybe",
    ],
)
def test_delete_of_a_resource_that_never_recorded_anything_changes_nothing(
    ec2: tuple[Any, Stubber], physical_id: str
) -> None:
    client, _ = ec2  # no response queued: any call fails the test
    assert handler.handle(_event("Delete", REQUESTED, PhysicalResourceId=physical_id), client) == {
        "PhysicalResourceId": physical_id
    }


def test_delete_leaves_the_stricter_defaults_when_the_restore_is_refused(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="required")
    stubber.add_client_error(
        "modify_instance_metadata_defaults",
        service_error_code="UnauthorizedOperation",
        service_message="explicit deny in a service control policy",
    )
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional"

    assert handler.handle(_event("Delete", REQUESTED, PhysicalResourceId=record), client) == {
        "PhysicalResourceId": record
    }


def test_delete_fails_on_other_errors(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="required")
    stubber.add_client_error("modify_instance_metadata_defaults", service_error_code="InternalError")
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional"

    with pytest.raises(handler.AccountDefaultsError, match="InternalError"):
        handler.handle(_event("Delete", REQUESTED, PhysicalResourceId=record), client)


def test_delete_does_not_fight_a_declarative_policy(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _defaults(stubber, HttpTokens="required", ManagedBy="declarative-policy")
    record = "cdk-imds-account-imds-defaults:us-east-1:HttpTokens=optional"

    handler.handle(_event("Delete", REQUESTED, PhysicalResourceId=record), client)


# ---------------------------------------------------------------------------------------------
# the record


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "HttpTokens": st.sampled_from(["optional", "required"]),
            "HttpPutResponseHopLimit": st.integers(1, 64),
            "HttpEndpoint": st.sampled_from(["enabled", "disabled"]),
            "InstanceMetadataTags": st.sampled_from(["enabled", "disabled"]),
            "HttpTokensEnforced": st.sampled_from(["enabled", "disabled"]),
        },
    ),
    st.sampled_from(["us-east-1", "eu-central-2", "ap-southeast-5"]),
)
def test_every_set_of_defaults_survives_the_physical_id(previous: dict[str, str | int], region: str) -> None:
    physical_id = handler.encode_record(region, previous)
    assert handler.decode_record(physical_id) == previous
    # CloudFormation limits physical ids to 1 KB.
    assert len(physical_id.encode()) < 1024


def test_the_handler_imports_only_what_the_lambda_runtime_has() -> None:
    source = Path(handler.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    # mypy_boto3_ec2 only under TYPE_CHECKING; nothing from cdk_imds (only this folder is deployed).
    assert imported == {
        "__future__",
        "logging",
        "re",
        "collections",
        "typing",
        "boto3",
        "botocore",
        "mypy_boto3_ec2",
    }
    assert "if TYPE_CHECKING:\n    from mypy_boto3_ec2 import EC2Client" in source


# ---------------------------------------------------------------------------------------------
# against moto_server (what moto supports: the handler's own client and its failure paths)


def test_moto_still_lacks_the_metadata_defaults_calls(aws: str) -> None:  # noqa: F811
    client = boto3.session.Session().client(
        "ec2", region_name=REGION, config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )
    # moto answers HTTP 500 with an HTML page, which botocore cannot parse as EC2's XML.
    for call in (client.get_instance_metadata_defaults, client.modify_instance_metadata_defaults):
        with pytest.raises(ResponseParserError, match="500 Internal Server Error"):
            call()


def test_on_event_fails_create_with_one_line_when_defaults_cannot_be_read(aws: str) -> None:  # noqa: F811
    with pytest.raises(handler.AccountDefaultsError) as caught:
        handler.on_event(_event("Create", REQUESTED), None)
    assert str(caught.value).startswith("GetInstanceMetadataDefaults failed: ResponseParserError: ")
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 400


def _record_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations the handler's own client (boto3's default session) sends from now on."""
    sent: list[str] = []
    session = boto3.session.Session()
    session.events.register("before-send.ec2.*", lambda request, **_: sent.append(request.url))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return sent


def test_on_event_delete_without_a_record_succeeds_without_calling_ec2(
    aws: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the handler's client pointed at moto_server (which cannot answer the defaults calls)
    sent = _record_requests(monkeypatch)
    # When CloudFormation deletes a resource whose Create failed (so no record in its physical id)
    answer = handler.on_event(_event("Delete", REQUESTED, PhysicalResourceId="failed-create-id"), None)
    # Then it succeeds, and nothing was sent: there is nothing to restore
    assert answer == {"PhysicalResourceId": "failed-create-id"}
    assert sent == []


def test_on_event_delete_with_a_record_reads_the_defaults_first(
    aws: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The control for the test above: with a record to restore, the same call reaches the endpoint
    sent = _record_requests(monkeypatch)
    record = handler.encode_record(REGION, {"HttpTokens": "optional"})
    with pytest.raises(handler.AccountDefaultsError, match=r"^GetInstanceMetadataDefaults failed"):
        handler.on_event(_event("Delete", REQUESTED, PhysicalResourceId=record), None)
    assert sent and all(url.startswith(aws) for url in sent)
