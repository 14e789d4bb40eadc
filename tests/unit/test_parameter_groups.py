"""DB parameter groups through the API, in process, control plane only (`--driver none`): what a client
reads of groups and parameters, RDS's rules and errors, ParameterApplyStatus, events, and races."""

import pytest

from emulator.config import Settings
from emulator.runtime import boot
from emulator.work import parameters
from scheduler import jobs
from tests import api_client
from tests.api_client import CREATE, NS
from tests.emulator_process import wait_for
from tests.together import all_at_once

GROUP = {"Action": "CreateDBParameterGroup", "DBParameterGroupFamily": "mysql9.7", "Description": "tuned"}


class Api(api_client.Api):
    """The shared client, and what these tests read of groups and parameters."""

    def modify(self, group, *changes, **extra):
        fields = {"Action": "ModifyDBParameterGroup", "DBParameterGroupName": group} | extra
        for n, (name, value, method) in enumerate(changes, 1):
            fields |= {f"Parameters.Parameter.{n}.ParameterName": name,
                       f"Parameters.Parameter.{n}.ParameterValue": value,
                       f"Parameters.Parameter.{n}.ApplyMethod": method}
        return self.call(**fields)

    def parameters(self, group, **extra):
        """Every parameter of the group, page by page, as {name: {member: text}}."""
        found, marker = {}, None
        while True:
            fields = {"Action": "DescribeDBParameters", "DBParameterGroupName": group} | extra
            root = self.ok(**fields | ({"Marker": marker} if marker else {}))
            for item in root.iter(f"{NS}Parameter"):
                name = item.findtext(f"{NS}ParameterName")
                assert name not in found, f"{name} listed twice"
                found[name] = {child.tag.removeprefix(NS): child.text for child in item}
            marker = root.findtext(f".//{NS}Marker")
            if not marker:
                return found

    def group_status(self, identifier):
        root = self.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier)
        group = root.find(f".//{NS}DBParameterGroup")
        return group.findtext(f"{NS}DBParameterGroupName"), group.findtext(f"{NS}ParameterApplyStatus")

    def events(self, source_type):
        root = self.ok(Action="DescribeEvents", SourceType=source_type, Duration="60")
        return [(e.findtext(f"{NS}SourceIdentifier"), e.findtext(f"{NS}Message")) for e in root.iter(f"{NS}Event")]


@pytest.fixture
def api(tmp_path):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False)
    yield Api(runtime)
    runtime.close()


def test_default_groups_exist_and_list_every_parameter_of_the_server(api):
    root = api.ok(Action="DescribeDBParameterGroups")
    names = [g.findtext(f"{NS}DBParameterGroupName") for g in root.iter(f"{NS}DBParameterGroup")]
    assert {"default.mysql9.7"} <= set(names) and any(name.startswith("default.mariadb10.") for name in names)
    listed = api.parameters("default.mysql9.7")
    assert len(listed) > 500
    assert listed["max_connections"] | {"Description": None} == {
        "ParameterName": "max_connections", "ParameterValue": "100", "Description": None, "Source": "system",
        "ApplyType": "dynamic", "DataType": "integer", "AllowedValues": "1-100000", "IsModifiable": "true",
        "MinimumEngineVersion": listed["max_connections"]["MinimumEngineVersion"], "ApplyMethod": "pending-reboot",
    }
    assert listed["slow_query_log"]["Source"] == "engine-default" and "ParameterValue" not in listed["slow_query_log"]
    assert listed["slow_query_log"]["AllowedValues"] == "0,1" and listed["slow_query_log"]["DataType"] == "boolean"
    assert listed["performance_schema"]["ApplyType"] == "static"
    assert listed["log_output"]["ParameterValue"] == "TABLE"
    assert listed["datadir"]["IsModifiable"] == "false" and listed["port"]["IsModifiable"] == "false"
    assert all(item["Description"] is not None or name for name, item in listed.items())
    defaults = api.ok(Action="DescribeEngineDefaultParameters", DBParameterGroupFamily="mysql9.7", MaxRecords="20")
    assert defaults.findtext(f".//{NS}DBParameterGroupFamily") == "mysql9.7"
    assert len(defaults.findall(f".//{NS}Parameter")) == 20 and defaults.findtext(f".//{NS}Marker")
    assert "cannot be modified" in api.error(400, "InvalidDBParameterGroupState", Action="ModifyDBParameterGroup",
                                             DBParameterGroupName="default.mysql9.7",
                                             **{"Parameters.Parameter.1.ParameterName": "max_connections",
                                                "Parameters.Parameter.1.ParameterValue": "50",
                                                "Parameters.Parameter.1.ApplyMethod": "immediate"})
    api.error(400, "InvalidDBParameterGroupState", Action="DeleteDBParameterGroup",
              DBParameterGroupName="default.mysql9.7")


def test_groups_are_created_copied_described_and_deleted_with_rds_errors(api):
    root = api.ok(**GROUP, DBParameterGroupName="My-Custom", **{"Tags.Tag.1.Key": "team", "Tags.Tag.1.Value": "db"})
    assert root.findtext(f".//{NS}DBParameterGroupName") == "my-custom"
    arn = root.findtext(f".//{NS}DBParameterGroupArn")
    assert arn == "arn:aws:rds:us-east-1:123456789012:pg:my-custom"
    tags = api.ok(Action="ListTagsForResource", ResourceName=arn)
    assert tags.findtext(f".//{NS}Tag/{NS}Value") == "db"
    api.error(400, "DBParameterGroupAlreadyExists", **GROUP, DBParameterGroupName="my-custom")
    assert "family" in api.error(400, "InvalidParameterValue", **GROUP | {"DBParameterGroupFamily": "oracle-ee-19"},
                                 DBParameterGroupName="other")
    api.error(400, "InvalidParameterValue", **GROUP, DBParameterGroupName="two--hyphens")
    api.error(400, "InvalidParameterValue", **GROUP, DBParameterGroupName="default.mine")
    api.modify("my-custom", ("max_connections", "200", "immediate"))
    copied = api.ok(Action="CopyDBParameterGroup", SourceDBParameterGroupIdentifier=arn,
                    TargetDBParameterGroupIdentifier="copied", TargetDBParameterGroupDescription="a copy")
    assert copied.findtext(f".//{NS}DBParameterGroupFamily") == "mysql9.7"
    assert api.parameters("copied", Source="user")["max_connections"]["ParameterValue"] == "200"
    page = api.ok(Action="DescribeDBParameterGroups", MaxRecords="20")
    assert [g.findtext(f"{NS}DBParameterGroupName") for g in page.iter(f"{NS}DBParameterGroup")] == sorted(
        g.findtext(f"{NS}DBParameterGroupName") for g in page.iter(f"{NS}DBParameterGroup"))
    only = api.ok(Action="DescribeDBParameterGroups", **{"Filters.Filter.1.Name": "db-parameter-group-family",
                                                         "Filters.Filter.1.Values.Value.1": "mysql9.7"})
    assert {g.findtext(f"{NS}DBParameterGroupFamily") for g in only.iter(f"{NS}DBParameterGroup")} == {"mysql9.7"}
    api.ok(Action="DeleteDBParameterGroup", DBParameterGroupName="copied")
    api.error(404, "DBParameterGroupNotFound", Action="DeleteDBParameterGroup", DBParameterGroupName="copied")
    api.error(404, "DBParameterGroupNotFound", Action="DescribeDBParameters", DBParameterGroupName="copied")


def test_each_family_lists_its_own_servers_parameters(api):
    """The catalogue is read from each engine version's own server: MySQL's has what MariaDB lacks, and the
    other way round."""
    mysql, mariadb = api.parameters("default.mysql9.7"), api.parameters("default.mariadb11.8")
    assert "innodb_dedicated_server" in mysql and "innodb_dedicated_server" not in mariadb
    assert "aria_pagecache_buffer_size" in mariadb and "aria_pagecache_buffer_size" not in mysql
    assert mysql["innodb_redo_log_capacity"]["Source"] == "system" and "innodb_log_file_size" not in mysql
    assert mariadb["innodb_log_file_size"]["Source"] == "system"
    assert mysql["max_connections"]["MinimumEngineVersion"].startswith("9.7.")
    assert mariadb["max_connections"]["MinimumEngineVersion"].startswith("11.8.")


def test_values_are_checked_against_the_catalogue_before_they_are_stored(api):
    api.ok(**GROUP, DBParameterGroupName="checked")

    def refused(code, *change):
        response, root = api.modify("checked", change)
        assert root.findtext(f"{NS}Error/{NS}Code") == code, response.data
        return root.findtext(f"{NS}Error/{NS}Message")

    assert refused("InvalidParameterValue", "no_such_thing", "1", "immediate") == (
        "Could not find parameter with name: no_such_thing")
    assert "outside of range: 1-100000" in refused("InvalidParameterValue", "max_connections", "0", "immediate")
    assert "outside of range: 0,1" in refused("InvalidParameterValue", "slow_query_log", "maybe", "immediate")
    assert "outside of range" in refused("InvalidParameterValue", "log_output", "SYSLOG", "immediate")
    assert "cannot be modified" in refused("InvalidParameterValue", "datadir", "/tmp", "pending-reboot")
    assert refused("InvalidParameterCombination", "performance_schema", "1", "immediate") == (
        "cannot use immediate apply method for static parameter")
    refused("InvalidParameterValue", "init_connect", "SET a=1\ninit_file=/x", "immediate")
    refused("InvalidParameterValue", "max_connections", "1_000", "immediate")
    refused("InvalidParameterValue", "max_connections", "100", "sometime")
    response, root = api.modify("checked", *[("max_connections", str(100 + n), "immediate") for n in range(21)])
    assert root.findtext(f"{NS}Error/{NS}Code") == "InvalidParameterValue"
    assert api.parameters("checked", Source="user") == {}
    ok, _ = api.modify("checked", ("slow_query_log", "ON", "immediate"), ("long_query_time", "2.5", "immediate"),
                       ("innodb_buffer_pool_size", "{DBInstanceClassMemory*3/4}", "pending-reboot"),
                       ("sql_mode", "STRICT_ALL_TABLES,NO_ZERO_DATE", "immediate"))
    assert ok.status_code == 200
    user = api.parameters("checked", Source="user")
    assert {name: (item["ParameterValue"], item["ApplyMethod"]) for name, item in user.items()} == {
        "slow_query_log": ("ON", "immediate"), "long_query_time": ("2.5", "immediate"),
        "innodb_buffer_pool_size": ("{DBInstanceClassMemory*3/4}", "pending-reboot"),
        "sql_mode": ("STRICT_ALL_TABLES,NO_ZERO_DATE", "immediate"),
    }


def test_an_instance_follows_its_group_from_pending_reboot_to_in_sync(api):
    api.ok(**GROUP, DBParameterGroupName="my-custom")
    api.ok(**CREATE, DBInstanceIdentifier="db1")
    api.wait_available("db1")
    assert api.group_status("db1") == ("default.mysql9.7", "in-sync")
    api.error(404, "DBParameterGroupNotFound", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
              DBParameterGroupName="nope")
    api.ok(**GROUP | {"DBParameterGroupFamily": "mariadb11.8"}, DBParameterGroupName="maria")
    assert "cannot be used for this instance" in api.error(
        400, "InvalidParameterCombination", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
        DBParameterGroupName="maria")
    api.modify("my-custom", ("long_query_time", "7", "immediate"))
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", DBParameterGroupName="my-custom")
    assert api.group_status("db1") == ("my-custom", "pending-reboot")
    # the new group's immediate values wait for the reboot too, however often the watch or a task looks
    jobs.watch_servers(api.runtime.ctx)
    parameters.apply(api.runtime.ctx, api.runtime.ctx.store.get_parameter_group("my-custom"), None)
    assert api.runtime.ctx.store.find_instance("db1").server_parameters == {}
    assert "InvalidDBParameterGroupState" in api.call(Action="DeleteDBParameterGroup",
                                                      DBParameterGroupName="my-custom")[0].data.decode()
    assert api.status("db1") == "available"
    api.ok(Action="RebootDBInstance", DBInstanceIdentifier="db1")
    wait_for(lambda: api.group_status("db1") == ("my-custom", "in-sync"), 30, "in-sync after the reboot")
    api.modify("my-custom", ("performance_schema", "1", "pending-reboot"))
    assert api.group_status("db1") == ("my-custom", "pending-reboot")
    api.ok(Action="RebootDBInstance", DBInstanceIdentifier="db1")
    wait_for(lambda: api.group_status("db1") == ("my-custom", "in-sync"), 30, "in-sync after the second reboot")
    api.modify("my-custom", ("long_query_time", "3", "immediate"))
    wait_for(lambda: api.group_status("db1") == ("my-custom", "in-sync"), 30, "the immediate change applied")
    api.ok(Action="ResetDBParameterGroup", DBParameterGroupName="my-custom", ResetAllParameters="true")
    assert api.parameters("my-custom", Source="user") == {}
    # the dynamic parameter goes back at once, the static one waits for a reboot
    wait_for(lambda: api.group_status("db1") == ("my-custom", "pending-reboot"), 30, "the static reset pending")
    assert api.events("db-parameter-group") == [
        ("my-custom", "Updated parameter long_query_time to 7 with apply method immediate"),
        ("my-custom", "Updated parameter performance_schema to 1 with apply method pending-reboot"),
        ("my-custom", "Updated parameter long_query_time to 3 with apply method immediate"),
        ("my-custom", "Reset all parameters"),
    ]
    messages = [message for source, message in api.events("db-instance") if source == "db1"]
    assert messages.index("Updated to use DBParameterGroup my-custom") < messages.index("DB instance restarted")
    assert "Finished updating DB parameter group" in messages


def test_a_group_is_never_deleted_under_an_instance_that_moves_into_it(api):
    api.ok(**CREATE, DBInstanceIdentifier="db1")
    api.wait_available("db1")
    for round_ in range(8):
        name = f"racing-{round_}"
        api.ok(**GROUP, DBParameterGroupName=name)
        move = {"Action": "ModifyDBInstance", "DBInstanceIdentifier": "db1", "DBParameterGroupName": name}
        delete = {"Action": "DeleteDBParameterGroup", "DBParameterGroupName": name}
        moved, deleted = all_at_once(lambda fields: api.client.post("/", data=fields).status_code, [move, delete])
        group, _ = api.group_status("db1")
        # exactly one of them won, and the instance never names a group that is gone
        assert (moved, deleted) in ((200, 400), (404, 200))
        assert (group == name) == (moved == 200)
        exists = api.call(Action="DescribeDBParameterGroups", DBParameterGroupName=group)[0].status_code
        assert exists == 200


def test_concurrent_changes_to_one_group_are_all_kept(api):
    api.ok(**GROUP, DBParameterGroupName="busy")
    changes = [("max_connections", "150"), ("long_query_time", "4"), ("slow_query_log", "1"),
               ("general_log", "1"), ("wait_timeout", "600"), ("interactive_timeout", "700"),
               ("max_allowed_packet", "33554432"), ("sort_buffer_size", "524288")]
    statuses = all_at_once(lambda change: api.modify("busy", (*change, "immediate"))[0].status_code, changes)
    assert statuses == [200] * len(changes)
    user = api.parameters("busy", Source="user")
    assert {name: item["ParameterValue"] for name, item in user.items()} == dict(changes)
    updated = [message for _, message in api.events("db-parameter-group")]
    assert len(updated) == len(changes)


def test_racing_creates_copies_and_resets_of_one_group(api):
    results = all_at_once(lambda fields: api.call(**fields), [GROUP | {"DBParameterGroupName": "one"}] * 10)
    codes = sorted(root.findtext(f"{NS}Error/{NS}Code") or "ok" for _, root in results)
    assert codes == ["DBParameterGroupAlreadyExists"] * 9 + ["ok"]
    copy = {"Action": "CopyDBParameterGroup", "SourceDBParameterGroupIdentifier": "one",
            "TargetDBParameterGroupIdentifier": "two", "TargetDBParameterGroupDescription": "copy"}
    results = all_at_once(lambda fields: api.call(**fields), [copy] * 6)
    assert sorted(root.findtext(f"{NS}Error/{NS}Code") or "ok" for _, root in results) == (
        ["DBParameterGroupAlreadyExists"] * 5 + ["ok"])
    modify = {"Action": "ModifyDBParameterGroup", "DBParameterGroupName": "one",
              "Parameters.Parameter.1.ParameterName": "wait_timeout", "Parameters.Parameter.1.ParameterValue": "60",
              "Parameters.Parameter.1.ApplyMethod": "immediate"}
    reset = {"Action": "ResetDBParameterGroup", "DBParameterGroupName": "one", "ResetAllParameters": "true"}
    delete = {"Action": "DeleteDBParameterGroup", "DBParameterGroupName": "one"}
    statuses = [response.status_code for response, _ in all_at_once(
        lambda fields: api.call(**fields), [modify, reset, modify, reset, delete])]
    assert all(status in (200, 404) for status in statuses) and statuses[-1] == 200
    api.error(404, "DBParameterGroupNotFound", Action="DescribeDBParameters", DBParameterGroupName="one")
    assert api.runtime.ctx.store.group_values(["one"]) == {"one": {}}


def test_log_files_of_an_instance_without_a_server(api):
    api.ok(**CREATE, DBInstanceIdentifier="db1")
    api.wait_available("db1")
    root = api.ok(Action="DescribeDBLogFiles", DBInstanceIdentifier="db1")
    assert root.findall(f".//{NS}DescribeDBLogFilesDetails") == []
    assert "is not found" in api.error(404, "DBLogFileNotFoundFault", Action="DownloadDBLogFilePortion",
                                       DBInstanceIdentifier="db1", LogFileName="error/mysql-error.log")
    api.error(404, "DBInstanceNotFound", Action="DescribeDBLogFiles", DBInstanceIdentifier="nope")

