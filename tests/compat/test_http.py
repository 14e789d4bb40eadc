"""The HTTP side of the wire, against the real server: keep-alive, request ids, GET and POST (unsigned, with
--auth off: signing is tests/compat/test_signing.py's)."""

import http.client
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

NS = "{http://rds.amazonaws.com/doc/2014-10-31/}"


def test_keep_alive_request_ids_and_both_methods(emulator_factory):
    emulator = emulator_factory("none", None, "--auth", "off")
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    body = urllib.parse.urlencode({"Action": "DescribeDBInstances", "Version": "2014-10-31"})
    conn.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    first = conn.getresponse()
    first_body = first.read()
    sock = conn.sock
    assert first.status == 200 and first.version == 11
    assert first.getheader("Connection", "").lower() != "close"
    request_id = first.getheader("x-amzn-RequestId")
    assert str(uuid.UUID(request_id)) == request_id
    assert ET.fromstring(first_body).findtext(f"{NS}ResponseMetadata/{NS}RequestId") == request_id

    conn.request("GET", "/?Action=DescribeDBInstance&Version=2013-09-09")
    second = conn.getresponse()
    error = ET.fromstring(second.read())
    assert conn.sock is sock, "the connection was kept alive"
    assert second.status == 400
    # in the namespace of the version asked for, as old SDKs parse it
    assert error.findtext("{http://rds.amazonaws.com/doc/2013-09-09/}Error/"
                          "{http://rds.amazonaws.com/doc/2013-09-09/}Code") == "InvalidAction"
    assert second.getheader("x-amzn-RequestId") != request_id
    assert second.getheader("Content-Type").startswith("text/xml")
    conn.close()


def test_three_hundred_idle_connections_lock_nobody_out(emulator_factory):
    emulator = emulator_factory("none", None, "--auth", "off")
    idle = []
    try:
        for _ in range(300):
            conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
            conn.request("GET", "/?Action=DescribeDBInstances")
            conn.getresponse().read()  # now an idle keep-alive connection
            idle.append(conn)
        for _ in range(20):
            fresh = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
            fresh.request("POST", "/", body="Action=DescribeDBInstances",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert fresh.getresponse().status == 200
            fresh.close()
        still = idle[0]
        still.request("GET", "/?Action=DescribeDBInstances")
        assert still.getresponse().status == 200, "the idle ones are still served too"
    finally:
        for conn in idle:
            conn.close()


def test_a_huge_body_gets_an_aws_shaped_error(emulator_factory):
    emulator = emulator_factory("none", None, "--auth", "off")
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    conn.request("POST", "/", body=b"&" * (20 * 1024 * 1024),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    error = ET.fromstring(response.read())
    assert response.status == 400
    assert error.findtext(f"{NS}Error/{NS}Code") == "InvalidQueryParameter"
    conn.close()


def test_a_body_refused_unread_leaves_the_connection_usable(emulator_factory):
    """The 405 of a PUT and the 400 of a body over the bound are answered without reading the body: the server
    reads what is left, or the client's next request on that connection meets a closed socket."""
    emulator = emulator_factory("none", None, "--auth", "off")
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    for method, body, status in (("PUT", b"Action=DescribeDBInstances", 405), ("POST", b"&" * (2 * 1024 * 1024), 400)):
        for _ in range(20):
            conn.request(method, "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
            refused = conn.getresponse()
            refused.read()
            assert refused.status == status
            sock = conn.sock
            conn.request("POST", "/", body="Action=DescribeDBInstances",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert conn.getresponse().read().startswith(b"<DescribeDBInstancesResponse")
            assert conn.sock is sock, "the connection was kept alive"
    conn.close()
