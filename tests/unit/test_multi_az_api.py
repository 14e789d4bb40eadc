"""Multi-AZ, the control plane's part (the none driver: a standby is its record; tests/integration/
test_multi_az.py fails over between real servers): what a Multi-AZ instance reports, what a failover
changes, what RDS refuses, and one failover of many asked at once."""

from collections import Counter

from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

STARTED, DONE = "Multi-AZ instance failover started", "Multi-AZ instance failover completed"


def described(api, identifier):
    return api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).find(f".//{NS}DBInstance")


def zones(api, identifier):
    found = described(api, identifier)
    return found.findtext(f"{NS}AvailabilityZone"), found.findtext(f"{NS}SecondaryAvailabilityZone")


def events(api, identifier):
    root = api.ok(Action="DescribeEvents", SourceIdentifier=identifier, SourceType="db-instance")
    return [event.findtext(f"{NS}Message") for event in root.iter(f"{NS}Event")]


def test_a_multi_az_instance_fails_over_and_its_zones_swap(api):
    made = api.create("ha", MultiAZ="true").find(f".//{NS}DBInstance")
    assert made.findtext(f"{NS}MultiAZ") == "true"
    api.wait_available("ha")
    primary, secondary = zones(api, "ha")
    assert primary and secondary and primary != secondary
    rebooted = api.ok(Action="RebootDBInstance", DBInstanceIdentifier="ha", ForceFailover="true")
    assert rebooted.findtext(f".//{NS}DBInstanceStatus") == "rebooting"
    api.wait_available("ha")
    assert zones(api, "ha") == (secondary, primary)
    assert [message for message in events(api, "ha") if "failover" in message] == [STARTED, DONE]


def test_what_rds_refuses_of_multi_az(api):
    api.create("single")
    api.wait_available("single")
    assert "ForceFailover can only be used on a Multi-AZ DB instance" in api.error(
        400, "InvalidParameterCombination", Action="RebootDBInstance", DBInstanceIdentifier="single",
        ForceFailover="true")
    assert "availability zone" in api.error(400, "InvalidParameterCombination", **{
        "Action": "CreateDBInstance", "DBInstanceIdentifier": "zoned", "DBInstanceClass": "db.t3.micro",
        "Engine": "mysql", "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "password1",
        "MultiAZ": "true", "AvailabilityZone": "us-east-1a"})
    assert "MultiAZ" in api.error(400, "InvalidParameterValue", Action="CreateDBInstanceReadReplica",
                                  DBInstanceIdentifier="rep", SourceDBInstanceIdentifier="single", MultiAZ="true")


def test_multi_az_changes_wait_for_the_window_unless_applied_at_once(api):
    api.create("ha")
    api.wait_available("ha")
    waiting = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="ha", MultiAZ="true")
    found = waiting.find(f".//{NS}DBInstance")
    assert found.findtext(f"{NS}MultiAZ") == "false"
    assert found.findtext(f"{NS}PendingModifiedValues/{NS}MultiAZ") == "true"
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="ha", MultiAZ="true", ApplyImmediately="true")
    api.wait_available("ha")
    found = described(api, "ha")
    assert found.findtext(f"{NS}MultiAZ") == "true" and found.find(f"{NS}PendingModifiedValues/{NS}MultiAZ") is None
    assert zones(api, "ha")[1] is not None
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="ha", MultiAZ="false", ApplyImmediately="true")
    api.wait_available("ha")
    assert described(api, "ha").findtext(f"{NS}MultiAZ") == "false" and zones(api, "ha")[1] is None


def test_of_many_failovers_asked_at_once_one_runs(api):
    api.create("ha", MultiAZ="true")
    api.wait_available("ha")

    def failover(_: int) -> tuple[int, str | None]:
        response, root = api.call(Action="RebootDBInstance", DBInstanceIdentifier="ha", ForceFailover="true")
        return response.status_code, root.findtext(f"{NS}Error/{NS}Code")

    outcomes = Counter(all_at_once(failover, list(range(10))))
    assert outcomes[(200, None)] == 1 and outcomes[(400, "InvalidDBInstanceState")] == 9, outcomes
    api.wait_available("ha")
    wait_for(lambda: events(api, "ha").count(DONE) == 1, 10, "the one failover")


def test_a_failover_and_a_conversion_asked_at_once_one_runs(api):
    api.create("ha", MultiAZ="true")
    api.wait_available("ha")
    requests = [{"Action": "RebootDBInstance", "DBInstanceIdentifier": "ha", "ForceFailover": "true"},
                {"Action": "ModifyDBInstance", "DBInstanceIdentifier": "ha", "MultiAZ": "false",
                 "ApplyImmediately": "true"}] * 4

    def send(fields: dict) -> tuple[int, str | None]:
        response, root = api.call(**fields)
        return response.status_code, root.findtext(f"{NS}Error/{NS}Code")

    outcomes = Counter(all_at_once(send, requests))
    assert outcomes[(200, None)] == 1 and outcomes[(400, "InvalidDBInstanceState")] == 7, outcomes
    api.wait_available("ha")
    found = described(api, "ha")
    failed_over = events(api, "ha").count(DONE) == 1
    # whichever won: a failover keeps the standby, a conversion removes it, never both nor neither
    assert (found.findtext(f"{NS}MultiAZ") == "true") == failed_over
