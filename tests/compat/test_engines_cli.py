"""Each engine end to end with the AWS CLI, as a user runs it against real servers (the process driver):
created without a version, the server says what it is, a statement only that engine takes, a parameter
change reaching the server, a snapshot restored with its rows, and MariaDB's minor upgrade from 10.11.18 to
10.11's current minor and major upgrade from 10.11 to 11.8 keeping them."""

import pymysql
import pytest

from tests.compat.test_awscli import available, aws, seen, wait
from tests.emulator_process import wait_for
from tests.mysql_client import connect, read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "cli-Engine-01"
FUNCTIONAL = "CREATE TABLE docs (j JSON, INDEX by_a ((CAST(j->'$.a' AS UNSIGNED))))"


def create(emulator, name, engine, *extra):
    return aws(emulator, "create-db-instance", "--db-instance-identifier", name, "--engine", engine,
               "--db-instance-class", "db.t3.micro", "--allocated-storage", "20", "--master-username", "admin",
               "--master-user-password", PASSWORD, "--db-name", "app", "--backup-retention-period", "0",
               *extra)["DBInstance"]


def query(endpoint, sql):
    with connect(endpoint, "admin", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.parametrize(("engine", "family_prefix"), [("mysql", "mysql9."), ("mariadb", "mariadb10.")])
def test_an_engine_end_to_end_with_the_cli(emulator_factory, engine, family_prefix):
    emulator = emulator_factory("process")
    created = create(emulator, "db1", engine)
    family = created["DBParameterGroups"][0]["DBParameterGroupName"].removeprefix("default.")
    assert family.startswith(family_prefix)
    wait(emulator, "db-instance-available", "db1", available)
    found = seen(emulator, "db1")
    endpoint = found["Endpoint"]
    ((version, comment),) = query(endpoint, "SELECT VERSION(), @@version_comment")
    assert version.split("-")[0] == found["EngineVersion"]
    assert ("MariaDB" in version) == (engine == "mariadb") and (comment == "(Debian)") == (engine == "mysql")
    if engine == "mysql":
        query(endpoint, FUNCTIONAL)
    else:
        with pytest.raises(pymysql.err.ProgrammingError):
            query(endpoint, FUNCTIONAL)

    aws(emulator, "create-db-parameter-group", "--db-parameter-group-name", "tuned", "--db-parameter-group-family",
        family, "--description", "tuned")
    aws(emulator, "modify-db-parameter-group", "--db-parameter-group-name", "tuned", "--parameters",
        "ParameterName=max_connections,ParameterValue=66,ApplyMethod=pending-reboot")
    aws(emulator, "modify-db-instance", "--db-instance-identifier", "db1", "--db-parameter-group-name", "tuned",
        "--apply-immediately")
    aws(emulator, "reboot-db-instance", "--db-instance-identifier", "db1")
    wait_for(lambda: (now := seen(emulator, "db1"))["DBInstanceStatus"] == "available"
             and now["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync", 120, "the reboot into tuned")
    assert query(endpoint, "SELECT @@max_connections") == ((66,),)

    write_rows(endpoint, "admin", PASSWORD, "app", ["kept"])
    aws(emulator, "create-db-snapshot", "--db-instance-identifier", "db1", "--db-snapshot-identifier", "snap")
    wait(emulator, "db-snapshot-available", "snap",
         lambda _: aws(emulator, "describe-db-snapshots", "--db-snapshot-identifier", "snap")
         ["DBSnapshots"][0]["Status"] == "available")
    aws(emulator, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "copy",
        "--db-snapshot-identifier", "snap")
    wait(emulator, "db-instance-available", "copy", available)
    copied = seen(emulator, "copy")
    assert copied["Engine"] == engine and copied["EngineVersion"] == found["EngineVersion"]
    assert read_rows(copied["Endpoint"], "admin", PASSWORD, "app") == ["kept"]


def test_mariadb_upgrades_from_10_11_18_to_its_current_minor_keeping_its_rows(emulator_factory):
    """10.11.18 is bookworm's point release; 10.11's current minor, its security release: a server of its
    own, which the instance's data moves onto."""
    emulator = emulator_factory("process")
    listed = aws(emulator, "describe-db-engine-versions", "--engine", "mariadb", "--engine-version", "10.11")
    current = next(v["EngineVersion"] for v in listed["DBEngineVersions"] if v["EngineVersion"] != "10.11.18")
    older = next(v for v in listed["DBEngineVersions"] if v["EngineVersion"] == "10.11.18")
    assert {"EngineVersion": current, "IsMajorVersionUpgrade": False, "AutoUpgrade": True}.items() <= \
        older["ValidUpgradeTarget"][0].items()
    create(emulator, "old", "mariadb", "--engine-version", "10.11.18")
    wait(emulator, "db-instance-available", "old", available)
    endpoint = seen(emulator, "old")["Endpoint"]
    assert query(endpoint, "SELECT VERSION()")[0][0].startswith("10.11.18-MariaDB")
    write_rows(endpoint, "admin", PASSWORD, "app", ["before", "the upgrade"])
    pending = aws(emulator, "describe-pending-maintenance-actions")["PendingMaintenanceActions"]
    assert [a["Description"] for r in pending for a in r["PendingMaintenanceActionDetails"]] == [
        f"Minor version upgrade to {current}"]
    aws(emulator, "modify-db-instance", "--db-instance-identifier", "old", "--engine-version", current,
        "--apply-immediately")
    upgraded = wait_for(lambda: (now := seen(emulator, "old"))["EngineVersion"] == current
                        and now["DBInstanceStatus"] == "available" and now, 180, "the upgrade")
    assert upgraded["Endpoint"] == endpoint
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before", "the upgrade"]
    assert query(endpoint, "SELECT VERSION()")[0][0].startswith(current + "-MariaDB")
    assert aws(emulator, "describe-pending-maintenance-actions")["PendingMaintenanceActions"] == []
    events = [e["Message"] for e in aws(emulator, "describe-events", "--source-type", "db-instance",
                                        "--source-identifier", "old", "--duration", "60")["Events"]]
    assert f"Database instance upgraded from engine version 10.11.18 to {current}" in events
    assert not any(m.startswith("Upgrade in progress: Creating pre-upgrade snapshot") for m in events)


def test_mariadb_upgrades_from_10_11_to_11_8_keeping_its_rows(emulator_factory):
    emulator = emulator_factory("process")
    create(emulator, "old", "mariadb", "--engine-version", "10.11")
    wait(emulator, "db-instance-available", "old", available)
    endpoint = seen(emulator, "old")["Endpoint"]
    write_rows(endpoint, "admin", PASSWORD, "app", ["before", "the upgrade"])
    refused = aws(emulator, "modify-db-instance", "--db-instance-identifier", "old", "--engine-version", "11.8",
                  "--apply-immediately", check=False)
    assert refused.returncode != 0 and "AllowMajorVersionUpgrade flag must be present" in refused.stderr
    aws(emulator, "modify-db-instance", "--db-instance-identifier", "old", "--engine-version", "11.8",
        "--allow-major-version-upgrade", "--apply-immediately")
    upgraded = wait_for(lambda: (now := seen(emulator, "old"))["EngineVersion"].startswith("11.8.")
                        and now["DBInstanceStatus"] == "available" and now, 180, "the upgrade")
    assert upgraded["DBParameterGroups"][0]["DBParameterGroupName"] == "default.mariadb11.8"
    assert upgraded["Endpoint"] == endpoint
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["before", "the upgrade"]
    ((version,),) = query(endpoint, "SELECT VERSION()")
    assert version.startswith(upgraded["EngineVersion"] + "-MariaDB")
    # mariadb-upgrade ran: the system tables are the new version's
    ((marked,),) = query(endpoint, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sys'")
    assert marked > 0
    events = [e["Message"] for e in aws(emulator, "describe-events", "--source-type", "db-instance",
                                        "--source-identifier", "old", "--duration", "60")["Events"]]
    assert any(m.startswith("Upgrade in progress: Creating pre-upgrade snapshot [preupgrade-old-") for m in events)
    assert any(m.startswith("Database instance upgraded from engine version 10.11.") for m in events)


def test_an_upgrade_whose_server_will_not_start_leaves_the_old_version_running(emulator_factory):
    """The new family's group has a value the 11.8 server refuses at start: the instance comes back on 10.11,
    with its rows, and an event says why."""
    emulator = emulator_factory("process")
    create(emulator, "old", "mariadb", "--engine-version", "10.11")
    aws(emulator, "create-db-parameter-group", "--db-parameter-group-name", "broken", "--db-parameter-group-family",
        "mariadb11.8", "--description", "a value 11.8 will not start with")
    aws(emulator, "modify-db-parameter-group", "--db-parameter-group-name", "broken", "--parameters",
        "ParameterName=character_set_server,ParameterValue=nonesuch,ApplyMethod=pending-reboot")
    wait(emulator, "db-instance-available", "old", available)
    endpoint = seen(emulator, "old")["Endpoint"]
    write_rows(endpoint, "admin", PASSWORD, "app", ["kept"])
    aws(emulator, "modify-db-instance", "--db-instance-identifier", "old", "--engine-version", "11.8",
        "--allow-major-version-upgrade", "--db-parameter-group-name", "broken", "--apply-immediately")

    def told() -> list[str]:
        return [e["Message"] for e in aws(emulator, "describe-events", "--source-type", "db-instance",
                                          "--source-identifier", "old", "--duration", "60")["Events"]]

    failed = wait_for(lambda: seen(emulator, "old")["DBInstanceStatus"] == "available" and [
        m for m in told() if m.startswith("The engine version upgrade to 11.8.")], 180, "the failed upgrade")
    back = seen(emulator, "old")
    assert back["EngineVersion"].startswith("10.11.")
    assert back["DBParameterGroups"][0]["DBParameterGroupName"] == "default.mariadb10.11"
    assert "would not start" in failed[0] and failed[0].endswith("again.")  # its data was left as it was
    assert read_rows(endpoint, "admin", PASSWORD, "app") == ["kept"]
    ((version,),) = query(endpoint, "SELECT VERSION()")
    assert version.startswith(back["EngineVersion"])


def test_a_snapshot_upgraded_to_11_8_restores_its_rows_on_11_8(emulator_factory):
    emulator = emulator_factory("process")
    create(emulator, "old", "mariadb", "--engine-version", "10.11")
    wait(emulator, "db-instance-available", "old", available)
    write_rows(seen(emulator, "old")["Endpoint"], "admin", PASSWORD, "app", ["made on 10.11"])
    aws(emulator, "create-db-snapshot", "--db-instance-identifier", "old", "--db-snapshot-identifier", "snap")
    wait(emulator, "db-snapshot-available", "snap",
         lambda _: aws(emulator, "describe-db-snapshots", "--db-snapshot-identifier", "snap")
         ["DBSnapshots"][0]["Status"] == "available")
    upgraded = aws(emulator, "modify-db-snapshot", "--db-snapshot-identifier", "snap", "--engine-version", "11.8")
    assert upgraded["DBSnapshot"]["EngineVersion"].startswith("11.8.")
    aws(emulator, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "new",
        "--db-snapshot-identifier", "snap")
    wait(emulator, "db-instance-available", "new", available)
    restored = seen(emulator, "new")
    assert restored["EngineVersion"].startswith("11.8.")
    assert read_rows(restored["Endpoint"], "admin", PASSWORD, "app") == ["made on 10.11"]
    ((version,),) = query(restored["Endpoint"], "SELECT VERSION()")
    assert version.startswith(restored["EngineVersion"] + "-MariaDB")
