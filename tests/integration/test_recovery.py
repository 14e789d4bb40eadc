"""When servers die or will not start: retried with backoff, `failed` only when they really cannot start
(with an event a user can act on), back through StartDBInstance; never restarted behind a user's stop;
never a signal to a pid that is not ours; never two emulators on one data directory."""

import os
import signal
import socket
import subprocess
import sys
from dataclasses import replace

import pytest
from werkzeug.test import Client

from emulator.config import Settings
from emulator.drivers.base import ServerSpec
from emulator.engines import backup, tools
from emulator.runtime import boot
from scheduler import jobs
from tests.api_client import CREATE, NS, Api
from tests.emulator_process import ROOT, free_port, wait_for
from tests.integration.instances import wait_status
from tests.mysql_client import read_rows, write_rows

pytestmark = pytest.mark.mariadb
PASSWORD = "Sup3r-secret!"


def create(client, identifier, **extra):
    return client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage=20,
        MasterUsername="master", MasterUserPassword=PASSWORD, DBName="app", **extra,
    )["DBInstance"]


def test_a_server_that_cannot_come_back_fails_with_a_reason_and_starts_again_later(emulator_factory, rds_client):
    emulator = emulator_factory()
    client = rds_client(emulator)
    create(client, "fragile")
    endpoint = wait_status(client, "fragile", "available")["Endpoint"]
    write_rows(endpoint, "master", PASSWORD, "app", ["kept"])
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def take_the_port() -> bool:
        """Kill the server (again, if the watch was quicker) until another program holds its port."""
        for pid in emulator.server_pids():
            os.kill(pid, signal.SIGKILL)
        try:
            squatter.bind((endpoint["Address"], endpoint["Port"]))
        except OSError:
            return False
        return True

    wait_for(take_the_port, 30, "the port to be taken from the dead server", interval=0.01)
    squatter.listen()
    try:
        wait_status(client, "fragile", "failed", timeout=120)
        messages = [e["Message"] for e in client.describe_events(
            SourceType="db-instance", SourceIdentifier="fragile", Duration=60)["Events"]]
        assert f"port {endpoint['Port']} is in use by another program on this machine" in messages[-1]
        assert messages[-1].startswith("DB instance failed: ")
        assert PASSWORD not in " ".join(messages)
    finally:
        squatter.close()
    client.start_db_instance(DBInstanceIdentifier="fragile")
    wait_status(client, "fragile", "available")
    assert read_rows(endpoint, "master", PASSWORD, "app") == ["kept"]
    assert len(emulator.server_pids()) == 1


@pytest.fixture
def runtime(tmp_path):
    runtime = boot(Settings.from_env(data_dir=tmp_path / "data", driver="process", auth="off"), schedule=False)
    yield runtime
    runtime.close()


def call(runtime, **fields):
    return Client(runtime.app).post("/", data=fields)


def test_the_watch_never_starts_a_server_a_user_stopped(runtime):
    ctx = runtime.ctx
    call(runtime, Action="CreateDBInstance", DBInstanceIdentifier="quiet", DBInstanceClass="db.t3.micro",
         Engine="mariadb", AllocatedStorage="20", MasterUsername="master", MasterUserPassword=PASSWORD)
    wait_for(lambda: (i := ctx.store.find_instance("quiet")) and i.status == "available", 60, "available")
    seen_running = ctx.store.find_instance("quiet")
    call(runtime, Action="StopDBInstance", DBInstanceIdentifier="quiet")
    wait_for(lambda: ctx.store.find_instance("quiet").status == "stopped", 60, "stopped")
    # the watch looked while the server still ran, and acts now that the user has stopped it
    real = ctx.store.list_instances
    ctx.store.list_instances = lambda **kw: [seen_running]
    try:
        jobs.watch_servers(ctx)
    finally:
        ctx.store.list_instances = real
    jobs.watch_servers(ctx)
    instance = ctx.store.find_instance("quiet")
    assert instance.status == "stopped" and instance.task is None
    assert not ctx.driver.is_running(ctx.spec(instance))


def test_a_requested_port_that_another_program_holds_is_refused_at_once(runtime):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        response = call(runtime, Action="CreateDBInstance", DBInstanceIdentifier="clash",
                        DBInstanceClass="db.t3.micro", Engine="mariadb", AllocatedStorage="20",
                        MasterUsername="master", MasterUserPassword=PASSWORD, Port=str(port))
    assert response.status_code == 400
    assert b"InvalidParameterValue" in response.data and b"in use by another program" in response.data
    assert runtime.ctx.store.find_instance("clash") is None


def test_a_stale_pid_file_never_signals_another_program(runtime, tmp_path):
    driver = runtime.ctx.driver
    spec = ServerSpec("db-STALE", "stale", "127.0.0.1", free_port(), "master", "*0", None)
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        home = driver.root / spec.resource_id
        home.mkdir(parents=True)
        (home / "mysqld.pid").write_text(str(bystander.pid))
        driver.stop(spec)
        driver.destroy(replace(spec))
        assert bystander.poll() is None, "the bystander was signalled"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_second_emulator_on_the_same_data_directory_refuses_to_start(runtime):
    second = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "serve", "--port", str(free_port()),
         "--data-dir", str(runtime.ctx.settings.data_dir), "--driver", "none"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert second.returncode == 1
    assert f"another RDS Emulator (pid {os.getpid()}) is serving the data directory" in second.stderr


def test_servers_are_admitted_by_the_buffer_pool_they_will_run_with(runtime):
    api = Api(runtime)
    api.ok(Action="CreateDBParameterGroup", DBParameterGroupName="big", DBParameterGroupFamily="mysql9.7",
           Description="RDS's own buffer pool formula")
    api.ok(Action="ModifyDBParameterGroup", DBParameterGroupName="big",
           **{"Parameters.member.1.ParameterName": "innodb_buffer_pool_size",
              "Parameters.member.1.ParameterValue": "{DBInstanceClassMemory*3/4}",
              "Parameters.member.1.ApplyMethod": "pending-reboot"})
    huge = {"DBInstanceClass": "db.r5.24xlarge", "DBParameterGroupName": "big", "BackupRetentionPeriod": "0"}
    message = api.error(400, "InsufficientDBInstanceCapacity", **(CREATE | {"DBInstanceIdentifier": "huge"} | huge))
    assert "a server of 589824 MiB" in message  # 768 GiB of class memory, three quarters of it
    assert api.call(Action="DescribeDBInstances", DBInstanceIdentifier="huge")[0].status_code == 404

    # the class alone takes nothing: with the 16 MiB pool every server here starts with, it runs
    api.create("roomy", DBInstanceClass="db.r5.24xlarge", BackupRetentionPeriod="0")
    api.create("small", DBParameterGroupName="big", BackupRetentionPeriod="0")
    api.wait_available("roomy")
    api.wait_available("small")
    api.error(400, "InsufficientDBInstanceCapacity", Action="ModifyDBInstance", DBInstanceIdentifier="small",
              DBInstanceClass="db.r5.24xlarge", ApplyImmediately="true")
    assert api.status("small") == "available"


def test_a_multi_az_instance_is_admitted_with_room_for_its_standby_too(runtime):
    api = Api(runtime)
    pool = runtime.ctx.driver.capacity.server_memory() * 2 // 3  # room for one such server, not for two
    api.ok(Action="CreateDBParameterGroup", DBParameterGroupName="big", DBParameterGroupFamily="mysql9.7",
           Description="a buffer pool of two thirds of the host's room")
    api.ok(Action="ModifyDBParameterGroup", DBParameterGroupName="big",
           **{"Parameters.member.1.ParameterName": "innodb_buffer_pool_size",
              "Parameters.member.1.ParameterValue": str(pool * 2**20),
              "Parameters.member.1.ApplyMethod": "pending-reboot"})
    pair = {"DBInstanceIdentifier": "pair", "DBParameterGroupName": "big", "MultiAZ": "true",
            "BackupRetentionPeriod": "0"}
    message = api.error(400, "InsufficientDBInstanceCapacity", **(CREATE | pair))
    assert "of class db.t3.micro and its Multi-AZ standby on this host now" in message
    assert api.call(Action="DescribeDBInstances", DBInstanceIdentifier="pair")[0].status_code == 404


def test_a_backup_tool_that_hangs_fails_its_snapshot_with_an_event_that_names_it(runtime, monkeypatch):
    # a hung mariadb-backup cannot be had on demand: `sleep` stands in for it, with a deadline of a second
    monkeypatch.setattr(backup, "hot_backup", lambda *args: ["sleep", "60"])
    monkeypatch.setattr(tools, "BASE", 1.0)
    monkeypatch.setattr(tools, "SLOWEST", 2**40)
    api = Api(runtime)
    api.create("busy", Engine="mariadb", BackupRetentionPeriod="0")
    api.wait_available("busy")
    api.ok(Action="CreateDBSnapshot", DBInstanceIdentifier="busy", DBSnapshotIdentifier="stuck")
    wait_for(lambda: api.ok(Action="DescribeDBSnapshots", DBSnapshotIdentifier="stuck").findtext(
        f".//{NS}Status") == "failed", 30, "the snapshot to fail")
    events = api.ok(Action="DescribeEvents", SourceType="db-snapshot", SourceIdentifier="stuck", Duration="60")
    assert "Snapshot failed: sleep did not finish within 1 s" in [e.text for e in events.iter(f"{NS}Message")]
    # the snapshot's failure is written as the backup ends, the instance's task end just after it
    wait_for(lambda: api.status("busy") == "available", 10, "the instance to be available again")
