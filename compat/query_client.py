"""A plain RDS Query API client over one keep-alive HTTP connection, signing with SigV4: no botocore."""

import http.client
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import xmltodict

from emulator.protocol import sigv4

# The version the last command line toolkit and boto 2 sent: from before default VPCs (what RDS then made of a
# create with no network: an instance in DB security group `default`)
VERSION = "2013-05-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class QueryError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class QueryClient:
    def __init__(self, url: str, credentials: tuple[str, str], region: str = "us-east-1", timeout: float = 60,
                 version: str = VERSION):
        parsed = urllib.parse.urlsplit(url)
        self.host = parsed.netloc
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
        self.credentials, self.region, self.version = credentials, region, version

    def raw(self, action: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        body = urllib.parse.urlencode({"Action": action, "Version": self.version, **(params or {})},
                                      quote_via=urllib.parse.quote).encode()
        headers = {"host": self.host, "content-type": CONTENT_TYPE}
        request = sigv4.Request("POST", "/", "", headers, body)
        headers |= sigv4.sign(request, *self.credentials, self.region, "rds", datetime.now(UTC))
        self.connection.request("POST", "/", body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def call(self, action: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        status, body = self.raw(action, params)
        document = xmltodict.parse(body)
        if "ErrorResponse" in document:
            error = document["ErrorResponse"]["Error"]
            raise QueryError(status, error.get("Code", ""), error.get("Message", ""))
        return document[f"{action}Response"].get(f"{action}Result") or {}

    def close(self) -> None:
        self.connection.close()
