"""The legacy tools' records, as the old toolkit printed them: aligned columns two spaces apart, the records
under one indented six, events without a type word; --headers, --show-long and --delimiter."""

import http.server
import io
import threading

from compat.cli import run
from compat.commands import COMMANDS
from compat.records import lines

INSTANCES = [
    {"DBInstanceIdentifier": "mydb-instance", "InstanceCreateTime": "2009-11-06T02:19:59.160Z",
     "DBInstanceClass": "db.m1.small", "Engine": "mysql5.1", "AllocatedStorage": "20",
     "MasterUsername": "masteruser", "DBInstanceStatus": "available",
     "Endpoint": {"Address": "mydb-instance.cvjb75qirgzk.us-east-1.rds.amazonaws.com", "Port": "3306"},
     "AvailabilityZone": "us-east-1d", "BackupRetentionPeriod": "1", "MultiAZ": "false",
     "DBSecurityGroups": {"DBSecurityGroup": {"DBSecurityGroupName": "default", "Status": "active"}},
     "DBParameterGroups": {"DBParameterGroup": {"DBParameterGroupName": "default.mysql5.1",
                                                "ParameterApplyStatus": "in-sync"}}},
]


def test_an_instance_prints_as_the_2009_walkthrough_showed_it():
    assert lines("DBINSTANCE", INSTANCES, long=False, headers=False, delimiter=",") == [
        "DBINSTANCE  mydb-instance  2009-11-06T02:19:59.160Z  db.m1.small  mysql5.1  20  masteruser  available  "
        "mydb-instance.cvjb75qirgzk.us-east-1.rds.amazonaws.com  3306  us-east-1d  1",
        "      SECGROUP  default  active",
        "      PARAMGRP  default.mysql5.1  in-sync",
    ]


def test_headers_align_with_their_columns_and_long_shows_every_column_delimited():
    head, row, *_ = lines("DBINSTANCE", INSTANCES, long=False, headers=True, delimiter=",")
    assert head.startswith("DBINSTANCE  DBInstanceId   Created                   Class        Engine    Storage  ")
    assert row.index("masteruser") == head.index("Master Username")
    long = lines("DBINSTANCE", INSTANCES, long=True, headers=False, delimiter="|")
    assert long[0].split("|")[-7:] == ["1", "n", "", "", "", "", ""]  # Multi-AZ as y/n, then empty columns
    assert long[1] == "      SECGROUP|default|active"


def test_events_are_bare_and_aligned_across_source_types():
    events = [{"SourceType": "db-instance", "Date": "2009-12-12T17:44:19.546Z", "SourceIdentifier": "mydb-instance",
               "Message": "Updated to use a DBParameterGroup my-custom"},
              {"SourceType": "db-parameter-group", "Date": "2009-12-12T17:56:02.568Z", "SourceIdentifier": "my-custom",
               "Message": "Updated parameter long_query_time to 3 with apply method immediate"}]
    assert lines("EVENT", events, long=False, headers=False, delimiter=",") == [
        "db-instance         2009-12-12T17:44:19.546Z  mydb-instance  Updated to use a DBParameterGroup my-custom",
        "db-parameter-group  2009-12-12T17:56:02.568Z  my-custom      Updated parameter long_query_time to 3 with "
        "apply method immediate",
    ]


def test_an_endpoint_that_is_not_rds_is_said_to_be_so_not_a_traceback():
    class NotRds(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the handler's name is http.server's
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotRds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out, err = io.StringIO(), io.StringIO()
        url = f"http://127.0.0.1:{server.server_port}"
        code = run(COMMANDS["rds-describe-db-instances"], ["-U", url, "-I", "AKID", "-S", "secret"], io.StringIO(),
                   out, err)
    finally:
        server.shutdown()
        server.server_close()
    assert (code, out.getvalue()) == (1, "")
    assert err.getvalue() == f"rds-describe-db-instances: {url} did not answer as RDS does (HTTP 200)\n"
