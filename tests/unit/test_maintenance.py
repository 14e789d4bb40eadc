"""The maintenance window against the emulator's clock: changes sent with ApplyImmediately=false wait in
PendingModifiedValues (through reboots and restarts) and are applied once, in the first window after them,
or at once by a later change with ApplyImmediately=true; pending maintenance actions are listed and applied.
The none driver: what is tested here is the control plane (tests/integration covers real servers)."""

from datetime import timedelta

from emulator.drivers.base import DriverError
from scheduler import jobs
from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

# The unit tests' clock starts on Tuesday 2026-11-24 at 12:00 UTC.
WINDOW = "sun:05:00-sun:05:30"


def pending(api, identifier):
    found = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).find(f".//{NS}PendingModifiedValues")
    return {child.tag.removeprefix(NS): child.text for child in found}


def instance(api, identifier):
    return api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier).find(f".//{NS}DBInstance")


def test_deferred_changes_wait_for_the_window_and_are_applied_once(api, clock):
    api.create("db1", PreferredMaintenanceWindow=WINDOW, BackupRetentionPeriod="0")
    api.wait_available("db1")
    answer = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", DBInstanceClass="db.m5.large",
                    AllocatedStorage="50")
    assert answer.findtext(f".//{NS}DBInstanceStatus") == "available"
    assert answer.findtext(f".//{NS}PendingModifiedValues/{NS}DBInstanceClass") == "db.m5.large"
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", NewDBInstanceIdentifier="db1-renamed")
    api.ok(Action="RebootDBInstance", DBInstanceIdentifier="db1")
    api.wait_available("db1")
    assert pending(api, "db1") == {"DBInstanceClass": "db.m5.large", "AllocatedStorage": "50",
                                   "DBInstanceIdentifier": "db1-renamed"}
    assert instance(api, "db1").findtext(f"{NS}DBInstanceClass") == "db.t3.micro"

    clock.advance(timedelta(days=4, hours=16, minutes=59))  # Sunday 04:59: not yet
    jobs.maintenance_windows(api.runtime.ctx)
    assert api.status("db1") == "available" and pending(api, "db1")
    clock.advance(timedelta(minutes=2))
    jobs.maintenance_windows(api.runtime.ctx)
    wait_for(lambda: api.call(Action="DescribeDBInstances", DBInstanceIdentifier="db1-renamed")[0].status_code == 200
             and api.status("db1-renamed") == "available", 10, "the window's changes")
    applied = instance(api, "db1-renamed")
    assert applied.findtext(f"{NS}DBInstanceClass") == "db.m5.large"
    assert applied.findtext(f"{NS}AllocatedStorage") == "50"
    assert pending(api, "db1-renamed") == {}
    jobs.maintenance_windows(api.runtime.ctx)
    assert api.status("db1-renamed") == "available"
    events = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents", Duration="10080").iter(f"{NS}Event")]
    assert events.count("Applying modification to database instance class") == 1
    assert "Finished applying modification to allocated storage" in events
    assert "Renamed instance from db1 to db1-renamed" in events


def test_an_immediate_change_takes_the_waiting_ones_and_deferrals_racing_lose_nothing(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    changes = [{"DBInstanceClass": "db.m5.large"}, {"AllocatedStorage": "40"}, {"NewDBInstanceIdentifier": "db9"}]
    all_at_once(lambda fields: api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", **fields), changes)
    assert pending(api, "db1") == {"DBInstanceClass": "db.m5.large", "AllocatedStorage": "40",
                                   "DBInstanceIdentifier": "db9"}
    answer = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", ApplyImmediately="true",
                    AllocatedStorage="60")
    assert answer.findtext(f".//{NS}DBInstanceStatus") == "modifying"
    wait_for(lambda: api.call(Action="DescribeDBInstances", DBInstanceIdentifier="db9")[0].status_code == 200
             and api.status("db9") == "available", 10, "the changes")
    done = instance(api, "db9")
    assert (done.findtext(f"{NS}DBInstanceClass"), done.findtext(f"{NS}AllocatedStorage")) == ("db.m5.large", "60")
    assert pending(api, "db9") == {}


def test_a_deferred_rename_to_a_taken_name_is_refused(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.create("db2", BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.error(400, "DBInstanceAlreadyExists", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
              NewDBInstanceIdentifier="db2")


def test_a_newer_server_is_a_pending_upgrade_applied_at_once_or_in_the_window(api, clock):
    api.create("db1", PreferredMaintenanceWindow=WINDOW, BackupRetentionPeriod="0", AutoMinorVersionUpgrade="false")
    api.create("db2", PreferredMaintenanceWindow=WINDOW, BackupRetentionPeriod="0")
    api.wait_available("db1")
    api.wait_available("db2")
    root = api.ok(Action="DescribePendingMaintenanceActions")
    assert root.find(f".//{NS}ResourcePendingMaintenanceActions") is None
    ctx = api.runtime.ctx
    installed = instance(api, "db1").findtext(f"{NS}EngineVersion")
    older = installed.rsplit(".", 1)[0] + ".0"
    for name in ("db1", "db2"):  # as if created before the host's server was upgraded
        ctx.store.update_instance(ctx.store.find_instance(name).resource_id, engine_version=older)
    root = api.ok(Action="DescribePendingMaintenanceActions")
    actions = {r.findtext(f"{NS}ResourceIdentifier").rsplit(":", 1)[1]: r for r in
               root.iter(f"{NS}ResourcePendingMaintenanceActions")}
    assert set(actions) == {"db1", "db2"}
    assert actions["db1"].findtext(f".//{NS}Action") == "db-upgrade"
    assert actions["db1"].findtext(f".//{NS}Description") == f"Minor version upgrade to {installed}"
    assert actions["db1"].findtext(f".//{NS}CurrentApplyDate") is None  # not opted in, no auto upgrade
    assert actions["db2"].findtext(f".//{NS}CurrentApplyDate") == "2026-11-29T05:00:00.000Z"

    arn = "arn:aws:rds:us-east-1:123456789012:db:db1"
    api.error(400, "InvalidParameterValue", Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn,
              ApplyAction="system-update", OptInType="immediate")
    answer = api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn, ApplyAction="db-upgrade",
                    OptInType="next-maintenance")
    assert answer.findtext(f".//{NS}OptInStatus") == "next-maintenance"
    api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn, ApplyAction="db-upgrade",
           OptInType="undo-opt-in")
    api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn, ApplyAction="db-upgrade",
           OptInType="immediate")
    wait_for(lambda: instance(api, "db1").findtext(f"{NS}EngineVersion") == installed
             and api.status("db1") == "available", 10, "db1's upgrade")
    assert instance(api, "db2").findtext(f"{NS}EngineVersion") == older

    clock.advance(timedelta(days=4, hours=17, minutes=1))  # in Sunday's window: auto minor version upgrade
    jobs.maintenance_windows(ctx)
    # its events are written before the task ends: then the instance is available again
    wait_for(lambda: instance(api, "db2").findtext(f"{NS}EngineVersion") == installed
             and api.status("db2") == "available", 10, "db2's upgrade")
    events = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents", Duration="10080").iter(f"{NS}Event")]
    assert events.count("Finished applying off-line patches to DB instance") == 2
    assert api.ok(Action="DescribePendingMaintenanceActions").find(f".//{NS}ResourcePendingMaintenanceActions") is None


class SystemUpdates:
    """The none driver has no system of its own: this stands in for a driver with newer systems for some
    instances (the libvirt driver's, tested in tests/guests), and counts the moves it is asked for."""

    def __init__(self, ctx, failing=False):
        self.waiting: set[str] = set()
        self.moves: list[str] = []
        self.failing = failing
        ctx.driver.system_update = lambda spec: "New Operating System update is available" \
            if spec.resource_id in self.waiting else None
        ctx.driver.update_system = self.update

    def update(self, spec):
        self.moves.append(spec.identifier)
        if self.failing:
            raise DriverError("the new system did not start: it runs on its former system again")
        self.waiting.discard(spec.resource_id)


def action_rows(api):
    root = api.ok(Action="DescribePendingMaintenanceActions")
    return {(r.findtext(f"{NS}ResourceIdentifier").rsplit(":", 1)[1], a.findtext(f"{NS}Action")):
            (a.findtext(f"{NS}OptInStatus"), a.findtext(f"{NS}CurrentApplyDate"))
            for r in root.iter(f"{NS}ResourcePendingMaintenanceActions")
            for a in r.iter(f"{NS}PendingMaintenanceAction")}


def test_a_system_update_waits_for_its_own_opt_in_beside_an_upgrade(api, clock):
    api.create("db1", PreferredMaintenanceWindow=WINDOW, BackupRetentionPeriod="0", AutoMinorVersionUpgrade="false")
    api.wait_available("db1")
    ctx = api.runtime.ctx
    resource_id = ctx.store.find_instance("db1").resource_id
    updates = SystemUpdates(ctx)
    updates.waiting.add(resource_id)
    installed = instance(api, "db1").findtext(f"{NS}EngineVersion")
    ctx.store.update_instance(resource_id, engine_version=installed.rsplit(".", 1)[0] + ".0")
    assert action_rows(api) == {("db1", "db-upgrade"): ("pending", None), ("db1", "system-update"): ("pending", None)}

    arn = "arn:aws:rds:us-east-1:123456789012:db:db1"
    # opting in to both at once: each keeps its own choice
    all_at_once(lambda action: api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn,
                                      ApplyAction=action, OptInType="next-maintenance"),
                ["db-upgrade", "system-update"])
    window = "2026-11-29T05:00:00.000Z"
    assert action_rows(api) == {("db1", "db-upgrade"): ("next-maintenance", window),
                                ("db1", "system-update"): ("next-maintenance", window)}
    api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn, ApplyAction="db-upgrade",
           OptInType="undo-opt-in")
    assert action_rows(api) == {("db1", "db-upgrade"): ("pending", None),
                                ("db1", "system-update"): ("next-maintenance", window)}

    clock.advance(timedelta(days=4, hours=17, minutes=1))  # in Sunday's window
    jobs.maintenance_windows(ctx)
    wait_for(lambda: resource_id not in updates.waiting and api.status("db1") == "available", 10, "the update")
    jobs.maintenance_windows(ctx)
    assert updates.moves == ["db1"]
    assert action_rows(api) == {("db1", "db-upgrade"): ("pending", None)}
    events = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents", Duration="10080").iter(f"{NS}Event")]
    assert events.count("Applying off-line patches to DB instance") == 1
    assert events.count("Finished applying off-line patches to DB instance") == 1


def test_an_upgrade_that_needs_a_new_system_moves_the_instance_onto_it(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    ctx = api.runtime.ctx
    resource_id = ctx.store.find_instance("db1").resource_id
    installed = instance(api, "db1").findtext(f"{NS}EngineVersion")
    updates = SystemUpdates(ctx)
    updates.waiting.add(resource_id)
    ctx.store.update_instance(resource_id, engine_version=installed.rsplit(".", 1)[0] + ".0")
    api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier="arn:aws:rds:us-east-1:123456789012:db:db1",
           ApplyAction="db-upgrade", OptInType="immediate")
    wait_for(lambda: instance(api, "db1").findtext(f"{NS}EngineVersion") == installed
             and api.status("db1") == "available", 10, "the upgrade")
    assert updates.moves == ["db1"]
    assert action_rows(api) == {}


def test_a_system_update_that_fails_leaves_the_instance_available_and_the_update_pending(api):
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    ctx = api.runtime.ctx
    updates = SystemUpdates(ctx, failing=True)
    updates.waiting.add(ctx.store.find_instance("db1").resource_id)
    arn = "arn:aws:rds:us-east-1:123456789012:db:db1"
    answer = api.ok(Action="ApplyPendingMaintenanceAction", ResourceIdentifier=arn, ApplyAction="system-update",
                    OptInType="immediate")
    assert answer.findtext(f".//{NS}OptInStatus") == "immediate"
    wait_for(lambda: updates.moves and api.status("db1") == "available", 10, "the update's end")
    events = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents", Duration="10080").iter(f"{NS}Event")]
    assert "Off-line patches could not be applied to DB instance: the new system did not start: it runs on its " \
           "former system again" in events
    assert "Finished applying off-line patches to DB instance" not in events
    assert action_rows(api) == {("db1", "system-update"): ("pending", None)}
