"""The calls the most used Terraform module for RDS makes with its defaults, through boto3 as the provider
sends them, on a real MariaDB server: an option group of the engine's major version, then an instance with
a managed master password, encrypted storage, the default CA, storage autoscaling, the option group and
tags; the provider's reads after it; the secret read back through the Secrets Manager API, and its password
opening the server over TLS, checked against the CA bundle with hostname checks on."""

import json

import boto3
import pymysql
import pytest

from tests.compat.test_tls import bundle_of
from tests.emulator_process import wait_for
from tests.mysql_client import read_rows

pytestmark = pytest.mark.mariadb
TAGS = [{"Key": "Environment", "Value": "dev"}, {"Key": "Terraform", "Value": "true"}]


def test_the_terraform_modules_defaults_make_a_working_instance(emulator_factory, rds_client, tmp_path):
    emulator = emulator_factory("process")
    rds = rds_client(emulator)
    group = rds.create_option_group(OptionGroupName="app-20261208", EngineName="mariadb",
                                    MajorEngineVersion="10.11", OptionGroupDescription="app option group",
                                    Tags=[*TAGS, {"Key": "Name", "Value": "app"}])["OptionGroup"]
    made = rds.create_db_instance(
        DBInstanceIdentifier="app", Engine="mariadb", EngineVersion="10.11", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MaxAllocatedStorage=100, StorageType="gp3", StorageEncrypted=True, DBName="app",
        MasterUsername="root_user", ManageMasterUserPassword=True, MultiAZ=False,
        PubliclyAccessible=False, OptionGroupName=group["OptionGroupName"], BackupRetentionPeriod=1,
        PreferredBackupWindow="03:00-06:00", PreferredMaintenanceWindow="mon:00:00-mon:03:00",
        AutoMinorVersionUpgrade=True, CopyTagsToSnapshot=False, DeletionProtection=False,
        CACertificateIdentifier="rds-ca-rsa2048-g1", EnablePerformanceInsights=False, MonitoringInterval=0,
        EnableIAMDatabaseAuthentication=False, NetworkType="IPV4", Tags=TAGS)["DBInstance"]
    assert made["StorageEncrypted"] is True and made["MaxAllocatedStorage"] == 100
    assert made["OptionGroupMemberships"] == [{"OptionGroupName": "app-20261208", "Status": "in-sync"}]
    waiter = rds.get_waiter("db_instance_available")
    waiter.wait(DBInstanceIdentifier="app", WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    # what the provider reads back after the create
    instance = rds.describe_db_instances(DBInstanceIdentifier="app")["DBInstances"][0]
    assert instance["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert instance["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"] == TAGS
    assert rds.describe_option_groups(OptionGroupName="app-20261208")["OptionGroupsList"][0]["Options"] == []
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="app")["DBInstances"][0][
        "MasterUserSecret"]["SecretStatus"] == "active", 60, "the secret to be active")

    manager = boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="us-east-1",
                           **emulator.credentials())
    secret = json.loads(manager.get_secret_value(SecretId=instance["MasterUserSecret"]["SecretArn"])["SecretString"])
    assert secret["username"] == "root_user"
    _, bundle = bundle_of(emulator, tmp_path)
    endpoint = instance["Endpoint"]
    with pymysql.connect(host=endpoint["Address"], port=endpoint["Port"], user="root_user",
                         password=secret["password"], database="app", autocommit=True, connect_timeout=5,
                         ssl={"ca": str(bundle), "check_hostname": True}) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
        cursor.execute("INSERT INTO notes (body) VALUES ('deployed')")
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert cursor.fetchone()[1].startswith("TLS")
    assert read_rows(endpoint, "root_user", secret["password"], "app") == ["deployed"]
    # the inventory reads a plan or a clean-up tool makes of the account
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_db_proxies()["DBProxies"] == []
    assert rds.describe_blue_green_deployments()["BlueGreenDeployments"] == []
