"""Option groups as Terraform's most used RDS module makes them (one per instance, by default), on a real
MariaDB server: the audit plugin option loads the server's own plugin with its settings, its log is served
under RDS's name, and taking the option out unloads it. What each call can get wrong is answered with RDS's
code."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.compat.test_awscli import aws
from tests.emulator_process import wait_for
from tests.mysql_client import connect

pytestmark = pytest.mark.mariadb
PASSWORD = "option-Pass-01"
AUDIT = "MARIADB_AUDIT_PLUGIN"


def code_of(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def membership(rds, name: str) -> list[dict]:
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["OptionGroupMemberships"]


def settled(rds, name: str, group: str) -> dict:
    def ready():
        found = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        return found if found["DBInstanceStatus"] == "available" and found["OptionGroupMemberships"] == [
            {"OptionGroupName": group, "Status": "in-sync"}] else None
    return wait_for(ready, 120, f"{name} available and in-sync with {group}", interval=0.2)


def audit_plugin(endpoint) -> list:
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SERVER_AUDIT'")
        return [row[0] for row in cursor.fetchall()]


def test_the_audit_plugin_option_is_real(emulator_factory, rds_client):
    emulator = emulator_factory("process")
    rds = rds_client(emulator)
    offered = rds.describe_option_group_options(EngineName="mariadb", MajorEngineVersion="10.11")
    assert [option["Name"] for option in offered["OptionGroupOptions"]] == [AUDIT]
    assert rds.describe_option_group_options(EngineName="mysql")["OptionGroupOptions"] == []
    made = rds.create_option_group(OptionGroupName="app-options", EngineName="mariadb", MajorEngineVersion="10.11",
                                   OptionGroupDescription="app", Tags=[{"Key": "team", "Value": "db"}])
    assert made["OptionGroup"]["Options"] == []
    arn = made["OptionGroup"]["OptionGroupArn"]
    assert arn == "arn:aws:rds:us-east-1:123456789012:og:app-options"
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "team", "Value": "db"}]
    listed = aws(emulator, "describe-option-groups", "--engine-name", "mariadb")["OptionGroupsList"]
    assert [group["OptionGroupName"] for group in listed] == ["app-options", "default:mariadb-10-11",
                                                              "default:mariadb-11-8"]

    rds.create_db_instance(DBInstanceIdentifier="audited", Engine="mariadb", EngineVersion="10.11",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin",
                           MasterUserPassword=PASSWORD, OptionGroupName="app-options", BackupRetentionPeriod=0)
    endpoint = settled(rds, "audited", "app-options")["Endpoint"]
    assert audit_plugin(endpoint) == []

    # two changes at once: each sees the other's, and both reach the server
    def include(setting):
        rds.modify_option_group(OptionGroupName="app-options", ApplyImmediately=True, OptionsToInclude=[
            {"OptionName": AUDIT, "OptionSettings": [setting]}])
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(include, [{"Name": "SERVER_AUDIT_EVENTS", "Value": "CONNECT,QUERY"},
                                {"Name": "SERVER_AUDIT_QUERY_LOG_LIMIT", "Value": "2048"}]))
    settings = {s["Name"]: s["Value"] for s in rds.describe_option_groups(OptionGroupName="app-options")[
        "OptionGroupsList"][0]["Options"][0]["OptionSettings"]}
    assert settings["SERVER_AUDIT_EVENTS"] == "CONNECT,QUERY" and settings["SERVER_AUDIT_QUERY_LOG_LIMIT"] == "2048"
    wait_for(lambda: membership(rds, "audited") == [{"OptionGroupName": "app-options", "Status": "in-sync"}]
             and audit_plugin(endpoint) == ["ACTIVE"], 60, "the plugin to be loaded")
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@server_audit_events, @@server_audit_query_log_limit, 'audited-marker-42'")
        assert cursor.fetchone() == ("CONNECT,QUERY", 2048, "audited-marker-42")
    files = [f["LogFileName"] for f in rds.describe_db_log_files(DBInstanceIdentifier="audited")["DescribeDBLogFiles"]]
    assert "audit/server_audit.log" in files
    portion = rds.download_db_log_file_portion(DBInstanceIdentifier="audited", LogFileName="audit/server_audit.log")
    assert "audited-marker-42" in portion["LogFileData"]

    # a reboot keeps the plugin and its settings (the option file holds them)
    rds.reboot_db_instance(DBInstanceIdentifier="audited")
    settled(rds, "audited", "app-options")
    with connect(endpoint, "admin", PASSWORD) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT @@server_audit_query_log_limit, @@server_audit_logging")
        assert cursor.fetchone() == (2048, 1)

    # without ApplyImmediately the change waits for the maintenance window
    rds.modify_option_group(OptionGroupName="app-options", OptionsToRemove=[AUDIT])
    assert membership(rds, "audited") == [{"OptionGroupName": "app-options", "Status": "pending-apply"}]
    assert audit_plugin(endpoint) == ["ACTIVE"]
    rds.modify_db_instance(DBInstanceIdentifier="audited", OptionGroupName="default:mariadb-10-11",
                           ApplyImmediately=True)
    settled(rds, "audited", "default:mariadb-10-11")
    assert "ACTIVE" not in audit_plugin(endpoint)  # DELETED: unloaded, and not loaded again at a start

    # what each can get wrong
    assert code_of(rds.modify_option_group, OptionGroupName="app-options", OptionsToInclude=[
        {"OptionName": "MEMCACHED"}]) == "InvalidParameterValue"
    assert code_of(rds.modify_option_group, OptionGroupName="app-options", OptionsToInclude=[
        {"OptionName": AUDIT, "OptionSettings": [{"Name": "SERVER_AUDIT_EVENTS", "Value": "NOPE"}]}]) == \
        "InvalidParameterValue"
    assert code_of(rds.modify_option_group, OptionGroupName="default:mariadb-10-11", OptionsToInclude=[
        {"OptionName": AUDIT}]) == "InvalidParameterValue"
    assert code_of(rds.create_option_group, OptionGroupName="app-options", EngineName="mariadb",
                   MajorEngineVersion="10.11", OptionGroupDescription="again") == "OptionGroupAlreadyExistsFault"
    assert code_of(rds.create_option_group, OptionGroupName="old", EngineName="mariadb",
                   MajorEngineVersion="5.5", OptionGroupDescription="d") == "InvalidParameterValue"
    rds.create_option_group(OptionGroupName="for-mysql", EngineName="mysql", MajorEngineVersion="9.7",
                            OptionGroupDescription="d")
    assert code_of(rds.modify_option_group, OptionGroupName="for-mysql", OptionsToInclude=[
        {"OptionName": AUDIT}]) == "InvalidParameterValue"
    assert code_of(rds.modify_db_instance, DBInstanceIdentifier="audited", OptionGroupName="for-mysql",
                   ApplyImmediately=True) == "InvalidParameterCombination"
    assert code_of(rds.describe_option_groups, OptionGroupName="nothing") == "OptionGroupNotFoundFault"
    rds.modify_db_instance(DBInstanceIdentifier="audited", OptionGroupName="app-options", ApplyImmediately=True)
    settled(rds, "audited", "app-options")
    assert code_of(rds.delete_option_group, OptionGroupName="app-options") == "InvalidOptionGroupStateFault"
    rds.delete_db_instance(DBInstanceIdentifier="audited", SkipFinalSnapshot=True)
    wait_for(lambda: not rds.describe_db_instances()["DBInstances"], 60, "the instance to go")
    rds.delete_option_group(OptionGroupName="app-options")
    assert code_of(rds.describe_option_groups, OptionGroupName="app-options") == "OptionGroupNotFoundFault"
