"""Read replicas, the control plane's part (the none driver: a replica is its record; tests/integration/
test_read_replicas.py replicates between real servers): what the replica and its source report, and what RDS
refuses of them."""

from emulator.model import engine_versions
from tests.api_client import NS

OLD, NEW = engine_versions.of("mariadb", "10.11").nominal, engine_versions.of("mariadb", "11.8").nominal


def described(api, identifier):
    return api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).find(f".//{NS}DBInstance")


def replica(api, name, source="src"):
    return api.call(Action="CreateDBInstanceReadReplica", DBInstanceIdentifier=name, SourceDBInstanceIdentifier=source)


def test_a_replica_and_its_source_report_each_other_and_promotion_ends_it(api):
    api.create("src", Engine="mariadb", EngineVersion="10.11", BackupRetentionPeriod="1", DBName="app")
    api.wait_available("src")
    response, root = replica(api, "rep")
    assert response.status_code == 200, response.data
    made = root.find(f".//{NS}DBInstance")
    assert made.findtext(f"{NS}DBInstanceStatus") == "creating"
    assert made.findtext(f"{NS}ReadReplicaSourceDBInstanceIdentifier") == "src"
    assert made.findtext(f"{NS}BackupRetentionPeriod") == "0" and made.findtext(f"{NS}DBName") == "app"
    api.wait_available("rep")
    found = described(api, "rep")
    info = found.find(f"{NS}StatusInfos/{NS}DBInstanceStatusInfo")
    assert [info.findtext(f"{NS}{name}") for name in ("StatusType", "Normal", "Status")] == \
        ["read replication", "true", "replicating"]
    listed = described(api, "src").findall(f"{NS}ReadReplicaDBInstanceIdentifiers/{NS}ReadReplicaDBInstanceIdentifier")
    assert [item.text for item in listed] == ["rep"]

    assert api.error(400, "InvalidDBInstanceState", Action="StopDBInstance", DBInstanceIdentifier="rep")
    assert api.error(400, "InvalidDBInstanceState", Action="StopDBInstance", DBInstanceIdentifier="src")
    assert "its master user password is its source's" in api.error(
        400, "InvalidParameterCombination", Action="ModifyDBInstance", DBInstanceIdentifier="rep",
        MasterUserPassword="another1")
    assert "read replicas" in api.error(400, "InvalidParameterCombination", Action="ModifyDBInstance",
                                        DBInstanceIdentifier="src", BackupRetentionPeriod="0")
    assert "Upgrade the read replica rep" in api.error(
        400, "InvalidParameterCombination", Action="ModifyDBInstance", DBInstanceIdentifier="src",
        EngineVersion=NEW, AllowMajorVersionUpgrade="true", ApplyImmediately="true")
    assert "is not a read replica" in api.error(400, "InvalidDBInstanceState", Action="PromoteReadReplica",
                                                DBInstanceIdentifier="src")

    promoted = api.ok(Action="PromoteReadReplica", DBInstanceIdentifier="rep", BackupRetentionPeriod="3")
    assert promoted.findtext(f".//{NS}DBInstanceStatus") == "modifying"
    api.wait_available("rep")
    found = described(api, "rep")
    assert found.find(f"{NS}StatusInfos") is None and found.find(f"{NS}ReadReplicaSourceDBInstanceIdentifier") is None
    assert found.findtext(f"{NS}BackupRetentionPeriod") == "3"
    assert described(api, "src").find(f"{NS}ReadReplicaDBInstanceIdentifiers/{NS}ReadReplicaDBInstanceIdentifier") \
        is None


def test_what_rds_refuses_of_a_new_replica(api):
    api.create("nobackup", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("nobackup")
    assert "Automated backups are not enabled" in api.error(
        400, "InvalidDBInstanceState", Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="r",
        SourceDBInstanceIdentifier="nobackup")
    assert api.error(404, "DBInstanceNotFound", Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="r",
                     SourceDBInstanceIdentifier="missing")
    assert api.error(400, "MissingParameter", Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="r")
    api.create("src", Engine="mariadb", BackupRetentionPeriod="1")
    api.wait_available("src")
    assert "ReplicaMode" in api.error(400, "InvalidParameterValue", Action="CreateDBInstanceReadReplica",
                                      DBInstanceIdentifier="r", SourceDBInstanceIdentifier="src",
                                      ReplicaMode="mounted")
    assert api.error(400, "DBInstanceAlreadyExists", Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="src",
                     SourceDBInstanceIdentifier="src")


def test_a_chain_holds_three_read_replicas_and_a_promotion_shortens_it(api):
    api.create("src", Engine="mariadb", BackupRetentionPeriod="1")
    api.wait_available("src")
    for name, source in (("r1", "src"), ("r2", "r1"), ("r3", "r2")):
        assert replica(api, name, source)[0].status_code == 200
        api.wait_available(name)
        api.ok(Action="ModifyDBInstance", DBInstanceIdentifier=name, BackupRetentionPeriod="1", ApplyImmediately="true")
        api.wait_available(name)
    assert "the last of a chain of 3 read replicas" in api.error(
        400, "InvalidDBInstanceState", Action="CreateDBInstanceReadReplica", DBInstanceIdentifier="r4",
        SourceDBInstanceIdentifier="r3")
    api.ok(Action="PromoteReadReplica", DBInstanceIdentifier="r1")  # r2 and r3 now hang from r1
    api.wait_available("r1")
    assert replica(api, "r4", "r3")[0].status_code == 200
