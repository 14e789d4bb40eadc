"""One settings object: command-line flags over environment variables over defaults."""

import os
import pathlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: pathlib.Path = pathlib.Path("data")
    driver: str = "auto"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    # Where DB servers listen and what endpoints report: a loopback address unless clients come from elsewhere
    # (another network namespace, a container's network), when DB security groups decide who gets in.
    server_host: str = "127.0.0.1"
    # The address clients are told to reach servers at (Endpoint.Address), when it is not where they listen:
    # a container's servers listen on its own address, and the host reaches them on its published ports.
    endpoint_address: str | None = None
    # The ports instances' servers are given when a create names none, `FIRST-LAST`: emulators that share a
    # host each draw from a range of their own (two could otherwise give one port to two servers at once).
    ports: str = "13306-19999"
    # How often the monitor looks for servers that died on their own.
    monitor_seconds: float = 2.0
    workers: int = 4
    # How often each instance's binary log is closed and archived (wall-clock seconds): LatestRestorableTime
    # trails the present by about this much.
    archive_seconds: float = 60.0
    # Whether the operator endpoint POST /_emulator/clock may move the emulator's clock forward.
    allow_clock: bool = False
    # `sigv4`: only requests signed with a known access key (credentials.py); `off`: any request.
    auth: str = "sigv4"
    # Access keys beyond the data directory's own, `AKID:SECRET,...` (never shown: no repr)
    access_keys: str | None = field(default=None, repr=False)
    # The libvirt driver's guests: the share of their class's memory they get (docs/drivers.md), and how
    # they are reached: `user` (a forwarded port of the loopback) or `bridge` with bridge_pool's addresses.
    guest_memory_factor: float = 0.375
    guest_network: str = "user"
    # `restore`: new guests start from a saved template guest when there is one (drivers/warm.py); `boot`:
    # every guest boots
    guest_start: str = "restore"
    bridge_pool: str | None = None
    # What is worth keeping between runs and data directories: the server's variables, guest images.
    cache_dir: pathlib.Path = pathlib.Path(
        os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    ) / "rds-emulator"

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = {
            "region": os.environ.get("RDS_EMULATOR_REGION"),
            "server_host": os.environ.get("RDS_EMULATOR_SERVER_HOST"),
            "endpoint_address": os.environ.get("RDS_EMULATOR_ENDPOINT_ADDRESS"),
            "account_id": os.environ.get("RDS_EMULATOR_ACCOUNT_ID"),
            "cache_dir": os.environ.get("RDS_EMULATOR_CACHE_DIR"),
            "guest_memory_factor": os.environ.get("RDS_EMULATOR_GUEST_MEMORY_FACTOR"),
            "guest_network": os.environ.get("RDS_EMULATOR_GUEST_NETWORK"),
            "guest_start": os.environ.get("RDS_EMULATOR_GUEST_START"),
            "bridge_pool": os.environ.get("RDS_EMULATOR_BRIDGE_POOL"),
            "auth": os.environ.get("RDS_EMULATOR_AUTH"),
            "ports": os.environ.get("RDS_EMULATOR_PORTS"),
            "access_keys": os.environ.get("RDS_EMULATOR_ACCESS_KEYS"),
        }
        values = {k: v for k, v in env.items() if v} | {k: v for k, v in overrides.items() if v is not None}
        for name in ("data_dir", "cache_dir"):
            if name in values:
                values[name] = pathlib.Path(str(values[name])).resolve()
        if "guest_memory_factor" in values:
            values["guest_memory_factor"] = float(str(values["guest_memory_factor"]))
        return cls(**values)  # type: ignore[arg-type]

    @property
    def port_range(self) -> range:
        """ValueError when `ports` is not FIRST-LAST within 1024-65535."""
        first, _, last = self.ports.partition("-")
        try:
            low, high = int(first), int(last)
        except ValueError:
            raise ValueError(f"--ports {self.ports!r} is not FIRST-LAST, such as 13306-19999") from None
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"--ports {self.ports!r} is not a range of ports from 1024 to 65535")
        return range(low, high + 1)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'emulator.sqlite'}"
