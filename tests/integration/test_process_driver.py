"""Real MariaDB servers behind the API: restarts, crashes and kill -9 of the emulator lose nothing."""

import contextlib
import os
import pathlib
import signal
import sqlite3
import time

import pymysql
import pytest

from tests.emulator_process import servers_under, wait_for
from tests.integration.instances import describe, wait_status
from tests.mysql_client import connect, read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "Sup3r-secret!"
# rows a point-in-time restore replays: enough that its replay runs for a while
ROWS = 100_000


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


def endpoint_in_store(data_dir, identifier) -> dict:
    with contextlib.closing(sqlite3.connect(data_dir / "emulator.sqlite")) as store:
        address, port = store.execute("SELECT address, port FROM instances WHERE identifier = ?",
                                      (identifier,)).fetchone()
    return {"Address": address, "Port": port}


def count(endpoint) -> int:
    """Rows the server has in the table so far (0 before it answers)."""
    try:
        with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM notes")
            return cursor.fetchone()[0]
    except pymysql.MySQLError:
        return 0


def replaying(data_dir) -> list[int]:
    """The replay's processes: their command lines name the task's work folder under the data directory."""
    marker = str(data_dir / "work" / "replay-").encode()
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_point_in_time_restore_killed_in_its_replay_starts_over_and_restores_every_row(
    emulator_factory, rds_client
):
    emulator = emulator_factory("process", None, "--archive-seconds", "1")
    client = rds_client(emulator)
    create(client, "source")
    endpoint = wait_status(client, "source", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["first"])
    with connect(endpoint, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        for batch in range(ROWS // 1000):  # a transaction each: the replay takes a while
            cursor.executemany("INSERT INTO notes (body) VALUES (%s)",
                               [(f"row {batch * 1000 + n}",) for n in range(1000)])
    written = time.time()
    # none is shown until the first automated backup is done
    wait_for(lambda: (latest := describe(client, "source").get("LatestRestorableTime")) is not None
             and latest.timestamp() > written + 1, 60, "the rows to be archived")

    client.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="source", TargetDBInstanceIdentifier="copy",
                                                UseLatestRestorableTime=True)
    target = endpoint_in_store(emulator.data_dir, "copy")  # RDS shows none while an instance is creating
    wait_for(lambda: replaying(emulator.data_dir) and 1 < count(target) < ROWS, 120, "the replay to be half-way",
             interval=0.005)
    emulator.kill9()
    wait_for(lambda: not replaying(emulator.data_dir), 10, "the replay to die with the emulator")

    client = rds_client(emulator_factory("process", emulator.data_dir, "--archive-seconds", "1"))
    copied = wait_status(client, "copy", "available", timeout=180)["Endpoint"]
    with connect(copied, "master", PASSWORD, "app") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT body) FROM notes")
        assert cursor.fetchone() == (ROWS + 1, ROWS + 1)
    assert list((emulator.data_dir / "work").glob("replay-*")) == []
