"""Option groups in the control plane (the none driver; tests/compat/test_option_groups.py runs the plugin on
a real server): a change left for the maintenance window waits there and is applied once; changes and deletes
made at once by many clients are decided by the store."""

from datetime import timedelta

from scheduler import jobs
from tests.api_client import NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

# The unit tests' clock starts on Tuesday 2026-11-24 at 12:00 UTC.
WINDOW = "sun:05:00-sun:05:30"
AUDIT = "MARIADB_AUDIT_PLUGIN"


def group(api, name="grp", engine="mariadb", major="10.11"):
    return api.ok(Action="CreateOptionGroup", OptionGroupName=name, EngineName=engine, MajorEngineVersion=major,
                  OptionGroupDescription="d")


def membership(api, identifier):
    found = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier)
    return [(m.findtext(f"{NS}OptionGroupName"), m.findtext(f"{NS}Status"))
            for m in found.iter(f"{NS}OptionGroupMembership")]


def include(api, setting=None, **extra):
    fields = {"Action": "ModifyOptionGroup", "OptionGroupName": "grp",
              "OptionsToInclude.member.1.OptionName": AUDIT, **extra}
    if setting:
        fields |= {"OptionsToInclude.member.1.OptionSettings.member.1.Name": setting[0],
                   "OptionsToInclude.member.1.OptionSettings.member.1.Value": setting[1]}
    return api.call(**fields)


def test_a_change_left_for_the_window_waits_and_is_applied_once(api, clock):
    group(api)
    api.create("db1", Engine="mariadb", EngineVersion="10.11", OptionGroupName="grp",
               PreferredMaintenanceWindow=WINDOW, BackupRetentionPeriod="0")
    api.wait_available("db1")
    assert membership(api, "db1") == [("grp", "in-sync")]
    assert include(api)[0].status_code == 200
    assert membership(api, "db1") == [("grp", "pending-apply")]
    jobs.tick(api.runtime.ctx)  # the watch leaves a change that waits for the window alone
    assert membership(api, "db1") == [("grp", "pending-apply")]
    clock.advance(timedelta(days=4, hours=17, minutes=1))  # Sunday 05:01
    jobs.maintenance_windows(api.runtime.ctx)
    wait_for(lambda: membership(api, "db1") == [("grp", "in-sync")] and api.status("db1") == "available", 10,
             "the window's change")
    assert api.runtime.ctx.store.find_instance("db1").server_options["server_audit_logging"] == "ON"


def test_changes_made_at_once_all_land_and_an_immediate_one_reaches_the_server(api):
    group(api)
    api.create("db2", Engine="mariadb", EngineVersion="10.11", OptionGroupName="grp", BackupRetentionPeriod="0")
    api.wait_available("db2")
    settings = [("SERVER_AUDIT_EVENTS", "CONNECT"), ("SERVER_AUDIT_QUERY_LOG_LIMIT", "99"),
                ("SERVER_AUDIT_FILE_ROTATIONS", "3"), ("SERVER_AUDIT_INCL_USERS", "app")]
    results = all_at_once(lambda setting: include(api, setting, ApplyImmediately="true")[0].status_code, settings)
    assert results == [200] * 4
    wait_for(lambda: (api.runtime.ctx.store.find_instance("db2").server_options.get("server_audit_events"),
                      api.runtime.ctx.store.find_instance("db2").server_options.get("server_audit_incl_users"))
             == ("CONNECT", "app"), 10, "every change on the server")
    options = api.runtime.ctx.store.find_instance("db2").server_options
    assert (options["server_audit_query_log_limit"], options["server_audit_file_rotations"]) == ("99", "3")


def test_a_group_deleted_as_an_instance_joins_it_is_one_or_the_other(api):
    for n in range(5):
        group(api, f"race{n}")

    def join(n):
        response, root = api.call(**{"Action": "CreateDBInstance", "DBInstanceIdentifier": f"joiner{n}",
                                     "DBInstanceClass": "db.t3.micro", "Engine": "mariadb", "EngineVersion": "10.11",
                                     "AllocatedStorage": "20", "MasterUsername": "admin",
                                     "MasterUserPassword": "secret123", "OptionGroupName": f"race{n}"})
        return "joined" if response.status_code == 200 else root.findtext(f"{NS}Error/{NS}Code")

    def delete(n):
        response, root = api.call(Action="DeleteOptionGroup", OptionGroupName=f"race{n}")
        return "deleted" if response.status_code == 200 else root.findtext(f"{NS}Error/{NS}Code")

    outcomes = all_at_once(lambda item: item[0](item[1]), [(f, n) for n in range(5) for f in (join, delete)])
    for n in range(5):
        joined, deleted = outcomes[2 * n], outcomes[2 * n + 1]
        # never both: an instance in a group that is gone
        assert (joined, deleted) in {("joined", "InvalidOptionGroupStateFault"),
                                     ("OptionGroupNotFoundFault", "deleted")}, (joined, deleted)


def test_a_setting_cannot_write_a_line_of_its_own_into_the_servers_option_file(api):
    group(api)
    for value in ("app\nplugin_load_add=evil", "a b", "\u00b2"):
        for setting in ("SERVER_AUDIT_INCL_USERS", "SERVER_AUDIT_FILE_ROTATIONS"):
            response, root = include(api, (setting, value))
            assert response.status_code == 400, (setting, value)
            assert root.findtext(f"{NS}Error/{NS}Code") == "InvalidParameterValue"
    assert include(api, ("SERVER_AUDIT_INCL_USERS", "app,report_user@%"))[0].status_code == 200
