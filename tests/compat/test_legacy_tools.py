"""The legacy rds-* tools, installed as console scripts, run as the 2009 walkthrough ran them: the same
commands except the instance class, a password of 8 characters (RDS wants that now) and the endpoint, with
the old environment (RDS_URL, AWS_CREDENTIAL_FILE, EC2_REGION). Their output is compared line by line with
the old format: `DBINSTANCE  mydb-instance  2009-11-06T02:19:59.160Z  db.m1.small  mysql5.1  20  masteruser
available  <address>  3306  us-east-1d  1`, the records under it indented, events bare."""

import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

from compat.commands import COMMANDS
from tests.emulator_process import wait_for
from tests.mysql_client import connect, read_rows, write_rows

pytestmark = pytest.mark.mariadb
BIN = pathlib.Path(sys.executable).parent
ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


def tool(emulator, credential_file, name, *args, stdin=None, check=True):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {"RDS_URL": emulator.url, "AWS_CREDENTIAL_FILE": str(credential_file), "EC2_REGION": "us-east-1"}
    result = subprocess.run([BIN / name, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def old_tools(emulator_factory, tmp_path):
    return tools_for(emulator_factory("process"), tmp_path)


@pytest.fixture
def archiving_tools(emulator_factory, tmp_path):
    """Against an emulator that archives binary logs every second: restorable to a moment ago."""
    return tools_for(emulator_factory("process", None, "--archive-seconds", "1"), tmp_path)


def tools_for(emulator, tmp_path):
    keys = emulator.credentials()
    credential_file = tmp_path / "credential-file"
    credential_file.write_text(f"AWSAccessKeyId={keys['aws_access_key_id']}\n"
                               f"AWSSecretKey={keys['aws_secret_access_key']}\n")
    return lambda name, *args, **extra: tool(emulator, credential_file, name, *args, **extra)


def instance_lines(rds, name="mydb-instance"):
    return rds("rds-describe-db-instances", name).stdout.splitlines()


def test_one_table_gives_every_console_script():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert {name for name, target in scripts.items() if target == "compat.cli:main"} == set(COMMANDS)
    assert all((BIN / name).exists() for name in COMMANDS)


def test_the_2009_walkthrough_through_the_old_tools(old_tools):
    rds = old_tools
    created = rds("rds-create-db-instance", "mydb-instance", "--allocated-storage", "20", "--db-instance-class",
                  "db.t3.micro", "--engine", "MySQL5.1", "--master-username", "masteruser",
                  "--master-user-password", "mypass12", "--db-name", "mydb", "--headers",
                  "--preferred-maintenance-window", "Mon:06:15-Mon:10:15", "--preferred-backup-window", "10:15-12:15",
                  "--backup-retention-period", "1", "--availability-zone", "us-east-1c")
    assert re.fullmatch(r"rds-create-db-instance: note: MySQL5\.1 is served as mysql \S+ \(parameter group family "
                        r"\S+\): sending mysql\n", created.stderr)
    head, first, *under = created.stdout.splitlines()
    columns = ["DBInstanceId", "Created", "Class", "Engine", "Storage", "Master Username", "Status",
               "Endpoint Address", "Port", "AZ", "Backup Retention"]
    # headers and values aligned, two spaces apart; a value as wide as its header ends where it does
    assert head.split("  ")[0] == first.split("  ")[0] == "DBINSTANCE"
    assert [cell.strip() for cell in re.split(r"  +", head)] == ["DBINSTANCE", *columns]
    # no creation time yet, nor endpoint: their columns are blank, at their headers' width
    assert head == ("DBINSTANCE  DBInstanceId   Created  Class        Engine  Storage  Master Username  Status    "
                    "Endpoint Address  Port  AZ          Backup Retention")
    assert first == ("DBINSTANCE  mydb-instance           db.t3.micro  mysql   20       masteruser       creating  "
                     "                        us-east-1c  1")
    assert under[-2:] == ["      PARAMGRP  Group Name        Apply Status", "      PARAMGRP  default.mysql9.7  in-sync"]

    # the walkthrough lets its EC2 web nodes in through the default DB security group
    authorized = rds("rds-authorize-db-security-group-ingress", "default", "--ec2-security-group-name", "webnode",
                     "--ec2-security-group-owner-id", "123456789012")
    assert authorized.stdout.splitlines() == ["SECGROUP  default  default",
                                              "      EC2-SECGROUP  webnode  123456789012  authorizing"]
    wait_for(lambda: "authorized" in rds("rds-describe-db-security-groups", "default").stdout, 30, "authorized")
    rds("rds-create-db-security-group", "office", "--description", "the office")
    rds("rds-authorize-db-security-group-ingress", "office", "--cidr-ip", "192.0.2.0/24")
    groups = rds("rds-describe-db-security-groups", "--headers").stdout.splitlines()
    assert groups[:3] == ["SECGROUP  Name     Description",
                          "SECGROUP  default  default",
                          "      EC2-SECGROUP  Name     Owner Id      Status"]
    assert groups[4:] == ["SECGROUP  office   the office", "      IP-RANGE  CIDR          Status",
                          groups[6]] and re.fullmatch(r"      IP-RANGE  192\.0\.2\.0/24  authoriz(ing|ed)", groups[6])

    wait_for(lambda: " available " in instance_lines(rds)[0], 120, "the instance to be available")
    line, security_group, group = instance_lines(rds)
    port = re.search(r"  127\.0\.0\.1  (\d+)  ", line).group(1)
    assert re.fullmatch(rf"DBINSTANCE  mydb-instance  {TIME}  db\.t3\.micro  mysql  20  masteruser  available  "
                        rf"127\.0\.0\.1  {port}  us-east-1c  1", line), line
    # the old toolkit's API version: an instance made with no groups is in DB security group default (whose
    # rules the firewall enforces: tests/integration/test_security_group_enforcement.py), as the walkthrough
    # prints it
    assert security_group == "      SECGROUP  default  active"
    assert group == "      PARAMGRP  default.mysql9.7  in-sync"
    endpoint = {"Address": "127.0.0.1", "Port": int(port)}

    made = rds("rds-create-db-parameter-group", "my-custom", "--description=My Custom DB Param Group",
               "--engine=MySQL5.1")
    assert made.stdout == "DBPARAMGRP  my-custom  mysql9.7  My Custom DB Param Group\n"
    assert "MySQL5.1 is served as mysql" in made.stderr
    assert rds("rds-modify-db-parameter-group", "my-custom",
               "--parameters=name=slow_query_log, value=ON, method=immediate").stdout == "DBPARAMGRP  my-custom\n"
    rds("rds-modify-db-instance", "mydb-instance", "--db-parameter-group-name=my-custom")
    assert instance_lines(rds)[2] == "      PARAMGRP  my-custom  pending-reboot"
    rebooted = rds("rds-reboot-db-instance", "mydb-instance").stdout.splitlines()[0]
    assert re.fullmatch(rf"DBINSTANCE  mydb-instance  {TIME}  db\.t3\.micro  mysql  20  masteruser  rebooting  "
                        rf"127\.0\.0\.1  {port}  us-east-1c  1", rebooted), rebooted
    # in sync, and done rebooting: the reboot's events are written by then
    wait_for(lambda: (lines := instance_lines(rds))[2] == "      PARAMGRP  my-custom  in-sync"
             and " available " in lines[0], 120, "the reboot")
    with connect(endpoint, "masteruser", "mypass12", "mydb") as conn, conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES LIKE 'slow_query_log'")
        assert cursor.fetchone() == ("slow_query_log", "ON")
    rds("rds-modify-db-parameter-group", "my-custom", "--parameters=name=long_query_time, value=3, method=immediate")

    events = rds("rds-describe-events").stdout.splitlines()
    wanted = {("db-instance", "mydb-instance", "DB instance created"),
              ("db-instance", "mydb-instance", "DB instance shutdown"),
              ("db-instance", "mydb-instance", "DB instance restarted"),
              ("db-parameter-group", "my-custom", "Updated parameter long_query_time to 3 with apply method immediate")}
    width = max(len("db-instance"), len("db-parameter-group"))
    found = set()
    for line in events:  # source type, date, identifier, message: aligned columns, two spaces apart
        match = re.fullmatch(rf"(\S+) *  ({TIME})  (\S+) *  (.+)", line)
        assert match and line.index(match.group(2)) == width + 2, line
        found.add((match.group(1), match.group(3), match.group(4)))
    assert wanted <= found


def test_snapshots_restores_parameters_and_the_old_confirmation(old_tools):
    rds = old_tools
    rds("rds-create-db-instance", "snapped", "-s", "20", "-c", "db.t3.micro", "-e", "mysql", "-u", "master",
        "-p", "password1")
    wait_for(lambda: " available " in instance_lines(rds, "snapped")[0], 120, "available")
    logs = rds("rds-describe-db-log-files", "snapped", "--headers").stdout.splitlines()
    assert logs[0] == "DBLOGFILE  Log File Name          Last Written   Size"
    assert re.fullmatch(r"DBLOGFILE  error/mysql-error\.log  \d{13}  +\d+", logs[1]), logs
    portion = rds("rds-download-db-log-file-portion", "snapped", "--log-file-name", "error/mysql-error.log",
                  "--starting-token", "0").stdout
    assert "ready for connections" in portion

    made = rds("rds-create-db-snapshot", "snapped", "-s", "snap-1").stdout
    assert made.startswith("DBSNAPSHOT  snap-1  ") and "  snapped  " in made
    wait_for(lambda: "  available  " in rds("rds-describe-db-snapshots", "snap-1").stdout, 120, "the snapshot")
    restored = rds("rds-restore-db-instance-from-db-snapshot", "copied", "--db-snapshot-identifier", "snap-1").stdout
    assert restored.startswith("DBINSTANCE  copied    db.t3.micro  mysql  20  master  creating  ")  # no time yet

    parameters = rds("rds-describe-db-parameters", "default.mysql9.7", "--headers").stdout.splitlines()
    assert re.fullmatch(r"DBPARAMETER  Parameter Name *  Parameter Value *  Source *  Data Type *  Apply Type *  "
                        r"Is Modifiable", parameters[0])
    assert len(parameters) > 100 and all(line.startswith("DBPARAMETER  ") for line in parameters)
    long = rds("rds-describe-db-parameter-groups", "default.mysql9.7", "--show-long", "--delimiter", "|").stdout
    assert long == "DBPARAMGRP|default.mysql9.7|mysql9.7|Default parameter group for mysql9.7\n"
    xml = rds("rds-describe-db-engine-versions", "--engine", "mysql", "--show-xml").stdout
    assert xml.startswith("<DescribeDBEngineVersionsResponse")

    # an instance is deleted once it is available (a restore's first backup done), as a client must wait for
    wait_for(lambda: "  available  " in rds("rds-describe-db-instances", "copied").stdout, 120, "the restore")
    kept = rds("rds-delete-db-instance", "copied", "--skip-final-snapshot", stdin="n\n", check=False)
    assert kept.returncode != 0 and "Are you sure you want to delete this database? [Ny]" in kept.stdout
    assert "copied" in rds("rds-describe-db-instances", "copied").stdout
    asked = rds("rds-delete-db-instance", "copied", "--skip-final-snapshot", stdin="y\n")
    assert "  deleting  " in asked.stdout
    forced = rds("rds-delete-db-instance", "snapped", "--skip-final-snapshot", "--force")
    assert "[Ny]" not in forced.stdout and "  deleting  " in forced.stdout

    missing = rds("rds-describe-db-instances", "nothing-here", check=False)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == "rds-describe-db-instances: DBInstanceNotFound: DBInstance nothing-here not found.\n"
    bad = rds("rds-modify-db-parameter-group", "my-custom", "--parameters=slow_query_log ON", check=False)
    assert bad.returncode == 1 and "name=N, value=V, method=" in bad.stderr


def test_parameter_groups_reset_and_deleted_and_a_point_in_time_restore(archiving_tools):
    rds = archiving_tools
    rds("rds-create-db-instance", "source", "-s", "20", "-c", "db.t3.micro", "-e", "mysql", "-u", "master",
        "-p", "password1", "--db-name", "app", "--backup-retention-period", "1")
    rds("rds-create-db-parameter-group", "tuned", "-d", "tuned", "--db-parameter-group-family", "mysql9.7")
    rds("rds-modify-db-parameter-group", "tuned", "-p", "name=long_query_time, value=3, method=immediate",
        "-p", "name=max_connections, value=50, method=immediate")

    def user_set():
        lines = rds("rds-describe-db-parameters", "tuned", "--source", "user").stdout.splitlines()
        return [line.split()[1:3] for line in lines]

    assert user_set() == [["long_query_time", "3"], ["max_connections", "50"]]
    reset = rds("rds-reset-db-parameter-group", "tuned", "-p", "name=long_query_time, method=immediate")
    assert reset.stdout == "DBPARAMGRP  tuned\n"
    assert user_set() == [["max_connections", "50"]]
    assert rds("rds-reset-db-parameter-group", "tuned", "--reset-all-parameters").stdout == "DBPARAMGRP  tuned\n"
    assert user_set() == []
    kept = rds("rds-delete-db-parameter-group", "tuned", stdin="n\n", check=False)
    assert kept.returncode != 0 and "[Ny]" in kept.stdout
    assert rds("rds-delete-db-parameter-group", "tuned", "--force").stdout == ""
    gone = rds("rds-describe-db-parameter-groups", "tuned", check=False)
    assert gone.returncode == 1 and gone.stderr.startswith("rds-describe-db-parameter-groups: DBParameterGroupNotFound")

    def source():  # --show-long ends with the latest restorable time
        return rds("rds-describe-db-instances", "source", "--show-long", "--delimiter", "|").stdout.splitlines()[0]

    wait_for(lambda: "|available|" in source() and source().split("|")[-1], 120, "restorable")
    line = source().split("|")
    endpoint = {"Address": line[8], "Port": int(line[9])}
    write_rows(endpoint, "master", "password1", "app", ["before the restore"])
    written = rds("rds-describe-db-instances", "source", "--show-long", "--delimiter", "|").stdout
    wait_for(lambda: source().split("|")[-1] > written.splitlines()[0].split("|")[-1], 60, "the rows archived")
    restored = rds("rds-restore-db-instance-to-point-in-time", "copy", "-s", "source", "-l").stdout
    assert restored.startswith("DBINSTANCE  copy    db.t3.micro  mysql  20  master  creating  ")
    wait_for(lambda: " available " in instance_lines(rds, "copy")[0], 180, "the restored copy")
    copy = re.search(r"  (127\.0\.0\.1)  (\d+)  ", instance_lines(rds, "copy")[0])
    assert read_rows({"Address": copy.group(1), "Port": int(copy.group(2))}, "master", "password1", "app") == [
        "before the restore"]


def test_a_read_replica_made_and_promoted_with_the_old_tools(old_tools):
    rds = old_tools
    rds("rds-create-db-instance", "source", "-s", "20", "-c", "db.t3.micro", "-e", "mysql", "-u", "master",
        "-p", "password1", "--backup-retention-period", "1")
    wait_for(lambda: " available " in instance_lines(rds, "source")[0], 120, "the source")
    made = rds("rds-create-db-instance-read-replica", "copy", "-s", "source", "-c", "db.t3.micro").stdout
    assert made.startswith("DBINSTANCE  copy    db.t3.micro  mysql  20  master  creating  "), made
    wait_for(lambda: " available " in instance_lines(rds, "copy")[0], 120, "the replica")
    promoted = rds("rds-promote-read-replica", "copy", "--backup-retention-period", "0").stdout
    assert promoted.startswith("DBINSTANCE  copy  ") and "  modifying  " in promoted, promoted
    wait_for(lambda: " available " in instance_lines(rds, "copy")[0], 120, "the promotion")


def test_a_multi_az_instance_failed_over_with_the_old_tools(old_tools):
    rds = old_tools
    rds("rds-create-db-instance", "ha", "-s", "20", "-c", "db.t3.micro", "-e", "mysql", "-u", "master",
        "-p", "password1", "--multi-az", "true")
    wait_for(lambda: " available " in instance_lines(rds, "ha")[0], 120, "the instance")
    before = rds("rds-describe-db-instances", "ha", "--show-long", "--delimiter", "|").stdout.split("|")
    assert before[12] == "y", before  # Multi-AZ
    rebooted = rds("rds-reboot-db-instance", "ha", "--force-failover").stdout
    assert rebooted.startswith("DBINSTANCE  ha  ") and "  rebooting  " in rebooted, rebooted
    wait_for(lambda: " available " in (line := instance_lines(rds, "ha")[0]) and f"  {before[10]}  " not in line,
             120, "the failover, which moves the instance to its standby's zone")
