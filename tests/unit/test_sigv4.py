"""Signed requests: what botocore signs (header and query-string forms) is taken, and every way of getting it
wrong gets AWS's code, through the emulator's own app; our signer (compat/) agrees with botocore's."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client

from emulator.config import Settings
from emulator.host import credentials
from emulator.protocol import sigv4
from emulator.runtime import boot

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"
BODY = "Action=DescribeDBInstances&Version=2014-10-31"
HOST = "127.0.0.1:8765"


@pytest.fixture
def signed_app(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", driver="none", access_keys="AKIDEXTRA:extra-secret")
    runtime = boot(settings, schedule=False)
    yield Client(runtime.app), credentials.data_dir_pair(settings.data_dir)
    runtime.close()


def botocore_signed(access_key, secret, body=BODY, region="us-east-1", service="rds", when=None):
    request = AWSRequest(method="POST", url=f"http://{HOST}/", data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    # botocore signs at its clock's now: a stale request is one signed at another time
    with patch("botocore.auth.get_current_datetime", return_value=when or datetime.now(UTC)):
        SigV4Auth(Credentials(access_key, secret), service, region).add_auth(request)
    return dict(request.headers.items()), request.body


def post(client, headers, body=BODY):
    headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    return client.post("/", data=body, headers=headers, content_type="application/x-www-form-urlencoded; charset=utf-8",
                       environ_overrides={"HTTP_HOST": HOST})


def code_of(response):
    return response.status_code, response.get_data(as_text=True).split("<Code>")[1].split("</Code>")[0]


def test_a_request_botocore_signed_is_taken_with_the_data_dirs_key_or_a_configured_one(signed_app):
    client, (access_key, secret) = signed_app
    assert access_key.startswith("AKIA") and len(access_key) == 20 and len(secret) == 40
    for key, value in ((access_key, secret), ("AKIDEXTRA", "extra-secret")):
        headers, body = botocore_signed(key, value)
        response = post(client, headers, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "<DescribeDBInstancesResult>" in response.get_data(as_text=True)


def test_an_old_sdks_scope_from_an_ip_address_is_taken_when_signed_over_it(signed_app):
    client, (access_key, secret) = signed_app
    headers, body = botocore_signed(access_key, secret, region="127", service="0")
    assert post(client, headers, body).status_code == 200


def test_each_way_of_signing_wrong_gets_its_aws_code(signed_app):
    client, (access_key, secret) = signed_app
    assert code_of(post(client, {})) == (403, "MissingAuthenticationToken")
    assert code_of(post(client, botocore_signed(access_key, "not-the-secret")[0])) == (403, "SignatureDoesNotMatch")
    assert code_of(post(client, botocore_signed("AKIANOBODYKNOWS00000", secret)[0])) == (403, "InvalidClientTokenId")
    headers, _ = botocore_signed(access_key, secret)
    tampered = BODY.replace("DescribeDBInstances", "DescribeDBSnapshots")
    assert code_of(post(client, headers, tampered)) == (403, "SignatureDoesNotMatch")
    stale, _ = botocore_signed(access_key, secret, when=datetime.now(UTC) - timedelta(minutes=6))
    assert code_of(post(client, stale)) == (400, "RequestExpired")
    recent, _ = botocore_signed(access_key, secret, when=datetime.now(UTC) - timedelta(minutes=4))
    assert post(client, recent).status_code == 200  # within the skew AWS allows
    for malformed in ("AWS4-HMAC-SHA256 Credential=x", "AWS4-HMAC-SHA256 Signature=abc, SignedHeaders=host",
                      "Basic dXNlcjpwYXNz", f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/rds, "
                                            "SignedHeaders=host;x-amz-date, Signature=00"):
        assert code_of(post(client, headers | {"Authorization": malformed})) == (400, "IncompleteSignature")


def test_a_get_signed_in_its_query_string_is_taken_until_it_expires(signed_app):
    client, (access_key, secret) = signed_app

    def presigned(key, expires=60):
        request = AWSRequest(method="GET", url=f"http://{HOST}/?Action=DescribeDBInstances&Version=2013-05-15")
        SigV4QueryAuth(Credentials(key, secret), "rds", "us-east-1", expires=expires).add_auth(request)
        return urlsplit(request.url).query

    response = client.get(f"/?{presigned(access_key)}", environ_overrides={"HTTP_HOST": HOST})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert code_of(client.get(f"/?{presigned('AKIANOBODYKNOWS00000')}", environ_overrides={"HTTP_HOST": HOST})) \
        == (403, "InvalidClientTokenId")
    forged = presigned(access_key).replace("DescribeDBInstances", "DescribeDBSnapshots")
    assert code_of(client.get(f"/?{forged}", environ_overrides={"HTTP_HOST": HOST})) == (403, "SignatureDoesNotMatch")


def test_our_signer_agrees_with_botocores():
    when = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    request = sigv4.Request("POST", "/", "", {"host": HOST, "content-type": "application/x-www-form-urlencoded"},
                            BODY.encode())
    ours = sigv4.sign(request, "AKIDEXAMPLE", "secret", "us-east-1", "rds", when)
    theirs = AWSRequest(method="POST", url=f"http://{HOST}/", data=BODY.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "rds", "us-east-1")
    theirs.context["timestamp"] = when.strftime(sigv4.TIME_FORMAT)
    theirs.headers["X-Amz-Date"] = theirs.context["timestamp"]
    canonical = auth.canonical_request(theirs)
    assert ours["Authorization"].rsplit("Signature=", 1)[1] == auth.signature(
        auth.string_to_sign(theirs, canonical), theirs)


def test_the_data_dirs_key_is_its_owners_only_and_no_secret_is_kept_in_a_file(signed_app, tmp_path):
    _, (access_key, secret) = signed_app
    key_file = tmp_path / "data" / credentials.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_with_auth_off_anything_goes(tmp_path):
    runtime = boot(Settings(data_dir=tmp_path / "data", driver="none", auth="off"), schedule=False)
    try:
        assert Client(runtime.app).post("/", data={"Action": "DescribeDBInstances"}).status_code == 200
    finally:
        runtime.close()


def operator_signed(access_key, secret, method="POST", path="/_emulator/clock", body=b""):
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(access_key, secret), "rds", "us-east-1").add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "content-type"}


def test_the_operators_endpoints_take_only_signed_requests(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", driver="none", allow_clock=True)
    runtime = boot(settings, schedule=False)
    client, (access_key, secret) = Client(runtime.app), credentials.data_dir_pair(settings.data_dir)
    year = b'{"advance_seconds": 31536000}'

    def send(headers, method="POST", path="/_emulator/clock", body=year):
        return client.open(path, method=method, data=body, headers=headers, content_type="application/json",
                           environ_overrides={"HTTP_HOST": HOST})

    try:
        before = runtime.ctx.clock.now()
        for path in ("/_emulator/clock", "/_emulator/", "/_emulator/anything"):
            for method in ("GET", "POST"):
                refused = send({}, method, path)
                assert (refused.status_code, refused.get_json()["code"]) == (403, "MissingAuthenticationToken")
        wrong = send(operator_signed(access_key, "not-the-secret", body=year))
        assert (wrong.status_code, wrong.get_json()["code"]) == (403, "SignatureDoesNotMatch")
        stranger = send(operator_signed("AKIANOBODYKNOWS00000", secret, body=year))
        assert (stranger.status_code, stranger.get_json()["code"]) == (403, "InvalidClientTokenId")
        tampered = send(operator_signed(access_key, secret, body=b'{"advance_seconds": 1}'))
        assert (tampered.status_code, tampered.get_json()["code"]) == (403, "SignatureDoesNotMatch")
        assert runtime.ctx.clock.now() - before < timedelta(minutes=1)  # not moved by any of them

        moved = send(operator_signed(access_key, secret, body=year))
        assert moved.status_code == 200, moved.get_data(as_text=True)
        assert moved.get_json()["offset_seconds"] == 31536000
        read = send(operator_signed(access_key, secret, "GET", body=b""), "GET", body=b"")
        assert read.status_code == 200 and read.get_json()["offset_seconds"] == 31536000
    finally:
        runtime.close()
