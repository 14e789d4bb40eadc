"""The RDS rules over the server's variables: types, allowed values, formulas, ParameterApplyStatus."""

import pytest

from emulator.model import catalogue, parameters
from emulator.model.server import Variable
from emulator.protocol.errors import RdsError

VARIABLES = [
    Variable("max_connections", "151", "BIGINT UNSIGNED", "clients", "10", "100000", None, True),
    Variable("slow_query_log", "OFF", "BOOLEAN", "slow log", None, None, "OFF,ON", True),
    Variable("long_query_time", "10.000000", "DOUBLE", "threshold", "0", "31536000", None, True),
    Variable("log_output", "FILE", "SET", "where", None, None, "NONE,FILE,TABLE", True),
    Variable("tx_isolation", "REPEATABLE-READ", "ENUM", "isolation", None, None, "READ-COMMITTED,REPEATABLE-READ",
             True),
    Variable("performance_schema", "OFF", "BOOLEAN", "p_s", None, None, "OFF,ON", False),
    Variable("datadir", "/x", "VARCHAR", "where data is", None, None, None, False),
    Variable("init_connect", "", "VARCHAR", "sql", None, None, None, True),
    Variable("optimizer_switch", "a=on", "FLAGSET", "switches", None, None, "index_merge,mrr,default", True),
]
KNOWN = parameters.catalogue(VARIABLES)


def test_the_catalogue_says_what_the_server_says_and_curates_the_rest():
    assert KNOWN["max_connections"] == parameters.Parameter(
        "max_connections", "clients", "integer", "10-100000", True, True, "151")
    assert (KNOWN["slow_query_log"].data_type, KNOWN["slow_query_log"].allowed) == ("boolean", "0,1")
    assert (KNOWN["long_query_time"].data_type, KNOWN["long_query_time"].allowed) == ("float", "0-31536000")
    assert (KNOWN["log_output"].data_type, KNOWN["log_output"].allowed) == ("list", "NONE,FILE,TABLE")
    assert KNOWN["tx_isolation"].data_type == "string"
    assert KNOWN["performance_schema"].dynamic is False and KNOWN["performance_schema"].modifiable is True
    assert KNOWN["datadir"].modifiable is False
    assert KNOWN["init_connect"].allowed is None


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_connections", "100000"), ("max_connections", "{DBInstanceClassMemory/12582880}"),
     ("slow_query_log", "1"), ("slow_query_log", "OFF"), ("long_query_time", "0.5"), ("log_output", "FILE,TABLE"),
     ("log_output", "table"), ("tx_isolation", "READ-COMMITTED"), ("init_connect", "SET NAMES utf8mb4"),
     ("optimizer_switch", "mrr=on,index_merge=off")],
)
def test_values_within_what_the_server_allows_are_taken(name, value):
    assert parameters.checked(KNOWN, {"ParameterName": name, "ParameterValue": value,
                                      "ApplyMethod": "pending-reboot"}) == (name, value, "pending-reboot")


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [("max_connections", "9", "InvalidParameterValue"), ("max_connections", "12.5", "InvalidParameterValue"),
     ("max_connections", " 50", "InvalidParameterValue"), ("long_query_time", "nan", "InvalidParameterValue"),
     ("slow_query_log", "2", "InvalidParameterValue"), ("log_output", "FILE,SYSLOG", "InvalidParameterValue"),
     ("tx_isolation", "DIRTY", "InvalidParameterValue"), ("optimizer_switch", "warp=on", "InvalidParameterValue"),
     ("init_connect", 'SET @a="1"', "InvalidParameterValue"), ("init_connect", "a\rb", "InvalidParameterValue"),
     ("datadir", "/tmp", "InvalidParameterValue"), ("nothing", "1", "InvalidParameterValue"),
     ("long_query_time", "{DBInstanceClassMemory}", "InvalidParameterValue")],
)
def test_values_outside_what_the_server_allows_are_refused(name, value, code):
    with pytest.raises(RdsError) as refused:
        parameters.checked(KNOWN, {"ParameterName": name, "ParameterValue": value, "ApplyMethod": "pending-reboot"})
    assert refused.value.code == code


def test_immediate_is_refused_for_a_static_parameter_and_a_method_is_required():
    with pytest.raises(RdsError, match="cannot use immediate apply method for static parameter"):
        parameters.checked(KNOWN, {"ParameterName": "performance_schema", "ParameterValue": "1",
                                   "ApplyMethod": "immediate"})
    with pytest.raises(RdsError, match="ApplyMethod is required"):
        parameters.checked(KNOWN, {"ParameterName": "max_connections", "ParameterValue": "50"})


def test_formulas_are_worked_out_from_the_class_memory_and_storage():
    micro = catalogue.class_memory("db.t3.micro")
    assert micro == 1024**3 and catalogue.class_memory("db.r5.large") == 16 * 1024**3
    assert parameters.evaluate("{DBInstanceClassMemory*3/4}", micro, 20) == str(micro * 3 // 4)
    assert parameters.evaluate("{DBInstanceClassMemory/12582880}", micro, 20) == "85"
    assert parameters.evaluate("{AllocatedStorage*1024}", micro, 20) == str(20 * 1024**4)
    assert parameters.evaluate("150", micro, 20) == "150"


@pytest.mark.parametrize(
    ("group_changed", "wanted", "running", "immediate", "failed", "status"),
    [
        (False, {}, {}, set(), {}, "in-sync"),
        (True, {}, {}, set(), {}, "pending-reboot"),
        (False, {"a": "1"}, {"a": "1"}, {"a"}, {}, "in-sync"),
        (False, {"a": "2"}, {"a": "1"}, {"a"}, {}, "applying"),
        (False, {"a": "2"}, {"a": "1"}, set(), {}, "pending-reboot"),
        (False, {"a": "2"}, {"a": "1"}, {"a"}, {"a": "2"}, "failed-to-apply"),
        (False, {"a": "3"}, {"a": "1"}, {"a"}, {"a": "2"}, "applying"),
        (False, {}, {"a": "1"}, set(), {}, "pending-reboot"),
        (False, {}, {"b": "1"}, {"b"}, {}, "applying"),
    ],
)
def test_parameter_apply_status_is_decided_from_the_group_and_the_server(
    group_changed, wanted, running, immediate, failed, status
):
    assert parameters.apply_status(group_changed, wanted, running, immediate, failed) == status
