"""DB log files of a real server: listed and paged as RDS lists and pages them, and the slow and general
logs rotated once an hour of the emulator's clock, kept 24 hours under the hour they cover."""

from datetime import UTC, datetime, timedelta

import pytest

from emulator.clock import ManualClock
from emulator.config import Settings
from emulator.runtime import boot
from scheduler import jobs
from tests import api_client
from tests.api_client import NS
from tests.emulator_process import remove_guests, wait_for
from tests.mysql_client import connect

pytestmark = pytest.mark.mariadb
PASSWORD = "log-files-1"


class Api(api_client.Api):
    def files(self):
        root = self.ok(Action="DescribeDBLogFiles", DBInstanceIdentifier="db1")
        return {f.findtext(f"{NS}LogFileName"): int(f.findtext(f"{NS}Size"))
                for f in root.iter(f"{NS}DescribeDBLogFilesDetails")}

    def portion(self, name, **extra):
        root = self.ok(Action="DownloadDBLogFilePortion", DBInstanceIdentifier="db1", LogFileName=name, **extra)
        return (root.findtext(f".//{NS}LogFileData") or "", root.findtext(f".//{NS}Marker"),
                root.findtext(f".//{NS}AdditionalDataPending"))


@pytest.fixture
def setup(tmp_path, server_driver, served_engine):
    engine, family = served_engine
    clock = ManualClock(datetime(2026, 11, 24, 12, 10, tzinfo=UTC))
    settings = Settings.from_env(data_dir=tmp_path / "data", driver=server_driver, auth="off")
    runtime = boot(settings, clock=clock, schedule=False)
    api = Api(runtime)
    api.ok(Action="CreateDBParameterGroup", DBParameterGroupName="logged", DBParameterGroupFamily=family,
           Description="general log to a file")
    for n, (name, value) in enumerate([("general_log", "1"), ("log_output", "FILE")], 1):
        api.ok(Action="ModifyDBParameterGroup", DBParameterGroupName="logged",
               **{f"Parameters.Parameter.{n}.ParameterName": name, f"Parameters.Parameter.{n}.ParameterValue": value,
                  f"Parameters.Parameter.{n}.ApplyMethod": "immediate"})
    root = api.ok(Action="CreateDBInstance", DBInstanceIdentifier="db1", Engine=engine, DBInstanceClass="db.t3.micro",
                  AllocatedStorage="20", MasterUsername="admin", MasterUserPassword=PASSWORD,
                  DBParameterGroupName="logged")
    assert root.findtext(f".//{NS}DBInstanceStatus") == "creating"
    wait_for(lambda: api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").findtext(
        f".//{NS}DBInstanceStatus") == "available", 300, "db1")
    endpoint = {"Address": root.findtext(f".//{NS}Endpoint/{NS}Address") or "127.0.0.1",
                "Port": int(api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").findtext(
                    f".//{NS}Endpoint/{NS}Port"))}
    yield runtime, clock, api, endpoint
    runtime.close()
    remove_guests(tmp_path / "data")


def query(endpoint, sql):
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute(sql)


def logged(api, endpoint, text):
    """`SELECT 'text'`, once it is in the current general log: a guest's log reaches the host through a virtio
    port a moment after the query, and a rotation before then would find it in the next hour's file."""
    query(endpoint, f"SELECT '{text}'")
    wait_for(lambda: text in api.portion("general/mysql-general.log", Marker="0")[0], 30, f"{text!r} to be logged")


def test_logs_are_paged_by_marker_and_by_lines(setup):
    runtime, clock, api, endpoint = setup
    for n in range(30):
        query(endpoint, f"SELECT {n} AS marker_query")
    # a guest's log reaches the host through a virtio port, a moment after the query: wait for the last one
    log_file = wait_for(lambda: next(runtime.ctx.settings.data_dir.glob("*/db-*/**/general.log"), None), 30,
                        "the general log")
    wait_for(lambda: "SELECT 29 AS marker_query" in log_file.read_text(), 30, "the last query in the general log")
    files = api.files()
    assert {"error/mysql-error.log", "general/mysql-general.log"} <= set(files)
    whole, pages, marker, pending = "", 0, "0", "true"
    while pending == "true":
        data, marker, pending = api.portion("general/mysql-general.log", Marker=marker, NumberOfLines="7")
        assert data.count("\n") <= 7
        whole, pages = whole + data, pages + 1
    on_disk = log_file.read_text()
    assert whole == on_disk[: len(whole)] and "SELECT 29 AS marker_query" in whole and pages > 4
    tail, _, pending = api.portion("general/mysql-general.log", NumberOfLines="3")
    assert tail.splitlines() == on_disk[: int(marker)].splitlines()[-3:] and pending == "false"


def test_the_general_log_is_rotated_each_hour_and_kept_a_day(setup):
    runtime, clock, api, endpoint = setup
    jobs.rotate_logs(runtime.ctx)  # first sight: the current files cover 12:00 from now on
    logged(api, endpoint, "in the noon hour")
    jobs.rotate_logs(runtime.ctx)
    assert "general/mysql-general.log.12" not in api.files()
    clock.advance(timedelta(hours=1))
    jobs.rotate_logs(runtime.ctx)
    jobs.rotate_logs(runtime.ctx)  # once an hour, however often the job looks
    logged(api, endpoint, "in the one oclock hour")
    files = api.files()
    assert "general/mysql-general.log.12" in files and "general/mysql-general.log.13" not in files
    noon, _, _ = api.portion("general/mysql-general.log.12", Marker="0")
    now, _, _ = api.portion("general/mysql-general.log", Marker="0")
    assert "in the noon hour" in noon and "one oclock" not in noon
    assert "one oclock" in now and "noon hour" not in now
    clock.advance(timedelta(hours=23))  # 12:10 the next day: the one o'clock file is set aside, noon's kept
    jobs.rotate_logs(runtime.ctx)
    assert {"general/mysql-general.log.12", "general/mysql-general.log.13"} <= set(api.files())
    clock.advance(timedelta(hours=1))  # 13:10: this noon's file takes the place of yesterday's
    logged(api, endpoint, "the next noon")
    jobs.rotate_logs(runtime.ctx)
    noon, _, _ = api.portion("general/mysql-general.log.12", Marker="0")
    assert "the next noon" in noon and "in the noon hour" not in noon
