"""`make bench`: RDS Emulator beside moto's server, in one run on this machine.

1. The API (ours with --driver none; moto keeps metadata only): CreateDBInstance x N, then
   DescribeDBInstances by identifier and a 100-record page over N instances, over one keep-alive
   connection each, the two servers' lookups alternating in blocks; requests/s, median and p99 latency;
   server RSS.
2. Real servers per engine version (ours with the process driver): create-to-available (with and without
   the first automated backup) and reboot-to-available, beside the same tree's server started bare on a copy
   of its ready data directory; tree build times and sizes; a major upgrade: bench/engines.py.
3. Parameter groups: ModifyDBParameterGroup (immediate, dynamic) to the value seen by a MySQL client on
   every instance of the group, for 1 and 10 instances; the full DescribeDBParameters listing of a family
   beside moto's (and how many parameters each lists); the catalogue's build, cold and cached.
4. Guests (the libvirt driver): bench/guests.py.
5. Backups on real data, both drivers: bench/backups.py.
6. Read replicas per engine (process driver): made, their lag under a steady write load, their memory:
   bench/replicas.py.
7. Multi-AZ per engine (process driver): write downtime across forced failovers under a writer, the
   acknowledged commits lost (0), beside a plain reboot; the standby's memory: bench/failover.py.
8. What infrastructure tools ask for by default: encryption at rest's cost beside a plain instance, and the
   Secrets Manager endpoint beside moto's: bench/defaults.py.
"""

import argparse
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import backups, defaults, engines, failover, guests, replicas  # noqa: E402
from bench.clients import signed  # noqa: E402
from bench.proc import rss_mb  # noqa: E402
from compat.query_client import QueryClient  # noqa: E402
from emulator.config import Settings  # noqa: E402
from emulator.engines import variables  # noqa: E402
from emulator.images.servers import Servers  # noqa: E402
from emulator.model import engine_versions  # noqa: E402
from tests.emulator_process import DAEMONS, EmulatorProcess, daemon_pids, free_port, stop_daemons, wait_for  # noqa: E402
from tests.mysql_client import connect  # noqa: E402

CREATE = {
    "DBInstanceClass": "db.t3.micro", "Engine": "mysql", "AllocatedStorage": "20",
    "MasterUsername": "admin", "MasterUserPassword": "password1",
}


# moto takes any key
MOTO_KEYS = ("test", "test")


def timed(client: QueryClient, action: str, params: dict[str, str], count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        status, _ = client.raw(action, params)
        latencies.append(time.perf_counter() - start)
        assert status == 200, (action, status)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / sum(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


def all_available(client: QueryClient) -> bool:
    """Every instance available: ours has run each create's task and first automated backup (moto has
    nothing to run), so that the lookups measure lookups, not the creates' work going on beside them."""
    marker = None
    while True:
        found = client.call("DescribeDBInstances", {"MaxRecords": "100"} | ({"Marker": marker} if marker else {}))
        listed = (found.get("DBInstances") or {}).get("DBInstance") or []
        listed = [listed] if isinstance(listed, dict) else listed  # one element parses as itself
        if any(item["DBInstanceStatus"] != "available" for item in listed):
            return False
        marker = found.get("Marker")
        if not marker:
            return True


def fill(client: QueryClient, instances: int) -> list[float]:
    """CreateDBInstance x N, then until every instance is available: ours has run each create's task and
    first automated backup by then (moto has nothing to run), so the lookups measure lookups."""
    creates = []
    for i in range(instances):
        start = time.perf_counter()
        status, body = client.raw("CreateDBInstance", CREATE | {"DBInstanceIdentifier": f"bench{i:04d}"})
        creates.append(time.perf_counter() - start)
        assert status == 200, body[:300]
    wait_for(lambda: all_available(client), 600, "the creates' background work", interval=1)
    return creates


def alternating(clients: dict[str, QueryClient], params: dict[str, str], count: int,
                blocks: int = 10) -> dict[str, list[float]]:
    """The same requests to each server in turn, a block at a time: this host's speed drifts by a third
    within a minute, and a drift then falls on both servers alike instead of on whichever ran second."""
    latencies: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(blocks):
        for name, client in clients.items():
            latencies[name] += timed(client, "DescribeDBInstances", params, count // blocks)
    return latencies


def api_bench(clients: dict[str, QueryClient], floor: QueryClient, instances: int, lookups: int,
              pages: int) -> dict[str, dict[str, dict[str, float]]]:
    """The floor (a constant from an empty Flask route) takes its turn in the lookups' blocks."""
    creates = {name: fill(client, instances) for name, client in clients.items()}
    by_id = alternating(clients | {"floor": floor}, {"DBInstanceIdentifier": f"bench{instances // 2:04d}"}, lookups)
    page = alternating(clients, {"MaxRecords": "100"}, pages)
    results = {name: {"CreateDBInstance": summary(creates[name]), "Describe by identifier": summary(by_id[name]),
                      "Describe 100-record page": summary(page[name])} for name in clients}
    results["floor"] = {"Describe by identifier": summary(by_id["floor"])}
    return results


def start_floor(port: int) -> subprocess.Popen:
    return _started([sys.executable, str(ROOT / "bench" / "floor.py"), str(port)], port, "the Flask floor")


def start_moto(port: int) -> subprocess.Popen:
    moto = shutil.which("moto_server", path=str(pathlib.Path(sys.executable).parent))
    return _started([moto, "-H", "127.0.0.1", "-p", str(port)], port, "moto_server")


def _started(command: list[str], port: int, what: str) -> subprocess.Popen:
    """A server started, once it answers a DescribeDBInstances on its port."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = QueryClient(f"http://127.0.0.1:{port}", MOTO_KEYS)

    def answers() -> bool:
        try:
            return client.raw("DescribeDBInstances")[0] == 200
        except OSError:
            client.connection.close()
            return False

    wait_for(answers, 60, what)
    client.close()
    return process


def listing(client: QueryClient, group: str) -> tuple[float, int]:
    """Every page of DescribeDBParameters for a group: seconds, and how many parameters."""
    start, count, marker = time.perf_counter(), 0, None
    while True:
        found = client.call("DescribeDBParameters", {"DBParameterGroupName": group} | (
            {"Marker": marker} if marker else {}))
        items = (found.get("Parameters") or {}).get("Parameter") or []
        count += len(items) if isinstance(items, list) else 1
        marker = found.get("Marker")
        if not marker:
            return time.perf_counter() - start, count


def apply_bench(workdir: pathlib.Path, counts: tuple[int, ...], rounds: int) -> dict[int, list[float]]:
    """ModifyDBParameterGroup (immediate) to the new value on every instance of the group, as clients see it."""
    emulator = EmulatorProcess(workdir / "params", "process").start()
    client = signed(emulator)
    results: dict[int, list[float]] = {}
    try:
        for count in counts:
            group = f"bench{count}"
            client.call("CreateDBParameterGroup", {"DBParameterGroupName": group, "DBParameterGroupFamily": "mysql9.7",
                                                   "Description": "bench"})
            names = [f"{group}-{i}" for i in range(count)]
            for name in names:
                client.call("CreateDBInstance", CREATE | {"DBInstanceIdentifier": name, "DBParameterGroupName": group})
            endpoints = [wait_for(lambda n=name: _endpoint(client, n), 120, name, interval=0.02) for name in names]
            sessions = [connect(endpoint, CREATE["MasterUsername"], CREATE["MasterUserPassword"])
                        for endpoint in endpoints]
            results[count] = []
            for value in range(200, 200 + rounds):
                start = time.perf_counter()
                client.call("ModifyDBParameterGroup", {
                    "DBParameterGroupName": group, "Parameters.Parameter.1.ParameterName": "max_connections",
                    "Parameters.Parameter.1.ParameterValue": str(value),
                    "Parameters.Parameter.1.ApplyMethod": "immediate",
                })
                wait_for(lambda v=str(value), seen=sessions: all(_global(s, "max_connections") == v for s in seen),
                         30, "the value on every instance", interval=0.002)
                results[count].append(time.perf_counter() - start)
            for session in sessions:
                session.close()
    finally:
        client.close()
        emulator.stop()
    return results


def _endpoint(client: QueryClient, name: str) -> dict | None:
    instance = client.call("DescribeDBInstances", {"DBInstanceIdentifier": name})["DBInstances"]["DBInstance"]
    if instance["DBInstanceStatus"] != "available":
        return None
    return {"Address": instance["Endpoint"]["Address"], "Port": int(instance["Endpoint"]["Port"])}


def _global(session, name: str) -> str:
    with session.cursor() as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
        return cursor.fetchone()[1]


def api_section(args: argparse.Namespace, workdir: pathlib.Path) -> None:
    ours = EmulatorProcess(workdir / "none", "none").start()
    moto_port, floor_port = free_port(), free_port()
    moto = start_moto(moto_port)
    floor = start_floor(floor_port)
    try:
        print(f"API over {args.instances} instances, one keep-alive connection", flush=True)
        clients = {"ours": signed(ours), "moto": QueryClient(f"http://127.0.0.1:{moto_port}", MOTO_KEYS)}
        # signed as ours is, so that the client's share is the same
        floor_client = QueryClient(f"http://127.0.0.1:{floor_port}", clients["ours"].credentials)
        results = api_bench(clients, floor_client, args.instances, args.lookups, args.pages)
        for client in (*clients.values(), floor_client):
            client.close()
        mine, theirs = results["ours"], results["moto"]
        rss = {"ours": rss_mb(ours.process.pid), "moto": rss_mb(moto.pid)}
        ours_listing = [listing(signed(ours), "default.mysql9.7") for _ in range(5)]
        moto_client = QueryClient(f"http://127.0.0.1:{moto_port}", MOTO_KEYS)
        moto_client.call("CreateDBParameterGroup", {"DBParameterGroupName": "bench", "Description": "bench",
                                                    "DBParameterGroupFamily": "mysql9.7"})
        moto_listing = [listing(moto_client, "bench") for _ in range(5)]
    finally:
        ours.stop()
        for process in (moto, floor):
            process.terminate()
            process.wait()
    print(f"{'':28}{'ours rps':>10}{'moto rps':>10}{'ratio':>8}{'ours med':>10}{'moto med':>10}"
          f"{'ours p99':>10}{'moto p99':>10}")
    for name in ("CreateDBInstance", "Describe by identifier", "Describe 100-record page"):
        a, b = mine[name], theirs[name]
        print(f"{name:28}{a['rps']:10.0f}{b['rps']:10.0f}{a['rps'] / b['rps']:7.1f}x"
              f"{a['median_ms']:8.2f}ms{b['median_ms']:8.2f}ms{a['p99_ms']:8.2f}ms{b['p99_ms']:8.2f}ms")
    lowest = results["floor"]["Describe by identifier"]
    print(f"{'Flask floor (constant)':28}{lowest['rps']:10.0f}{'':10}{'':8}{lowest['median_ms']:8.2f}ms{'':10}"
          f"{lowest['p99_ms']:8.2f}ms")
    print(f"lookup by identifier / floor, median latency: "
          f"{mine['Describe by identifier']['median_ms'] / lowest['median_ms']:.2f}x")
    print(f"server RSS after the run: ours {rss['ours']:.0f} MB, moto {rss['moto']:.0f} MB")
    med = statistics.median
    print(f"DescribeDBParameters, whole listing of a group: ours {med(t for t, _ in ours_listing) * 1000:.1f} ms "
          f"for {ours_listing[0][1]} parameters, moto {med(t for t, _ in moto_listing) * 1000:.1f} ms "
          f"for {moto_listing[0][1]}")
    servers = Servers(Settings.from_env().cache_dir)
    for row in engine_versions.current():
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            variables.variables(servers.tree(row), row, pathlib.Path(cache))
            cold = time.perf_counter() - start
            start = time.perf_counter()
            variables.variables(servers.tree(row), row, pathlib.Path(cache))
            cached = time.perf_counter() - start
        print(f"catalogue of {row.name}'s server: cold {cold:.2f} s, cached {cached * 1000:.1f} ms")


def parameters_section(args: argparse.Namespace, workdir: pathlib.Path) -> None:
    med = statistics.median
    print(f"\nParameter changes applied at once, {args.apply_rounds} rounds", flush=True)
    for count, times in apply_bench(workdir, (1, 10), args.apply_rounds).items():
        print(f"ModifyDBParameterGroup to the value on all {count} instances: median {med(times) * 1000:.0f} ms, "
              f"slowest {max(times) * 1000:.0f} ms")


def servers_section(args: argparse.Namespace, workdir: pathlib.Path) -> None:
    engines.report(workdir, args.servers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--apply-rounds", type=int, default=10)
    parser.add_argument("--guests", type=int, default=3, help="guests created one at a time (0: none)")
    parser.add_argument("--cold-build", action="store_true", help="also build the guest image from nothing")
    parser.add_argument("--fill-host", action="store_true", help="create idle guests until one is refused")
    parser.add_argument("--backup-mb", type=int, default=1024, help="the database backed up (0: not on processes)")
    parser.add_argument("--guest-backup-mb", type=int, default=1024, help="the same, in a guest (0: none)")
    parser.add_argument("--lag-seconds", type=float, default=180, help="how long LatestRestorableTime is watched")
    parser.add_argument("--replica-probes", type=int, default=500, help="rows timed from source to replica")
    parser.add_argument("--guest-replica-probes", type=int, default=100, help="the same, between guests (0: none)")
    parser.add_argument("--failovers", type=int, default=10, help="forced failovers under a writer, per engine")
    parser.add_argument("--sections", default="api,parameters,servers,guests,backups,replicas,failover,defaults",
                        help="which parts to run, comma-separated")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    # the guests' emulators start libvirtd and virtlogd when they do not run: those are stopped at the end
    before = {name for name in DAEMONS if daemon_pids(name)}
    try:
        run(args, sections)
    finally:
        stop_daemons(*(name for name in DAEMONS if name not in before))


def run(args: argparse.Namespace, sections: set[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="rds-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        for name, section in (("api", api_section), ("parameters", parameters_section),
                              ("servers", servers_section)):
            if name in sections:
                section(args, workdir)
        if args.guests and "guests" in sections:
            guests.report(workdir, args.guests, args.cold_build, args.fill_host)
        if "backups" in sections:
            sizes = {"process": args.backup_mb,
                     "libvirt": args.guest_backup_mb if guests.possible() is None else 0}
            backups.report(workdir, sizes, args.lag_seconds)
        if "replicas" in sections:
            replicas.report(workdir, {"process": args.replica_probes,
                                      "libvirt": args.guest_replica_probes if guests.possible() is None else 0})
        if "failover" in sections:
            failover.report(workdir, args.failovers)
        if "defaults" in sections:
            moto_port = free_port()
            moto = start_moto(moto_port)
            try:
                defaults.report(workdir, moto_port)
            finally:
                moto.terminate()
                moto.wait()


if __name__ == "__main__":
    main()
