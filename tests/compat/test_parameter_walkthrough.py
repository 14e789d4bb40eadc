"""The 2009 walkthrough against real servers: tuning MySQL only through DB parameter groups, with boto3 and
the AWS CLI, and reading the slow query log through MySQL itself and through the API."""

import os
import signal
import subprocess

import pytest

from tests.compat.test_awscli import AWS, available, aws, cli_env, wait
from tests.emulator_process import wait_for
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect

pytestmark = pytest.mark.mariadb
PASSWORD = "walkthrough-1"


def create(rds, identifier, **extra):
    rds.create_db_instance(DBInstanceIdentifier=identifier, Engine="mariadb", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword=PASSWORD, **extra)
    return wait_status(rds, identifier, "available")["Endpoint"]


def group_status(rds, identifier):
    group = describe(rds, identifier)["DBParameterGroups"][0]
    return group["DBParameterGroupName"], group["ParameterApplyStatus"]


def variable(endpoint, name):
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
        return cursor.fetchone()[1]


def query(endpoint, sql):
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def change(rds, group, name, value, method):
    rds.modify_db_parameter_group(DBParameterGroupName=group, Parameters=[
        {"ParameterName": name, "ParameterValue": value, "ApplyMethod": method}])


def reboot(rds, identifier):
    rds.reboot_db_instance(DBInstanceIdentifier=identifier)
    wait_status(rds, identifier, "available")


def test_the_walkthrough_with_boto3(server_driver, emulator_factory, rds_client):
    emulator = emulator_factory(server_driver)
    rds = rds_client(emulator)
    endpoint = create(rds, "mydb")
    rds.create_db_parameter_group(DBParameterGroupName="my-custom", DBParameterGroupFamily="mariadb10.11",
                                  Description="My custom parameters")
    change(rds, "my-custom", "slow_query_log", "1", "immediate")
    modified = rds.modify_db_instance(DBInstanceIdentifier="mydb", DBParameterGroupName="my-custom")
    assert modified["DBInstance"]["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    assert variable(endpoint, "slow_query_log") == "OFF"
    reboot(rds, "mydb")
    assert group_status(rds, "mydb") == ("my-custom", "in-sync")
    assert variable(endpoint, "slow_query_log") == "ON"

    change(rds, "my-custom", "long_query_time", "1", "immediate")
    wait_for(lambda: variable(endpoint, "long_query_time") == "1.000000", 10, "long_query_time on the server")
    wait_for(lambda: group_status(rds, "mydb") == ("my-custom", "in-sync"), 10, "in-sync")
    query(endpoint, "SELECT SLEEP(1.2)")
    # the server logs a statement after it has answered it: a slow server (a guest) a moment later
    wait_for(lambda: any(b"SLEEP(1.2)" in (text if isinstance(text, bytes) else text.encode())
                         for (text,) in query(endpoint, "SELECT sql_text FROM mysql.slow_log")), 10, "the slow log row")

    change(rds, "my-custom", "log_output", "FILE", "immediate")
    wait_for(lambda: variable(endpoint, "log_output") == "FILE", 10, "log_output FILE on the server")
    query(endpoint, "SELECT SLEEP(1.1)")
    wanted = {"error/mysql-error.log", "slowquery/mysql-slowquery.log"}
    wait_for(lambda: wanted <= {f["LogFileName"] for f in rds.describe_db_log_files(
        DBInstanceIdentifier="mydb")["DescribeDBLogFiles"]}, 10, "the slow log file")
    portion = wait_for(lambda: "SLEEP(1.1)" in (found := rds.download_db_log_file_portion(
        DBInstanceIdentifier="mydb", LogFileName="slowquery/mysql-slowquery.log", Marker="0"))["LogFileData"]
        and found, 10, "the slow query in the slow log file")
    assert portion["AdditionalDataPending"] is False

    # a value applied at once is in the server's configuration too: a crash and a restart keep it
    [pid] = emulator.server_pids()  # a mariadbd, or a guest's QEMU
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: emulator.server_pids() and emulator.server_pids() != [pid], 30, "the server restarted")
    wait_for(lambda: _answers(endpoint), 30, "the restarted server")
    assert variable(endpoint, "long_query_time") == "1.000000"
    wait_status(rds, "mydb", "available")  # the watch's restart is done, not only the server up

    change(rds, "my-custom", "performance_schema", "1", "pending-reboot")
    # a server variable that its configuration file names otherwise (transaction-isolation)
    change(rds, "my-custom", "tx_isolation", "READ-COMMITTED", "pending-reboot")
    assert group_status(rds, "mydb") == ("my-custom", "pending-reboot")
    assert variable(endpoint, "performance_schema") == "OFF"
    reboot(rds, "mydb")
    assert variable(endpoint, "performance_schema") == "ON"
    assert variable(endpoint, "tx_isolation") == "READ-COMMITTED"
    assert group_status(rds, "mydb") == ("my-custom", "in-sync")

    with pytest.raises(rds.exceptions.InvalidDBParameterGroupStateFault):
        rds.delete_db_parameter_group(DBParameterGroupName="my-custom")
    assert describe(rds, "mydb")["DBInstanceStatus"] == "available"
    events = [(e["SourceType"], e["Message"]) for e in rds.describe_events(Duration=60)["Events"]]
    expected = [
        ("db-instance", "DB instance created"),
        ("db-parameter-group", "Updated parameter slow_query_log to 1 with apply method immediate"),
        ("db-instance", "Updated to use DBParameterGroup my-custom"),
        ("db-instance", "DB instance shutdown"),
        ("db-instance", "DB instance restarted"),
        ("db-parameter-group", "Updated parameter long_query_time to 1 with apply method immediate"),
        ("db-instance", "Finished updating DB parameter group"),
        ("db-parameter-group", "Updated parameter log_output to FILE with apply method immediate"),
        ("db-instance", "Finished updating DB parameter group"),
        ("db-parameter-group", "Updated parameter performance_schema to 1 with apply method pending-reboot"),
        ("db-parameter-group", "Updated parameter tx_isolation to READ-COMMITTED with apply method pending-reboot"),
        ("db-instance", "DB instance shutdown"),
        ("db-instance", "DB instance restarted"),
    ]
    assert in_order(expected, events), events


def test_a_value_the_server_refuses_is_reported_and_undone(server_driver, emulator_factory, rds_client):
    emulator = emulator_factory(server_driver)
    rds = rds_client(emulator)
    rds.create_db_parameter_group(DBParameterGroupName="broken", DBParameterGroupFamily="mariadb10.11",
                                  Description="a character set nobody has")
    endpoint = create(rds, "db1", DBParameterGroupName="broken")
    change(rds, "broken", "character_set_server", "nonesuch", "immediate")
    wait_for(lambda: group_status(rds, "db1") == ("broken", "failed-to-apply"), 10, "failed-to-apply")
    assert describe(rds, "db1")["DBInstanceStatus"] == "available"
    assert variable(endpoint, "character_set_server") != "nonesuch"
    messages = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier="db1")["Events"]]
    assert any(m.startswith("Failed to apply parameter character_set_server with value nonesuch") for m in messages)

    change(rds, "broken", "character_set_server", "nonesuch", "pending-reboot")
    rds.reboot_db_instance(DBInstanceIdentifier="db1")
    wait_status(rds, "db1", "incompatible-parameters")
    assert group_status(rds, "db1") == ("broken", "failed-to-apply")  # not in-sync: its server is down
    messages = [e["Message"] for e in rds.describe_events(SourceType="db-instance", SourceIdentifier="db1")["Events"]]
    assert any("character set this server does not have" in m for m in messages)
    rds.reset_db_parameter_group(DBParameterGroupName="broken", ResetAllParameters=True)
    reboot(rds, "db1")
    assert group_status(rds, "db1") == ("broken", "in-sync")
    assert variable(endpoint, "character_set_server") != "nonesuch"


def test_the_walkthrough_with_the_aws_cli(emulator_factory):
    emulator = emulator_factory()
    aws(emulator, "create-db-instance", "--db-instance-identifier", "clidb", "--engine", "mysql",
        "--db-instance-class", "db.t3.micro", "--allocated-storage", "20", "--master-username", "admin",
        "--master-user-password", PASSWORD, "--db-parameter-group-name", "default.mysql9.7")
    aws(emulator, "create-db-parameter-group", "--db-parameter-group-name", "cli-custom",
        "--db-parameter-group-family", "mysql9.7", "--description", "from the CLI")
    aws(emulator, "modify-db-parameter-group", "--db-parameter-group-name", "cli-custom", "--parameters",
        "ParameterName=slow_query_log,ParameterValue=1,ApplyMethod=immediate",
        "ParameterName=long_query_time,ParameterValue=2,ApplyMethod=immediate")
    user = aws(emulator, "describe-db-parameters", "--db-parameter-group-name", "cli-custom", "--source", "user")
    assert {p["ParameterName"]: p["ParameterValue"] for p in user["Parameters"]} == {
        "long_query_time": "2", "slow_query_log": "1"}
    everything = aws(emulator, "describe-db-parameters", "--db-parameter-group-name", "cli-custom")["Parameters"]
    assert len(everything) > 500
    wait(emulator, "db-instance-available", "clidb", available)
    aws(emulator, "modify-db-instance", "--db-instance-identifier", "clidb", "--db-parameter-group-name",
        "cli-custom")
    aws(emulator, "reboot-db-instance", "--db-instance-identifier", "clidb")
    wait(emulator, "db-instance-available", "clidb", available)
    instance = aws(emulator, "describe-db-instances", "--db-instance-identifier", "clidb")["DBInstances"][0]
    assert instance["DBParameterGroups"] == [{"DBParameterGroupName": "cli-custom", "ParameterApplyStatus": "in-sync"}]
    assert variable(instance["Endpoint"], "long_query_time") == "2.000000"
    whole = subprocess.run(
        [AWS, "--endpoint-url", emulator.url, "--output", "text", "rds", "download-db-log-file-portion",
         "--db-instance-identifier", "clidb", "--log-file-name", "error/mysql-error.log", "--starting-token", "0"],
        capture_output=True, text=True, timeout=120, check=True, env=cli_env(emulator),
    ).stdout
    on_disk = next((emulator.data_dir / "servers").glob("db-*/error.log")).read_text()
    assert whole.strip() and on_disk.startswith(whole.strip()[:200])
    assert "ready for connections" in whole
    missing = aws(emulator, "download-db-log-file-portion", "--db-instance-identifier", "clidb",
                  "--log-file-name", "general/mysql-general.log", check=False)
    assert missing.returncode != 0 and "DBLogFileNotFoundFault" in missing.stderr
    refused = aws(emulator, "delete-db-parameter-group", "--db-parameter-group-name", "cli-custom", check=False)
    assert "InvalidDBParameterGroupState" in refused.stderr


def in_order(expected, events):
    """Every expected event appears, in this order (others may come between)."""
    remaining = iter(events)
    return all(any(event == seen for seen in remaining) for event in expected)


def _answers(endpoint):
    try:
        return query(endpoint, "SELECT 1") == ((1,),)
    except Exception:  # noqa: BLE001 - not up yet
        return False
