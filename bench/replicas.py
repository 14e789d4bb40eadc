"""Read replicas per engine, on the process driver and (where guests can run) as guests: CreateDBInstance-
ReadReplica to available (the source holding 10,000 rows), replica lag under a steady write load on the
source (from the moment a commit returns until a client of the replica reads the row: median and p99), the
same read on the source itself (the floor: a client's round trip), and the replica server's memory (a
guest's: its QEMU's)."""

import pathlib
import statistics
import threading
import time

from bench.clients import signed
from bench.engines import CREATE
from bench.proc import rss_mb
from tests.emulator_process import EmulatorProcess, remove_guests, wait_for
from tests.mysql_client import connect

ENGINES = ("mariadb", "mysql")
# the steady load beside the measured writes: rows a second, from a writer of its own (a guest under software
# emulation takes a tenth of it)
LOAD_PER_SECOND = {"process": 200, "libvirt": 20}


def _instance(client, name: str) -> dict:
    return client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]


def endpoint(client, name: str) -> dict:
    found = _instance(client, name)["Endpoint"]
    return {"Address": found["Address"], "Port": int(found["Port"])}


def visible_after(writer, reader, key: int) -> float:
    """Seconds from the commit's return to the row read where `reader` reads."""
    with writer.cursor() as cursor:
        cursor.execute("INSERT INTO probe (id) VALUES (%s)", (key,))
    committed = time.perf_counter()
    with reader.cursor() as cursor:
        while True:
            cursor.execute("SELECT 1 FROM probe WHERE id = %s", (key,))
            if cursor.fetchone():
                return time.perf_counter() - committed


def load(source_endpoint: dict, stop: threading.Event, per_second: int) -> None:
    with connect(source_endpoint, CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as conn, \
            conn.cursor() as cursor:
        while not stop.is_set():
            cursor.execute("INSERT INTO load_rows (body) VALUES (REPEAT('x', 200))")
            time.sleep(1 / per_second)


def measure(workdir: pathlib.Path, engine: str, samples: int, driver: str) -> dict[str, list[float] | float]:
    emulator = EmulatorProcess(workdir / f"replicas-{driver}-{engine}", driver).start()
    client = signed(emulator)
    try:
        client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": "src", "Engine": engine, "DBName": "app",
                                                  "BackupRetentionPeriod": "1"})
        wait_for(lambda: _instance(client, "src")["DBInstanceStatus"] == "available", 1200, "src")
        source = endpoint(client, "src")
        with connect(source, CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app") as conn, \
                conn.cursor() as cursor:
            cursor.execute("CREATE TABLE probe (id INT PRIMARY KEY)")
            cursor.execute("CREATE TABLE load_rows (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
            cursor.execute("INSERT INTO load_rows (body) SELECT REPEAT('x', 200) FROM "
                           "(SELECT 1 FROM information_schema.columns LIMIT 100) a, "
                           "(SELECT 1 FROM information_schema.columns LIMIT 100) b")
        before = set(emulator.server_pids())
        start = time.perf_counter()
        client.call("CreateDBInstanceReadReplica", {"DBInstanceIdentifier": "rep", "SourceDBInstanceIdentifier": "src"})
        wait_for(lambda: _instance(client, "rep")["DBInstanceStatus"] == "available", 900, "rep", interval=0.01)
        made = time.perf_counter() - start
        replica_pids = set(emulator.server_pids()) - before
        stop = threading.Event()
        writer = threading.Thread(target=load, args=(source, stop, LOAD_PER_SECOND[driver]), daemon=True)
        writer.start()
        try:
            login = (CREATE["MasterUsername"], CREATE["MasterUserPassword"], "app")
            with connect(source, *login) as on_source, connect(endpoint(client, "rep"), *login) as on_replica:
                lag = [visible_after(on_source, on_replica, key) for key in range(samples)]
                floor = [visible_after(on_source, on_source, samples + key) for key in range(samples)]
        finally:
            stop.set()
            writer.join()
        memory = sum(rss_mb(pid) for pid in replica_pids)
    finally:
        client.close()
        emulator.stop()
        if driver == "libvirt":
            remove_guests(emulator.data_dir)
    return {"create": made, "lag": lag, "floor": floor, "rss": memory}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.99) - 1, 0)]


def report(workdir: pathlib.Path, samples: dict[str, int]) -> None:
    """`samples`: the probes per engine on each driver measured (a driver with none is not)."""
    med = statistics.median
    for driver, count in samples.items():
        if not count:
            continue
        print(f"\nRead replicas ({driver} driver): {count} probes each under {LOAD_PER_SECOND[driver]} writes/s on "
              "the source", flush=True)
        print(f"{'engine':10}{'create':>9}{'lag med':>10}{'lag p99':>10}{'floor med':>11}{'floor p99':>11}{'RSS':>8}")
        for engine in ENGINES:
            found = measure(workdir, engine, count, driver)
            lag, floor = found["lag"], found["floor"]
            assert isinstance(lag, list) and isinstance(floor, list)
            print(f"{engine:10}{found['create']:8.2f}s{med(lag) * 1000:8.2f}ms{p99(lag) * 1000:8.2f}ms"
                  f"{med(floor) * 1000:9.2f}ms{p99(floor) * 1000:9.2f}ms{found['rss']:6.0f}MB", flush=True)
