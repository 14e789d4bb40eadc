"""The API as an in-process test reads it: the Query form posted through the WSGI app, the XML parsed."""

import xml.etree.ElementTree as ET

from werkzeug.test import Client

from tests.emulator_process import wait_for

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
CREATE = {
    "Action": "CreateDBInstance", "DBInstanceClass": "db.t3.micro", "Engine": "mysql", "AllocatedStorage": "20",
    "MasterUsername": "admin", "MasterUserPassword": "secret123",
}


class Api:
    def __init__(self, runtime):
        self.runtime = runtime
        self.client = Client(runtime.app)

    def call(self, **fields):
        response = self.client.post("/", data=fields)
        root = ET.fromstring(response.data)
        return response, root

    def ok(self, **fields):
        response, root = self.call(**fields)
        assert response.status_code == 200, response.data
        return root

    def error(self, status, code, **fields):
        response, root = self.call(**fields)
        assert response.status_code == status, response.data
        assert root.findtext(f"{NS}Error/{NS}Code") == code, response.data
        assert response.headers["x-amzn-RequestId"] == root.findtext(f"{NS}RequestId")
        return root.findtext(f"{NS}Error/{NS}Message")

    def create(self, identifier, **extra):
        return self.ok(**(CREATE | {"DBInstanceIdentifier": identifier} | extra))

    def status(self, identifier):
        root = self.ok(Action="DescribeDBInstances", DBInstanceIdentifier=identifier)
        return root.findtext(f".//{NS}DBInstanceStatus")

    def wait_available(self, identifier):
        wait_for(lambda: self.status(identifier) == "available", 10, f"{identifier} to be available")
