"""A data directory written by the foundation's main (2026-11-24, before migrations) opens and upgrades in
place, and every migration ends at exactly the schema the store's code declares."""

import pathlib
import sqlite3
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from werkzeug.test import Client

from emulator.clock import ManualClock
from emulator.config import Settings
from emulator.runtime import boot
from emulator.store import Store
from emulator.store.schema import metadata
from tests.emulator_process import wait_for

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "store-2026-11-24.sql"
# The fixture's instance `legacy-stopped` was stopped at noon that day: RDS starts an instance stopped for seven
# days by itself, so the store is opened on the emulator's clock of the next day, whatever the host's date.
STOPPED_AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# What the old races could leave behind: two tasks under way for one instance, two instances on one port.
RACE_LEFTOVERS = """
INSERT INTO tasks VALUES(4,'db-E44Q42PHRKCH2CSNTQGJPJTMPK','reboot','{}','queued',NULL,0,'2026-11-24 12:01:00');
INSERT INTO tasks VALUES(5,'db-E44Q42PHRKCH2CSNTQGJPJTMPK','reboot','{}','queued',NULL,0,'2026-11-24 12:01:00');
UPDATE instances SET port = 13400, observed = 'failed' WHERE identifier = 'legacy-stopped';
"""


def old_data_dir(tmp_path: pathlib.Path, extra: str = "") -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "emulator.sqlite") as conn:
        conn.executescript(FIXTURE.read_text() + extra)
    return Settings(data_dir=data, driver="none", auth="off")


def describe(client, identifier: str) -> ET.Element:
    body = client.post("/", data={"Action": "DescribeDBInstances", "DBInstanceIdentifier": identifier}).data
    return ET.fromstring(body).find(f".//{NS}DBInstance")


def test_a_store_from_before_migrations_opens_and_upgrades_in_place(tmp_path):
    settings = old_data_dir(tmp_path)
    runtime = boot(settings, ManualClock(STOPPED_AT + timedelta(days=1)), schedule=False)
    try:
        client = Client(runtime.app)
        legacy = describe(client, "legacy")
        assert legacy.findtext(f"{NS}Endpoint/{NS}Port") == "13400"
        assert legacy.findtext(f"{NS}TagList/{NS}Tag/{NS}Value") == "data"
        assert legacy.findtext(f"{NS}DBSubnetGroup/{NS}DBSubnetGroupName") == "default"
        assert legacy.findtext(f"{NS}VpcSecurityGroups/{NS}VpcSecurityGroupMembership/{NS}Status") == "active"
        group = legacy.find(f"{NS}DBParameterGroups/{NS}DBParameterGroup")
        assert group.findtext(f"{NS}DBParameterGroupName").startswith("default.")
        assert group.findtext(f"{NS}ParameterApplyStatus") == "in-sync"
        assert describe(client, "legacy-stopped").findtext(f"{NS}DBInstanceStatus") == "stopped"
        events = ET.fromstring(client.post("/", data={"Action": "DescribeEvents", "Duration": "20160"}).data)
        assert len(events.findall(f".//{NS}Event")) == 3
        reboot = client.post("/", data={"Action": "RebootDBInstance", "DBInstanceIdentifier": "legacy"})
        assert reboot.status_code == 200
    finally:
        runtime.close()
    with sqlite3.connect(settings.data_dir / "emulator.sqlite") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0014",)]


def test_an_old_stopped_instance_is_started_by_itself_seven_days_after_it_stopped_not_by_the_upgrade(tmp_path):
    settings = old_data_dir(tmp_path)
    runtime = boot(settings, ManualClock(STOPPED_AT + timedelta(days=7) - timedelta(seconds=1)), schedule=False)
    try:
        client = Client(runtime.app)
        stopped = describe(client, "legacy-stopped")
        assert stopped.findtext(f"{NS}DBInstanceStatus") == "stopped"
        assert stopped.findtext(f"{NS}AutomaticRestartTime") == "2026-12-01T12:00:00.000Z"
    finally:
        runtime.close()
    runtime = boot(settings, ManualClock(STOPPED_AT + timedelta(days=7)), schedule=False)
    try:
        client = Client(runtime.app)
        # starting, then available: with no server behind it (the none driver), the start may be done already
        wait_for(lambda: describe(client, "legacy-stopped").findtext(f"{NS}DBInstanceStatus") == "available", 10,
                 "the instance started by itself")
        events = client.post("/", data={"Action": "DescribeEvents", "SourceType": "db-instance",
                                        "SourceIdentifier": "legacy-stopped", "Duration": "60"}).data
        assert b"DB instance started" in events
    finally:
        runtime.close()


def test_the_upgrade_settles_what_old_races_left(tmp_path):
    settings = old_data_dir(tmp_path, RACE_LEFTOVERS)
    Store(settings.database_url).close()
    with sqlite3.connect(settings.data_dir / "emulator.sqlite") as conn:
        active = conn.execute("SELECT id FROM tasks WHERE state IN ('queued', 'running')").fetchall()
        ports = conn.execute("SELECT port FROM instances ORDER BY created_at, identifier").fetchall()
    assert active == [(4,)]
    assert len(set(ports)) == 2


def test_migrations_end_at_the_declared_schema(tmp_path):
    for settings in (old_data_dir(tmp_path), Settings(data_dir=tmp_path / "fresh", driver="none", auth="off")):
        settings.data_dir.mkdir(exist_ok=True)
        store = Store(settings.database_url)
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        store.close()
