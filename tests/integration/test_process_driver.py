"""Real MariaDB servers behind the API: restarts, crashes and kill -9 of the emulator lose nothing."""

import os
import signal

import pytest

from tests.emulator_process import servers_under, wait_for
from tests.integration.instances import wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "Sup3r-secret!"


def create(client, identifier, engine="mariadb"):
    return client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine=engine, AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app",
        Tags=[{"Key": "purpose", "Value": "test"}],
    )["DBInstance"]


def messages(client, identifier):
    events = client.describe_events(SourceType="db-instance", SourceIdentifier=identifier)["Events"]
    return [event["Message"] for event in events]


def test_kill_9_of_the_emulator_loses_nothing(server_driver, emulator_factory, rds_client, tmp_path):
    emulator = emulator_factory(server_driver)
    client = rds_client(emulator)
    create(client, "keep")
    endpoint = wait_status(client, "keep", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["before the kill"])
    pids = emulator.server_pids()
    assert len(pids) == 1

    emulator.kill9()
    assert emulator.server_pids() == pids, "the server outlives its emulator"
    again = emulator_factory(server_driver, data_dir=emulator.data_dir)
    client = rds_client(again)

    found = wait_status(client, "keep", "available")
    assert found["Endpoint"] == endpoint
    assert found["TagList"] == [{"Key": "purpose", "Value": "test"}]
    assert "DB instance created" in messages(client, "keep")
    assert again.server_pids() == pids
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["before the kill"]


@pytest.mark.parametrize("action", ["create", "reboot"])
def test_kill_9_in_the_middle_of_work_finishes_it_after_restart(emulator_factory, rds_client, action):
    emulator = emulator_factory()
    client = rds_client(emulator)
    create(client, "busy")
    if action == "reboot":
        wait_status(client, "busy", "available")
        client.reboot_db_instance(DBInstanceIdentifier="busy")
    emulator.kill9()

    client = rds_client(emulator_factory(data_dir=emulator.data_dir))
    endpoint = wait_status(client, "busy", "available")["Endpoint"]
    assert messages(client, "busy").count("DB instance created") == 1
    if action == "reboot":
        assert "DB instance restarted" in messages(client, "busy")
    write_rows(endpoint, "master", PASSWORD, "app", ["after the restart"])
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["after the restart"]


def test_a_server_that_dies_is_restarted_with_an_event(server_driver, emulator_factory, rds_client):
    emulator = emulator_factory(server_driver)
    client = rds_client(emulator)
    create(client, "fragile")
    endpoint = wait_status(client, "fragile", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["survives a crash"])
    [pid] = emulator.server_pids()

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: (p := emulator.server_pids()) and p != [pid], 60, "a new server process")
    wait_status(client, "fragile", "available")
    assert "DB instance restarted" in messages(client, "fragile")
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["survives a crash"]


def test_clean_stop_stops_servers_and_the_next_start_brings_them_back(emulator_factory, rds_client):
    emulator = emulator_factory()
    client = rds_client(emulator)
    create(client, "sleepy")
    endpoint = wait_status(client, "sleepy", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["kept"])
    emulator.stop()
    assert servers_under(emulator.data_dir) == []

    client = rds_client(emulator_factory(data_dir=emulator.data_dir))
    wait_for(lambda: servers_under(emulator.data_dir), 60, "the server to be started again")
    wait_status(client, "sleepy", "available")
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["kept"]


def test_mysql_and_mariadb_engines_both_run_and_report_the_real_version(emulator_factory, rds_client):
    emulator = emulator_factory()
    client = rds_client(emulator)
    create(client, "my", engine="MySQL")
    create(client, "maria", engine="mariadb")
    versions = {v["Engine"]: v for v in client.describe_db_engine_versions()["DBEngineVersions"]}
    for identifier in ("my", "maria"):
        found = wait_status(client, identifier, "available")
        write_rows(found["Endpoint"], "master", PASSWORD, "app", [identifier])
        assert read_rows(found["Endpoint"], "master", PASSWORD, "app") == [identifier]
        assert found["EngineVersion"] == versions[found["Engine"]]["EngineVersion"]
    from tests.mysql_client import connect

    with connect(found["Endpoint"], "master", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        assert cursor.fetchone()[0].startswith(found["EngineVersion"])
    if "MariaDB" in versions["mysql"]["DBEngineVersionDescription"]:
        assert "served by MariaDB" in versions["mysql"]["DBEngineDescription"]
