"""rds-emulator serve: the command line."""

import argparse
import logging
import pathlib
import resource
import signal
import sys
from types import FrameType

from emulator.config import Settings
from emulator.failures import Failure
from emulator.host import credentials
from emulator.host.certificates import Authorities
from emulator.images import build, cache, recipe, server_tree
from emulator.model import engine_versions
from emulator.runtime import DataDirInUse, boot
from emulator.web import app as web
from emulator.web import http_server

EXAMPLE = """Try it:
{exports}  aws --endpoint-url {url} rds create-db-instance --db-instance-identifier mydb --engine mysql \\
      --db-instance-class db.t3.micro --allocated-storage 20 --master-username admin --master-user-password change-me-1
  aws --endpoint-url {url} rds wait db-instance-available --db-instance-identifier mydb
  aws --endpoint-url {url} rds describe-db-instances --query 'DBInstances[].[DBInstanceIdentifier,Endpoint]'"""




def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = http_server.CONNECTIONS + 1000
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rds-emulator", description="An Amazon RDS-compatible control plane.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the RDS Query API")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default 8765)")
    serve.add_argument("--data-dir", default=None, help="where state and servers live (default ./data)")
    serve.add_argument("--server-host", default=None,
                       help="the address DB servers listen on and endpoints report (default 127.0.0.1); "
                            "another address lets clients in from elsewhere, as DB security groups allow")
    serve.add_argument("--endpoint-address", default=None,
                       help="the address endpoints report, when clients reach the servers elsewhere than where "
                            "they listen (a container's published ports: docs/docker.md)")
    serve.add_argument(
        "--driver", choices=("auto", "process", "libvirt", "none"), default=None,
        help="auto (default): libvirt where the host runs guests with KVM, else process; process: a real MySQL or "
             "MariaDB server per instance; libvirt: a QEMU guest per instance; none: control plane only",
    )
    serve.add_argument("--ports", default=None, metavar="FIRST-LAST",
                       help="the ports instances get when a create names none (default 13306-19999)")
    serve.add_argument("--guest-memory-factor", type=float, default=None,
                       help="libvirt: the share of its class's memory a guest gets (default 0.375)")
    serve.add_argument("--guest-network", choices=("user", "bridge"), default=None,
                       help="libvirt: user (a forwarded port on 127.0.0.1, default) or bridge (--bridge-pool)")
    serve.add_argument("--guest-start", choices=("restore", "boot"), default=None,
                       help="libvirt: restore new guests from a saved template guest (default) or boot each one")
    serve.add_argument("--bridge-pool", default=None, metavar="BRIDGE:FIRST-LAST/PREFIX,gateway=IP,nameserver=IP",
                       help="libvirt with --guest-network bridge: the bridge and the static addresses guests take")
    serve.add_argument("--allow-clock-moves", action="store_true", default=None,
                       help="let POST /_emulator/clock move the emulator's clock forward (docs/backups.md)")
    serve.add_argument("--archive-seconds", type=float, default=None,
                       help="how often binary logs are archived for point-in-time restore (default 60)")
    serve.add_argument("--auth", choices=("sigv4", "off"), default=None,
                       help="sigv4: only requests signed with a known access key (default; `rds-emulator "
                            "credentials` shows it); off: any request, as moto takes them")
    serve.add_argument("--log-level", default="INFO")
    shown = commands.add_parser("credentials", help="the data directory's access key, as export lines")
    shown.add_argument("--data-dir", default=None, help="the emulator's data directory (default ./data)")
    bundle = commands.add_parser("ca-bundle", help="the certificate authorities instances' TLS certificates are "
                                                   "signed by, as one PEM bundle (RDS's global bundle)")
    bundle.add_argument("--data-dir", default=None, help="the emulator's data directory (default ./data)")
    image = commands.add_parser("image", help="the libvirt driver's guest template, and engine versions' servers")
    image_commands = image.add_subparsers(dest="image_command", required=True)
    built = image_commands.add_parser("build", help="build from Debian's packages (cached; needs root): the guest "
                                                    "template, or with --engine an engine version's server tree")
    built.add_argument("--engine", choices=sorted(engine_versions.DEFAULTS), default=None)
    built.add_argument("--engine-version", default=None,
                       help="a major version, e.g. 11.8, or a full one, e.g. 10.11.18 (default: the engine's)")
    built.add_argument("--all-engines", action="store_true", help="every engine version's server tree")
    image_commands.add_parser("list", help="the cached templates and server trees, with sizes")
    args = parser.parse_args(argv)
    if args.command == "image" and args.image_command == "build" and args.engine_version and not args.engine:
        parser.error("--engine-version needs --engine")
    if args.command == "image":
        cache_dir = Settings.from_env().cache_dir
        if args.image_command == "build" and args.all_engines:
            return max(build_tree(row, cache_dir, quiet_if_built=True) for row in engine_versions.VERSIONS)
        if args.image_command == "build" and args.engine is not None:
            return tree_command(args.engine, args.engine_version, cache_dir)
        return images_command(args.image_command, cache_dir)
    if args.command == "credentials":
        settings = Settings.from_env(data_dir=args.data_dir)
        print(credentials.exports(*credentials.data_dir_pair(settings.data_dir), settings.region), end="")
        return 0
    if args.command == "ca-bundle":
        settings = Settings.from_env(data_dir=args.data_dir)
        print(Authorities(settings.data_dir, settings.region).bundle(), end="")
        return 0
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = Settings.from_env(host=args.host, port=args.port, data_dir=args.data_dir, driver=args.driver,
                                 server_host=args.server_host, endpoint_address=args.endpoint_address,
                                 ports=args.ports,
                                 guest_memory_factor=args.guest_memory_factor, guest_network=args.guest_network,
                                 guest_start=args.guest_start, bridge_pool=args.bridge_pool,
                                 allow_clock=args.allow_clock_moves, archive_seconds=args.archive_seconds,
                                 auth=args.auth)
    return run_server(settings)


def images_command(command: str, cache_dir: pathlib.Path) -> int:
    if command == "list":
        for found in cache.listing(cache_dir):
            current = " (current recipe)" if found.fingerprint in {recipe.fingerprint(row) for row in
                                                                   engine_versions.VERSIONS} else ""
            print(f"{found.fingerprint}  {found.size() / 2**20:7.0f} MB  built {found.manifest['built_at']}  "
                  f"{found.manifest['server']}{current}")
        for tree in server_tree.listing(cache_dir):
            print(f"{tree.path.name}  {tree.size() / 2**20:7.0f} MB  built {tree.manifest['built_at']}  "
                  f"{tree.manifest['server']}")
        return 0
    try:
        built = build.ensure(cache_dir, _progress)
    except build.BuildError as error:
        print(f"rds-emulator: the image could not be built: {error}", file=sys.stderr)
        return 1
    print(f"{built.fingerprint}  {built.path}")
    return 0


def tree_command(engine: str, version: str | None, cache_dir: pathlib.Path) -> int:
    row = engine_versions.of(engine, version)
    if row is None:
        print(f"rds-emulator: {engine} {version} is not served here; versions: "
              f"{', '.join(engine_versions.served(engine))}", file=sys.stderr)
        return 1
    return build_tree(row, cache_dir)


def build_tree(row: engine_versions.EngineVersion, cache_dir: pathlib.Path, quiet_if_built: bool = False) -> int:
    if quiet_if_built and server_tree.find(cache_dir, row) is not None:
        return 0
    print(f"building {row.name} from Debian {row.suite}'s packages (once; cached)", file=sys.stderr)
    try:
        tree = server_tree.ensure(cache_dir, row, _progress)
    except build.BuildError as error:
        print(f"rds-emulator: the server tree could not be built: {error}", file=sys.stderr)
        return 1
    print(f"{tree.manifest['server']}  {tree.path}")
    return 0


def _progress(number: int, total: int, name: str, elapsed: float) -> None:
    print(f"[{number}/{total}] {elapsed:5.0f} s  {name}", file=sys.stderr, flush=True)


def run_server(settings: Settings) -> int:
    try:
        runtime = boot(settings)
    except (DataDirInUse, Failure, ValueError) as error:  # ValueError: a setting the driver cannot take
        print(f"rds-emulator: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # boot gave back all it took; what failed is in the log
        logging.getLogger(__name__).exception("the emulator could not start")
        print(f"rds-emulator: could not start ({type(error).__name__}): the log above says why", file=sys.stderr)
        return 1
    _raise_file_limit()
    try:
        server = web.server(runtime.app, settings.host, settings.port)
    except OSError as error:
        runtime.close()
        print(f"rds-emulator: cannot listen on {settings.host}:{settings.port}: {error.strerror}", file=sys.stderr)
        return 1
    url = f"http://{settings.host}:{server.effective_port}"

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    chosen = runtime.ctx.settings.driver
    print(f"RDS Emulator is serving the RDS API at {url} (driver: {chosen}, data: {settings.data_dir})")
    print(f"{_auth_line(settings)}\n{EXAMPLE.format(url=url, exports=_exports(settings))}", flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        runtime.close()
    return 0


def _auth_line(settings: Settings) -> str:
    if settings.auth == "off":
        return "Requests are not checked: any access key, or none, is taken (--auth off)."
    also = " or a configured one" if settings.access_keys else ""
    return (f"Requests must be signed (SigV4) with this data directory's access key{also}: `rds-emulator "
            f"credentials --data-dir {settings.data_dir}` shows it.")


def _exports(settings: Settings) -> str:
    """The shell lines that set a client's keys: never the secret itself, which would end in logs."""
    if settings.auth == "off":
        return "  " + credentials.exports("test", "test", settings.region).replace("\n", "\n  ").rstrip() + "\n"
    return f'  eval "$(rds-emulator credentials --data-dir {settings.data_dir})"\n'


if __name__ == "__main__":
    sys.exit(main())
