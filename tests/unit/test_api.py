"""The API end to end in-process, control plane only (`--driver none`): errors, filters, paging, tags, events."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from emulator.config import Settings
from emulator.model import engine_versions
from emulator.runtime import boot
from scheduler import jobs
from tests.api_client import CREATE, NS, Api
from tests.emulator_process import wait_for


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"DBInstanceIdentifier": "1abc"}, "must begin with a letter"),
        ({"DBInstanceIdentifier": "a--b"}, "two consecutive hyphens"),
        ({"DBInstanceIdentifier": "ab-"}, "must not end with a hyphen"),
        ({"DBInstanceIdentifier": "a" * 64}, "not a valid identifier"),
        ({"Engine": "oracle-ee"}, "Invalid DB engine: oracle-ee"),
        ({"DBInstanceClass": "db.x9.huge"}, "Invalid DB Instance class: db.x9.huge"),
        ({"AllocatedStorage": "5"}, "Invalid storage size for engine name mysql and storage type gp2: 5"),
        ({"AllocatedStorage": "70000"}, "Invalid storage size"),
        ({"AllocatedStorage": "abc"}, "expected an integer"),
        ({"MasterUserPassword": "short"}, "shorter than 8 characters"),
        ({"MasterUserPassword": "has/slash1"}, "Only printable ASCII"),
        ({"MasterUsername": "1admin"}, "MasterUsername"),
        ({"MasterUsername": "rdsadmin"}, "reserved word"),
        ({"PreferredBackupWindow": "03:00-03:10"}, "at least 30 minutes"),
        ({"PreferredBackupWindow": "03:00-04:00", "PreferredMaintenanceWindow": "mon:03:30-mon:04:30"},
         "must not overlap"),
        ({"BackupRetentionPeriod": "36"}, "between 0 and 35"),
        ({"AvailabilityZone": "eu-west-1a"}, "Invalid availability zone"),
        ({"Port": "80"}, "Invalid port"),
        ({"MaxAllocatedStorage": "10"}, "Max storage size must be greater than storage size"),
        ({"EnablePerformanceInsights": "true"}, "EnablePerformanceInsights only as False"),
        ({"Domain": "corp"}, "The parameter Domain of CreateDBInstance is not supported"),
        ({"VpcSecurityGroupIds.member.1": "default"}, "Invalid security group"),
    ],
)
def test_create_rejects_bad_input_with_invalid_parameter_value(api, extra, fragment):
    message = api.error(400, "InvalidParameterValue", **(CREATE | {"DBInstanceIdentifier": "db1"} | extra))
    assert fragment in message
    assert "secret123" not in message


def test_create_missing_members(api):
    api.error(400, "MissingParameter", Action="CreateDBInstance", DBInstanceIdentifier="db1")
    fields = CREATE | {"DBInstanceIdentifier": "db1"}
    del fields["MasterUserPassword"]
    assert "MasterUserPassword must be provided" in api.error(400, "InvalidParameterValue", **fields)


def test_create_unknown_version_and_parameter_group(api):
    api.error(400, "InvalidParameterCombination", **(CREATE | {"DBInstanceIdentifier": "a", "EngineVersion": "5.1.9"}))
    api.error(404, "DBParameterGroupNotFound", **(CREATE | {"DBInstanceIdentifier": "a", "DBParameterGroupName": "x"}))


def test_create_answers_creating_then_available_with_defaults(api):
    root = api.create("MyDB", Engine="MariaDB")
    instance = root.find(f".//{NS}DBInstance")
    assert instance.findtext(f"{NS}DBInstanceIdentifier") == "mydb"
    assert instance.findtext(f"{NS}Engine") == "mariadb"
    assert instance.findtext(f"{NS}DBInstanceStatus") == "creating"
    assert instance.find(f"{NS}Endpoint") is None
    assert instance.findtext(f"{NS}DBInstanceArn") == "arn:aws:rds:us-east-1:123456789012:db:mydb"
    assert instance.findtext(f"{NS}DbiResourceId").startswith("db-")
    assert instance.findtext(f"{NS}BackupRetentionPeriod") == "1"
    assert instance.findtext(f"{NS}DBParameterGroups/{NS}DBParameterGroup/{NS}DBParameterGroupName").startswith(
        "default.mariadb"
    )
    api.wait_available("mydb")
    described = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="mydb").find(f".//{NS}DBInstance")
    assert described.findtext(f"{NS}Endpoint/{NS}Address") == "127.0.0.1"
    assert described.findtext(f"{NS}InstanceCreateTime") == "2026-11-24T12:00:00.000Z"
    api.error(400, "DBInstanceAlreadyExists", **(CREATE | {"DBInstanceIdentifier": "mydb"}))


def test_not_found_and_wrong_state(api):
    assert api.error(404, "DBInstanceNotFound", Action="DescribeDBInstances", DBInstanceIdentifier="nope") == (
        "DBInstance nope not found."
    )
    api.error(404, "DBInstanceNotFound", Action="RebootDBInstance", DBInstanceIdentifier="nope")
    api.create("db1")
    api.wait_available("db1")
    api.error(400, "InvalidDBInstanceState", Action="StartDBInstance", DBInstanceIdentifier="db1")
    api.ok(Action="StopDBInstance", DBInstanceIdentifier="db1")
    wait_for(lambda: api.status("db1") == "stopped", 10, "stopped")
    api.error(400, "InvalidDBInstanceState", Action="StopDBInstance", DBInstanceIdentifier="db1")
    api.error(400, "InvalidDBInstanceState", Action="RebootDBInstance", DBInstanceIdentifier="db1")
    api.error(400, "InvalidDBInstanceState", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
              BackupRetentionPeriod="3")


def test_delete_needs_skip_final_snapshot_and_respects_deletion_protection(api):
    api.create("db1", DeletionProtection="true")
    api.wait_available("db1")
    api.error(400, "InvalidParameterCombination", Action="DeleteDBInstance", DBInstanceIdentifier="db1")
    assert "Cannot specify both" in api.error(
        400, "InvalidParameterCombination", Action="DeleteDBInstance", DBInstanceIdentifier="db1",
        FinalDBSnapshotIdentifier="final", SkipFinalSnapshot="true",
    )
    assert "deletion protection" in api.error(
        400, "InvalidParameterCombination", Action="DeleteDBInstance", DBInstanceIdentifier="db1",
        FinalDBSnapshotIdentifier="final",
    )
    assert "deletion protection" in api.error(
        400, "InvalidParameterCombination", Action="DeleteDBInstance", DBInstanceIdentifier="db1",
        SkipFinalSnapshot="true",
    )
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", DeletionProtection="false")
    root = api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="db1", SkipFinalSnapshot="true")
    assert root.findtext(f".//{NS}DBInstanceStatus") == "deleting"
    wait_for(lambda: api.call(Action="DescribeDBInstances", DBInstanceIdentifier="db1")[0].status_code == 404,
             10, "deleted")


def test_modify_immediately_and_refusals(api):
    api.create("db1", BackupRetentionPeriod="1")
    api.wait_available("db1")
    assert api.error(400, "InvalidParameterCombination", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
                     EngineVersion="8.0.36").startswith("Cannot find version 8.0.36 for mysql")
    answer = api.ok(
        Action="ModifyDBInstance", DBInstanceIdentifier="db1", ApplyImmediately="true",
        DBInstanceClass="db.m5.large", AllocatedStorage="50", BackupRetentionPeriod="0",
        PreferredBackupWindow="05:00-05:30", PreferredMaintenanceWindow="Sun:06:00-Sun:06:30",
    ).find(f".//{NS}DBInstance")
    assert answer.findtext(f"{NS}DBInstanceStatus") == "modifying"
    assert answer.findtext(f"{NS}DBInstanceClass") == "db.t3.micro"
    assert answer.findtext(f"{NS}PendingModifiedValues/{NS}DBInstanceClass") == "db.m5.large"
    assert answer.findtext(f"{NS}PendingModifiedValues/{NS}AllocatedStorage") == "50"
    assert answer.findtext(f"{NS}BackupRetentionPeriod") == "0"
    api.wait_available("db1")
    instance = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1").find(f".//{NS}DBInstance")
    assert list(instance.find(f"{NS}PendingModifiedValues")) == []
    assert instance.findtext(f"{NS}DBInstanceClass") == "db.m5.large"
    assert instance.findtext(f"{NS}AllocatedStorage") == "50"
    assert instance.findtext(f"{NS}BackupRetentionPeriod") == "0"
    assert instance.findtext(f"{NS}PreferredBackupWindow") == "05:00-05:30"
    assert instance.findtext(f"{NS}PreferredMaintenanceWindow") == "sun:06:00-sun:06:30"
    messages = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents").iter(f"{NS}Event")]
    assert "Finished applying modification to DB instance class" in messages
    assert "Finished applying modification to allocated storage" in messages
    assert "Disabled automated backups" in messages


def test_modify_parameter_group_is_pending_reboot_until_reboot(api):
    root = api.create("db1")
    group = root.findtext(f".//{NS}DBParameterGroupName")
    api.wait_available("db1")
    api.error(404, "DBParameterGroupNotFound", Action="ModifyDBInstance", DBInstanceIdentifier="db1",
              DBParameterGroupName="custom")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", ApplyImmediately="true",
           BackupRetentionPeriod="7")
    api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="db1", DBParameterGroupName=group)
    assert api.ok(Action="DescribeDBInstances").findtext(f".//{NS}ParameterApplyStatus") == "in-sync"


def test_rename(api):
    api.create("old")
    api.wait_available("old")
    root = api.ok(Action="ModifyDBInstance", DBInstanceIdentifier="old", NewDBInstanceIdentifier="New",
                  ApplyImmediately="true")
    assert root.findtext(f".//{NS}DBInstanceIdentifier") == "new"
    api.error(404, "DBInstanceNotFound", Action="DescribeDBInstances", DBInstanceIdentifier="old")
    assert api.status("new") == "available"


def test_describe_filters_and_paging(api):
    for i in range(25):
        api.create(f"db{i:02d}", Engine="mariadb" if i % 5 == 0 else "mysql")
    first = api.ok(Action="DescribeDBInstances", MaxRecords="20")
    names = [e.text for e in first.iter(f"{NS}DBInstanceIdentifier")]
    marker = first.findtext(f".//{NS}Marker")
    assert len(names) == 20 and marker
    second = api.ok(Action="DescribeDBInstances", MaxRecords="20", Marker=marker)
    names += [e.text for e in second.iter(f"{NS}DBInstanceIdentifier")]
    assert names == [f"db{i:02d}" for i in range(25)]
    assert second.find(f".//{NS}Marker") is None
    engine = api.ok(**{"Action": "DescribeDBInstances", "Filters.Filter.1.Name": "engine",
                       "Filters.Filter.1.Values.Value.1": "mariadb"})
    assert [e.text for e in engine.iter(f"{NS}DBInstanceIdentifier")] == ["db00", "db05", "db10", "db15", "db20"]
    by_arn = api.ok(**{"Action": "DescribeDBInstances", "Filters.member.1.Name": "db-instance-id",
                       "Filters.member.1.Values.member.1": "arn:aws:rds:us-east-1:123456789012:db:db03"})
    resource_id = by_arn.findtext(f".//{NS}DbiResourceId")
    by_resource = api.ok(**{"Action": "DescribeDBInstances", "Filters.member.1.Name": "dbi-resource-id",
                            "Filters.member.1.Values.member.1": resource_id})
    assert [e.text for e in by_resource.iter(f"{NS}DBInstanceIdentifier")] == ["db03"]
    api.error(400, "InvalidParameterValue", Action="DescribeDBInstances", MaxRecords="10")
    api.error(400, "InvalidParameterValue", Action="DescribeDBInstances", MaxRecords="101")
    api.error(400, "InvalidParameterValue", Action="DescribeDBInstances", Marker="!!!")
    api.error(400, "InvalidParameterValue", **{"Action": "DescribeDBInstances", "Filters.member.1.Name": "color",
                                               "Filters.member.1.Values.member.1": "red"})


def test_tags(api):
    api.create("db1", **{"Tags.member.1.Key": "team", "Tags.member.1.Value": "data"})
    arn = "arn:aws:rds:us-east-1:123456789012:db:db1"
    api.ok(**{"Action": "AddTagsToResource", "ResourceName": arn, "Tags.Tag.1.Key": "env",
              "Tags.Tag.1.Value": "test", "Tags.Tag.2.Key": "team", "Tags.Tag.2.Value": "ops"})
    listed = api.ok(Action="ListTagsForResource", ResourceName=arn)
    assert [(t.findtext(f"{NS}Key"), t.findtext(f"{NS}Value")) for t in listed.iter(f"{NS}Tag")] == [
        ("team", "ops"), ("env", "test"),
    ]
    described = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="db1")
    assert [t.findtext(f"{NS}Key") for t in described.iter(f"{NS}Tag")] == ["team", "env"]
    api.create("bare")
    described = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier="bare")
    assert described.find(f".//{NS}TagList") is not None and not list(described.iter(f"{NS}Tag"))
    api.ok(**{"Action": "RemoveTagsFromResource", "ResourceName": arn, "TagKeys.member.1": "team"})
    listed = api.ok(Action="ListTagsForResource", ResourceName=arn)
    assert [t.findtext(f"{NS}Key") for t in listed.iter(f"{NS}Tag")] == ["env"]
    api.error(404, "DBInstanceNotFound", Action="ListTagsForResource",
              ResourceName="arn:aws:rds:us-east-1:123456789012:db:other")
    api.error(400, "InvalidParameterValue", Action="ListTagsForResource", ResourceName="db1")
    api.error(400, "InvalidParameterValue", **{"Action": "AddTagsToResource", "ResourceName": arn,
                                               "Tags.Tag.1.Key": "aws:x", "Tags.Tag.1.Value": "y"})


def test_events_default_hour_duration_retention_and_filters(api, clock):
    # no automated backups: their events are not what this test counts
    api.create("db1", BackupRetentionPeriod="0")
    api.wait_available("db1")
    clock.advance(timedelta(minutes=90))
    api.create("db2", BackupRetentionPeriod="0")
    api.wait_available("db2")

    def sources(**fields):
        root = api.ok(Action="DescribeEvents", **fields)
        return [e.findtext(f"{NS}SourceIdentifier") for e in root.iter(f"{NS}Event")]

    assert sources() == ["db2"]
    assert sources(Duration="120") == ["db1", "db2"]
    assert sources(Duration="120", SourceType="db-instance", SourceIdentifier="db1") == ["db1"]
    assert sources(Duration="120", **{"EventCategories.member.1": "deletion"}) == []
    assert sources(StartTime="2026-11-24T11:59:00Z", EndTime="2026-11-24T12:30:00Z") == ["db1"]
    api.error(400, "InvalidParameterCombination", Action="DescribeEvents", SourceIdentifier="db1")
    clock.advance(timedelta(days=15))
    assert sources(StartTime="2026-11-01T00:00:00Z") == []


def test_events_are_paged(api):
    for i in range(12):
        api.create(f"db{i:02d}", BackupRetentionPeriod="0")
    wait_for(lambda: len(list(api.ok(Action="DescribeEvents").iter(f"{NS}Event"))) == 12, 10, "12 events")
    first = api.ok(Action="DescribeEvents", MaxRecords="20")
    assert first.find(f".//{NS}Marker") is None
    for i in range(12, 25):
        api.create(f"db{i:02d}", BackupRetentionPeriod="0")
    wait_for(lambda: len(list(api.ok(Action="DescribeEvents").iter(f"{NS}Event"))) == 25, 10, "25 events")
    page = api.ok(Action="DescribeEvents", MaxRecords="20")
    rest = api.ok(Action="DescribeEvents", MaxRecords="20", Marker=page.findtext(f".//{NS}Marker"))
    assert len(list(page.iter(f"{NS}Event"))) == 20 and len(list(rest.iter(f"{NS}Event"))) == 5


def test_event_categories(api):
    root = api.ok(Action="DescribeEventCategories", SourceType="db-snapshot")
    assert [e.text for e in root.iter(f"{NS}EventCategory")] == ["creation", "deletion", "notification", "restoration"]
    root = api.ok(Action="DescribeEventCategories")
    assert {e.text for e in root.iter(f"{NS}SourceType")} == {
        "db-instance", "db-parameter-group", "db-security-group", "db-snapshot"
    }


def test_engine_versions_and_orderable_options(api):
    root = api.ok(Action="DescribeDBEngineVersions")
    listed = {v.findtext(f"{NS}EngineVersion"): v for v in root.iter(f"{NS}DBEngineVersion")}
    previous, current, newer, mysql = (engine_versions.of(engine, version).nominal for engine, version in (
        ("mariadb", "10.11.18"), ("mariadb", "10.11"), ("mariadb", "11.8"), ("mysql", None)))
    assert list(listed) == [previous, current, newer, mysql]
    assert [v.findtext(f"{NS}DBParameterGroupFamily") for v in listed.values()] == [
        "mariadb10.11", "mariadb10.11", "mariadb11.8", "mysql9.7"]

    def targets(version):
        return [(t.findtext(f"{NS}EngineVersion"), t.findtext(f"{NS}IsMajorVersionUpgrade"),
                 t.findtext(f"{NS}AutoUpgrade")) for t in listed[version].iter(f"{NS}UpgradeTarget")]

    # the older minor's automatic upgrade goes to the current one; then the major upgrade to 11.8
    assert targets(previous) == [(current, "false", "true"), (newer, "true", "false")]
    assert targets(current) == [(newer, "true", "false")]
    assert targets(newer) == targets(mysql) == []
    root = api.ok(Action="DescribeDBEngineVersions", Engine="mysql")
    assert [v.text for v in root.iter(f"{NS}Engine")] == ["mysql"]
    root = api.ok(Action="DescribeDBEngineVersions", Engine="mariadb", DefaultOnly="true")
    assert [v.findtext(f"{NS}EngineVersion") for v in root.iter(f"{NS}DBEngineVersion")] == [current]
    root = api.ok(Action="DescribeOrderableDBInstanceOptions", Engine="mysql", DBInstanceClass="db.t3.micro")
    kinds = {o.findtext(f"{NS}StorageType"): o for o in root.iter(f"{NS}OrderableDBInstanceOption")}
    assert kinds["gp2"].findtext(f"{NS}MinStorageSize") == "20"
    assert kinds["standard"].findtext(f"{NS}MinStorageSize") == "5"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"Action": ""},
        {"Action": "CreateDBInstance", "DBInstanceIdentifier.Foo": "x"},
        {"Action": "DescribeDBInstances", "Filters.member.1.Values.member.1": "x"},
        {"Action": "DescribeEvents", "Duration": "-5"},
        {"Action": "DescribeEvents", "StartTime": "2026-01-02T00:00:00Z", "EndTime": "2026-01-01T00:00:00Z"},
        {"Action": "ListTagsForResource", "ResourceName": "arn:aws:rds:us-east-1:123456789012:pg:x"},
        {"Action": "DescribeDBEngineVersions", "Marker": "eA=="},
        {"Action": "DescribeEventCategories", "SourceType": "db-rocket"},
    ],
)
def test_bad_input_never_gets_a_500_or_html(api, fields):
    response, root = api.call(**fields)
    assert 400 <= response.status_code < 500
    assert root.tag == f"{NS}ErrorResponse"


def test_get_query_strings_and_other_paths_and_methods(api):
    response = api.client.get("/?Action=DescribeDBInstances&Version=2013-05-15")
    assert response.status_code == 200
    response = api.client.put("/")
    assert response.status_code == 405 and b"<ErrorResponse" in response.data
    response = api.client.post(
        "/", data=b"Action=DescribeDBInstances&x=%ff", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200


def test_an_old_sdks_version_is_answered_in_its_own_namespace(api):
    api.create("db1")
    old = "?Action=DescribeDBInstances&Version=2013-05-15&Filters.member.1.Name=engine" \
          "&Filters.member.1.Values.member.1=mysql"
    response = api.client.get(f"/{old}")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert root.tag == "{http://rds.amazonaws.com/doc/2013-05-15/}DescribeDBInstancesResponse"
    assert root.findtext(".//{http://rds.amazonaws.com/doc/2013-05-15/}DBInstanceIdentifier") == "db1"
    error = ET.fromstring(api.client.get("/?Action=DescribeDBInstances&Version=2009-10-16&DBInstanceIdentifier=x").data)
    assert error.tag == "{http://rds.amazonaws.com/doc/2009-10-16/}ErrorResponse"
    for version in ("2099-01-01", "latest", ""):  # none RDS can have published: the current one
        answer = ET.fromstring(api.client.get(f"/?Action=DescribeDBInstances&Version={version}").data)
        assert answer.tag == f"{NS}DescribeDBInstancesResponse"


def test_an_instance_stopped_for_7_days_starts_by_itself(api, clock):
    api.create("db1")
    api.wait_available("db1")
    api.ok(Action="StopDBInstance", DBInstanceIdentifier="db1")
    wait_for(lambda: api.status("db1") == "stopped", 10, "stopped")
    restart = api.ok(Action="DescribeDBInstances").findtext(f".//{NS}AutomaticRestartTime")
    assert restart == "2026-12-01T12:00:00.000Z"
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    jobs.watch_servers(api.runtime.ctx)
    assert api.status("db1") == "stopped"
    clock.advance(timedelta(seconds=1))
    jobs.watch_servers(api.runtime.ctx)
    api.wait_available("db1")
    messages = [e.findtext(f"{NS}Message") for e in api.ok(Action="DescribeEvents").iter(f"{NS}Event")]
    assert messages[-1] == "DB instance started"


def test_requests_are_routed_by_action_whatever_the_signature_scope_says(api):
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/ec2/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    response = api.client.post("/", data={"Action": "DescribeEventCategories"},
                               headers={"Authorization": authorization})
    assert response.status_code == 200
    assert b"<DescribeEventCategoriesResult>" in response.data


def test_a_create_takes_the_port_above_the_highest_in_use_then_comes_round_to_those_let_go(tmp_path, clock):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off", ports="13306-13309"),
                   clock=clock, schedule=False)
    api = Api(runtime)

    def port(identifier):
        api.wait_available(identifier)
        described = api.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier)
        return int(described.findtext(f".//{NS}Endpoint/{NS}Port"))

    try:
        for name in ("a", "b", "c"):
            api.create(name, BackupRetentionPeriod="0")
        assert [port(name) for name in ("a", "b", "c")] == [13306, 13307, 13308]
        api.ok(Action="DeleteDBInstance", DBInstanceIdentifier="a", SkipFinalSnapshot="true")
        wait_for(lambda: api.call(Action="DescribeDBInstances", DBInstanceIdentifier="a")[0].status_code == 404,
                 10, "a to be deleted")
        api.create("d", BackupRetentionPeriod="0")
        assert port("d") == 13309
        api.create("e", BackupRetentionPeriod="0")
        assert port("e") == 13306
        api.error(400, "InsufficientDBInstanceCapacity", **(CREATE | {"DBInstanceIdentifier": "f"}))
    finally:
        runtime.close()


def test_an_engine_the_driver_does_not_serve_is_refused_with_what_it_serves(api, monkeypatch):
    """As on a host whose guests serve MariaDB 10.11 only."""
    from emulator.model import engine_versions

    row = engine_versions.of("mariadb", "10.11")
    monkeypatch.setattr(api.runtime.ctx.driver, "versions", lambda: {row: row.nominal})
    assert api.error(400, "InvalidParameterCombination", **(CREATE | {"DBInstanceIdentifier": "a"})) == (
        f"Cannot find a version for mysql (this host serves mariadb {row.nominal})")
    assert api.error(400, "InvalidParameterCombination", **(CREATE | {"DBInstanceIdentifier": "a", "Engine": "mariadb",
                                                                     "EngineVersion": "11.8"})) == (
        f"Cannot find version 11.8 for mariadb (this host serves mariadb {row.nominal})")
