"""The Query parser: both list encodings, nesting, scalars, and every way a request can be malformed."""

from datetime import UTC, datetime

import pytest

from emulator.protocol import query
from emulator.protocol.errors import RdsError


def parse(**fields):
    return query.parse(fields)[1]


def error_of(fields: dict) -> RdsError:
    with pytest.raises(RdsError) as caught:
        query.parse(fields)
    return caught.value


def test_lists_in_member_encoding_and_in_member_name_encoding_read_the_same():
    by_member = parse(**{
        "Action": "DescribeDBInstances",
        "Filters.member.1.Name": "engine",
        "Filters.member.1.Values.member.1": "mysql",
        "Filters.member.1.Values.member.2": "mariadb",
    })
    by_name = parse(**{
        "Action": "DescribeDBInstances",
        "Filters.Filter.1.Name": "engine",
        "Filters.Filter.1.Values.Value.1": "mysql",
        "Filters.Filter.1.Values.Value.2": "mariadb",
    })
    assert by_member == by_name == {"Filters": [{"Name": "engine", "Values": ["mysql", "mariadb"]}]}


def test_list_items_are_ordered_by_index_not_by_arrival():
    request = parse(**{
        "Action": "RemoveTagsFromResource",
        "ResourceName": "arn:aws:rds:us-east-1:123456789012:db:a",
        "TagKeys.member.10": "ten",
        "TagKeys.member.2": "two",
        "TagKeys.member.1": "one",
    })
    assert request["TagKeys"] == ["one", "two", "ten"]


def test_tags_and_scalars_are_typed_by_the_shape():
    request = parse(**{
        "Action": "CreateDBInstance",
        "DBInstanceIdentifier": "db1",
        "DBInstanceClass": "db.t3.micro",
        "Engine": "mysql",
        "AllocatedStorage": "20",
        "MultiAZ": "False",
        "Tags.Tag.1.Key": "team",
        "Tags.Tag.1.Value": "data",
    })
    assert request["AllocatedStorage"] == 20
    assert request["MultiAZ"] is False
    assert request["Tags"] == [{"Key": "team", "Value": "data"}]


def test_empty_list_is_sent_as_a_bare_name():
    assert parse(Action="DescribeDBInstances", Filters="") == {"Filters": []}


def test_timestamps_in_iso_8601_and_epoch_seconds():
    request = parse(Action="DescribeEvents", StartTime="2026-01-02T03:04:05Z", EndTime="1767323045")
    assert request["StartTime"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert request["EndTime"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_missing_action():
    error = error_of({"Version": "2014-10-31"})
    assert (error.code, error.status) == ("MissingAction", 400)


def test_unknown_action():
    error = error_of({"Action": "LaunchRockets"})
    assert (error.code, error.status) == ("InvalidAction", 400)
    assert "LaunchRockets" in error.message


def test_missing_required_member_names_it():
    error = error_of({"Action": "RebootDBInstance"})
    assert (error.code, error.status) == ("MissingParameter", 400)
    assert error.message.endswith("DBInstanceIdentifier")


def test_missing_required_member_of_a_nested_structure():
    error = error_of({"Action": "DescribeDBInstances", "Filters.Filter.1.Name": "engine"})
    assert error.code == "MissingParameter"
    assert "Filters.member.1.Values" in error.message


@pytest.mark.parametrize(
    "fields",
    [
        {"Action": "DescribeDBInstances", "MaxRecords": "twenty"},
        {"Action": "CreateDBInstance", "DBInstanceIdentifier": "a", "DBInstanceClass": "db.t3.micro",
         "Engine": "mysql", "AllocatedStorage": "1.5"},
        {"Action": "CreateDBInstance", "DBInstanceIdentifier": "a", "DBInstanceClass": "db.t3.micro",
         "Engine": "mysql", "MultiAZ": "maybe"},
        {"Action": "DescribeEvents", "StartTime": "yesterday"},
        {"Action": "DescribeEvents", "SourceType": "db-rocket"},
        {"Action": "DescribeDBInstances", "Filters.member.x.Name": "engine"},
        {"Action": "DescribeDBInstances", "Filters": "engine"},
        {"Action": "DescribeDBInstances", "DBInstanceIdentifier.member.1": "a"},
    ],
)
def test_malformed_values_are_invalid_parameter_value(fields):
    error = error_of(fields)
    assert (error.code, error.status) == ("InvalidParameterValue", 400)


def test_old_api_versions_are_accepted():
    for version in ("2013-05-15", "2013-09-09", "2014-09-01", "2014-10-31"):
        assert query.parse({"Action": "DescribeDBInstances", "Version": version})[0].name == "DescribeDBInstances"
