"""Launch configuration -> launch template data, and the template's name (pure, no AWS)."""

from __future__ import annotations

import re

import pytest

from cdk_imds.aws.launch_configuration import template_data, template_name

_VALID_NAME = re.compile(r"[a-zA-Z0-9().\-/_]{3,128}")


def test_every_field_with_an_equivalent_is_carried_over() -> None:
    conversion = template_data(
        {
            "LaunchConfigurationName": "web",
            "ImageId": "ami-1",
            "InstanceType": "m5.large",
            "KeyName": "ops",
            "KernelId": "aki-1",
            "RamdiskId": "ari-1",
            "SecurityGroups": ["sg-1", "sg-2"],
            "UserData": "IyEvYmluL3No",
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True},
                },
                {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
                {"DeviceName": "/dev/sdc", "NoDevice": True},
            ],
            "InstanceMonitoring": {"Enabled": False},
            "IamInstanceProfile": "arn:aws:iam::123456789012:instance-profile/web",
            "EbsOptimized": True,
            "SpotPrice": "0.05",
            "PlacementTenancy": "dedicated",
            "MetadataOptions": {
                "HttpTokens": "optional",
                "HttpPutResponseHopLimit": 2,
                "HttpEndpoint": "enabled",
            },
            "CreatedTime": "2024-01-01T00:00:00Z",
        }
    )

    assert conversion.data == {
        "ImageId": "ami-1",
        "InstanceType": "m5.large",
        "KeyName": "ops",
        "KernelId": "aki-1",
        "RamdiskId": "ari-1",
        "EbsOptimized": True,
        "UserData": "IyEvYmluL3No",
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True}},
            {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
            {"DeviceName": "/dev/sdc", "NoDevice": ""},
        ],
        "IamInstanceProfile": {"Arn": "arn:aws:iam::123456789012:instance-profile/web"},
        "Monitoring": {"Enabled": False},
        "InstanceMarketOptions": {
            "MarketType": "spot",
            "SpotOptions": {"MaxPrice": "0.05", "SpotInstanceType": "one-time"},
        },
        "Placement": {"Tenancy": "dedicated"},
        "MetadataOptions": {
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 2,
            "HttpEndpoint": "enabled",
        },
    }
    assert conversion.dropped == ()


def test_a_public_address_puts_the_security_groups_on_the_network_interface() -> None:
    data = template_data(
        {
            "ImageId": "ami-1",
            "SecurityGroups": ["sg-1"],
            "AssociatePublicIpAddress": True,
            "IamInstanceProfile": "web",
        }
    ).data

    assert data["NetworkInterfaces"] == [
        {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "DeleteOnTermination": True, "Groups": ["sg-1"]}
    ]
    assert "SecurityGroupIds" not in data
    assert data["IamInstanceProfile"] == {"Name": "web"}


def test_no_metadata_options_become_tokens_required_and_classic_link_is_reported_dropped() -> None:
    conversion = template_data(
        {"ImageId": "ami-1", "SecurityGroups": ["default"], "ClassicLinkVPCId": "vpc-1", "KeyName": ""}
    )

    assert conversion.data == {
        "ImageId": "ami-1",
        "SecurityGroups": ["default"],
        "MetadataOptions": {"HttpTokens": "required"},
    }
    assert conversion.dropped == ("ClassicLinkVPCId",)


@pytest.mark.parametrize(
    ("launch_configuration", "expected"),
    [
        ("web", "cdk-imds-web"),
        ("app/v1_(blue).2", "cdk-imds-app/v1_(blue).2"),
    ],
)
def test_names_are_kept_when_valid(launch_configuration: str, expected: str) -> None:
    assert template_name(launch_configuration) == expected


@pytest.mark.parametrize("launch_configuration", ["web app:v1", "x" * 255, "é"])
def test_other_names_are_cleaned_cut_and_made_unique(launch_configuration: str) -> None:
    name = template_name(launch_configuration)

    assert _VALID_NAME.fullmatch(name)
    assert name.startswith("cdk-imds-")
    # Deterministic (a rerun finds the template) and distinct from a near-identical name.
    assert template_name(launch_configuration) == name
    assert template_name(launch_configuration + "!") != name
