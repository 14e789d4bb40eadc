"""Many clients at once on one resource: the store, not a read-then-write, decides who wins, and the loser
gets the answer RDS gives, never an InternalFailure."""

import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from werkzeug.test import Client

from emulator.config import Settings
from emulator.runtime import DataDirInUse, boot
from tests.emulator_process import wait_for
from tests.together import all_at_once

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
CREATE = {"Action": "CreateDBInstance", "DBInstanceClass": "db.t3.micro", "Engine": "mysql",
          "AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "password1"}


@pytest.fixture
def runtime(tmp_path):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False)
    yield runtime
    runtime.close()


def at_once(runtime, requests: list[dict]) -> list[tuple[int, str | None]]:
    """Send the requests from one thread each, released together; (status, error code) of each."""

    def send(fields: dict) -> tuple[int, str | None]:
        response = Client(runtime.app).post("/", data=fields)
        return response.status_code, ET.fromstring(response.data).findtext(f"{NS}Error/{NS}Code")

    return all_at_once(send, requests)


def status(runtime, identifier: str) -> str | None:
    body = Client(runtime.app).post("/", data={"Action": "DescribeDBInstances",
                                               "DBInstanceIdentifier": identifier}).data
    return ET.fromstring(body).findtext(f".//{NS}DBInstanceStatus")


def available(runtime, *identifiers: str) -> None:
    for identifier in identifiers:
        wait_for(lambda i=identifier: status(runtime, i) == "available", 10, f"{identifier} available")


def test_of_concurrent_reboots_one_is_accepted_and_the_rest_told_the_state(runtime):
    Client(runtime.app).post("/", data=CREATE | {"DBInstanceIdentifier": "one"})
    available(runtime, "one")
    runtime.runner.close()  # the accepted reboot stays under way, so nothing else may start
    one = {"DBInstanceIdentifier": "one"}
    results = at_once(runtime, [{"Action": "RebootDBInstance", **one}] * 12 + [{"Action": "StopDBInstance", **one}] * 4
                      + [{"Action": "DeleteDBInstance", "SkipFinalSnapshot": "true", **one}] * 4)
    assert Counter(results) == Counter({(200, None): 1, (400, "InvalidDBInstanceState"): 19})


def test_creates_racing_for_one_name_get_already_exists(runtime):
    results = at_once(runtime, [CREATE | {"DBInstanceIdentifier": "same"}] * 16)
    assert Counter(results) == Counter({(200, None): 1, (400, "DBInstanceAlreadyExists"): 15})


def test_renames_racing_for_one_name_get_already_exists(runtime):
    client = Client(runtime.app)
    names = [f"r{n}" for n in range(8)]
    for name in names:
        client.post("/", data=CREATE | {"DBInstanceIdentifier": name})
    available(runtime, *names)
    results = at_once(runtime, [{"Action": "ModifyDBInstance", "DBInstanceIdentifier": name,
                                 "NewDBInstanceIdentifier": "target", "ApplyImmediately": "true"} for name in names])
    assert Counter(results) == Counter({(200, None): 1, (400, "DBInstanceAlreadyExists"): 7})


def test_concurrent_creates_get_distinct_ports(runtime):
    results = at_once(runtime, [CREATE | {"DBInstanceIdentifier": f"p{n}"} for n in range(30)])
    assert all(result == (200, None) for result in results)
    ports = [instance.port for instance in runtime.ctx.store.list_instances()]
    assert len(ports) == 30 and len(set(ports)) == 30
    results = at_once(runtime, [CREATE | {"DBInstanceIdentifier": f"q{n}", "Port": "15000"} for n in range(6)])
    assert Counter(results) == Counter({(200, None): 1, (400, "InvalidParameterValue"): 5})


def test_a_second_emulator_on_one_data_directory_is_refused(runtime):
    with pytest.raises(DataDirInUse, match="another RDS Emulator .* is serving the data directory"):
        boot(runtime.ctx.settings, schedule=False)


def test_of_concurrent_read_replicas_of_one_source_at_most_15_are_made(runtime):
    """RDS's limit for MySQL and MariaDB, held by the store as each replica is inserted."""
    Client(runtime.app).post("/", data=CREATE | {"DBInstanceIdentifier": "source", "BackupRetentionPeriod": "1"})
    available(runtime, "source")
    results = at_once(runtime, [{"Action": "CreateDBInstanceReadReplica", "DBInstanceIdentifier": f"replica{n}",
                                 "SourceDBInstanceIdentifier": "source"} for n in range(20)])
    assert Counter(results) == {(200, None): 15, (400, "InstanceQuotaExceeded"): 5}
    body = Client(runtime.app).post("/", data={"Action": "DescribeDBInstances", "DBInstanceIdentifier": "source"}).data
    listed = [item.text for item in ET.fromstring(body).iter(f"{NS}ReadReplicaDBInstanceIdentifier")]
    assert len(listed) == 15 and all(name.startswith("replica") for name in listed)


def test_a_stop_racing_read_replicas_either_stops_the_source_or_lets_them_follow_it(runtime):
    """A source being stopped takes no replica, and a source with one is not stopped, whichever comes first."""
    Client(runtime.app).post("/", data=CREATE | {"DBInstanceIdentifier": "source", "BackupRetentionPeriod": "1"})
    available(runtime, "source")
    requests = [{"Action": "StopDBInstance", "DBInstanceIdentifier": "source"}] + [
        {"Action": "CreateDBInstanceReadReplica", "DBInstanceIdentifier": f"replica{n}",
         "SourceDBInstanceIdentifier": "source"} for n in range(4)]
    stopped, *made = at_once(runtime, requests)
    if stopped == (200, None):
        assert set(made) == {(400, "InvalidDBInstanceState")}
    else:
        assert stopped == (400, "InvalidDBInstanceState") and (200, None) in made
