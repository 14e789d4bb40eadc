"""DB security groups guard the door, on both drivers: a connection from an address outside every CIDR range
the instance's groups authorize never reaches its server, and a revoke shuts new connections out at once.

The emulator runs in a network namespace of the test's own, its servers listening on that namespace's end of a
veth pair; the clients connect from the other end's two addresses. No traffic leaves the two namespaces."""

import os
import subprocess

import boto3
import pymysql
import pytest

from emulator.host import firewall
from tests import netns
from tests.emulator_process import EmulatorProcess, remove_guests, stop_daemons, wait_for
from tests.integration.instances import wait_status

pytestmark = pytest.mark.mariadb
PASSWORD = "guarded-pass-1"


@pytest.fixture
def namespaces():
    if os.geteuid() != 0:
        pytest.skip("network namespaces and nftables need root")
    if subprocess.run(["which", "nft"], capture_output=True, check=False).returncode != 0:
        pytest.fail("nft is not installed: run `make setup`")
    with netns.pair() as made:
        yield made


def connect(endpoint, source, timeout=3):
    return pymysql.connect(host=endpoint["Address"], port=endpoint["Port"], user="master", password=PASSWORD,
                           bind_address=source, connect_timeout=timeout, autocommit=True)


def answers(endpoint, source) -> bool:
    try:
        with connect(endpoint, source) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except pymysql.err.OperationalError as error:
        assert error.args[0] == 2003, error  # could not connect: the packets never reached the server
        return False


def rules(rds, group):
    found = rds.describe_db_security_groups(DBSecurityGroupName=group)["DBSecurityGroups"][0]
    return {item["CIDRIP"]: item["Status"] for item in found["IPRanges"]}


def tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout


def test_only_authorized_ranges_reach_the_server(namespaces, server_driver, tmp_path):
    data_dir = tmp_path / "data"
    if server_driver == "libvirt":
        # libvirtd runs guests in the network namespace it was started in: the emulator starts its own
        # there (the driver starts one again, on the host, for the next test that needs it)
        stop_daemons("libvirtd", "virtlogd")
    with netns.inside(namespaces.server):
        emulator = EmulatorProcess(data_dir, server_driver, options=("--server-host", netns.SERVER))
        try:
            emulator.start()
            rds = boto3.client("rds", endpoint_url=emulator.url, region_name="us-east-1", **emulator.credentials())
            check_the_door(rds, namespaces)
            # the last instance's rules go with a sync that its delete queued: background work, just after
            wait_for(lambda: firewall.table_name(data_dir) not in tables(), 10, "the firewall's table to go")
        finally:
            emulator.stop()
            if server_driver == "libvirt":
                remove_guests(data_dir)
            assert firewall.table_name(data_dir) not in tables()


def check_the_door(rds, namespaces):
    rds.create_db_security_group(DBSecurityGroupName="office", DBSecurityGroupDescription="the office")
    rds.authorize_db_security_group_ingress(DBSecurityGroupName="office", CIDRIP=f"{netns.ALLOWED}/32")
    rds.create_db_instance(DBInstanceIdentifier="guarded", DBInstanceClass="db.t3.micro", Engine="mariadb",
                           AllocatedStorage=20, MasterUsername="master", MasterUserPassword=PASSWORD,
                           BackupRetentionPeriod=0, DBSecurityGroups=["office"])
    endpoint = wait_status(rds, "guarded", "available", timeout=240)["Endpoint"]
    assert endpoint["Address"] == netns.SERVER
    assert answers(endpoint, netns.SERVER)  # the host itself is inside the perimeter
    with netns.inside(namespaces.client):
        assert answers(endpoint, netns.ALLOWED)
        assert not answers(endpoint, netns.DENIED)

    rds.authorize_db_security_group_ingress(DBSecurityGroupName="office", CIDRIP="10.77.0.0/30")
    wait_for(lambda: rules(rds, "office")["10.77.0.0/30"] == "authorized", 30, "the range to be authorized")
    with netns.inside(namespaces.client):
        assert answers(endpoint, netns.DENIED)
        held = connect(endpoint, netns.ALLOWED)

    rds.revoke_db_security_group_ingress(DBSecurityGroupName="office", CIDRIP=f"{netns.ALLOWED}/32")
    rds.revoke_db_security_group_ingress(DBSecurityGroupName="office", CIDRIP="10.77.0.0/30")
    wait_for(lambda: not rules(rds, "office"), 30, "the ranges to be revoked")
    with netns.inside(namespaces.client), held, held.cursor() as cursor:
        assert not answers(endpoint, netns.ALLOWED) and not answers(endpoint, netns.DENIED)
        cursor.execute("SELECT 2")  # a connection already open is not cut, as on AWS
        assert cursor.fetchone() == (2,)

    # the default group lets nothing in; an instance that leaves every group is in a VPC, not guarded here
    rds.authorize_db_security_group_ingress(DBSecurityGroupName="office", CIDRIP=f"{netns.DENIED}/32")
    wait_for(lambda: rules(rds, "office") == {f"{netns.DENIED}/32": "authorized"}, 30, "the address authorized")
    # a change of groups reaches the firewall by a task queued with it: just after the answer, not before
    rds.modify_db_instance(DBInstanceIdentifier="guarded", DBSecurityGroups=["default"], ApplyImmediately=True)
    with netns.inside(namespaces.client):
        wait_for(lambda: not answers(endpoint, netns.DENIED), 20, "the door to close on the default group")
    rds.modify_db_instance(DBInstanceIdentifier="guarded", DBSecurityGroups=["default", "office"],
                           ApplyImmediately=True)
    with netns.inside(namespaces.client):
        wait_for(lambda: answers(endpoint, netns.DENIED), 20, "the door to open with the office group")

    rds.delete_db_instance(DBInstanceIdentifier="guarded", SkipFinalSnapshot=True)
    wait_for(lambda: not rds.describe_db_instances()["DBInstances"], 120, "the instance to be deleted")
