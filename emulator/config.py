"""One settings object: command-line flags over environment variables over defaults."""

import os
import pathlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: pathlib.Path = pathlib.Path("data")
    driver: str = "process"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    # Where DB servers listen: always a loopback address.
    server_host: str = "127.0.0.1"
    # How often the monitor looks for servers that died on their own.
    monitor_seconds: float = 2.0
    workers: int = 4

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = {
            "region": os.environ.get("RDS_EMULATOR_REGION"),
            "account_id": os.environ.get("RDS_EMULATOR_ACCOUNT_ID"),
        }
        values = {k: v for k, v in env.items() if v} | {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in values:
            values["data_dir"] = pathlib.Path(str(values["data_dir"])).resolve()
        return cls(**values)  # type: ignore[arg-type]

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'emulator.sqlite'}"
