"""What infrastructure tools ask for by default, measured (process driver, both engines):
- encryption at rest: an encrypted instance beside a plain one of the same engine, in one run: create to
  available, the commit latency of single-row writes (median and p99), and a bulk write's throughput; the
  plain instance is the floor;
- the Secrets Manager endpoint: GetSecretValue of a managed master password, beside moto's GetSecretValue
  of a secret it keeps (the peer) and our own DescribeDBInstances by identifier (the floor), each over one
  keep-alive connection, median and p99."""

import http.client
import json
import pathlib
import statistics
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.clients import signed
from bench.proc import rss_mb
from tests.emulator_process import EmulatorProcess, wait_for
from tests.mysql_client import connect

ENGINES = ("mariadb", "mysql")
CREATE = {"DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "MasterUsername": "admin",
          "MasterUserPassword": "bench-Pass-1", "DBName": "app", "BackupRetentionPeriod": "0"}
COMMITS = 1000
BULK_MB = 64


def report(workdir: pathlib.Path, moto_port: int | None) -> None:
    emulator = EmulatorProcess(workdir / "defaults", "process").start()
    try:
        client = signed(emulator, timeout=600)
        print("\nEncryption at rest (process driver): the plain instance is the floor")
        print(f"{'engine':10}{'':12}{'available s':>12}{'commit med':>12}{'commit p99':>12}{'bulk MB/s':>11}")
        for engine in ENGINES:
            plain = _instance(client, f"plain-{engine}", engine, {})
            sealed = _instance(client, f"sealed-{engine}", engine, {"StorageEncrypted": "true"})
            for name, found in (("plain", plain), ("encrypted", sealed)):
                print(f"{engine:10}{name:12}{found['available']:>12.2f}{found['median'] * 1000:>10.2f}ms"
                      f"{found['p99'] * 1000:>10.2f}ms{found['bulk']:>11.1f}")
            print(f"{engine:10}{'ratio':12}{sealed['available'] / plain['available']:>12.2f}"
                  f"{sealed['median'] / plain['median']:>12.2f}{sealed['p99'] / plain['p99']:>12.2f}"
                  f"{sealed['bulk'] / plain['bulk']:>11.2f}")
        _secrets(emulator, client, moto_port)
        print(f"emulator RSS after: {rss_mb(emulator.process.pid):.0f} MB")
    finally:
        emulator.stop()


def _instance(client, name: str, engine: str, extra: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    client.call("CreateDBInstance", {**CREATE, "DBInstanceIdentifier": name, "Engine": engine, **extra})

    def endpoint():
        found = client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]
        return found["Endpoint"] if found["DBInstanceStatus"] == "available" else None
    address = wait_for(endpoint, 600, f"{name} available", interval=0.1)
    available = time.perf_counter() - started
    where = {"Address": address["Address"], "Port": int(address["Port"])}
    with connect(where, "admin", "bench-Pass-1", "app") as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, body LONGTEXT)")
        row = "x" * 1024
        latencies = []
        for _ in range(COMMITS):
            began = time.perf_counter()
            cursor.execute("INSERT INTO t (body) VALUES (%s)", (row,))
            latencies.append(time.perf_counter() - began)
        chunk = "y" * (1024 * 1024)
        began = time.perf_counter()
        for _ in range(BULK_MB):
            cursor.execute("INSERT INTO t (body) VALUES (%s)", (chunk,))
        bulk = BULK_MB / (time.perf_counter() - began)
    latencies.sort()
    return {"available": available, "median": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1], "bulk": bulk}


def _secrets(emulator: EmulatorProcess, client, moto_port: int | None) -> None:
    client.call("CreateDBInstance", {**{k: v for k, v in CREATE.items() if k != "MasterUserPassword"},
                                     "DBInstanceIdentifier": "managed", "Engine": "mariadb",
                                     "ManageMasterUserPassword": "true"})
    found = client.call("DescribeDBInstances", {"DBInstanceIdentifier": "managed"})["DBInstances"]["DBInstance"]
    arn = found["MasterUserSecret"]["SecretArn"]
    keys = emulator.credentials()
    ours = _json_client(emulator.url, keys["aws_access_key_id"], keys["aws_secret_access_key"])
    rows = {"ours GetSecretValue": _timed(lambda: ours("GetSecretValue", {"SecretId": arn})),
            "ours DescribeDBInstances (floor)": _timed(lambda: client.raw(
                "DescribeDBInstances", {"DBInstanceIdentifier": "managed"}))}
    if moto_port is not None:
        moto = _json_client(f"http://127.0.0.1:{moto_port}", "test", "test")
        moto("CreateSecret", {"Name": "bench", "SecretString": '{"username":"a","password":"b"}'})
        rows["moto GetSecretValue (peer)"] = _timed(lambda: moto("GetSecretValue", {"SecretId": "bench"}))
    print("\nSecrets Manager endpoint, 2000 calls over one connection each")
    for name, (median, p99) in rows.items():
        print(f"{name:36}{median * 1e6:>9.0f} µs median{p99 * 1e6:>9.0f} µs p99")


def _json_client(url: str, access_key: str, secret: str):
    host = url.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=30)

    def call(action: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        request = AWSRequest(method="POST", url=url + "/", data=data, headers={
            "X-Amz-Target": f"secretsmanager.{action}", "Content-Type": "application/x-amz-json-1.1"})
        SigV4Auth(Credentials(access_key, secret), "secretsmanager", "us-east-1").add_auth(request)
        connection.request("POST", "/", body=data, headers=dict(request.headers))
        answer = connection.getresponse()
        content = answer.read()
        assert answer.status == 200, (action, answer.status, content[:200])
        return json.loads(content)

    return call


def _timed(call, count: int = 2000) -> tuple[float, float]:
    latencies = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - began)
    latencies.sort()
    return statistics.median(latencies), latencies[int(count * 0.99) - 1]
