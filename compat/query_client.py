"""A plain RDS Query API client over one keep-alive HTTP connection: no botocore, nothing signed yet."""

import http.client
import urllib.parse
from typing import Any

import xmltodict

VERSION = "2014-10-31"
# Servers that route by the signature's scope (moto's does) need to see the service named somewhere.
AUTHORIZATION = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0"
)


class QueryError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class QueryClient:
    def __init__(self, url: str, timeout: float = 60):
        parsed = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)

    def raw(self, action: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        body = urllib.parse.urlencode({"Action": action, "Version": VERSION, **(params or {})})
        self.connection.request(
            "POST", "/", body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTHORIZATION},
        )
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
