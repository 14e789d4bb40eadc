"""What the integration tests ask of an instance through boto3."""

from tests.emulator_process import wait_for


def describe(client, identifier):
    return client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def wait_status(client, identifier, status, timeout=90):
    return wait_for(
        lambda: (found := describe(client, identifier))["DBInstanceStatus"] == status and found,
        timeout, f"{identifier} to be {status}",
    )
